//! The O(N) builder: atoms binned in fractional coordinates, each atom checked against the atoms
//! of nearby bins (and their periodic images), in parallel over atoms.

use super::wrapped::WrappedAtoms;
use super::{collect_by_sender, NeighborList, MIN_PARALLEL};
use crate::cell::Cell;
use nalgebra::Vector3;
use rayon::prelude::*;

/// Bins per cutoff length along each axis: smaller bins mean fewer candidate pairs.
const BINS_PER_CUTOFF: f64 = 2.0;

/// Bins along the cell's axes, each at least `cutoff / BINS_PER_CUTOFF` wide where the system
/// allows.
pub(super) struct Grid {
    pub(super) periodic: [bool; 3],
    /// Lowest fractional coordinate per axis (0 on periodic axes).
    low: [f64; 3],
    /// Fractional extent per axis (1 on periodic axes).
    extent: [f64; 3],
    pub(super) counts: [usize; 3],
    /// Axes from slowest- to fastest-varying in the bins' order: most bins first, so that
    /// slabs of bins along `axes[0]` cut the system into many parallel blocks.
    pub(super) axes: [usize; 3],
    /// How many bins to look each side along each axis.
    pub(super) reach: [i32; 3],
    /// Atoms of bin `b` are `bin_atoms[bin_start[b]..bin_start[b + 1]]`.
    pub(super) bin_start: Vec<usize>,
    pub(super) bin_atoms: Vec<u32>,
    /// Wrapped positions in `bin_atoms` order, for locality.
    pub(super) bin_positions: Vec<Vector3<f64>>,
}

impl Grid {
    pub(super) fn new(atoms: &WrappedAtoms, cell: &Cell, cutoff: f64) -> Self {
        let periodic = cell.periodic();
        let widths = cell.perpendicular_widths();
        let mut low = [0.0; 3];
        let mut extent = [1.0; 3];
        for axis in 0..3 {
            if !periodic[axis] {
                let values = atoms.fractional.iter().map(|s| s[axis]);
                let min = values.clone().fold(f64::INFINITY, f64::min);
                let max = values.fold(f64::NEG_INFINITY, f64::max);
                low[axis] = if min.is_finite() { min } else { 0.0 };
                extent[axis] = if max > min { max - min } else { 0.0 };
            }
        }
        let lengths: [f64; 3] = std::array::from_fn(|a| extent[a] * widths[a]);
        let mut counts: [usize; 3] = std::array::from_fn(|a| {
            ((lengths[a] * BINS_PER_CUTOFF / cutoff).floor() as usize).max(1)
        });
        // Sparse systems would ask for far more bins than atoms: coarsen.
        let max_bins = 27 + 2 * atoms.positions.len();
        while counts.iter().product::<usize>() > max_bins {
            let largest = (0..3).max_by_key(|&a| counts[a]).expect("three axes");
            counts[largest] = (counts[largest] / 2).max(1);
        }
        let reach = std::array::from_fn(|a| {
            let bin_width = lengths[a] / counts[a] as f64;
            if periodic[a] {
                (cutoff / bin_width).ceil() as i32
            } else if counts[a] == 1 {
                0
            } else {
                ((cutoff / bin_width).ceil() as i32).min(counts[a] as i32 - 1)
            }
        });
        let mut axes = [0, 1, 2];
        axes.sort_by_key(|&a| std::cmp::Reverse(counts[a]));
        let mut grid = Self {
            periodic,
            low,
            extent,
            counts,
            axes,
            reach,
            bin_start: Vec::new(),
            bin_atoms: Vec::new(),
            bin_positions: Vec::new(),
        };
        grid.fill(atoms);
        grid
    }

    fn bin_coordinates(&self, s: &Vector3<f64>) -> [usize; 3] {
        std::array::from_fn(|a| {
            if self.extent[a] == 0.0 {
                return 0;
            }
            let u = (s[a] - self.low[a]) / self.extent[a];
            ((u * self.counts[a] as f64).floor().max(0.0) as usize).min(self.counts[a] - 1)
        })
    }

    pub(super) fn bin_index(&self, b: [usize; 3]) -> usize {
        let [p, q, r] = self.axes;
        (b[p] * self.counts[q] + b[q]) * self.counts[r] + b[r]
    }

    /// The bin coordinates of a bin index.
    pub(super) fn bin_coordinates_of(&self, index: usize) -> [usize; 3] {
        let [p, q, r] = self.axes;
        let mut b = [0; 3];
        b[r] = index % self.counts[r];
        b[q] = index / self.counts[r] % self.counts[q];
        b[p] = index / (self.counts[r] * self.counts[q]);
        b
    }

    /// Bins per slab (bins sharing their coordinate along `axes[0]`) and slabs.
    pub(super) fn slabs(&self) -> (usize, usize) {
        let [p, q, r] = self.axes;
        (self.counts[q] * self.counts[r], self.counts[p])
    }

    /// The stencil's offsets, all or (`half`) those after zero in the bins' order (zero included).
    pub(super) fn stencil(&self, half: bool) -> Vec<[i32; 3]> {
        let [p, q, r] = self.axes;
        let reach = self.reach;
        (-reach[0]..=reach[0])
            .flat_map(|a| (-reach[1]..=reach[1]).map(move |b| (a, b)))
            .flat_map(|(a, b)| (-reach[2]..=reach[2]).map(move |c| [a, b, c]))
            .filter(|o| !half || [o[p], o[q], o[r]] >= [0, 0, 0])
            .collect()
    }

    /// Counting sort of the atoms into bins.
    fn fill(&mut self, atoms: &WrappedAtoms) {
        let n_bins = self.counts.iter().product::<usize>();
        let bins: Vec<usize> = atoms
            .fractional
            .par_iter()
            .with_min_len(MIN_PARALLEL)
            .map(|s| self.bin_index(self.bin_coordinates(s)))
            .collect();
        let mut start = vec![0usize; n_bins + 1];
        for &b in &bins {
            start[b + 1] += 1;
        }
        for b in 0..n_bins {
            start[b + 1] += start[b];
        }
        let mut next = start.clone();
        let mut bin_atoms = vec![0u32; bins.len()];
        for (atom, &b) in bins.iter().enumerate() {
            bin_atoms[next[b]] = atom as u32;
            next[b] += 1;
        }
        self.bin_positions = bin_atoms
            .iter()
            .map(|&a| atoms.positions[a as usize])
            .collect();
        self.bin_start = start;
        self.bin_atoms = bin_atoms;
    }

    /// The neighbor bin `home + offset` and the lattice image it lies in, or `None` past the edge
    /// of a non-periodic axis.
    pub(super) fn neighbor_bin(
        &self,
        home: [usize; 3],
        offset: [i32; 3],
    ) -> Option<(usize, [i32; 3])> {
        let mut bin = [0usize; 3];
        let mut image = [0i32; 3];
        for a in 0..3 {
            (bin[a], image[a]) = self.along(a, home[a], offset[a])?;
        }
        Some((self.bin_index(bin), image))
    }

    /// Along `axis`, the bin `home + offset` and the image it lies in, or `None` past the edge
    /// of a non-periodic axis.
    pub(super) fn along(&self, axis: usize, home: usize, offset: i32) -> Option<(usize, i32)> {
        let n = self.counts[axis] as i32;
        let c = home as i32 + offset;
        if self.periodic[axis] {
            Some((c.rem_euclid(n) as usize, c.div_euclid(n)))
        } else {
            (0..n).contains(&c).then_some((c as usize, 0))
        }
    }
}

/// All pairs closer than `cutoff`, by binning: O(N) for a fixed density. A half list looks at
/// half the stencil: the bins at offsets after zero in the bins' order, and the atom's own bin
/// (image 0) for atoms of larger index; each pair is then found exactly once, from the atom
/// that sees the other at a positive offset (so the half list's owner is spatial, not
/// [`owns_pair`](super::owns_pair)'s).
pub(super) fn build(
    positions: &[Vector3<f64>],
    cell: &Cell,
    cutoff: f64,
    half: bool,
) -> NeighborList {
    let atoms = WrappedAtoms::new(positions, cell);
    let grid = Grid::new(&atoms, cell, cutoff);
    let offsets = grid.stencil(half);
    let cutoff_squared = cutoff * cutoff;
    let n_atoms = positions.len();
    let mut list = collect_by_sender(n_atoms, false, |i, list| {
        let xi = atoms.positions[i];
        let home = grid.bin_coordinates(&atoms.fractional[i]);
        for &offset in &offsets {
            let Some((bin, image)) = grid.neighbor_bin(home, offset) else {
                continue;
            };
            let shift = cell.shift_vector(image);
            let own_bin = offset == [0, 0, 0];
            for slot in grid.bin_start[bin]..grid.bin_start[bin + 1] {
                let j = grid.bin_atoms[slot] as usize;
                if (own_bin && (j == i || (half && j < i))) || {
                    let d = grid.bin_positions[slot] - xi + shift;
                    d.norm_squared() >= cutoff_squared
                } {
                    continue;
                }
                list.push(i, j, atoms.original_shift(i, j, image));
            }
        }
    });
    list.half = half;
    list
}
