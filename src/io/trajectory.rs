//! Trajectories in any format chemfiles writes, chosen by the file's extension.

use super::lattice_to_chemfiles;
use crate::element;
use crate::error::{Error, Result};
use crate::system::System;
use chemfiles::{Atom, Frame, Trajectory, UnitCell};
use std::path::{Path, PathBuf};

/// Writes frames of a system, with velocities where the format holds them.
pub struct TrajectoryWriter {
    path: PathBuf,
    trajectory: Trajectory,
    atoms: Vec<Atom>,
    /// Extended XYZ keeps velocities only as a per-atom property ("velo", Å/fs).
    extended_xyz: bool,
}

impl TrajectoryWriter {
    /// Creates (or truncates) a trajectory file for the atoms of `system`.
    pub fn create(path: &Path, system: &System) -> Result<Self> {
        Self::open(path, system, false, None)
    }

    /// Creates a trajectory file, or with `append` continues an existing one, in the chemfiles
    /// format `format` (or the extension's).
    pub fn open(path: &Path, system: &System, append: bool, format: Option<&str>) -> Result<Self> {
        let error = |message: String| Error::Output {
            path: path.to_path_buf(),
            message,
        };
        if system.cell.has_full_lattice() && system.cell.lattice().determinant() < 0.0 {
            return Err(error("chemfiles cannot store a left-handed cell".into()));
        }
        let mode = if append && path.exists() { 'a' } else { 'w' };
        let trajectory =
            super::open_trajectory(path, mode, format).map_err(|e| error(e.message))?;
        Ok(Self {
            path: path.to_path_buf(),
            trajectory,
            atoms: system
                .species
                .iter()
                .map(|&z| Atom::new(element::symbol(z)))
                .collect(),
            extended_xyz: format
                .map_or(super::xyz::is_xyz(path), |f| f.eq_ignore_ascii_case("XYZ")),
        })
    }

    /// Appends the current state of `system` as frame `step`.
    pub fn write(&mut self, step: u64, system: &System) -> Result<()> {
        let mut frame = Frame::new();
        frame.add_velocities();
        for ((atom, x), v) in self
            .atoms
            .iter_mut()
            .zip(&system.positions)
            .zip(&system.velocities)
        {
            if self.extended_xyz {
                atom.set("velo", [v.x, v.y, v.z]);
            }
            // chemfiles' velocities are in Å/ps; mlmd's in Å/fs.
            frame.add_atom(atom, [x.x, x.y, x.z], [v.x * 1e3, v.y * 1e3, v.z * 1e3]);
        }
        if system.cell.has_full_lattice() {
            frame.set_cell(&UnitCell::from_matrix(lattice_to_chemfiles(
                system.cell.lattice(),
            )));
        }
        if self.extended_xyz {
            // Extended XYZ: keep the periodicity (a slab read back stays a slab).
            let flags: Vec<&str> = system
                .cell
                .periodic()
                .iter()
                .map(|&p| if p { "T" } else { "F" })
                .collect();
            frame.set("pbc", flags.join(" "));
        }
        frame.set_step(step as usize);
        if self.extended_xyz {
            // Read back by a restart to drop frames written after its checkpoint.
            frame.set("step", step as f64);
        }
        self.trajectory.write(&frame).map_err(|e| Error::Output {
            path: self.path.clone(),
            message: e.message,
        })
    }
}
