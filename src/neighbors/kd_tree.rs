//! The k-d tree builder (kiddo): a tree over the atoms and, along periodic axes, their explicit
//! images within the cutoff of the cell, queried once per atom. Suits open and sparse systems.

use super::wrapped::{image_range, WrappedAtoms};
use super::{collect_by_sender, NeighborList};
use crate::cell::Cell;
use kiddo::immutable::float::kdtree::ImmutableKdTree;
use kiddo::SquaredEuclidean;
use nalgebra::Vector3;

/// A point of the tree: atom `atom` shifted by `image · lattice`.
struct TreePoint {
    atom: usize,
    image: [i32; 3],
}

/// All pairs closer than `cutoff`, by k-d tree queries: O(N log N).
pub(super) fn build(
    positions: &[Vector3<f64>],
    cell: &Cell,
    cutoff: f64,
    half: bool,
) -> NeighborList {
    let atoms = WrappedAtoms::new(positions, cell);
    let range = image_range(cell, cutoff);
    let widths = cell.perpendicular_widths();
    let periodic = cell.periodic();
    // Fractional margin beyond [0, 1) within which an image can still be a neighbor.
    let margin: [f64; 3] = std::array::from_fn(|a| cutoff / widths[a]);
    let mut points = Vec::new();
    let mut coordinates = Vec::new();
    for (atom, s) in atoms.fractional.iter().enumerate() {
        for a in -range[0]..=range[0] {
            for b in -range[1]..=range[1] {
                for c in -range[2]..=range[2] {
                    let image = [a, b, c];
                    let inside = (0..3).all(|k| {
                        !periodic[k] || {
                            let u = s[k] + f64::from(image[k]);
                            u >= -margin[k] && u < 1.0 + margin[k]
                        }
                    });
                    if inside {
                        let x = atoms.positions[atom] + cell.shift_vector(image);
                        coordinates.push([x.x, x.y, x.z]);
                        points.push(TreePoint { atom, image });
                    }
                }
            }
        }
    }
    let tree: ImmutableKdTree<f64, u64, 3, 32> = ImmutableKdTree::new_from_slice(&coordinates);
    let cutoff_squared = cutoff * cutoff;
    // Query slightly wide, then apply the same strict test as the other builders.
    let query_radius = cutoff_squared * (1.0 + 1e-9);
    let n_atoms = positions.len();
    collect_by_sender(n_atoms, half, |i, list| {
        let xi = atoms.positions[i];
        let mut found = tree.within_unsorted::<SquaredEuclidean>(&[xi.x, xi.y, xi.z], query_radius);
        found.sort_unstable_by_key(|neighbour| neighbour.item);
        for neighbour in found {
            let point = &points[neighbour.item as usize];
            let j = point.atom;
            if i == j && point.image == [0, 0, 0] {
                continue;
            }
            let d = atoms.positions[j] - xi + cell.shift_vector(point.image);
            if d.norm_squared() < cutoff_squared {
                list.push(i, j, atoms.original_shift(i, j, point.image));
            }
        }
    })
}
