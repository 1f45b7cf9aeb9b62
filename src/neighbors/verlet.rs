//! A neighbor list with a Verlet skin: rebuilt only when an atom may have crossed the skin.

use super::{NeighborList, NeighborMethod};
use crate::cell::Cell;
use nalgebra::Vector3;

/// A neighbor list built at `cutoff + skin`, rebuilt when some atom has moved more than
/// `skin / 2` since the last build (then no pair can have entered the cutoff unseen).
#[derive(Debug, Clone)]
pub struct VerletList {
    method: NeighborMethod,
    cutoff: f64,
    skin: f64,
    list: NeighborList,
    positions_at_build: Vec<Vector3<f64>>,
    generation: u64,
}

impl VerletList {
    /// An empty list; the first [`VerletList::update`] builds it.
    pub fn new(method: NeighborMethod, cutoff: f64, skin: f64) -> Self {
        Self {
            method,
            cutoff,
            skin,
            list: NeighborList::default(),
            positions_at_build: Vec::new(),
            generation: 0,
        }
    }

    /// The skin, Å.
    pub fn skin(&self) -> f64 {
        self.skin
    }

    /// The current edges.
    pub fn list(&self) -> &NeighborList {
        &self.list
    }

    /// How many times the list was built.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The builder used for `n_atoms` atoms in `cell`.
    pub fn method(&self, n_atoms: usize, cell: &Cell) -> NeighborMethod {
        self.method.resolve(n_atoms, cell)
    }

    /// Whether some atom moved more than half the skin since the last build (or there was none).
    pub fn needs_rebuild(&self, positions: &[Vector3<f64>]) -> bool {
        if self.generation == 0 || positions.len() != self.positions_at_build.len() {
            return true;
        }
        let limit = (0.5 * self.skin).powi(2);
        positions
            .iter()
            .zip(&self.positions_at_build)
            .any(|(x, x0)| (x - x0).norm_squared() > limit)
    }

    /// The positions at the last build.
    pub fn reference(&self) -> &[Vector3<f64>] {
        &self.positions_at_build
    }

    /// Rebuilds the list from the reference positions of an earlier build (a checkpoint's), so
    /// that it holds the same pairs in the same order and the next rebuild comes at the same
    /// step; the current positions are not touched.
    pub fn restore(&mut self, reference: Vec<Vector3<f64>>, cell: &Cell) {
        self.list = self.method.build(&reference, cell, self.cutoff + self.skin);
        self.positions_at_build = reference;
        self.generation += 1;
    }

    /// Wraps `positions` into the cell and rebuilds if needed; returns whether it rebuilt.
    pub fn update(&mut self, positions: &mut [Vector3<f64>], cell: &Cell) -> bool {
        if !self.needs_rebuild(positions) {
            return false;
        }
        for x in positions.iter_mut() {
            *x = cell.wrap(x).0;
        }
        self.list = self.method.build(positions, cell, self.cutoff + self.skin);
        self.positions_at_build = positions.to_vec();
        self.generation += 1;
        true
    }
}
