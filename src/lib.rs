//! mlmd: molecular dynamics with machine-learned interatomic potentials.
//!
//! The engine: [`system`] and [`cell`], [`neighbors`] lists, the [`simulation`] loop, structure
//! and trajectory [`io`] through chemfiles, [`observers`] that write output, and the TOML
//! [`input`] file. Potentials live in `mlmd-potentials`, integrators in `mlmd-integrators`.
//! Units are metal units with fs: Å, eV, fs, amu, K, bar.

pub mod bench;
pub mod cell;
pub mod checkpoint;
pub mod element;
pub mod error;
pub mod eval;
pub mod input;
pub mod io;
pub mod neighbors;
pub mod observers;
pub mod simulation;
pub mod system;
pub mod units;

pub use error::{Error, Result};
pub use mlmd_integrators as integrators;
pub use mlmd_potentials as potentials;
