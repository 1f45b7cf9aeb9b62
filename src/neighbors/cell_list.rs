//! The O(N) builder: atoms binned in fractional coordinates, each atom checked against the atoms
//! of nearby bins (and their periodic images), in parallel over atoms.

use super::wrapped::WrappedAtoms;
use super::{collect_by_sender, NeighborList};
use crate::cell::Cell;
use nalgebra::Vector3;

/// Bins per cutoff length along each axis: smaller bins mean fewer candidate pairs.
const BINS_PER_CUTOFF: f64 = 2.0;

/// Bins along the cell's axes, each at least `cutoff / BINS_PER_CUTOFF` wide where the system
/// allows.
struct Grid {
    periodic: [bool; 3],
    /// Lowest fractional coordinate per axis (0 on periodic axes).
    low: [f64; 3],
    /// Fractional extent per axis (1 on periodic axes).
    extent: [f64; 3],
    counts: [usize; 3],
    /// How many bins to look each side along each axis.
    reach: [i32; 3],
    /// Atoms of bin `b` are `bin_atoms[bin_start[b]..bin_start[b + 1]]`.
    bin_start: Vec<usize>,
    bin_atoms: Vec<u32>,
    /// Wrapped positions in `bin_atoms` order, for locality.
    bin_positions: Vec<Vector3<f64>>,
}

impl Grid {
    fn new(atoms: &WrappedAtoms, cell: &Cell, cutoff: f64) -> Self {
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
        let mut grid = Self {
            periodic,
            low,
            extent,
            counts,
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

    fn bin_index(&self, b: [usize; 3]) -> usize {
        (b[0] * self.counts[1] + b[1]) * self.counts[2] + b[2]
    }

    /// Counting sort of the atoms into bins.
    fn fill(&mut self, atoms: &WrappedAtoms) {
        let n_bins = self.counts.iter().product::<usize>();
        let bins: Vec<usize> = atoms
            .fractional
            .iter()
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
    fn neighbor_bin(&self, home: [usize; 3], offset: [i32; 3]) -> Option<(usize, [i32; 3])> {
        let mut bin = [0usize; 3];
        let mut image = [0i32; 3];
        for a in 0..3 {
            let n = self.counts[a] as i32;
            let c = home[a] as i32 + offset[a];
            if self.periodic[a] {
                image[a] = c.div_euclid(n);
                bin[a] = c.rem_euclid(n) as usize;
            } else if (0..n).contains(&c) {
                bin[a] = c as usize;
            } else {
                return None;
            }
        }
        Some((self.bin_index(bin), image))
    }
}

/// All pairs closer than `cutoff`, by binning: O(N) for a fixed density. A half list looks at
/// half the stencil: the bins at offsets lexicographically above zero, and the atom's own bin
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
    let offsets: Vec<[i32; 3]> = (-grid.reach[0]..=grid.reach[0])
        .flat_map(|a| (-grid.reach[1]..=grid.reach[1]).map(move |b| (a, b)))
        .flat_map(|(a, b)| (-grid.reach[2]..=grid.reach[2]).map(move |c| [a, b, c]))
        .filter(|&o| !half || o >= [0, 0, 0])
        .collect();
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
