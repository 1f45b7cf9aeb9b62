//! What every builder starts from: positions wrapped into the cell and the images they came from.

use super::MIN_PARALLEL;
use crate::cell::Cell;
use nalgebra::Vector3;
use rayon::prelude::*;

/// Positions wrapped along periodic axes, with fractional coordinates and original images.
pub(super) struct WrappedAtoms {
    /// Wrapped Cartesian positions.
    pub positions: Vec<Vector3<f64>>,
    /// Fractional coordinates of the wrapped positions (in the cell's frame).
    pub fractional: Vec<Vector3<f64>>,
    /// `original = wrapped + image · lattice`.
    pub images: Vec<[i32; 3]>,
}

impl WrappedAtoms {
    pub fn new(positions: &[Vector3<f64>], cell: &Cell) -> Self {
        let (wrapped, (images, fractional)): (Vec<_>, (Vec<_>, Vec<_>)) = positions
            .par_iter()
            .with_min_len(MIN_PARALLEL)
            .map(|x| {
                let (wrapped, image) = cell.wrap(x);
                (wrapped, (image, cell.fractional(&wrapped)))
            })
            .unzip();
        Self {
            positions: wrapped,
            fractional,
            images,
        }
    }

    /// Converts a shift between wrapped positions into one between the original positions.
    #[inline]
    pub fn original_shift(&self, sender: usize, receiver: usize, shift: [i32; 3]) -> [i32; 3] {
        let (s, r) = (self.images[sender], self.images[receiver]);
        [
            shift[0] + s[0] - r[0],
            shift[1] + s[1] - r[1],
            shift[2] + s[2] - r[2],
        ]
    }
}

/// How many periodic images to visit each side along each axis so that no wrapped pair closer
/// than `cutoff` is missed: `ceil(cutoff / width) + 1` on periodic axes, 0 otherwise.
pub(super) fn image_range(cell: &Cell, cutoff: f64) -> [i32; 3] {
    let widths = cell.perpendicular_widths();
    let periodic = cell.periodic();
    std::array::from_fn(|axis| {
        if periodic[axis] {
            (cutoff / widths[axis]).ceil() as i32 + 1
        } else {
            0
        }
    })
}
