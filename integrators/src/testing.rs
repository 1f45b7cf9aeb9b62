//! A cheap test system for the integrators' unit tests: independent anharmonic oscillators.

use crate::units::AMU_A2_PER_FS2_IN_EV;
use crate::{maxwell_boltzmann, Integrator, MdState};
use nalgebra::Vector3;

/// Spring constant k (eV/Å²) and quartic coefficient a (eV/Å⁴) of the well.
const SPRING: f64 = 2.0;
const QUARTIC: f64 = 1.0;

/// Atoms of 12 amu, each in its own well U(x) = Σ_c (k x_c²/2 + a x_c⁴/4), started at 0.1 Å
/// offsets with Maxwell–Boltzmann velocities at 300 K.
pub struct Oscillators {
    pub positions: Vec<Vector3<f64>>,
    pub velocities: Vec<Vector3<f64>>,
    forces: Vec<Vector3<f64>>,
    masses: Vec<f64>,
}

impl Oscillators {
    pub fn new(n: usize, seed: u64) -> Self {
        let masses = vec![12.0; n];
        let positions: Vec<Vector3<f64>> = (0..n)
            .map(|i| Vector3::new(0.1, -0.05, 0.02 * (i % 5) as f64))
            .collect();
        let mut system = Self {
            velocities: maxwell_boltzmann(&masses, 300.0, seed),
            forces: vec![Vector3::zeros(); n],
            positions,
            masses,
        };
        system.update_forces();
        system
    }

    fn update_forces(&mut self) {
        for (f, x) in self.forces.iter_mut().zip(&self.positions) {
            *f = x.map(|c| -SPRING * c - QUARTIC * c.powi(3));
        }
    }

    /// Kinetic plus potential energy, eV.
    pub fn energy(&self) -> f64 {
        let potential: f64 = self
            .positions
            .iter()
            .flat_map(|x| x.iter())
            .map(|c| 0.5 * SPRING * c * c + 0.25 * QUARTIC * c.powi(4))
            .sum();
        potential + crate::kinetic_energy(&self.masses, &self.velocities)
    }

    /// Kinetic energy per degree of freedom over kT/2 at `temperature`.
    pub fn kinetic_temperature(&self) -> f64 {
        let kinetic: f64 = self
            .masses
            .iter()
            .zip(&self.velocities)
            .map(|(m, v)| 0.5 * m * AMU_A2_PER_FS2_IN_EV * v.norm_squared())
            .sum();
        2.0 * kinetic / (3.0 * self.masses.len() as f64 * crate::units::BOLTZMANN_EV_PER_K)
    }

    /// One full step of `integrator`.
    pub fn step(&mut self, integrator: &mut dyn Integrator) {
        integrator.initial_integrate(MdState {
            positions: &mut self.positions,
            velocities: &mut self.velocities,
            forces: &self.forces,
            masses: &self.masses,
        });
        self.update_forces();
        integrator.final_integrate(MdState {
            positions: &mut self.positions,
            velocities: &mut self.velocities,
            forces: &self.forces,
            masses: &self.masses,
        });
    }
}
