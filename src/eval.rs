//! `mlmd eval`: a potential on every frame of a structure file.

use crate::cell::Cell;
use crate::error::{Error, Result};
use crate::io::{read_structures, Structure};
use crate::neighbors::NeighborMethod;
use mlmd_potentials::{Potential, Request};
use serde::Serialize;
use std::path::Path;

/// Energy, forces and stress of one frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameResult {
    /// Potential energy, eV.
    pub energy: f64,
    /// Forces, eV/Å.
    pub forces: Vec<[f64; 3]>,
    /// Stress σ = (1/V) ∂E/∂ε (ASE's sign), eV/Å³; `None` unless all three axes are periodic.
    pub stress: Option<[[f64; 3]; 3]>,
    /// Per-atom energies, eV, for potentials that define them (ML models); `None` otherwise.
    pub energies: Option<Vec<f64>>,
}

/// The JSON document `mlmd eval` writes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// One entry per frame, in file order.
    pub frames: Vec<FrameResult>,
}

/// Evaluates `potential` on every frame of `path`, each with its own cell and periodicity
/// (extended XYZ's `pbc`; otherwise periodic where the frame has a cell).
pub fn evaluate_file(potential: &mut dyn Potential, path: &Path) -> Result<EvalReport> {
    let frames = read_structures(path)?
        .iter()
        .enumerate()
        .map(|(index, structure)| {
            evaluate_structure(potential, structure).map_err(|e| match e {
                Error::Structure { message, .. } | Error::Input { message, .. } => {
                    Error::Structure {
                        path: path.to_path_buf(),
                        message: format!("frame {index}: {message}"),
                    }
                }
                other => other,
            })
        })
        .collect::<Result<_>>()?;
    Ok(EvalReport { frames })
}

fn evaluate_structure(potential: &mut dyn Potential, structure: &Structure) -> Result<FrameResult> {
    let periodic = structure
        .periodic
        .unwrap_or([structure.lattice.is_some(); 3]);
    let cell = match structure.lattice {
        Some(lattice) => Cell::new(lattice, periodic),
        None if periodic.iter().any(|&p| p) => {
            Err(crate::cell::CellError::MissingVector { axis: 0 })
        }
        None => Ok(Cell::open()),
    }
    .map_err(|e| Error::Structure {
        path: Default::default(),
        message: e.to_string(),
    })?;
    potential.check_species(&structure.species)?;
    let positions: Vec<_> = structure.positions.iter().map(|x| cell.wrap(x).0).collect();
    let list = NeighborMethod::Auto.build_neighbors(
        &positions,
        &cell,
        potential.cutoff(),
        potential.half_list(),
    );
    let graph = list.graph(
        &positions,
        &structure.species,
        cell.has_full_lattice().then(|| cell.lattice()),
        1,
    );
    let periodic = cell.is_fully_periodic();
    let evaluation = potential.compute(
        &graph,
        Request {
            forces: true,
            virial: periodic,
        },
    )?;
    let volume = cell.volume();
    let stress = evaluation
        .virial
        .filter(|_| periodic)
        .map(|w| std::array::from_fn(|i| std::array::from_fn(|j| -w[(i, j)] / volume)));
    Ok(FrameResult {
        energy: evaluation.energy,
        forces: evaluation.forces.iter().map(|f| [f.x, f.y, f.z]).collect(),
        stress,
        energies: evaluation.energies,
    })
}
