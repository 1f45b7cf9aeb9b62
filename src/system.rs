//! The simulated system: species, masses, positions, velocities and the cell.

use crate::cell::Cell;
use crate::element;
use crate::error::{Error, Result};
use crate::neighbors::NeighborMethod;
use nalgebra::Vector3;

/// Atoms closer than this (Å) are taken as an input error: no structure has them.
pub const MINIMUM_DISTANCE: f64 = 0.1;

/// Atoms and their cell, in metal units.
#[derive(Debug, Clone, PartialEq)]
pub struct System {
    /// Atomic numbers.
    pub species: Vec<u8>,
    /// Masses, amu.
    pub masses: Vec<f64>,
    /// Positions, Å.
    pub positions: Vec<Vector3<f64>>,
    /// Velocities, Å/fs.
    pub velocities: Vec<Vector3<f64>>,
    /// The cell and its periodicity.
    pub cell: Cell,
}

impl System {
    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.species.len()
    }

    /// Whether the system has no atoms.
    pub fn is_empty(&self) -> bool {
        self.species.is_empty()
    }

    /// Refuses systems where two atoms (or an atom and its own image) are closer than
    /// [`MINIMUM_DISTANCE`].
    pub fn check_overlaps(&self) -> Result<()> {
        let list = NeighborMethod::Auto.build(&self.positions, &self.cell, MINIMUM_DISTANCE);
        if let Some(e) = (0..list.len()).next() {
            let (first, second) = (list.senders[e] as usize, list.receivers[e] as usize);
            let d = self.positions[second] - self.positions[first]
                + self.cell.shift_vector(list.shifts[e]);
            return Err(Error::Overlap {
                first,
                first_element: element::symbol(self.species[first]),
                second,
                second_element: element::symbol(self.species[second]),
                distance: d.norm(),
                minimum: MINIMUM_DISTANCE,
            });
        }
        Ok(())
    }

    /// Kinetic energy, eV.
    pub fn kinetic_energy(&self) -> f64 {
        mlmd_integrators::kinetic_energy(&self.masses, &self.velocities)
    }
}
