//! Positions and cell relaxed together (the idea of ASE's `UnitCellFilter`): the cell's
//! deformation becomes three more "atoms" for an optimiser such as [`Fire`](crate::Fire).

use crate::units::EV_PER_A3_IN_BAR;
use nalgebra::{Matrix3, Vector3};

/// Generalised coordinates for relaxing positions x_i and lattice h (rows) from a reference
/// lattice h₀ under a hydrostatic pressure P: the cell is `h = h₀ Fᵀ` with an upper-triangular
/// deformation gradient F (so that a lower-triangular h₀ — a along x, b in the xy plane —
/// stays lower-triangular: no rotation), the atoms are `x_i = F ξ_i`, and the coordinates are
/// the ξ_i followed by the three rows of c F. Their forces are minus the gradient of the
/// enthalpy `E + P V`:
///
/// ```text
/// on ξ_i: Fᵀ f_i,   on c F: upper triangle of G F⁻ᵀ / c,   G = W − P V I
/// ```
///
/// (W the virial, eV; c = N, ASE's `cell_factor`), so an optimiser on them minimises it.
#[derive(Debug, Clone)]
pub struct CellFilter {
    reference: Matrix3<f64>,
    deformation: Matrix3<f64>,
    factor: f64,
    /// P, eV/Å³.
    pressure: f64,
}

impl CellFilter {
    /// A filter starting from `cell` (rows, Å) for `atoms` atoms at `pressure` (bar).
    pub fn new(cell: &Matrix3<f64>, atoms: usize, pressure: f64) -> Self {
        Self {
            reference: *cell,
            deformation: Matrix3::identity(),
            factor: atoms.max(1) as f64,
            pressure: pressure / EV_PER_A3_IN_BAR,
        }
    }

    fn inverse(&self) -> Matrix3<f64> {
        self.deformation
            .try_inverse()
            .expect("a relaxation keeps the cell invertible")
    }

    /// The generalised coordinates of `positions` (Å) in the filter's current cell.
    pub fn coordinates(&self, positions: &[Vector3<f64>]) -> Vec<Vector3<f64>> {
        let inverse = self.inverse();
        let scaled = self.deformation * self.factor;
        positions
            .iter()
            .map(|x| inverse * x)
            .chain((0..3).map(|k| scaled.row(k).transpose()))
            .collect()
    }

    /// The generalised forces from the atoms' forces (eV/Å), the virial (eV) and the cell.
    pub fn forces(
        &self,
        forces: &[Vector3<f64>],
        virial: &Matrix3<f64>,
        cell: &Matrix3<f64>,
    ) -> Vec<Vector3<f64>> {
        let f = self.deformation;
        let volume = cell.determinant().abs();
        let g = virial - Matrix3::identity() * (self.pressure * volume);
        let stress = (g * self.inverse().transpose()).upper_triangle() / self.factor;
        forces
            .iter()
            .map(|x| f.tr_mul(x))
            .chain((0..3).map(|k| stress.row(k).transpose()))
            .collect()
    }

    /// Sets positions (Å) and cell (rows, Å) from generalised coordinates.
    pub fn apply(
        &mut self,
        coordinates: &[Vector3<f64>],
        positions: &mut [Vector3<f64>],
        cell: &mut Matrix3<f64>,
    ) {
        let n = positions.len();
        let scaled = Matrix3::from_fn(|i, j| coordinates[n + i][j]);
        self.deformation = scaled.upper_triangle() / self.factor;
        for (x, xi) in positions.iter_mut().zip(coordinates) {
            *x = self.deformation * xi;
        }
        *cell = self.reference * self.deformation.transpose();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generalised forces are minus the enthalpy's derivatives (central differences) for a
    /// pair of atoms bound by a spring in a triclinic cell under pressure, away from the start.
    #[test]
    fn cell_forces_are_the_enthalpy_gradient() {
        let (k, r0, pressure) = (3.0, 2.0, 5e4);
        let cell = Matrix3::new(6.0, 0.0, 0.0, 0.5, 5.0, 0.0, 0.2, 0.1, 7.0);
        let start = [Vector3::new(0.1, 0.2, 0.3), Vector3::new(1.9, 1.1, 0.8)];
        let enthalpy_and_forces = |filter: &CellFilter, coordinates: &[Vector3<f64>]| {
            let (mut filter, mut x, mut h) = (filter.clone(), start.to_vec(), cell);
            filter.apply(coordinates, &mut x, &mut h);
            let d = x[1] - x[0];
            let f1 = -k * (d.norm() - r0) * d / d.norm();
            let virial = d * f1.transpose();
            let energy = 0.5 * k * (d.norm() - r0).powi(2) + filter.pressure * h.determinant();
            (energy, filter.forces(&[-f1, f1], &virial, &h))
        };
        let filter = CellFilter::new(&cell, 2, pressure);
        let mut coordinates = filter.coordinates(&start);
        coordinates[2] += Vector3::new(0.3, 0.1, -0.2);
        coordinates[3] += Vector3::new(0.0, -0.4, 0.05);
        coordinates[4] += Vector3::new(0.0, 0.0, 0.2);
        let (_, forces) = enthalpy_and_forces(&filter, &coordinates);
        for (i, j) in [
            (2, 0),
            (3, 1),
            (4, 2),
            (2, 1),
            (3, 2),
            (2, 2),
            (0, 0),
            (1, 2),
        ] {
            let h = 1e-6;
            let shifted = |s: f64| {
                let mut c = coordinates.clone();
                c[i][j] += s;
                enthalpy_and_forces(&filter, &c).0
            };
            let numeric = -(shifted(h) - shifted(-h)) / (2.0 * h);
            let analytic = forces[i][j];
            assert!(
                (numeric - analytic).abs() < 1e-6 * (1.0 + analytic.abs()),
                "({i}, {j}): numeric {numeric}, analytic {analytic}"
            );
        }
    }
}
