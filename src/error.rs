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
    /// The potential returned a NaN or infinite energy or force.
    #[error(
        "step {step}: non-finite {quantity} on atom {atom} ({element}); the run stopped there"
    )]
    NonFinite {
        /// The MD step.
        step: u64,
        /// "force" or "energy".
        quantity: &'static str,
        /// Index of the first offending atom (0 for the energy).
        atom: usize,
        /// Its element.
        element: &'static str,
    },
}

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
