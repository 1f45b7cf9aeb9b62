//! A neighbor list with a Verlet skin: rebuilt only when an atom may have crossed the skin.

use super::{NeighborMethod, Neighbors, MIN_PARALLEL};
use crate::cell::Cell;
use nalgebra::{Matrix3, Vector3};
use rayon::prelude::*;

/// A neighbor list built at `cutoff + skin`, rebuilt when some atom has moved more than
/// `skin / 2` since the last build (then no pair can have entered the cutoff unseen).
///
/// When the cell changes (a barostat), from lattice h₀ at the build to h, a pair vector
/// `r₀ = (s_j − s_i + n) h₀` becomes `r = r₀ h₀⁻¹ h + δ_j − δ_i` with `δ_i = x_i − s⁰_i h` the
/// motion beyond the affine strain, so `|r − r₀| ≤ |r₀| ε + 2 max|δ|` with
/// `ε = ‖h₀⁻¹ (h − h₀)‖_F`: the list stays valid while `2 max|δ| + ε (cutoff + skin) < skin`
/// (LAMMPS shrinks its trigger distance by the box change the same way).
#[derive(Debug, Clone)]
pub struct VerletList {
    method: NeighborMethod,
    /// Whether to build half lists.
    half: bool,
    cutoff: f64,
    skin: f64,
    list: Neighbors,
    positions_at_build: Vec<Vector3<f64>>,
    /// The lattice at the last build (rows, Å).
    lattice_at_build: Matrix3<f64>,
    generation: u64,
}

impl VerletList {
    /// An empty list, full or `half`; the first [`VerletList::update`] builds it.
    pub fn new(method: NeighborMethod, cutoff: f64, skin: f64, half: bool) -> Self {
        Self {
            method,
            half,
            cutoff,
            skin,
            list: Neighbors::default(),
            positions_at_build: Vec::new(),
            lattice_at_build: Matrix3::zeros(),
            generation: 0,
        }
    }

    /// The skin, Å.
    pub fn skin(&self) -> f64 {
        self.skin
    }

    /// The current neighbors.
    pub fn list(&self) -> &Neighbors {
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

    /// Whether some pair may have entered the cutoff unseen since the last build (or there was
    /// none): see the type's docs.
    pub fn needs_rebuild(&self, positions: &[Vector3<f64>], cell: &Cell) -> bool {
        if self.generation == 0 || positions.len() != self.positions_at_build.len() {
            return true;
        }
        if *cell.lattice() == self.lattice_at_build {
            let limit = (0.5 * self.skin).powi(2);
            return positions
                .par_iter()
                .with_min_len(MIN_PARALLEL)
                .zip(&self.positions_at_build)
                .any(|(x, x0)| (x - x0).norm_squared() > limit);
        }
        let Some(inverse) = self.lattice_at_build.try_inverse() else {
            return true;
        };
        let strain = inverse * (cell.lattice() - self.lattice_at_build);
        let margin = self.skin - strain.norm() * (self.cutoff + self.skin);
        if margin <= 0.0 {
            return true;
        }
        let map = inverse * cell.lattice();
        let limit = (0.5 * margin).powi(2);
        positions
            .par_iter()
            .with_min_len(MIN_PARALLEL)
            .zip(&self.positions_at_build)
            .any(|(x, x0)| (x - map.tr_mul(x0)).norm_squared() > limit)
    }

    /// The lattice at the last build (rows, Å).
    pub fn lattice(&self) -> &Matrix3<f64> {
        &self.lattice_at_build
    }

    /// The positions at the last build.
    pub fn reference(&self) -> &[Vector3<f64>] {
        &self.positions_at_build
    }

    /// Rebuilds the list from the reference positions of an earlier build (a checkpoint's), so
    /// that it holds the same pairs in the same order and the next rebuild comes at the same
    /// step; the current positions are not touched.
    pub fn restore(&mut self, reference: Vec<Vector3<f64>>, cell: &Cell) {
        self.list = Neighbors::default();
        self.list =
            self.method
                .build_neighbors(&reference, cell, self.cutoff + self.skin, self.half);
        self.positions_at_build = reference;
        self.lattice_at_build = *cell.lattice();
        self.generation += 1;
    }

    /// Wraps `positions` into the cell and rebuilds if needed; returns whether it rebuilt.
    pub fn update(&mut self, positions: &mut [Vector3<f64>], cell: &Cell) -> bool {
        if !self.needs_rebuild(positions, cell) {
            return false;
        }
        positions
            .par_iter_mut()
            .with_min_len(MIN_PARALLEL)
            .for_each(|x| *x = cell.wrap(x).0);
        self.list = Neighbors::default();
        self.list =
            self.method
                .build_neighbors(positions, cell, self.cutoff + self.skin, self.half);
        self.positions_at_build.clear();
        self.positions_at_build.extend_from_slice(positions);
        self.lattice_at_build = *cell.lattice();
        self.generation += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Matrix3;

    /// Pairs of `list` shorter than `cutoff` with positions and cell now.
    fn pairs_within(list: &Neighbors, x: &[Vector3<f64>], cell: &Cell, cutoff: f64) -> usize {
        let Neighbors::Edges(list) = list else {
            panic!("a full list is an edge list")
        };
        (0..list.len())
            .filter(|&e| {
                let (i, j) = (list.senders[e] as usize, list.receivers[e] as usize);
                let r = x[j] - x[i] + cell.shift_vector(list.shifts[e]);
                r.norm() < cutoff
            })
            .count()
    }

    /// fcc with a shell of pairs (5.14 Å) just beyond cutoff + skin (5.1 Å): under strains up to
    /// 6 % and displacements up to 0.05 Å (deterministic pseudo-random), a list that says it
    /// needs no rebuild holds every pair within the cutoff that a fresh build finds; small
    /// strains do not force rebuilds.
    #[test]
    fn a_strained_cell_rebuilds_before_a_pair_is_missed() {
        let (cutoff, skin, a) = (5.0, 0.1, 4.2);
        let lattice = Matrix3::from_diagonal_element(3.0 * a);
        let cell = Cell::new(lattice, [true; 3]).unwrap();
        let positions: Vec<Vector3<f64>> = (0..108)
            .map(|i| {
                let (site, b) = (
                    i / 4,
                    [
                        [0.0, 0.0, 0.0],
                        [0.5, 0.5, 0.0],
                        [0.5, 0.0, 0.5],
                        [0.0, 0.5, 0.5],
                    ][i % 4],
                );
                let n = Vector3::new((site / 9) as f64, (site / 3 % 3) as f64, (site % 3) as f64);
                (n + Vector3::new(b[0], b[1], b[2])) * a
            })
            .collect();
        let mut noise = 0.5f64;
        let mut next = || {
            noise = (noise * 9301.0 + 0.49297) % 1.0;
            2.0 * noise - 1.0
        };
        let (mut kept, mut rebuilt) = (0, 0);
        for trial in 0..400 {
            let mut list = VerletList::new(NeighborMethod::CellList, cutoff, skin, false);
            let mut start = positions.clone();
            list.update(&mut start, &cell);
            let size = 0.06 * (trial % 20) as f64 / 20.0;
            let strain = Matrix3::from_fn(|i, j| if i <= j { size * next() } else { 0.0 });
            let strain = (strain + strain.transpose()) * 0.5;
            let moved_cell =
                Cell::new(lattice * (Matrix3::identity() + strain), [true; 3]).unwrap();
            let step = 0.05 * (trial % 7) as f64 / 7.0;
            let moved: Vec<Vector3<f64>> = start
                .iter()
                .map(|x| {
                    (Matrix3::identity() + strain) * x + Vector3::from_fn(|_, _| step * next())
                })
                .collect();
            if list.needs_rebuild(&moved, &moved_cell) {
                rebuilt += 1;
                continue;
            }
            kept += 1;
            let fresh = NeighborMethod::BruteForce.build(&moved, &moved_cell, cutoff);
            assert_eq!(
                pairs_within(list.list(), &moved, &moved_cell, cutoff),
                fresh.len(),
                "trial {trial}: strain {strain}, displacements up to {step} Å"
            );
        }
        assert!(kept > 50 && rebuilt > 50, "kept {kept}, rebuilt {rebuilt}");
    }
}
