//! The contract between the engine and a potential.

use crate::AtomicGraph;
use nalgebra::{Matrix3, Vector3};

/// What the caller wants computed. Energy is always computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Forces on every atom.
    pub forces: bool,
    /// The virial tensor (needed for pressure and stress).
    pub virial: bool,
}

impl Request {
    /// Energy and forces, no virial: an ordinary MD step.
    pub const FORCES: Request = Request {
        forces: true,
        virial: false,
    };
    /// Energy, forces and virial.
    pub const ALL: Request = Request {
        forces: true,
        virial: true,
    };
}

/// The result of a potential evaluation, in f64 on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Potential energy, eV.
    pub energy: f64,
    /// Forces −∂E/∂x on every atom, eV/Å (empty if not requested).
    pub forces: Vec<Vector3<f64>>,
    /// Virial W = −∂E/∂ε (ε the symmetric strain), eV; equals Σ r⊗F for pair potentials,
    /// LAMMPS' sign. The stress is −W/V. `None` if not requested.
    pub virial: Option<Matrix3<f64>>,
    /// Per-atom energies summing to `energy`, eV, for potentials that define them (ML models);
    /// `None` otherwise.
    pub energies: Option<Vec<f64>>,
}

/// Why a potential could not evaluate a graph.
#[derive(Debug, thiserror::Error)]
pub enum PotentialError {
    /// The graph holds an element the potential has no parameters for.
    #[error("the potential has no parameters for element {element} (atom {atom})")]
    UnknownSpecies {
        /// Atomic number.
        element: u8,
        /// Index of the first atom of that element.
        atom: usize,
    },
    /// A model file that cannot be read or does not describe a supported model.
    #[error("model file {path}: {message}")]
    ModelFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Anything else the potential refuses, with its reason.
    #[error("{0}")]
    Invalid(String),
}

/// An interatomic potential: energy, forces and virial of a set of atoms.
pub trait Potential: Send {
    /// Interaction cutoff, Å. The engine builds neighbor lists at least this long.
    fn cutoff(&self) -> f64;

    /// The elements (atomic numbers) the potential can handle, if it is limited to some.
    fn species(&self) -> Option<Vec<u8>> {
        None
    }

    /// Checks, before a run, that every element of `species` is supported.
    fn check_species(&self, species: &[u8]) -> Result<(), PotentialError>;

    /// Whether the potential wants a half list (each pair once, Newton's third law applied by
    /// the potential), as pair potentials do, instead of the full directed list message-passing
    /// models need. It must accept either.
    fn half_list(&self) -> bool {
        false
    }

    /// Computes what `request` asks for on `graph`.
    fn compute(
        &mut self,
        graph: &AtomicGraph<'_>,
        request: Request,
    ) -> Result<Evaluation, PotentialError>;
}
