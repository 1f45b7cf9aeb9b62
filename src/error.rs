//! The errors mlmd reports: each names the file, key, step or atom it concerns.

use std::path::PathBuf;

/// Everything that can stop mlmd.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input file is missing, malformed or inconsistent.
    #[error("{path}: {message}")]
    Input {
        /// The input file.
        path: PathBuf,
        /// What is wrong, naming the key (and line, for syntax errors).
        message: String,
    },
    /// A structure file could not be read or describes an unusable system.
    #[error("structure file {path}: {message}")]
    Structure {
        /// The structure file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An output file could not be created or written.
    #[error("output file {path}: {message}")]
    Output {
        /// The output file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The potential refused the system.
    #[error("potential: {0}")]
    Potential(mlmd_potentials::PotentialError),
    /// The system holds an element the potential has no parameters for.
    #[error(
        "potential: no parameters for element {symbol} (atom {atom}, the first of that element)"
    )]
    UnsupportedElement {
        /// Element symbol.
        symbol: &'static str,
        /// Index of the first atom of that element.
        atom: usize,
    },
    /// Two atoms are closer than any physical structure allows.
    #[error(
        "atoms {first} ({first_element}) and {second} ({second_element}) overlap: \
         {distance:.3e} Å apart (minimum {minimum} Å)"
    )]
    Overlap {
        /// Index of the first atom.
        first: usize,
        /// Element of the first atom.
        first_element: &'static str,
        /// Index of the second atom.
        second: usize,
        /// Element of the second atom.
        second_element: &'static str,
        /// Their distance, Å.
        distance: f64,
        /// The smallest distance allowed, Å.
        minimum: f64,
    },
    /// A checkpoint that does not fit the input it is restarted with.
    #[error("cannot restart: {message}")]
    Restart {
        /// Why.
        message: String,
    },
    /// An atom moved too far in one step.
    #[error(transparent)]
    Runaway(#[from] Runaway),
    /// A NaN or infinite energy, force, position or velocity.
    #[error(
        "step {step}: non-finite {quantity} on atom {atom} ({element}); the run stopped there"
    )]
    NonFinite {
        /// The MD step.
        step: u64,
        /// "force", "energy", "position" or "velocity".
        quantity: &'static str,
        /// Index of the first offending atom (0 for the energy).
        atom: usize,
        /// Its element.
        element: &'static str,
    },
    /// A barostat or a cell relaxation drove the cell somewhere unusable.
    #[error(
        "step {step}: the cell became unusable ({message}); the run stopped there (is the \
         barostat's damping too short, or the target pressure unreachable?)"
    )]
    CellCollapse {
        /// The MD step.
        step: u64,
        /// What is wrong with the cell.
        message: String,
    },
}

/// An atom moved farther in one step than any sane trajectory does.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "step {step}: atom {atom} ({element}) moved {distance:.3} Å in one step, more than \
     {limit:.3} Å (the larger of half the neighbor skin and {MIN_STEP_LIMIT} Å): the system is \
     blowing up (reduce the timestep, or check the structure and the potential); the run \
     stopped there"
)]
pub struct Runaway {
    /// The MD step.
    pub step: u64,
    /// The atom.
    pub atom: usize,
    /// Its element.
    pub element: &'static str,
    /// How far it moved in the step, Å.
    pub distance: f64,
    /// The limit, Å.
    pub limit: f64,
}

/// The smallest per-step displacement limit, Å: 0.5 Å in one step is tens of km/s.
pub const MIN_STEP_LIMIT: f64 = 0.5;

impl From<mlmd_potentials::PotentialError> for Error {
    fn from(error: mlmd_potentials::PotentialError) -> Self {
        match error {
            mlmd_potentials::PotentialError::UnknownSpecies { element, atom } => {
                Error::UnsupportedElement {
                    symbol: crate::element::symbol(element),
                    atom,
                }
            }
            other => Error::Potential(other),
        }
    }
}

/// mlmd's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
