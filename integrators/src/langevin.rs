//! Langevin dynamics with the BAOAB splitting (Leimkuhler & Matthews, 2013).

use crate::units::{AMU_A2_PER_FS2_IN_EV, BOLTZMANN_EV_PER_K};
use crate::{drift, half_kick, kinetic_energy, Integrator, MdState};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// Langevin thermostat (NVT) integrated as B A O A | forces | B.
///
/// The O step is exact: `v ← c₁ v + √((1 − c₁²) kT/m) ξ` with `c₁ = exp(−γ dt)` and ξ standard
/// normal from a seeded generator, so a run is reproducible from its seed.
#[derive(Debug, Clone)]
pub struct Langevin {
    timestep: f64,
    temperature: f64,
    friction: f64,
    state: LangevinState,
}

/// The random stream and the energy the bath has put into the system (eV).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LangevinState {
    rng: Xoshiro256PlusPlus,
    heat: f64,
}

impl Langevin {
    /// A Langevin integrator: timestep (fs), target temperature (K), friction γ (1/fs), seed.
    pub fn new(timestep: f64, temperature: f64, friction: f64, seed: u64) -> Self {
        Self {
            timestep,
            temperature,
            friction,
            state: LangevinState {
                rng: Xoshiro256PlusPlus::seed_from_u64(seed),
                heat: 0.0,
            },
        }
    }

    /// The O step: Ornstein-Uhlenbeck update of the velocities over a full timestep.
    fn thermalize(&mut self, state: &mut MdState<'_>) {
        let before = kinetic_energy(state.masses, state.velocities);
        let c1 = (-self.friction * self.timestep).exp();
        let kt = BOLTZMANN_EV_PER_K * self.temperature;
        let noise_scale = (1.0 - c1 * c1).sqrt();
        for (v, &m) in state.velocities.iter_mut().zip(state.masses) {
            let sigma = noise_scale * (kt / (m * AMU_A2_PER_FS2_IN_EV)).sqrt();
            for component in v.iter_mut() {
                let xi: f64 = StandardNormal.sample(&mut self.state.rng);
                *component = c1 * *component + sigma * xi;
            }
        }
        self.state.heat += kinetic_energy(state.masses, state.velocities) - before;
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

    fn reservoir_energy(&self, _volume: f64) -> f64 {
        -self.state.heat
    }

    fn save_state(&self) -> String {
        serde_json::to_string(&self.state).expect("the generator's state serialises")
    }

    fn load_state(&mut self, state: &str) -> Result<(), String> {
        self.state = serde_json::from_str(state)
            .map_err(|e| format!("bad Langevin thermostat state: {e}"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Vector3;

    /// Independent 3D harmonic oscillators: BAOAB samples x with variance kT/k exactly and
    /// v with variance kT/m (to O(dt²)).
    #[test]
    fn harmonic_oscillators_reach_the_boltzmann_distribution() {
        let (n, mass, spring, temperature) = (400, 12.0, 2.0, 300.0);
        let masses = vec![mass; n];
        let mut positions = vec![Vector3::zeros(); n];
        let mut velocities = vec![Vector3::zeros(); n];
        let mut forces = vec![Vector3::zeros(); n];
        let mut cell = nalgebra::Matrix3::zeros();
        let mut langevin = Langevin::new(1.0, temperature, 0.05, 11);
        let (mut x2, mut v2, mut samples) = (0.0, 0.0, 0.0);
        for step in 0..6000 {
            langevin.initial_integrate(MdState {
                positions: &mut positions,
                velocities: &mut velocities,
                forces: &forces,
                masses: &masses,
                cell: &mut cell,
                virial: None,
            });
            forces
                .iter_mut()
                .zip(&positions)
                .for_each(|(f, x)| *f = -spring * x);
            langevin.final_integrate(MdState {
                positions: &mut positions,
                velocities: &mut velocities,
                forces: &forces,
                masses: &masses,
                cell: &mut cell,
                virial: None,
            });
            if step >= 1000 && step % 10 == 0 {
                x2 += positions.iter().map(|x| x.norm_squared()).sum::<f64>();
                v2 += velocities.iter().map(|v| v.norm_squared()).sum::<f64>();
                samples += 3.0 * n as f64;
            }
        }
        let kt = BOLTZMANN_EV_PER_K * temperature;
        let x_ratio = (x2 / samples) / (kt / spring);
        let v_ratio = (v2 / samples) / (kt / (mass * AMU_A2_PER_FS2_IN_EV));
        assert!((x_ratio - 1.0).abs() < 0.02, "<x²> ratio {x_ratio}");
        assert!((v_ratio - 1.0).abs() < 0.02, "<v²> ratio {v_ratio}");
    }
}
