//! Pair potentials: a [`PairPotential`] gives the energy of one pair at a distance, and the
//! [`Pairwise`] adapter turns it into a [`Potential`](crate::Potential) over an edge list or a
//! spatial [`PairList`](crate::PairList).

mod lennard_jones;
mod pairwise;
mod spatial;

pub use lennard_jones::{LennardJones, LennardJonesPair};
pub use pairwise::Pairwise;

use crate::PotentialError;

/// Pairs of one atom evaluated together by [`PairPotential::evaluate_batch`] (at most).
pub const BATCH: usize = 64;

/// Batches are evaluated in whole groups of this many lanes.
pub const LANES: usize = 8;

/// The pairs of one atom with up to [`BATCH`] neighbors, structure-of-arrays. Lanes from
/// `len` up to the next multiple of [`LANES`] hold `r2 = ∞`.
#[derive(Debug, Clone, Copy)]
pub struct PairBatch {
    /// Pairs in the batch.
    pub len: usize,
    /// Pair-type index of each neighbor.
    pub types: [u32; BATCH],
    /// Squared distances, Å².
    pub r2: [f64; BATCH],
    /// Pair energies `V(r)`, eV (0 at or beyond the cutoff).
    pub energy: [f64; BATCH],
    /// `g = (1/r) dV/dr`, eV/Å² (0 at or beyond the cutoff).
    pub gradient: [f64; BATCH],
}

impl PairBatch {
    /// A batch of no pairs.
    pub const EMPTY: PairBatch = PairBatch {
        len: 0,
        types: [0; BATCH],
        r2: [f64::INFINITY; BATCH],
        energy: [0.0; BATCH],
        gradient: [0.0; BATCH],
    };
}

impl PairBatch {
    /// Lanes to evaluate: `len` rounded up to whole groups of [`LANES`].
    #[inline(always)]
    pub fn lanes(&self) -> usize {
        self.len.div_ceil(LANES) * LANES
    }
}

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

    /// Fills `batch.energy` and `batch.gradient` for an atom of type `a` and the batch's
    /// neighbors, with zeros for pairs at or beyond the cutoff. Potentials override it with a
    /// loop the compiler vectorises (no branch on the cutoff); the default calls
    /// [`PairPotential::energy_and_gradient`] per pair.
    fn evaluate_batch(&self, a: usize, batch: &mut PairBatch) {
        let cutoff_squared = self.cutoff().powi(2);
        for l in 0..batch.lanes() {
            (batch.energy[l], batch.gradient[l]) = if batch.r2[l] < cutoff_squared {
                self.energy_and_gradient(a, batch.types[l] as usize, batch.r2[l])
            } else {
                (0.0, 0.0)
            };
        }
    }
}
