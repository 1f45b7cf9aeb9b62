//! The reference builder: every pair, every image in range.

use super::wrapped::{image_range, WrappedAtoms};
use super::NeighborList;
use crate::cell::Cell;
use nalgebra::Vector3;

/// All pairs closer than `cutoff`, by checking every atom against every atom and image: O(N²).
pub(super) fn build(
    positions: &[Vector3<f64>],
    cell: &Cell,
    cutoff: f64,
    half: bool,
) -> NeighborList {
    let atoms = WrappedAtoms::new(positions, cell);
    let range = image_range(cell, cutoff);
    let cutoff_squared = cutoff * cutoff;
    let mut list = NeighborList::new(half);
    for i in 0..positions.len() {
        for j in 0..positions.len() {
            for a in -range[0]..=range[0] {
                for b in -range[1]..=range[1] {
                    for c in -range[2]..=range[2] {
                        let shift = [a, b, c];
                        if i == j && shift == [0, 0, 0] {
                            continue;
                        }
                        let d = atoms.positions[j] - atoms.positions[i] + cell.shift_vector(shift);
                        if d.norm_squared() < cutoff_squared {
                            list.push(i, j, atoms.original_shift(i, j, shift));
                        }
                    }
                }
            }
        }
    }
    list
}
