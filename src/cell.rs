//! The simulation cell: lattice vectors as rows, periodicity per axis, wrapping.

use nalgebra::{Matrix3, Vector3};

/// Why a cell is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CellError {
    /// A periodic axis has a zero-length lattice vector.
    #[error("the cell has no lattice vector along periodic axis {axis} (is the cell missing?)")]
    MissingVector {
        /// 0, 1 or 2 for a, b, c.
        axis: usize,
    },
    /// The lattice vectors do not span space.
    #[error("the cell has zero volume (its lattice vectors are linearly dependent)")]
    ZeroVolume,
    /// A lattice component is NaN or infinite.
    #[error("the cell has a non-finite component")]
    NonFinite,
}

/// Lattice vectors (rows of `lattice`, Å) and whether each axis is periodic.
///
/// A non-periodic axis may have a zero lattice vector (or the whole lattice may be zero, for a
/// molecule in vacuum); internally such rows are completed to an orthonormal frame so that
/// fractional coordinates stay defined.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    lattice: Matrix3<f64>,
    periodic: [bool; 3],
    /// `lattice` with zero rows replaced by unit vectors orthogonal to the others.
    frame: Matrix3<f64>,
    /// Inverse of `frame`.
    inverse: Matrix3<f64>,
}

impl Cell {
    /// A cell from lattice vectors as rows (Å) and per-axis periodicity.
    pub fn new(lattice: Matrix3<f64>, periodic: [bool; 3]) -> Result<Self, CellError> {
        if lattice.iter().any(|x| !x.is_finite()) {
            return Err(CellError::NonFinite);
        }
        for (axis, &p) in periodic.iter().enumerate() {
            if p && lattice.row(axis).norm() == 0.0 {
                return Err(CellError::MissingVector { axis });
            }
        }
        let frame = complete_frame(&lattice).ok_or(CellError::ZeroVolume)?;
        let scale = frame.row(0).norm() * frame.row(1).norm() * frame.row(2).norm();
        if frame.determinant().abs() <= 1e-10 * scale {
            return Err(CellError::ZeroVolume);
        }
        let inverse = frame.try_inverse().ok_or(CellError::ZeroVolume)?;
        Ok(Self {
            lattice,
            periodic,
            frame,
            inverse,
        })
    }

    /// No lattice and no periodicity: a molecule or cluster in vacuum.
    pub fn open() -> Self {
        Self::new(Matrix3::zeros(), [false; 3]).expect("the identity frame is valid")
    }

    /// Lattice vectors as rows, Å (zero rows where the cell has none).
    pub fn lattice(&self) -> &Matrix3<f64> {
        &self.lattice
    }

    /// Periodicity of the a, b, c axes.
    pub fn periodic(&self) -> [bool; 3] {
        self.periodic
    }

    /// Whether all three axes are periodic.
    pub fn is_fully_periodic(&self) -> bool {
        self.periodic.iter().all(|&p| p)
    }

    /// Whether any axis is periodic.
    pub fn is_periodic(&self) -> bool {
        self.periodic.iter().any(|&p| p)
    }

    /// Whether the cell has three non-zero lattice vectors.
    pub fn has_full_lattice(&self) -> bool {
        (0..3).all(|axis| self.lattice.row(axis).norm() > 0.0)
    }

    /// Volume |det(lattice)|, Å³ (zero if a lattice vector is missing).
    pub fn volume(&self) -> f64 {
        self.lattice.determinant().abs()
    }

    /// The full-rank frame used for fractional coordinates (lattice with completed rows).
    pub fn frame(&self) -> &Matrix3<f64> {
        &self.frame
    }

    /// Distances between opposite faces of the frame, Å: the perpendicular widths.
    pub fn perpendicular_widths(&self) -> Vector3<f64> {
        let volume = self.frame.determinant().abs();
        let (a, b, c) = (
            self.frame.row(0).transpose(),
            self.frame.row(1).transpose(),
            self.frame.row(2).transpose(),
        );
        Vector3::new(
            volume / b.cross(&c).norm(),
            volume / c.cross(&a).norm(),
            volume / a.cross(&b).norm(),
        )
    }

    /// Fractional coordinates `s` with `x = s · frame`.
    pub fn fractional(&self, position: &Vector3<f64>) -> Vector3<f64> {
        self.inverse.tr_mul(position)
    }

    /// Cartesian position of fractional coordinates `s`.
    pub fn cartesian(&self, fractional: &Vector3<f64>) -> Vector3<f64> {
        self.frame.tr_mul(fractional)
    }

    /// Cartesian vector of an integer lattice shift `n · lattice`.
    pub fn shift_vector(&self, shift: [i32; 3]) -> Vector3<f64> {
        self.lattice.tr_mul(&Vector3::new(
            f64::from(shift[0]),
            f64::from(shift[1]),
            f64::from(shift[2]),
        ))
    }

    /// Wraps a position into the cell along periodic axes. Returns the wrapped position and the
    /// image `n` it came from: `position = wrapped + n · lattice`.
    pub fn wrap(&self, position: &Vector3<f64>) -> (Vector3<f64>, [i32; 3]) {
        let mut s = self.fractional(position);
        let mut image = [0i32; 3];
        for axis in 0..3 {
            if self.periodic[axis] {
                let n = s[axis].floor();
                s[axis] -= n;
                image[axis] = n as i32;
            }
        }
        let wrapped = position - self.shift_vector(image);
        (wrapped, image)
    }
}

/// Replaces zero rows of `lattice` by unit vectors orthogonal to the non-zero rows; `None` if the
/// non-zero rows are themselves dependent.
fn complete_frame(lattice: &Matrix3<f64>) -> Option<Matrix3<f64>> {
    let present: Vec<usize> = (0..3).filter(|&i| lattice.row(i).norm() > 0.0).collect();
    let mut frame = *lattice;
    let row = |i: usize| lattice.row(i).transpose();
    match present.as_slice() {
        [] => frame = Matrix3::identity(),
        [i] => {
            let u = row(*i).normalize();
            let helper = if u.x.abs() < 0.9 {
                Vector3::x()
            } else {
                Vector3::y()
            };
            let v = u.cross(&helper).normalize();
            let w = u.cross(&v);
            let missing: Vec<usize> = (0..3).filter(|k| k != i).collect();
            // Keep the frame right-handed in the order a, b, c.
            let (first, second) = if (i + 1) % 3 == missing[0] {
                (v, w)
            } else {
                (w, v)
            };
            frame.set_row(missing[0], &first.transpose());
            frame.set_row(missing[1], &second.transpose());
        }
        [i, j] => {
            let k = 3 - i - j;
            let normal = row((k + 1) % 3).cross(&row((k + 2) % 3));
            if normal.norm() == 0.0 {
                return None;
            }
            frame.set_row(k, &normal.normalize().transpose());
        }
        _ => {}
    }
    Some(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triclinic() -> Cell {
        let lattice = Matrix3::new(5.0, 0.0, 0.0, 1.5, 4.0, 0.0, -1.0, 0.7, 6.0);
        Cell::new(lattice, [true; 3]).unwrap()
    }

    #[test]
    fn widths_volume_and_wrap_round_trip() {
        let cell = triclinic();
        assert!((cell.volume() - 120.0).abs() < 1e-12);
        let widths = cell.perpendicular_widths();
        assert!((widths.z - 6.0).abs() < 1e-12);
        let x = Vector3::new(-7.3, 12.1, 19.9);
        let (wrapped, image) = cell.wrap(&x);
        let s = cell.fractional(&wrapped);
        assert!(s.iter().all(|&v| (0.0..1.0).contains(&v)));
        assert!((wrapped + cell.shift_vector(image) - x).norm() < 1e-12);
        assert!((cell.cartesian(&cell.fractional(&x)) - x).norm() < 1e-12);
    }

    #[test]
    fn partial_and_missing_lattices() {
        let slab = Matrix3::new(3.0, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 0.0);
        let cell = Cell::new(slab, [true, true, false]).unwrap();
        assert!((cell.frame().row(2).norm() - 1.0).abs() < 1e-15);
        assert!(cell.frame().determinant() > 0.0);
        assert_eq!(
            Cell::new(slab, [true; 3]).unwrap_err(),
            CellError::MissingVector { axis: 2 }
        );
        let flat = Matrix3::new(3.0, 0.0, 0.0, 6.0, 0.0, 0.0, 0.0, 0.0, 5.0);
        assert_eq!(
            Cell::new(flat, [true; 3]).unwrap_err(),
            CellError::ZeroVolume
        );
        let open = Cell::open();
        assert_eq!(open.frame(), &Matrix3::identity());
        let x = Vector3::new(-100.0, 3.0, 2.0);
        assert_eq!(open.wrap(&x), (x, [0, 0, 0]));
    }
}
