//! Nosé–Hoover chain thermostat (NVT): Martyna, Klein & Tuckerman (1992), integrated as in
//! Martyna, Tuckerman, Tobias & Klein (1996) and LAMMPS' `fix nvt`.

use crate::chain::{Bath, Chain};
use crate::units::BOLTZMANN_EV_PER_K;
use crate::{kinetic_energy, momentum_conserving_dof, Integrator, MdState, VelocityVerlet};

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
    bath: Bath,
    chain: Chain,
}

impl NoseHooverChain {
    /// A Nosé–Hoover chain: timestep (fs), target temperature (K), damping time τ (fs; LAMMPS'
    /// `Tdamp`, typically 100 timesteps), chain length (≥ 1; 3 is LAMMPS' default).
    pub fn new(timestep: f64, temperature: f64, damping: f64, length: usize) -> Self {
        Self {
            verlet: VelocityVerlet::new(timestep),
            bath: Bath {
                kt: BOLTZMANN_EV_PER_K * temperature,
                tau: damping,
            },
            chain: Chain::new(length),
        }
    }

    /// Half a timestep of the chain, scaling the velocities (LAMMPS' `nhc_temp_integrate`).
    fn half_step(&mut self, state: &mut MdState<'_>) {
        let dof = momentum_conserving_dof(state.masses.len());
        let kinetic = kinetic_energy(state.masses, state.velocities);
        let scale = self
            .chain
            .half_step(kinetic, dof, self.bath, self.verlet.timestep());
        state.velocities.iter_mut().for_each(|v| *v *= scale);
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

    fn reservoir_energy(&self, _volume: f64) -> f64 {
        self.chain.energy(self.bath)
    }

    fn save_state(&self) -> String {
        self.chain.save()
    }

    fn load_state(&mut self, state: &str) -> Result<(), String> {
        self.chain.load(state, "Nosé–Hoover chain")
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
        let conserved = |s: &Oscillators, n: &NoseHooverChain| s.energy() + n.reservoir_energy(0.0);
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
        nhc.chain.reverse();
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
