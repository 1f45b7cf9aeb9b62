//! A Nosé–Hoover chain (Martyna, Klein & Tuckerman 1992) acting on the kinetic energy of some
//! degrees of freedom, integrated as in LAMMPS' `fix nvt` / `fix npt` (`nhc_temp_integrate`,
//! `nhc_press_integrate`). The particle thermostat and the barostat's thermostat are both one.

use serde::{Deserialize, Serialize};

/// The bath a chain couples to: kT (eV) and the damping time τ (fs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bath {
    pub kt: f64,
    pub tau: f64,
}

/// Chain of `M` thermostats on a kinetic energy K of `N_f` degrees of freedom:
///
/// ```text
/// dξ₁/dt = (2K − N_f kT)/Q₁ − ξ₁ξ₂,   dξₖ/dt = (Q_{k−1} ξ²_{k−1} − kT)/Qₖ − ξₖ ξ_{k+1},
/// dηₖ/dt = ξₖ,   Q₁ = N_f kT τ²,  Qₖ = kT τ² (k ≥ 2)
/// ```
///
/// and the thermostatted velocities scale as `exp(−∫ξ₁ dt)`. Its energy is
/// `N_f kT η₁ + kT Σ_{k≥2} ηₖ + Σ_k Qₖ ξₖ²/2`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Chain {
    /// Positions η.
    pub eta: Vec<f64>,
    /// Velocities ξ, 1/fs (one more than the chain's length, the last always 0).
    pub eta_dot: Vec<f64>,
    /// Forces on ξ kept from the previous half step, 1/fs².
    pub eta_dotdot: Vec<f64>,
    /// N_f of the degrees of freedom the chain was last applied to (sets Q₁ and the energy).
    pub dof: f64,
}

impl Chain {
    /// A chain of `length` thermostats at rest.
    pub fn new(length: usize) -> Self {
        Self {
            eta: vec![0.0; length],
            eta_dot: vec![0.0; length + 1],
            eta_dotdot: vec![0.0; length],
            dof: 0.0,
        }
    }

    /// Thermostat "masses" Q₁ = N_f kT τ², Qₖ = kT τ², eV·fs².
    fn mass(&self, k: usize, bath: Bath) -> f64 {
        let kt_tau2 = bath.kt * bath.tau * bath.tau;
        if k == 0 {
            self.dof * kt_tau2
        } else {
            kt_tau2
        }
    }

    /// Force on ξ₁: (2K − N_f kT)/Q₁ (zero for a chain without mass).
    fn first_force(&self, kinetic: f64, bath: Bath) -> f64 {
        let q = self.mass(0, bath);
        if q > 0.0 {
            (2.0 * kinetic - self.dof * bath.kt) / q
        } else {
            0.0
        }
    }

    /// ξₖ over dt/4 under its force, damped by its successor (exp(−ξ_{k+1} dt/8) either side).
    fn update_velocity(&mut self, k: usize, dt: f64) {
        let factor = (-dt / 8.0 * self.eta_dot[k + 1]).exp();
        self.eta_dot[k] = (self.eta_dot[k] * factor + self.eta_dotdot[k] * dt / 4.0) * factor;
    }

    /// Half a timestep `dt/2` of the chain on a kinetic energy `kinetic` of `dof` degrees of
    /// freedom; returns the factor by which the thermostatted velocities are to be scaled.
    pub fn half_step(&mut self, kinetic: f64, dof: f64, bath: Bath, dt: f64) -> f64 {
        self.dof = dof;
        let length = self.eta.len();
        self.eta_dotdot[0] = self.first_force(kinetic, bath);
        for k in (0..length).rev() {
            self.update_velocity(k, dt);
        }
        let scale = (-0.5 * dt * self.eta_dot[0]).exp();
        self.eta_dotdot[0] = self.first_force(kinetic * scale * scale, bath);
        for k in 0..length {
            self.eta[k] += 0.5 * dt * self.eta_dot[k];
        }
        self.update_velocity(0, dt);
        for k in 1..length {
            let previous = self.eta_dot[k - 1];
            self.eta_dotdot[k] =
                (self.mass(k - 1, bath) * previous * previous - bath.kt) / self.mass(k, bath);
            self.update_velocity(k, dt);
        }
        scale
    }

    /// The chain's energy, eV (see the type's docs).
    pub fn energy(&self, bath: Bath) -> f64 {
        (0..self.eta.len())
            .map(|k| {
                let coupling = if k == 0 { self.dof * bath.kt } else { bath.kt };
                coupling * self.eta[k] + 0.5 * self.mass(k, bath) * self.eta_dot[k].powi(2)
            })
            .sum()
    }

    /// The chain's state as JSON.
    pub fn save(&self) -> String {
        serde_json::to_string(self).expect("a chain's state serialises")
    }

    /// A chain's state written by [`Chain::save`], refused unless its length is `self`'s.
    pub fn load(&mut self, state: &str, what: &str) -> Result<(), String> {
        let chain: Chain =
            serde_json::from_str(state).map_err(|e| format!("bad {what} state: {e}"))?;
        if chain.eta.len() != self.eta.len() {
            return Err(format!(
                "the checkpoint's {what} has length {}, the input {}",
                chain.eta.len(),
                self.eta.len()
            ));
        }
        *self = chain;
        Ok(())
    }

    /// Reverses the chain's velocities (for time-reversibility tests).
    #[cfg(test)]
    pub fn reverse(&mut self) {
        self.eta_dot.iter_mut().for_each(|x| *x = -*x);
    }
}
