//! Structure relaxation with FIRE: `mlmd minimize` (positions only; the cell stays fixed).

use super::Simulation;
use crate::Result;
use mlmd_integrators::{max_force, Fire};
use mlmd_potentials::Request;
use nalgebra::Vector3;
use std::time::Instant;

/// How a relaxation ended.
#[derive(Debug, Clone, Copy)]
pub struct MinimizeSummary {
    /// FIRE steps taken.
    pub steps: u64,
    /// Whether the largest force fell to `fmax` or below.
    pub converged: bool,
    /// Whether SIGINT or SIGTERM stopped it first.
    pub interrupted: bool,
    /// Final potential energy, eV.
    pub energy: f64,
    /// Final largest force on an atom, eV/Å.
    pub max_force: f64,
    /// Wall time, s.
    pub wall_seconds: f64,
}

impl std::fmt::Display for MinimizeSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.converged {
            "converged"
        } else {
            "NOT converged"
        };
        writeln!(
            f,
            "FIRE {state} after {} steps: energy {:.10} eV, largest force {:.3e} eV/Å, {:.2} s",
            self.steps, self.energy, self.max_force, self.wall_seconds
        )
    }
}

impl Simulation {
    /// Relaxes the positions with `fire` until no atom feels a force above `fmax` (eV/Å) or
    /// `max_steps` steps are taken. Velocities are set to zero; the observers see the steps
    /// their stride picks and the last one (the thermo log's time stays 0, its step column
    /// counts FIRE steps).
    pub fn minimize(
        &mut self,
        fire: &mut Fire,
        fmax: f64,
        max_steps: u64,
        progress: &mut dyn FnMut(u64, f64),
    ) -> Result<MinimizeSummary> {
        let start = Instant::now();
        self.system.velocities.fill(Vector3::zeros());
        let mut evaluation = self.compute(self.request())?;
        self.forces = evaluation.forces.clone();
        self.observe(&evaluation)?;
        let mut before = self.system.positions.clone();
        while max_force(&self.forces) > fmax && self.step < max_steps && !self.interrupted() {
            self.step += 1;
            before.copy_from_slice(&self.system.positions);
            fire.step(&mut self.system.positions, &self.forces);
            self.check_motion(&before)?;
            evaluation = self.compute(self.request())?;
            self.forces.copy_from_slice(&evaluation.forces);
            self.observe(&evaluation)?;
            progress(self.step, max_force(&self.forces));
        }
        if self.observers.iter().any(|o| !o.is_due(self.step)) {
            // The relaxed state goes to every output, whatever its stride.
            evaluation = self.compute(Request::ALL)?;
            self.observe_where(&evaluation, |o, step| !o.is_due(step))?;
        }
        let largest = max_force(&self.forces);
        Ok(MinimizeSummary {
            steps: self.step,
            converged: largest <= fmax,
            interrupted: self.interrupted(),
            energy: evaluation.energy,
            max_force: largest,
            wall_seconds: start.elapsed().as_secs_f64(),
        })
    }
}
