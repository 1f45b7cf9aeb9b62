//! `mlmd bench`: LAMMPS' LJ-melt benchmark (`bench/in.lj`) in metal units with argon, or the
//! system, potential and integrator of any input file (`--input`, e.g. a MACE model).
//!
//! LJ-melt:
//! fcc at reduced density 0.8442, T* = 1.44, cutoff 2.5σ, skin 0.3σ, dt = 0.005τ, NVE, with
//! argon's ε = 0.0103236 eV, σ = 3.405 Å and m = 39.948 amu; density, cutoff and skin can be
//! changed ([`LjMelt`]), as `tests/data/in.lj` allows in LAMMPS.

use crate::cell::Cell;
use crate::error::Result;
use crate::input::Input;
use crate::neighbors::NeighborMethod;
use crate::simulation::{RunSummary, Simulation};
use crate::system::System;
use crate::units::{AMU_A2_PER_FS2_IN_EV, BOLTZMANN_EV_PER_K};
use mlmd_integrators::{maxwell_boltzmann, VelocityVerlet};
use mlmd_potentials::{LennardJones, LennardJonesPair, Pairwise};
use nalgebra::{Matrix3, Vector3};
use serde::Serialize;

/// Argon's ε, eV.
pub const ARGON_EPSILON: f64 = 0.0103236;
/// Argon's σ, Å.
pub const ARGON_SIGMA: f64 = 3.405;
/// Argon's mass, amu.
pub const ARGON_MASS: f64 = 39.948;

/// An fcc argon crystal of `cells³` conventional cells at reduced density `density`, with
/// Maxwell-Boltzmann velocities at `temperature` (K).
pub fn fcc_argon(cells: usize, density: f64, temperature: f64, seed: u64) -> System {
    let a = (4.0 / density).cbrt() * ARGON_SIGMA;
    let basis = [
        [0.0, 0.0, 0.0],
        [0.5, 0.5, 0.0],
        [0.5, 0.0, 0.5],
        [0.0, 0.5, 0.5],
    ];
    let mut positions = Vec::with_capacity(4 * cells.pow(3));
    for i in 0..cells {
        for j in 0..cells {
            for k in 0..cells {
                for b in basis {
                    positions
                        .push(Vector3::new(i as f64 + b[0], j as f64 + b[1], k as f64 + b[2]) * a);
                }
            }
        }
    }
    let masses = vec![ARGON_MASS; positions.len()];
    let velocities = maxwell_boltzmann(&masses, temperature, seed);
    let length = a * cells as f64;
    System {
        species: vec![18; positions.len()],
        masses,
        positions,
        velocities,
        cell: Cell::new(Matrix3::from_diagonal_element(length), [true; 3])
            .expect("a cubic cell is valid"),
    }
}

/// The LJ time unit τ = σ √(m/ε) for argon, fs.
pub fn argon_tau() -> f64 {
    ARGON_SIGMA * (ARGON_MASS * AMU_A2_PER_FS2_IN_EV / ARGON_EPSILON).sqrt()
}

/// The result `mlmd bench` prints as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Benchmark name (`lj-melt`, or the input file).
    pub system: String,
    /// Atoms.
    pub atoms: usize,
    /// MD steps timed.
    pub steps: u64,
    /// Timestep, fs.
    pub timestep_fs: f64,
    /// Rayon threads.
    pub threads: usize,
    /// Wall time of the steps, s.
    pub wall_s: f64,
    /// Steps per second.
    pub steps_per_s: f64,
    /// Atom-steps per second.
    pub atom_steps_per_s: f64,
    /// Simulated ns per day.
    pub ns_per_day: f64,
    /// Neighbor-list builds.
    pub neighbor_builds: u64,
    /// Seconds per stage: neighbors, potential, integration, output.
    pub stage_s: [f64; 4],
    /// Peak resident memory of the process (Linux `VmHWM`), MiB.
    pub peak_memory_mib: Option<f64>,
    /// Peak resident memory per atom, bytes.
    pub peak_bytes_per_atom: Option<f64>,
}

/// The process's peak resident set size, MiB, where `/proc` tells it.
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

impl BenchReport {
    fn new(system: String, summary: &RunSummary) -> Self {
        let t = &summary.timings;
        Self {
            system,
            atoms: summary.atoms,
            steps: summary.steps,
            timestep_fs: summary.timestep,
            threads: rayon::current_num_threads(),
            wall_s: summary.wall_seconds,
            steps_per_s: summary.steps_per_second(),
            atom_steps_per_s: summary.atom_steps_per_second(),
            ns_per_day: summary.ns_per_day(),
            neighbor_builds: summary.neighbor_builds,
            stage_s: [t.neighbors, t.potential, t.integration, t.output].map(|d| d.as_secs_f64()),
            peak_memory_mib: peak_memory_mib(),
            peak_bytes_per_atom: peak_memory_mib().map(|m| m * 1048576.0 / summary.atoms as f64),
        }
    }
}

/// An LJ-melt system: `cells³` fcc cells at reduced density `density`, cutoff and skin in σ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LjMelt {
    /// fcc cells per side (20 gives LAMMPS' 32,000 atoms).
    pub cells: usize,
    /// Reduced density ρ* = ρσ³.
    pub density: f64,
    /// Cutoff, σ.
    pub cutoff: f64,
    /// Neighbor-list skin, σ.
    pub skin: f64,
}

impl Default for LjMelt {
    /// LAMMPS' bench/in.lj: 20³ cells, ρ* = 0.8442, cutoff 2.5σ, skin 0.3σ.
    fn default() -> Self {
        Self {
            cells: 20,
            density: 0.8442,
            cutoff: 2.5,
            skin: 0.3,
        }
    }
}

impl LjMelt {
    /// The benchmark's name: `lj-melt`, with density and cutoff where they differ from LAMMPS'.
    fn name(&self) -> String {
        let lammps = LjMelt::default();
        if (self.density, self.cutoff, self.skin) == (lammps.density, lammps.cutoff, lammps.skin) {
            "lj-melt".into()
        } else {
            format!(
                "lj-melt rho*={} rc={}sigma skin={}sigma",
                self.density, self.cutoff, self.skin
            )
        }
    }
}

/// Runs an LJ-melt system at T* = 1.44 for `steps` steps (NVE, dt = 0.005τ).
pub fn lj_melt(melt: &LjMelt, steps: u64) -> Result<BenchReport> {
    let invalid = |what: &str, value: f64| {
        crate::Error::Potential(mlmd_potentials::PotentialError::Invalid(format!(
            "lj-melt: the {what} must be a positive number, got {value}"
        )))
    };
    for (what, value) in [("density", melt.density), ("cutoff", melt.cutoff)] {
        if !(value.is_finite() && value > 0.0) {
            return Err(invalid(what, value));
        }
    }
    if !(melt.skin.is_finite() && melt.skin >= 0.0) {
        return Err(invalid("skin", melt.skin));
    }
    let temperature = 1.44 * ARGON_EPSILON / BOLTZMANN_EV_PER_K;
    let system = fcc_argon(melt.cells, melt.density, temperature, 87287);
    let pair = LennardJonesPair {
        elements: [18, 18],
        epsilon: ARGON_EPSILON,
        sigma: ARGON_SIGMA,
    };
    let lj = LennardJones::new(&[pair], melt.cutoff * ARGON_SIGMA, false)?;
    let timestep = 0.005 * argon_tau();
    let mut simulation = Simulation::new(
        system,
        Box::new(Pairwise::new(lj)),
        Box::new(VelocityVerlet::new(timestep)),
        NeighborMethod::CellList,
        melt.skin * ARGON_SIGMA,
    )?;
    simulation.run(0, &mut |_| {})?; // setup (first neighbor list and forces), not timed
    let summary = simulation.run(steps, &mut |_| {})?;
    Ok(BenchReport::new(melt.name(), &summary))
}

/// Benchmarks the system, potential and integrator of `input`, without its output files (a
/// benchmark never writes or truncates them): one untimed step (first neighbor list and forces,
/// allocations), then `steps`.
pub fn input_file(input: &Input, steps: u64) -> Result<BenchReport> {
    let mut simulation = input.simulation_without_outputs()?;
    simulation.run(1, &mut |_| {})?;
    let summary = simulation.run(steps, &mut |_| {})?;
    Ok(BenchReport::new(input.path.display().to_string(), &summary))
}
