//! Pair potentials: a [`PairPotential`] gives the energy of one pair at a distance, and the
//! [`Pairwise`] adapter turns it into a [`Potential`](crate::Potential) over an edge list.

mod lennard_jones;
mod pairwise;

pub use lennard_jones::{LennardJones, LennardJonesPair};
pub use pairwise::Pairwise;

use crate::PotentialError;

/// A potential that is a sum over pairs, `E = ½ Σ_edges V_ab(r)` on a full edge list.
pub trait PairPotential: Send + Sync {
    /// Cutoff beyond which every pair energy is zero, Å.
    fn cutoff(&self) -> f64;

    /// The pair-type index of an element, or `None` if the potential has no parameters for it.
    fn type_of(&self, atomic_number: u8) -> Option<usize>;

    /// Checks that every pair of the given elements has parameters.
    fn check_species(&self, species: &[u8]) -> Result<(), PotentialError>;

    /// Pair energy `V(r)` (eV) and `g = (1/r) dV/dr` (eV/Å²) for types `a`, `b` at squared
    /// distance `r2` (Å²), with `r2` below the cutoff squared.
    fn energy_and_gradient(&self, a: usize, b: usize, r2: f64) -> (f64, f64);
}
