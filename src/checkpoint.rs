//! Checkpoints: everything a run's state is, written atomically, so that `mlmd run INPUT
//! --restart FILE` continues the run bit for bit.
//!
//! A checkpoint holds the step, positions, velocities and cell, the neighbor list's reference
//! positions (the list is rebuilt from them, so that the same pairs are summed in the same
//! order and rebuilds happen at the same steps), the integrator's state (random-number
//! streams), and the input without its `[run]` and `[output]` sections, which a restart must
//! match.

use crate::error::{Error, Result};
use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The `format` field of every checkpoint.
pub const FORMAT: &str = "mlmd-checkpoint";
/// The layout this build writes and reads.
pub const VERSION: u32 = 1;

/// A run's state at the end of a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// The input file's sections other than `[run]` and `[output]`, as canonical TOML.
    pub input: String,
    /// The last completed step.
    pub step: u64,
    /// Positions, Å.
    pub positions: Vec<[f64; 3]>,
    /// Velocities, Å/fs.
    pub velocities: Vec<[f64; 3]>,
    /// Lattice vectors as rows, Å (zeros along non-periodic axes without a lattice vector).
    pub lattice: [[f64; 3]; 3],
    /// Positions at the last neighbor-list build, Å.
    pub neighbor_reference: Vec<[f64; 3]>,
    /// The lattice at the last neighbor-list build, when a barostat has changed it since (absent:
    /// `lattice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neighbor_lattice: Option<[[f64; 3]; 3]>,
    /// The integrator's state ([`mlmd_integrators::Integrator::save_state`]).
    pub integrator: String,
}

/// `[x, y, z]` rows of vectors.
pub fn rows(vectors: &[Vector3<f64>]) -> Vec<[f64; 3]> {
    vectors.iter().map(|v| [v.x, v.y, v.z]).collect()
}

/// Vectors from `[x, y, z]` rows.
pub fn vectors(rows: &[[f64; 3]]) -> Vec<Vector3<f64>> {
    rows.iter()
        .map(|r| Vector3::new(r[0], r[1], r[2]))
        .collect()
}

/// A matrix as rows.
pub fn matrix_rows(m: &Matrix3<f64>) -> [[f64; 3]; 3] {
    [0, 1, 2].map(|i| [m[(i, 0)], m[(i, 1)], m[(i, 2)]])
}

/// A matrix from its rows.
pub fn matrix(rows: &[[f64; 3]; 3]) -> Matrix3<f64> {
    Matrix3::from_fn(|i, j| rows[i][j])
}

impl Checkpoint {
    /// Writes the checkpoint to `path` atomically: a temporary file next to it, then a rename.
    pub fn write(&self, path: &Path) -> Result<()> {
        let error = |message: String| Error::Output {
            path: path.to_path_buf(),
            message,
        };
        let text = serde_json::to_string(self).map_err(|e| error(e.to_string()))?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let temporary = path.with_file_name(format!(".{name}.partial"));
        std::fs::write(&temporary, text).map_err(|e| error(e.to_string()))?;
        std::fs::rename(&temporary, path).map_err(|e| error(e.to_string()))
    }

    /// Reads and checks a checkpoint file.
    pub fn read(path: &Path) -> Result<Self> {
        let error = |message: String| Error::Input {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| error(format!("cannot read the checkpoint: {e}")))?;
        let checkpoint: Self = serde_json::from_str(&text)
            .map_err(|e| error(format!("not an mlmd checkpoint ({e})")))?;
        if checkpoint.format != FORMAT || checkpoint.version != VERSION {
            return Err(error(format!(
                "checkpoint format {} version {}, this mlmd reads {FORMAT} version {VERSION}",
                checkpoint.format, checkpoint.version
            )));
        }
        let n = checkpoint.positions.len();
        if checkpoint.velocities.len() != n || checkpoint.neighbor_reference.len() != n {
            return Err(error(
                "positions, velocities and neighbor reference differ in length".into(),
            ));
        }
        Ok(checkpoint)
    }
}
