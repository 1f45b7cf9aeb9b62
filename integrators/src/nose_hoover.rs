//! Nosé–Hoover chain thermostat (NVT): Martyna, Klein & Tuckerman (1992), integrated as in
//! Martyna, Tuckerman, Tobias & Klein (1996) and LAMMPS' `fix nvt`.

use crate::units::BOLTZMANN_EV_PER_K;
use crate::{kinetic_energy, momentum_conserving_dof, Integrator, MdState, VelocityVerlet};
use serde::{Deserialize, Serialize};

/// Nosé–Hoover chain of `M` thermostats on the kinetic energy K of `N_f = 3N − 3` degrees of
/// freedom at temperature T, with damping time τ (fs):
///
/// ```text
/// dv/dt = F/m − ξ₁ v,   dξ₁/dt = (2K − N_f kT)/Q₁ − ξ₁ξ₂,
/// dξₖ/dt = (Q_{k−1} ξ²_{k−1} − kT)/Qₖ − ξₖ ξ_{k+1},   dηₖ/dt = ξₖ,
/// Q₁ = N_f kT τ²,  Qₖ = kT τ² (k ≥ 2)
/// ```
///
/// Step: chain half step (velocities scaled by exp(−ξ₁ dt/2)), velocity Verlet, chain half step;
/// symmetric, hence time-reversible. The conserved quantity is
/// `E + N_f kT η₁ + kT Σ_{k≥2} ηₖ + Σ_k Qₖ ξₖ²/2` ([`Integrator::reservoir_energy`]).
#[derive(Debug, Clone)]
pub struct NoseHooverChain {
    verlet: VelocityVerlet,
    temperature: f64,
    damping: f64,
    chain: Chain,
}

/// The chain's dynamical state: positions η, velocities ξ (1/fs), and the forces on ξ₂..ξ_M kept
/// from the previous half step (1/fs²).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Chain {
    eta: Vec<f64>,
    eta_dot: Vec<f64>,
    eta_dotdot: Vec<f64>,
    /// N_f of the system the chain was last applied to (sets Q₁ and the energy).
    dof: f64,
}

impl NoseHooverChain {
    /// A Nosé–Hoover chain: timestep (fs), target temperature (K), damping time τ (fs; LAMMPS'
    /// `Tdamp`, typically 100 timesteps), chain length (≥ 1; 3 is LAMMPS' default).
    pub fn new(timestep: f64, temperature: f64, damping: f64, length: usize) -> Self {
        Self {
            verlet: VelocityVerlet::new(timestep),
            temperature,
            damping,
            chain: Chain {
                eta: vec![0.0; length],
                eta_dot: vec![0.0; length + 1],
                eta_dotdot: vec![0.0; length],
                dof: 0.0,
            },
        }
    }

    /// Thermostat "masses" Q₁ = N_f kT τ², Qₖ = kT τ², eV·fs².
    fn mass(&self, k: usize) -> f64 {
        let kt_tau2 = BOLTZMANN_EV_PER_K * self.temperature * self.damping * self.damping;
        if k == 0 {
            self.chain.dof * kt_tau2
        } else {
            kt_tau2
        }
    }

    /// Force on ξ₁: (2K − N_f kT)/Q₁ (zero for a chain without mass).
    fn first_force(&self, kinetic: f64) -> f64 {
        let q = self.mass(0);
        let target = self.chain.dof * BOLTZMANN_EV_PER_K * self.temperature;
        if q > 0.0 {
            (2.0 * kinetic - target) / q
        } else {
            0.0
        }
    }

    /// ξₖ over dt/4 under its force, damped by its successor (exp(−ξ_{k+1} dt/8) either side).
    fn update_velocity(&mut self, k: usize) {
        let factor = (-self.verlet.timestep() / 8.0 * self.chain.eta_dot[k + 1]).exp();
        let chain = &mut self.chain;
        chain.eta_dot[k] = (chain.eta_dot[k] * factor
            + chain.eta_dotdot[k] * self.verlet.timestep() / 4.0)
            * factor;
    }

    /// Half a timestep of the chain, scaling the velocities (LAMMPS' `nhc_temp_integrate`).
    fn half_step(&mut self, state: &mut MdState<'_>) {
        self.chain.dof = momentum_conserving_dof(state.masses.len());
        let length = self.chain.eta.len();
        let kinetic = kinetic_energy(state.masses, state.velocities);
        self.chain.eta_dotdot[0] = self.first_force(kinetic);
        for k in (0..length).rev() {
            self.update_velocity(k);
        }
        let scale = (-0.5 * self.verlet.timestep() * self.chain.eta_dot[0]).exp();
        state.velocities.iter_mut().for_each(|v| *v *= scale);
        self.chain.eta_dotdot[0] = self.first_force(kinetic * scale * scale);
        for k in 0..length {
            self.chain.eta[k] += 0.5 * self.verlet.timestep() * self.chain.eta_dot[k];
        }
        self.update_velocity(0);
        let kt = BOLTZMANN_EV_PER_K * self.temperature;
        for k in 1..length {
            let previous = self.chain.eta_dot[k - 1];
            self.chain.eta_dotdot[k] = (self.mass(k - 1) * previous * previous - kt) / self.mass(k);
            self.update_velocity(k);
        }
    }
}

impl Integrator for NoseHooverChain {
    fn timestep(&self) -> f64 {
        self.verlet.timestep()
    }

    fn initial_integrate(&mut self, mut state: MdState<'_>) {
        self.half_step(&mut state);
        self.verlet.initial_integrate(state);
    }

    fn final_integrate(&mut self, mut state: MdState<'_>) {
        self.verlet.final_integrate(state.reborrow());
        self.half_step(&mut state);
    }

    /// A uniform velocity scaling keeps a zero total momentum zero.
    fn conserves_momentum(&self) -> bool {
        true
    }

    fn reservoir_energy(&self) -> f64 {
        let kt = BOLTZMANN_EV_PER_K * self.temperature;
        let chain = &self.chain;
        (0..chain.eta.len())
            .map(|k| {
                let coupling = if k == 0 { chain.dof * kt } else { kt };
                coupling * chain.eta[k] + 0.5 * self.mass(k) * chain.eta_dot[k].powi(2)
            })
            .sum()
    }

    fn save_state(&self) -> String {
        serde_json::to_string(&self.chain).expect("the chain's state serialises")
    }

    fn load_state(&mut self, state: &str) -> Result<(), String> {
        let chain: Chain =
            serde_json::from_str(state).map_err(|e| format!("bad Nosé–Hoover chain state: {e}"))?;
        if chain.eta.len() != self.chain.eta.len() {
            return Err(format!(
                "the checkpoint's Nosé–Hoover chain has length {}, the input {}",
                chain.eta.len(),
                self.chain.eta.len()
            ));
        }
        self.chain = chain;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Oscillators;

    /// The chain's extended energy is conserved to O(dt²) over 2,000 steps.
    #[test]
    fn conserves_its_extended_energy() {
        let mut system = Oscillators::new(64, 11);
        let mut nhc = NoseHooverChain::new(0.5, 600.0, 50.0, 3);
        let conserved = |s: &Oscillators, n: &NoseHooverChain| s.energy() + n.reservoir_energy();
        let e0 = conserved(&system, &nhc);
        let mut drift: f64 = 0.0;
        for _ in 0..2000 {
            system.step(&mut nhc);
            drift = drift.max((conserved(&system, &nhc) - e0).abs());
        }
        assert!(nhc.chain.eta_dot[0].abs() > 1e-4, "the thermostat acts");
        assert!(
            drift < 2e-4 * e0.abs(),
            "extended energy drift {drift:e} of {e0}"
        );
    }

    /// 300 steps forward, velocities and ξ reversed, 300 steps back reach the start to 1e-8 Å
    /// (longer runs lose it to the chaos of the thermostatted dynamics, not to the scheme: the
    /// round-off error grows exponentially, 1e-15 Å after 200 steps, 1e-10 after 400).
    #[test]
    fn is_time_reversible() {
        let mut system = Oscillators::new(64, 11);
        let mut nhc = NoseHooverChain::new(0.5, 600.0, 50.0, 3);
        let start = system.positions.clone();
        (0..300).for_each(|_| system.step(&mut nhc));
        assert!(nhc.chain.eta_dot[0].abs() > 1e-4, "the thermostat acts");
        system.velocities.iter_mut().for_each(|v| *v = -*v);
        nhc.chain.eta_dot.iter_mut().for_each(|x| *x = -*x);
        (0..300).for_each(|_| system.step(&mut nhc));
        let error = system
            .positions
            .iter()
            .zip(&start)
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        assert!(error < 1e-8, "returned within {error:e} Å");
    }

    #[test]
    fn state_survives_a_checkpoint() {
        let mut system = Oscillators::new(8, 3);
        let mut nhc = NoseHooverChain::new(1.0, 300.0, 20.0, 4);
        (0..50).for_each(|_| system.step(&mut nhc));
        let mut copy = NoseHooverChain::new(1.0, 300.0, 20.0, 4);
        copy.load_state(&nhc.save_state()).unwrap();
        assert_eq!(copy.chain, nhc.chain);
        let mut short = NoseHooverChain::new(1.0, 300.0, 20.0, 3);
        assert!(short.load_state(&nhc.save_state()).is_err());
    }
}
