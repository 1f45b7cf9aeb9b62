//! Langevin dynamics with the BAOAB splitting (Leimkuhler & Matthews, 2013).

use crate::units::{AMU_A2_PER_FS2_IN_EV, BOLTZMANN_EV_PER_K};
use crate::{drift, half_kick, Integrator, MdState};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Langevin thermostat (NVT) integrated as B A O A | forces | B.
///
/// The O step is exact: `v ← c₁ v + √((1 − c₁²) kT/m) ξ` with `c₁ = exp(−γ dt)` and ξ standard
/// normal from a seeded generator, so a run is reproducible from its seed.
#[derive(Debug, Clone)]
pub struct Langevin {
    timestep: f64,
    temperature: f64,
    friction: f64,
    rng: Xoshiro256PlusPlus,
}

impl Langevin {
    /// A Langevin integrator: timestep (fs), target temperature (K), friction γ (1/fs), seed.
    pub fn new(timestep: f64, temperature: f64, friction: f64, seed: u64) -> Self {
        Self {
            timestep,
            temperature,
            friction,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// The O step: Ornstein-Uhlenbeck update of the velocities over a full timestep.
    fn thermalize(&mut self, state: &mut MdState<'_>) {
        let c1 = (-self.friction * self.timestep).exp();
        let kt = BOLTZMANN_EV_PER_K * self.temperature;
        let noise_scale = (1.0 - c1 * c1).sqrt();
        for (v, &m) in state.velocities.iter_mut().zip(state.masses) {
            let sigma = noise_scale * (kt / (m * AMU_A2_PER_FS2_IN_EV)).sqrt();
            for component in v.iter_mut() {
                let xi: f64 = StandardNormal.sample(&mut self.rng);
                *component = c1 * *component + sigma * xi;
            }
        }
    }
}

impl Integrator for Langevin {
    fn timestep(&self) -> f64 {
        self.timestep
    }

    fn initial_integrate(&mut self, mut state: MdState<'_>) {
        half_kick(&mut state, self.timestep);
        drift(&mut state, 0.5 * self.timestep);
        self.thermalize(&mut state);
        drift(&mut state, 0.5 * self.timestep);
    }

    fn final_integrate(&mut self, mut state: MdState<'_>) {
        half_kick(&mut state, self.timestep);
    }

    fn conserves_momentum(&self) -> bool {
        false
    }
}
