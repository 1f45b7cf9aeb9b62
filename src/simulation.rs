//! The MD loop: neighbors, forces, integration and output, with per-stage timings.

mod minimize;
pub use minimize::MinimizeSummary;

use crate::cell::Cell;
use crate::checkpoint::{self, Checkpoint};
use crate::element;
use crate::error::{Error, Result, Runaway, MIN_STEP_LIMIT};
use crate::neighbors::{NeighborMethod, VerletList, MIN_PARALLEL};
use crate::observers::{Observer, Thermo};
use crate::system::System;
use crate::units::ns_per_day;
use mlmd_integrators::{Integrator, MdState};
use mlmd_potentials::{Evaluation, Potential, Request};
use nalgebra::{Matrix3, Vector3};
use rayon::prelude::*;
use std::time::{Duration, Instant};

/// Wall time spent in each stage of the loop.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepTimings {
    /// Building and checking neighbor lists.
    pub neighbors: Duration,
    /// Evaluating the potential.
    pub potential: Duration,
    /// Moving atoms.
    pub integration: Duration,
    /// Writing trajectory and thermo output.
    pub output: Duration,
}

/// What a run did and how fast.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Atoms simulated.
    pub atoms: usize,
    /// MD steps taken.
    pub steps: u64,
    /// Timestep, fs.
    pub timestep: f64,
    /// Wall time of the steps, s.
    pub wall_seconds: f64,
    /// Neighbor-list builds during the run, the initial one included.
    pub neighbor_builds: u64,
    /// Time per stage.
    pub timings: StepTimings,
    /// Whether the run stopped early on request ([`Simulation::set_interrupt`]).
    pub interrupted: bool,
}

impl RunSummary {
    /// Simulated ns per day of wall time.
    pub fn ns_per_day(&self) -> f64 {
        ns_per_day(self.timestep, self.steps, self.wall_seconds)
    }

    /// Steps per second.
    pub fn steps_per_second(&self) -> f64 {
        self.steps as f64 / self.wall_seconds
    }

    /// Atom-steps per second.
    pub fn atom_steps_per_second(&self) -> f64 {
        self.steps_per_second() * self.atoms as f64
    }
}

impl std::fmt::Display for RunSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "Loop time of {:.3} s for {} steps with {} atoms ({} neighbor builds)",
            self.wall_seconds, self.steps, self.atoms, self.neighbor_builds
        )?;
        writeln!(
            f,
            "Performance: {:.4} ns/day, {:.3} steps/s, {:.4e} atom-steps/s",
            self.ns_per_day(),
            self.steps_per_second(),
            self.atom_steps_per_second()
        )?;
        writeln!(f, "Stage        |  time (s) |  %total")?;
        let t = &self.timings;
        let total = self.wall_seconds.max(f64::MIN_POSITIVE);
        let other = total - (t.neighbors + t.potential + t.integration + t.output).as_secs_f64();
        for (name, seconds) in [
            ("Neighbors", t.neighbors.as_secs_f64()),
            ("Potential", t.potential.as_secs_f64()),
            ("Integration", t.integration.as_secs_f64()),
            ("Output", t.output.as_secs_f64()),
            ("Other", other.max(0.0)),
        ] {
            writeln!(
                f,
                "{name:<12} | {seconds:9.4} | {:7.2}",
                100.0 * seconds / total
            )?;
        }
        Ok(())
    }
}

/// Where and how often a run writes its checkpoint.
#[derive(Debug, Clone)]
pub struct CheckpointPlan {
    /// The checkpoint file (rewritten atomically each time).
    pub path: std::path::PathBuf,
    /// Steps between checkpoints; 0: only at the end of the run.
    pub stride: u64,
    /// The input's sections a restart must match ([`Checkpoint::input`]).
    pub input: String,
}

/// A system, its potential and integrator, a neighbor list and the observers of a run.
pub struct Simulation {
    /// The system being simulated.
    pub system: System,
    potential: Box<dyn Potential>,
    integrator: Box<dyn Integrator>,
    neighbors: VerletList,
    observers: Vec<Box<dyn Observer>>,
    forces: Vec<Vector3<f64>>,
    /// The virial at the current positions when the integrator needs it, eV.
    virial: Option<Matrix3<f64>>,
    step: u64,
    timings: StepTimings,
    checkpoints: Option<CheckpointPlan>,
    interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl Simulation {
    /// Prepares a simulation; refuses elements the potential does not know and overlapping atoms.
    pub fn new(
        system: System,
        potential: Box<dyn Potential>,
        integrator: Box<dyn Integrator>,
        method: NeighborMethod,
        skin: f64,
    ) -> Result<Self> {
        potential.check_species(&system.species)?;
        system.check_overlaps()?;
        let (cutoff, half) = (potential.cutoff(), potential.half_list());
        Ok(Self {
            system,
            potential,
            integrator,
            neighbors: VerletList::new(method, cutoff, skin, half),
            observers: Vec::new(),
            forces: Vec::new(),
            virial: None,
            step: 0,
            timings: StepTimings::default(),
            checkpoints: None,
            interrupt: None,
        })
    }

    /// Adds an output written during the run.
    pub fn add_observer(&mut self, observer: Box<dyn Observer>) {
        self.observers.push(observer);
    }

    /// A flag (set by a signal handler) that ends the run after the step in progress.
    pub fn set_interrupt(&mut self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        self.interrupt = Some(flag);
    }

    fn interrupted(&self) -> bool {
        self.interrupt
            .as_ref()
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Writes checkpoints as `plan` says (and at the end of every run).
    pub fn set_checkpoints(&mut self, plan: CheckpointPlan) {
        self.checkpoints = Some(plan);
    }

    /// The run's state now, with `input` as the sections a restart must match.
    pub fn checkpoint(&self, input: &str) -> Checkpoint {
        Checkpoint {
            format: checkpoint::FORMAT.into(),
            version: checkpoint::VERSION,
            input: input.into(),
            step: self.step,
            positions: checkpoint::rows(&self.system.positions),
            velocities: checkpoint::rows(&self.system.velocities),
            lattice: checkpoint::matrix_rows(self.system.cell.lattice()),
            neighbor_reference: checkpoint::rows(self.neighbors.reference()),
            neighbor_lattice: Some(checkpoint::matrix_rows(self.neighbors.lattice()))
                .filter(|l| *l != checkpoint::matrix_rows(self.system.cell.lattice())),
            integrator: self.integrator.save_state(),
        }
    }

    /// Continues from a checkpoint of the same input: state, neighbor list and integrator are
    /// restored and the forces recomputed; step `checkpoint.step` is not written again.
    pub fn restore(&mut self, checkpoint: &Checkpoint) -> Result<()> {
        let refuse = |message: String| Error::Restart { message };
        if checkpoint.positions.len() != self.system.len() {
            return Err(refuse(format!(
                "the checkpoint holds {} atoms, the structure {}",
                checkpoint.positions.len(),
                self.system.len()
            )));
        }
        let periodic = self.system.cell.periodic();
        let cell = |rows: &[[f64; 3]; 3]| {
            Cell::new(checkpoint::matrix(rows), periodic)
                .map_err(|e| refuse(format!("the checkpoint's cell is unusable: {e}")))
        };
        if checkpoint.lattice != checkpoint::matrix_rows(self.system.cell.lattice()) {
            if !self.integrator.changes_cell() {
                return Err(refuse(
                    "the checkpoint's cell differs from the input's".into(),
                ));
            }
            self.system.cell = cell(&checkpoint.lattice)?;
        }
        let build_cell = match &checkpoint.neighbor_lattice {
            Some(rows) => cell(rows)?,
            None => self.system.cell.clone(),
        };
        self.system.positions = checkpoint::vectors(&checkpoint.positions);
        self.system.velocities = checkpoint::vectors(&checkpoint.velocities);
        self.step = checkpoint.step;
        self.integrator
            .load_state(&checkpoint.integrator)
            .map_err(refuse)?;
        self.neighbors.restore(
            checkpoint::vectors(&checkpoint.neighbor_reference),
            &build_cell,
        );
        let mut evaluation = self.compute(self.request())?;
        self.keep(&mut evaluation);
        Ok(())
    }

    fn write_checkpoint(&self, due: bool) -> Result<()> {
        match &self.checkpoints {
            Some(plan) if due => self.checkpoint(&plan.input).write(&plan.path),
            _ => Ok(()),
        }
    }

    /// The current step.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The forces at the current positions, eV/Å (empty before the first step).
    pub fn forces(&self) -> &[Vector3<f64>] {
        &self.forces
    }

    /// The neighbor builder in use.
    pub fn neighbor_method(&self) -> NeighborMethod {
        self.neighbors.method(self.system.len(), &self.system.cell)
    }

    fn degrees_of_freedom(&self) -> f64 {
        if self.integrator.conserves_momentum() {
            mlmd_integrators::momentum_conserving_dof(self.system.len())
        } else {
            3.0 * self.system.len() as f64
        }
    }

    /// Updates the neighbor list if needed, then evaluates the potential at the current positions.
    fn compute(&mut self, request: Request) -> Result<Evaluation> {
        let start = Instant::now();
        self.neighbors
            .update(&mut self.system.positions, &self.system.cell);
        let built = Instant::now();
        self.timings.neighbors += built - start;
        let graph = self.neighbors.list().graph(
            &self.system.positions,
            &self.system.species,
            self.system
                .cell
                .has_full_lattice()
                .then(|| self.system.cell.lattice()),
            self.neighbors.generation(),
        );
        let evaluation = self.potential.compute(&graph, request)?;
        self.timings.potential += built.elapsed();
        self.check_finite(&evaluation)?;
        Ok(evaluation)
    }

    fn non_finite(&self, quantity: &'static str, atom: usize) -> Error {
        Error::NonFinite {
            step: self.step,
            quantity,
            atom,
            element: element::symbol(self.system.species[atom]),
        }
    }

    fn check_finite(&self, evaluation: &Evaluation) -> Result<()> {
        self.check_vectors("force", &evaluation.forces)?;
        if !evaluation.energy.is_finite() {
            return Err(self.non_finite("energy", 0));
        }
        Ok(())
    }

    /// An error naming the first atom whose `quantity` has a NaN or infinite component.
    fn check_vectors(&self, quantity: &'static str, values: &[Vector3<f64>]) -> Result<()> {
        let bad = |v: &Vector3<f64>| !v.iter().all(|c| c.is_finite());
        if !values
            .par_chunks(MIN_PARALLEL)
            .any(|chunk| chunk.iter().any(bad))
        {
            return Ok(());
        }
        let atom = values.iter().position(bad).expect("found above");
        Err(self.non_finite(quantity, atom))
    }

    /// Stops a run whose atoms moved non-finitely or farther in one step than
    /// max(skin / 2, [`MIN_STEP_LIMIT`]) (LAMMPS' lost-atom check, in spirit).
    fn check_motion(&self, before: &[Vector3<f64>]) -> Result<()> {
        self.check_vectors("position", &self.system.positions)?;
        let limit = (0.5 * self.neighbors.skin()).max(MIN_STEP_LIMIT);
        // The farthest move, the first atom among equals: the same on any number of threads.
        let farthest = |(a, d): (usize, f64), (b, e): (usize, f64)| {
            if e > d || (e == d && b < a) {
                (b, e)
            } else {
                (a, d)
            }
        };
        let (atom, distance) = self
            .system
            .positions
            .par_chunks(MIN_PARALLEL)
            .zip(before.par_chunks(MIN_PARALLEL))
            .enumerate()
            .map(|(chunk, (now, then))| {
                let moves = now.iter().zip(then).map(|(x, y)| (x - y).norm());
                let first = chunk * MIN_PARALLEL;
                moves
                    .enumerate()
                    .fold((first, 0.0), |best, (k, d)| farthest(best, (first + k, d)))
            })
            .reduce(|| (0, 0.0), farthest);
        if distance > limit {
            return Err(Runaway {
                step: self.step,
                atom,
                element: element::symbol(self.system.species[atom]),
                distance,
                limit,
            }
            .into());
        }
        Ok(())
    }

    fn wants_virial(&self) -> bool {
        self.observers
            .iter()
            .any(|o| o.is_due(self.step) && o.needs_virial())
    }

    fn observe(&mut self, evaluation: &Evaluation) -> Result<()> {
        self.observe_where(evaluation, |o, step| o.is_due(step))
    }

    /// Hands the state to the observers that `chosen` picks at this step.
    fn observe_where(
        &mut self,
        evaluation: &Evaluation,
        chosen: fn(&dyn Observer, u64) -> bool,
    ) -> Result<()> {
        let start = Instant::now();
        let thermo = Thermo::new(
            &self.system,
            self.step as f64 * self.integrator.timestep(),
            evaluation.energy,
            evaluation.virial.as_ref(),
            self.degrees_of_freedom(),
            self.integrator.reservoir_energy(self.system.cell.volume()),
        );
        let step = self.step;
        for observer in self
            .observers
            .iter_mut()
            .filter(|o| chosen(o.as_ref(), step))
        {
            observer.observe(self.step, &self.system, &thermo)?;
        }
        self.timings.output += start.elapsed();
        Ok(())
    }

    fn request(&self) -> Request {
        Request {
            forces: true,
            virial: self.wants_virial() || self.integrator.needs_virial(),
        }
    }

    /// Keeps what the integrator needs of an evaluation: forces (moved out, the evaluation gets
    /// the previous ones), and the virial for a barostat.
    fn keep(&mut self, evaluation: &mut Evaluation) {
        std::mem::swap(&mut self.forces, &mut evaluation.forces);
        self.virial = evaluation.virial;
    }

    /// Runs `steps` MD steps. Before the first step ever, computes the forces and writes step 0.
    /// `progress` is called after each step with the step number.
    pub fn run(&mut self, steps: u64, progress: &mut dyn FnMut(u64)) -> Result<RunSummary> {
        let start = Instant::now();
        let builds_before = self.neighbors.generation();
        self.timings = StepTimings::default();
        if self.forces.is_empty() {
            let mut evaluation = self.compute(self.request())?;
            self.keep(&mut evaluation);
            self.observe(&evaluation)?;
        }
        let mut before = self.system.positions.clone();
        let first = self.step;
        for _ in 0..steps {
            if self.interrupted() {
                break;
            }
            self.step += 1;
            before
                .par_chunks_mut(MIN_PARALLEL)
                .zip(self.system.positions.par_chunks(MIN_PARALLEL))
                .for_each(|(to, from)| to.copy_from_slice(from));
            self.integrate(|integrator, state| integrator.initial_integrate(state))?;
            self.check_motion(&before)?;
            let mut evaluation = self.compute(self.request())?;
            self.keep(&mut evaluation);
            self.integrate(|integrator, state| integrator.final_integrate(state))?;
            self.check_vectors("velocity", &self.system.velocities)?;
            self.observe(&evaluation)?;
            let stride = self.checkpoints.as_ref().map_or(0, |p| p.stride);
            self.write_checkpoint(stride > 0 && self.step % stride == 0)?;
            progress(self.step);
        }
        self.write_checkpoint(true)?;
        Ok(RunSummary {
            atoms: self.system.len(),
            steps: self.step - first,
            interrupted: self.step - first < steps,
            timestep: self.integrator.timestep(),
            wall_seconds: start.elapsed().as_secs_f64(),
            neighbor_builds: self.neighbors.generation() - builds_before,
            timings: self.timings,
        })
    }

    /// Runs one half of the integrator's step on the current state; a barostat's new cell
    /// replaces the system's.
    fn integrate(&mut self, half: fn(&mut dyn Integrator, MdState<'_>)) -> Result<()> {
        let start = Instant::now();
        let mut lattice = *self.system.cell.lattice();
        let state = MdState {
            positions: &mut self.system.positions,
            velocities: &mut self.system.velocities,
            forces: &self.forces,
            masses: &self.system.masses,
            cell: &mut lattice,
            virial: self.virial.as_ref(),
        };
        half(self.integrator.as_mut(), state);
        if lattice != *self.system.cell.lattice() {
            self.set_lattice(lattice)?;
        }
        self.timings.integration += start.elapsed();
        Ok(())
    }

    /// Replaces the cell's lattice (a barostat's or a relaxation's move).
    fn set_lattice(&mut self, lattice: Matrix3<f64>) -> Result<()> {
        self.system.cell =
            Cell::new(lattice, self.system.cell.periodic()).map_err(|e| Error::CellCollapse {
                step: self.step,
                message: e.to_string(),
            })?;
        Ok(())
    }

    /// The thermodynamic state at the current step (evaluates the potential with the virial).
    pub fn thermo(&mut self) -> Result<Thermo> {
        let evaluation = self.compute(Request::ALL)?;
        Ok(Thermo::new(
            &self.system,
            self.step as f64 * self.integrator.timestep(),
            evaluation.energy,
            evaluation.virial.as_ref(),
            self.degrees_of_freedom(),
            self.integrator.reservoir_energy(self.system.cell.volume()),
        ))
    }
}
