//! Structure relaxation with FIRE: `mlmd minimize`, positions only or positions and cell
//! together ([`CellFilter`]).

use super::Simulation;
use crate::Result;
use mlmd_integrators::{max_force, CellFilter, Fire};
use mlmd_potentials::{Evaluation, Request};
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
    /// `max_steps` steps are taken; with `cell_pressure` (bar), the cell too, minimising the
    /// enthalpy at that pressure, until also every row of the cell's generalised forces
    /// ([`CellFilter`]) is below `fmax`. Velocities are set to zero; the observers see the
    /// steps their stride picks and the last one (the thermo log's time stays 0, its step
    /// column counts FIRE steps).
    pub fn minimize(
        &mut self,
        fire: &mut Fire,
        (fmax, max_steps): (f64, u64),
        cell_pressure: Option<f64>,
        progress: &mut dyn FnMut(u64, f64),
    ) -> Result<MinimizeSummary> {
        let start = Instant::now();
        self.system.velocities.fill(Vector3::zeros());
        let mut filter = cell_pressure
            .map(|p| CellFilter::new(self.system.cell.lattice(), self.system.len(), p));
        let request = if filter.is_some() {
            Request::ALL
        } else {
            self.request()
        };
        let mut evaluation = self.compute(request)?;
        let mut forces = self.relaxation_forces(&mut evaluation, filter.as_ref());
        self.observe(&evaluation)?;
        let mut before = self.system.positions.clone();
        while max_force(&forces) > fmax && self.step < max_steps && !self.interrupted() {
            self.step += 1;
            before.copy_from_slice(&self.system.positions);
            match filter.as_mut() {
                None => fire.step(&mut self.system.positions, &forces),
                Some(filter) => self.cell_step(fire, filter, &forces)?,
            }
            self.check_motion(&before)?;
            evaluation = self.compute(request)?;
            forces = self.relaxation_forces(&mut evaluation, filter.as_ref());
            self.observe(&evaluation)?;
            progress(self.step, max_force(&forces));
        }
        if self.observers.iter().any(|o| !o.is_due(self.step)) {
            // The relaxed state goes to every output, whatever its stride.
            evaluation = self.compute(Request::ALL)?;
            self.observe_where(&evaluation, |o, step| !o.is_due(step))?;
        }
        let largest = max_force(&forces);
        Ok(MinimizeSummary {
            steps: self.step,
            converged: largest <= fmax,
            interrupted: self.interrupted(),
            energy: evaluation.energy,
            max_force: largest,
            wall_seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// Keeps the evaluation's forces; returns what FIRE moves along: the forces, or the
    /// filter's generalised forces.
    fn relaxation_forces(
        &mut self,
        evaluation: &mut Evaluation,
        filter: Option<&CellFilter>,
    ) -> Vec<Vector3<f64>> {
        self.keep(evaluation);
        match (filter, &evaluation.virial) {
            (Some(filter), Some(virial)) => {
                filter.forces(&self.forces, virial, self.system.cell.lattice())
            }
            _ => self.forces.clone(),
        }
    }

    /// One FIRE step on positions and cell together.
    fn cell_step(
        &mut self,
        fire: &mut Fire,
        filter: &mut CellFilter,
        forces: &[Vector3<f64>],
    ) -> Result<()> {
        let mut coordinates = filter.coordinates(&self.system.positions);
        fire.step(&mut coordinates, forces);
        let mut lattice = *self.system.cell.lattice();
        filter.apply(&coordinates, &mut self.system.positions, &mut lattice);
        self.set_lattice(lattice)
    }
}
