//! What an integrator moves.

use nalgebra::{Matrix3, Vector3};

/// Mutable view of the dynamical state; all slices have one entry per atom.
#[derive(Debug)]
pub struct MdState<'a> {
    /// Positions, Å.
    pub positions: &'a mut [Vector3<f64>],
    /// Velocities, Å/fs.
    pub velocities: &'a mut [Vector3<f64>],
    /// Forces at the current positions, eV/Å.
    pub forces: &'a [Vector3<f64>],
    /// Masses, amu.
    pub masses: &'a [f64],
    /// Lattice vectors as rows, Å. A barostat changes it (and scales the positions with it);
    /// the engine then rebuilds its neighbor list as the change requires.
    pub cell: &'a mut Matrix3<f64>,
    /// The virial `W = −∂E/∂ε` at the current positions, eV, when the integrator asked for it
    /// ([`Integrator::needs_virial`](crate::Integrator::needs_virial)).
    pub virial: Option<&'a Matrix3<f64>>,
}

impl MdState<'_> {
    /// A shorter-lived view of the same state, to hand to an inner integrator and use again.
    pub fn reborrow(&mut self) -> MdState<'_> {
        MdState {
            positions: self.positions,
            velocities: self.velocities,
            forces: self.forces,
            masses: self.masses,
            cell: self.cell,
            virial: self.virial,
        }
    }
}
