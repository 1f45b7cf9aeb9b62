//! Velocity Verlet: the symplectic, time-reversible NVE integrator.

use crate::{drift, half_kick, Integrator, MdState};

/// Velocity Verlet (NVE): half kick, drift, new forces, half kick.
#[derive(Debug, Clone)]
pub struct VelocityVerlet {
    timestep: f64,
}

impl VelocityVerlet {
    /// A velocity Verlet integrator with a timestep in fs.
    pub fn new(timestep: f64) -> Self {
        Self { timestep }
    }
}

impl Integrator for VelocityVerlet {
    fn timestep(&self) -> f64 {
        self.timestep
    }

    fn initial_integrate(&mut self, mut state: MdState<'_>) {
        half_kick(&mut state, self.timestep);
        drift(&mut state, self.timestep);
    }

    fn final_integrate(&mut self, mut state: MdState<'_>) {
        half_kick(&mut state, self.timestep);
    }

    fn conserves_momentum(&self) -> bool {
        true
    }
}
