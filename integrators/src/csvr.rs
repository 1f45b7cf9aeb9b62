//! Stochastic velocity rescaling (CSVR; Bussi, Donadio & Parrinello, J. Chem. Phys. 126,
//! 014101 (2007)): a canonical thermostat that acts on the total kinetic energy only.

use crate::units::BOLTZMANN_EV_PER_K;
use crate::{kinetic_energy, momentum_conserving_dof, Integrator, MdState, VelocityVerlet};
use rand::SeedableRng;
use rand_distr::{ChiSquared, Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// Velocity Verlet followed, each step, by a rescaling of all velocities that draws the new
/// kinetic energy K' from the exact solution of
/// `dK = (K̄ − K) dt/τ + 2 √(K K̄ / N_f) dW/√τ` over one timestep (Bussi et al., eq. A7):
///
/// ```text
/// K' = K + (1 − c)(K̄ (R₁² + Σ_{i=2}^{N_f} Rᵢ²)/N_f − K) + 2 R₁ √(c (1 − c) K K̄ / N_f),
/// c = exp(−dt/τ),  K̄ = N_f kT/2,  N_f = 3N − 3
/// ```
///
/// with Rᵢ standard normal (the sum drawn as one χ² with N_f − 1 degrees of freedom) from a
/// seeded generator (LAMMPS' `fix temp/csvr` with `fix nve`). The conserved quantity is
/// `E − Σ (K' − K)` ([`Integrator::reservoir_energy`]).
#[derive(Debug, Clone)]
pub struct Csvr {
    verlet: VelocityVerlet,
    temperature: f64,
    damping: f64,
    state: CsvrState,
}

/// The random stream and the energy the thermostat has put into the system (eV).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CsvrState {
    rng: Xoshiro256PlusPlus,
    heat: f64,
}

impl Csvr {
    /// A CSVR thermostat: timestep (fs), target temperature (K), damping time τ (fs; 0 draws a
    /// fresh kinetic energy every step), seed.
    pub fn new(timestep: f64, temperature: f64, damping: f64, seed: u64) -> Self {
        Self {
            verlet: VelocityVerlet::new(timestep),
            temperature,
            damping,
            state: CsvrState {
                rng: Xoshiro256PlusPlus::seed_from_u64(seed),
                heat: 0.0,
            },
        }
    }

    /// The new kinetic energy K' for current K over `dof` degrees of freedom.
    fn resample(&mut self, kinetic: f64, dof: f64) -> f64 {
        let target = 0.5 * dof * BOLTZMANN_EV_PER_K * self.temperature;
        let c = if self.damping > 0.0 {
            (-self.verlet.timestep() / self.damping).exp()
        } else {
            0.0
        };
        let r1: f64 = StandardNormal.sample(&mut self.state.rng);
        let rest = if dof > 1.0 {
            ChiSquared::new(dof - 1.0)
                .expect("positive degrees of freedom")
                .sample(&mut self.state.rng)
        } else {
            0.0
        };
        kinetic
            + (1.0 - c) * (target * (r1 * r1 + rest) / dof - kinetic)
            + 2.0 * r1 * (c * (1.0 - c) * kinetic * target / dof).sqrt()
    }

    /// Rescales the velocities to a kinetic energy drawn by [`Csvr::resample`].
    fn thermalize(&mut self, state: &mut MdState<'_>) {
        let dof = momentum_conserving_dof(state.masses.len());
        let kinetic = kinetic_energy(state.masses, state.velocities);
        if kinetic <= 0.0 || dof <= 0.0 {
            return;
        }
        let new = self.resample(kinetic, dof).max(0.0);
        let scale = (new / kinetic).sqrt();
        state.velocities.iter_mut().for_each(|v| *v *= scale);
        self.state.heat += new - kinetic;
    }
}

impl Integrator for Csvr {
    fn timestep(&self) -> f64 {
        self.verlet.timestep()
    }

    fn initial_integrate(&mut self, state: MdState<'_>) {
        self.verlet.initial_integrate(state);
    }

    fn final_integrate(&mut self, mut state: MdState<'_>) {
        self.verlet.final_integrate(state.reborrow());
        self.thermalize(&mut state);
    }

    /// A uniform velocity scaling keeps a zero total momentum zero.
    fn conserves_momentum(&self) -> bool {
        true
    }

    fn reservoir_energy(&self, _volume: f64) -> f64 {
        -self.state.heat
    }

    fn save_state(&self) -> String {
        serde_json::to_string(&self.state).expect("the thermostat's state serialises")
    }

    fn load_state(&mut self, state: &str) -> Result<(), String> {
        self.state =
            serde_json::from_str(state).map_err(|e| format!("bad CSVR thermostat state: {e}"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The resampled kinetic energy of N_f degrees of freedom, started far from equilibrium,
    /// relaxes as exp(−t/τ) in the mean and reaches the canonical Gamma distribution: mean
    /// N_f kT/2 and variance N_f (kT)²/2 (Bussi et al., eq. 7 and appendix).
    #[test]
    fn kinetic_energy_relaxes_to_the_canonical_distribution() {
        let (dof, temperature, tau, dt) = (30.0, 300.0, 20.0, 1.0);
        let kt = BOLTZMANN_EV_PER_K * temperature;
        let mut csvr = Csvr::new(dt, temperature, tau, 5);
        let walkers = 4000;
        let mut kinetic = vec![10.0 * 0.5 * dof * kt; walkers];
        for _ in 0..20 {
            kinetic.iter_mut().for_each(|k| *k = csvr.resample(*k, dof));
        }
        let mean = kinetic.iter().sum::<f64>() / walkers as f64;
        let expected = 0.5 * dof * kt * (1.0 + 9.0 * (-20.0 * dt / tau).exp());
        assert!((mean / expected - 1.0).abs() < 0.02, "{mean} vs {expected}");
        let mut samples = Vec::new();
        for step in 0..400_000 {
            kinetic[0] = csvr.resample(kinetic[0], dof);
            if step > 1000 && step % 5 == 0 {
                samples.push(kinetic[0]);
            }
        }
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        let variance =
            samples.iter().map(|k| (k - mean).powi(2)).sum::<f64>() / samples.len() as f64;
        assert!((mean / (0.5 * dof * kt) - 1.0).abs() < 0.01, "mean {mean}");
        assert!(
            (variance / (0.5 * dof * kt * kt) - 1.0).abs() < 0.05,
            "variance {variance}"
        );
    }

    #[test]
    fn heat_balances_the_energy_and_the_state_survives_a_checkpoint() {
        let mut system = crate::testing::Oscillators::new(40, 2);
        let mut csvr = Csvr::new(0.5, 900.0, 30.0, 9);
        let e0 = system.energy();
        let mut drift: f64 = 0.0;
        for _ in 0..3000 {
            system.step(&mut csvr);
            drift = drift.max((system.energy() + csvr.reservoir_energy(0.0) - e0).abs());
        }
        assert!(system.kinetic_temperature() > 450.0, "heated towards 900 K");
        assert!(
            drift < 1e-3 * e0,
            "conserved quantity drift {drift:e} of {e0}"
        );
        let mut copy = Csvr::new(1.0, 900.0, 30.0, 0);
        copy.load_state(&csvr.save_state()).unwrap();
        assert_eq!(copy.state, csvr.state);
    }
}
