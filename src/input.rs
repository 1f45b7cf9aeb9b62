//! The TOML input file: its schema (unknown keys are rejected) and how it becomes a simulation.
//!
//! Every key, its unit and its default are documented in the README's input-file reference.

use crate::cell::Cell;
use crate::checkpoint::Checkpoint;
use crate::element;
use crate::error::{Error, Result};
use crate::io::{read_structures_as, xyz, Structure, TrajectoryWriter};
use crate::neighbors::NeighborMethod;
use crate::observers::{ThermoLog, TrajectoryObserver, THERMO_HEADER};
use crate::simulation::{CheckpointPlan, Simulation};
use crate::system::System;
use mlmd_integrators::{
    maxwell_boltzmann, CRescale, Coupling, Csvr, Integrator, Langevin, Mtk, NoseHooverChain,
    VelocityVerlet,
};
use mlmd_potentials::model_file::Architecture;
use mlmd_potentials::models::{load_potential, Mode};
use mlmd_potentials::{
    ComputeDevice, FloatType, LennardJones, LennardJonesPair, Pairwise, Potential,
};
use nalgebra::{Matrix3, Vector3};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A whole input file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputFile {
    /// Where the atoms come from.
    pub structure: StructureInput,
    /// The interatomic potential.
    pub potential: PotentialInput,
    /// The integrator (MD runs; absent in a relaxation's input).
    pub integrator: Option<IntegratorInput>,
    /// Constant pressure (MD runs in a periodic cell; absent: constant volume).
    pub barostat: Option<BarostatInput>,
    /// Initial velocities (default: the structure file's, or zero).
    pub velocities: Option<VelocitiesInput>,
    /// Neighbor-list settings.
    #[serde(default)]
    pub neighbors: NeighborsInput,
    /// Length of the run (MD runs; absent in a relaxation's input).
    pub run: Option<RunInput>,
    /// Structure relaxation (`mlmd minimize`; absent in an MD input).
    pub minimize: Option<MinimizeInput>,
    /// Output files.
    #[serde(default)]
    pub output: OutputInput,
}

/// `[structure]`: the structure file and what it may lack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StructureInput {
    /// Any format chemfiles reads, relative to the input file.
    pub file: PathBuf,
    /// The chemfiles format name when the extension does not tell (e.g. `"LAMMPS Data"`).
    pub format: Option<String>,
    /// Element symbols of atom types named by numbers or labels (`{ "1" = "Ar" }`).
    #[serde(default)]
    pub types: BTreeMap<String, String>,
    /// Which frame of the file: 0 is the first (default), −1 the last, −2 the one before.
    #[serde(default)]
    pub frame: i64,
    /// A structure file whose first frame names the atoms, for trajectory formats that store
    /// positions only (DCD, TRR, XTC, NetCDF): e.g. the run's starting structure.
    pub topology: Option<PathBuf>,
    /// Cell, Å, when the file has none: three lengths (orthorhombic) or three lattice vectors.
    pub cell: Option<CellInput>,
    /// Periodicity per axis (default: the file's `pbc`, else periodic when there is a cell).
    pub periodic: Option<[bool; 3]>,
    /// Masses per element symbol, amu (default: standard atomic weights).
    #[serde(default)]
    pub masses: BTreeMap<String, f64>,
}

/// A cell given in the input file.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    untagged,
    expecting = "three box lengths [a, b, c] or three lattice vectors [[ax, ay, az], [bx, by, bz], [cx, cy, cz]], in Å"
)]
pub enum CellInput {
    /// Orthorhombic box lengths, Å.
    Lengths([f64; 3]),
    /// Lattice vectors as rows, Å.
    Vectors([[f64; 3]; 3]),
}

/// `[potential]`, chosen by `type`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PotentialInput {
    /// 12-6 Lennard-Jones.
    LennardJones {
        /// Cutoff, Å.
        cutoff: f64,
        /// Shift pair energies to zero at the cutoff (default false).
        #[serde(default)]
        shift: bool,
        /// ε and σ per element pair; unlisted pairs use Lorentz-Berthelot mixing.
        pairs: Vec<PairInput>,
    },
    /// A MACE model exported by `scripts/export_mace.py`.
    Mace(ModelInput),
    /// A NequIP model exported by `scripts/export_nequip.py`.
    Nequip(ModelInput),
    /// An Allegro model exported by `scripts/export_nequip.py`.
    Allegro(ModelInput),
}

/// The settings of an ML model, the same for every architecture.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInput {
    /// The exported `.safetensors` file, relative to the input file.
    pub model: PathBuf,
    /// Precision of the network (default float32).
    #[serde(default)]
    pub dtype: DtypeInput,
    /// Where the network runs (default cpu).
    #[serde(default)]
    pub device: DeviceInput,
    /// Evaluation path (default fast).
    #[serde(default)]
    pub mode: ModeInput,
}

impl PotentialInput {
    /// The ML model's architecture and settings, if the potential is one.
    pub fn model(&self) -> Option<(Architecture, &ModelInput)> {
        match self {
            Self::LennardJones { .. } => None,
            Self::Mace(m) => Some((Architecture::Mace, m)),
            Self::Nequip(m) => Some((Architecture::Nequip, m)),
            Self::Allegro(m) => Some((Architecture::Allegro, m)),
        }
    }
}

/// `potential.mode` of an ML model.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ModeInput {
    /// Hand-written kernels with analytic gradients (CPU).
    #[default]
    Fast,
    /// The burn model under autodiff: the reference path.
    Reference,
}

/// `potential.dtype` of an ML potential.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DtypeInput {
    /// 32-bit floats: the fast path.
    #[default]
    Float32,
    /// 64-bit floats: reference precision.
    Float64,
}

/// `potential.device` of an ML potential.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DeviceInput {
    /// The CPU.
    #[default]
    Cpu,
    /// The first CUDA GPU (mlmd built with `--features cuda`).
    Cuda,
}

/// One `[[potential.pairs]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairInput {
    /// Two element symbols.
    pub elements: [String; 2],
    /// Well depth, eV.
    pub epsilon: f64,
    /// Zero-crossing distance, Å.
    pub sigma: f64,
}

/// `[integrator]`, chosen by `type`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum IntegratorInput {
    /// Velocity Verlet (NVE).
    VelocityVerlet {
        /// Timestep, fs.
        timestep: f64,
    },
    /// Langevin BAOAB (NVT).
    Langevin {
        /// Timestep, fs.
        timestep: f64,
        /// Target temperature, K.
        temperature: f64,
        /// Friction γ, 1/fs.
        friction: f64,
        /// Seed of the random forces (default 1).
        #[serde(default = "default_seed")]
        seed: u64,
    },
    /// Nosé–Hoover chain (NVT; LAMMPS' `fix nvt`).
    NoseHoover {
        /// Timestep, fs.
        timestep: f64,
        /// Target temperature, K.
        temperature: f64,
        /// Damping time τ, fs (LAMMPS' `Tdamp`; ~100 timesteps).
        damping: f64,
        /// Number of thermostats in the chain (default 3).
        #[serde(default = "default_chain")]
        chain: usize,
    },
    /// Stochastic velocity rescaling (NVT; Bussi–Donadio–Parrinello).
    Csvr {
        /// Timestep, fs.
        timestep: f64,
        /// Target temperature, K.
        temperature: f64,
        /// Damping time τ, fs (0: a new kinetic energy every step).
        damping: f64,
        /// Seed of the random numbers (default 1).
        #[serde(default = "default_seed")]
        seed: u64,
    },
}

impl IntegratorInput {
    /// The target temperature of a thermostat, K.
    fn temperature(&self) -> Option<f64> {
        match *self {
            Self::VelocityVerlet { .. } => None,
            Self::Langevin { temperature, .. }
            | Self::NoseHoover { temperature, .. }
            | Self::Csvr { temperature, .. } => Some(temperature),
        }
    }

    /// The timestep, fs.
    pub fn timestep(&self) -> f64 {
        match *self {
            Self::VelocityVerlet { timestep }
            | Self::Langevin { timestep, .. }
            | Self::NoseHoover { timestep, .. }
            | Self::Csvr { timestep, .. } => timestep,
        }
    }
}

/// `[barostat]`, chosen by `type`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum BarostatInput {
    /// Martyna–Tobias–Klein with Nosé–Hoover chains (NPT; LAMMPS' `fix npt`), together with the
    /// `nose-hoover` integrator, whose temperature, damping and chain length it shares.
    Mtk {
        /// Target pressure, bar.
        pressure: f64,
        /// Damping time τ_p, fs (LAMMPS' `Pdamp`; ~1000 timesteps).
        damping: f64,
        /// How the cell deforms (default isotropic).
        #[serde(default)]
        coupling: CouplingInput,
    },
    /// Stochastic cell rescaling (NPT; Bernetti–Bussi), around any thermostat.
    CRescale {
        /// Target pressure, bar.
        pressure: f64,
        /// Damping time τ_p, fs (~1000 timesteps).
        damping: f64,
        /// Isotropic (default) or anisotropic.
        #[serde(default)]
        coupling: CouplingInput,
        /// Estimate of the isothermal compressibility β_T, 1/bar (default 4.5e-5, water's).
        #[serde(default = "default_compressibility")]
        compressibility: f64,
        /// Seed of the random numbers (default 1).
        #[serde(default = "default_seed")]
        seed: u64,
    },
}

impl BarostatInput {
    /// Target pressure (bar) and damping time (fs).
    fn pressure_and_damping(&self) -> (f64, f64) {
        match *self {
            Self::Mtk {
                pressure, damping, ..
            }
            | Self::CRescale {
                pressure, damping, ..
            } => (pressure, damping),
        }
    }
}

fn default_compressibility() -> f64 {
    4.5e-5
}

/// `barostat.coupling`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CouplingInput {
    /// Uniform scaling (LAMMPS `iso`).
    #[default]
    Isotropic,
    /// x, y, z lengths independently (LAMMPS `aniso`).
    Anisotropic,
    /// Every strain component, shear included (LAMMPS `tri`).
    Triclinic,
}

impl From<CouplingInput> for Coupling {
    fn from(c: CouplingInput) -> Self {
        match c {
            CouplingInput::Isotropic => Coupling::Isotropic,
            CouplingInput::Anisotropic => Coupling::Anisotropic,
            CouplingInput::Triclinic => Coupling::Triclinic,
        }
    }
}

/// `[velocities]`: Maxwell-Boltzmann initial velocities.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VelocitiesInput {
    /// Temperature, K.
    pub temperature: f64,
    /// Seed (default 1).
    #[serde(default = "default_seed")]
    pub seed: u64,
}

/// `[neighbors]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeighborsInput {
    /// Verlet skin, Å (default 1.0).
    #[serde(default = "default_skin")]
    pub skin: f64,
    /// Builder (default auto).
    #[serde(default = "default_method")]
    pub method: NeighborMethod,
}

impl Default for NeighborsInput {
    fn default() -> Self {
        Self {
            skin: default_skin(),
            method: default_method(),
        }
    }
}

/// `[run]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInput {
    /// Number of MD steps.
    pub steps: u64,
}

/// `[minimize]`: FIRE relaxation of the positions (`mlmd minimize`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinimizeInput {
    /// Converged when no atom feels a force above this, eV/Å (default 0.05, as ASE).
    #[serde(default = "default_fmax")]
    pub fmax: f64,
    /// At most this many FIRE steps (default 10,000).
    #[serde(default = "default_max_steps")]
    pub max_steps: u64,
    /// Largest move of the whole system in one step, Å (default 0.2, as ASE).
    #[serde(default = "default_maxstep")]
    pub maxstep: f64,
    /// The relaxed structure, any format chemfiles writes (relative to the input file).
    pub output: Option<PathBuf>,
    /// Relax the cell with the positions (default false; needs a periodic cell).
    #[serde(default)]
    pub relax_cell: bool,
    /// Target pressure of a cell relaxation, bar (default 0; only with `relax_cell`).
    pub pressure: Option<f64>,
}

impl MinimizeInput {
    /// The pressure (bar) to relax the cell at, if the cell is relaxed.
    pub fn cell_pressure(&self) -> Option<f64> {
        self.relax_cell.then(|| self.pressure.unwrap_or(0.0))
    }
}

/// `[output]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputInput {
    /// Trajectory file, format from the extension (none by default).
    pub trajectory: Option<PathBuf>,
    /// The trajectory's chemfiles format name when the extension does not tell.
    pub format: Option<String>,
    /// Steps between trajectory frames (default 100).
    #[serde(default = "default_trajectory_stride")]
    pub trajectory_stride: u64,
    /// Thermo CSV file (none by default).
    pub thermo: Option<PathBuf>,
    /// Steps between thermo lines (default 10).
    #[serde(default = "default_thermo_stride")]
    pub thermo_stride: u64,
    /// Replace existing output files instead of moving them aside (default false).
    #[serde(default)]
    pub overwrite: bool,
    /// Six more thermo columns: the pressure tensor, bar (default false).
    #[serde(default)]
    pub pressure_tensor: bool,
    /// Checkpoint file for `mlmd run --restart` (none by default).
    pub checkpoint: Option<PathBuf>,
    /// Steps between checkpoints; 0 (default): only at the end of the run.
    #[serde(default)]
    pub checkpoint_stride: u64,
}

impl Default for OutputInput {
    fn default() -> Self {
        Self {
            trajectory: None,
            format: None,
            trajectory_stride: default_trajectory_stride(),
            thermo: None,
            thermo_stride: default_thermo_stride(),
            overwrite: false,
            pressure_tensor: false,
            checkpoint: None,
            checkpoint_stride: 0,
        }
    }
}

fn default_seed() -> u64 {
    1
}
fn default_chain() -> usize {
    3
}
fn default_fmax() -> f64 {
    0.05
}
fn default_max_steps() -> u64 {
    10_000
}
fn default_maxstep() -> f64 {
    0.2
}
fn default_skin() -> f64 {
    1.0
}
fn default_method() -> NeighborMethod {
    NeighborMethod::Auto
}
fn default_trajectory_stride() -> u64 {
    100
}
fn default_thermo_stride() -> u64 {
    10
}

/// An input file read from disk, with paths resolved against its folder.
#[derive(Debug, Clone)]
pub struct Input {
    /// The input file's path.
    pub path: PathBuf,
    /// Its contents.
    pub file: InputFile,
}

/// The potential of a `[potential]` section of the input file at `path` (paths in it are
/// relative to that file).
fn build_potential(section: &PotentialInput, path: &Path) -> Result<Box<dyn Potential>> {
    let error = |message: String| Error::Input {
        path: path.to_path_buf(),
        message,
    };
    let resolve = |relative: &Path| relative_to(path, relative);
    match section {
        PotentialInput::LennardJones {
            cutoff,
            shift,
            pairs,
        } => {
            let pairs = pairs
                .iter()
                .map(|pair| {
                    let element = |symbol: &String| {
                        element::atomic_number(symbol).ok_or_else(|| {
                            error(format!("potential.pairs: unknown element '{symbol}'"))
                        })
                    };
                    Ok(LennardJonesPair {
                        elements: [element(&pair.elements[0])?, element(&pair.elements[1])?],
                        epsilon: pair.epsilon,
                        sigma: pair.sigma,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let lj = LennardJones::new(&pairs, *cutoff, *shift)
                .map_err(|e| error(format!("potential: {e}")))?;
            Ok(Box::new(Pairwise::new(lj)))
        }
        PotentialInput::Mace(settings)
        | PotentialInput::Nequip(settings)
        | PotentialInput::Allegro(settings) => {
            let (architecture, _) = section.model().expect("an ML model");
            let ModelInput {
                model,
                dtype,
                device,
                mode,
            } = settings;
            let float = match dtype {
                DtypeInput::Float32 => FloatType::F32,
                DtypeInput::Float64 => FloatType::F64,
            };
            let device = match device {
                DeviceInput::Cpu => ComputeDevice::Cpu,
                DeviceInput::Cuda => ComputeDevice::Cuda,
            };
            let mode = match mode {
                ModeInput::Fast => Mode::Fast,
                ModeInput::Reference => Mode::Reference,
            };
            load_potential(architecture, &resolve(model), device, float, mode)
                .map_err(|e| error(format!("potential: {e}")))
        }
    }
}

/// The potential of the `[potential]` section of an input file, without reading or checking the
/// other sections (what `mlmd eval` needs).
pub fn read_potential(path: &Path) -> Result<Box<dyn Potential>> {
    let error = |message: String| Error::Input {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| error(format!("cannot read the input file: {e}")))?;
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| error(with_culprit_line(e.to_string().trim_end(), &text)))?;
    let section = table
        .get("potential")
        .ok_or_else(|| error("no [potential] section".into()))?;
    let section = PotentialInput::deserialize(section.clone())
        .map_err(|e| error(format!("[potential]: {e}")))?;
    build_potential(&section, path)
}

/// toml reports errors inside a tagged section (`[potential]`, `[integrator]`) at the section's
/// header; this adds the line of the unknown key or value the message names.
fn with_culprit_line(message: &str, text: &str) -> String {
    let quoted = |prefix: &str| {
        let start = message.find(prefix)? + prefix.len();
        let end = start + message[start..].find('`')?;
        Some(message[start..end].to_string())
    };
    // Search from the line toml reported (the section's header) on.
    let from = message
        .split("at line ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<usize>().ok())
        .map_or(0, |n| n.saturating_sub(1));
    let line_of = |matches: &dyn Fn(&str) -> bool| {
        text.lines()
            .enumerate()
            .skip(from)
            .find(|(_, l)| matches(l.trim_start()))
            .map(|(i, _)| i + 1)
    };
    let found = if let Some(key) = quoted("unknown field `") {
        line_of(&|l| {
            l.strip_prefix(key.as_str())
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|n| format!("`{key}` is on line {n}"))
    } else if let Some(value) = quoted("unknown variant `") {
        let quoted_value = format!("\"{value}\"");
        line_of(&|l| l.contains('=') && l.contains(&quoted_value))
            .map(|n| format!("\"{value}\" is on line {n}"))
    } else {
        None
    };
    match found {
        Some(place) => format!("{message} ({place})"),
        None => message.to_string(),
    }
}

/// Refuses a restart whose input differs from the checkpoint's outside `[run]` and `[output]`,
/// naming the sections that changed.
fn check_same_input(saved: &str, now: &str) -> Result<()> {
    if saved == now {
        return Ok(());
    }
    let parse = |text: &str| toml::from_str::<toml::Table>(text).unwrap_or_default();
    let (saved, now) = (parse(saved), parse(now));
    let changed: Vec<&str> = saved
        .keys()
        .chain(now.keys())
        .filter(|k| saved.get(*k) != now.get(*k))
        .map(String::as_str)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    Err(Error::Restart {
        message: format!(
            "the input's [{}] differs from the checkpoint's; only [run] and [output] may change",
            changed.join("], [")
        ),
    })
}

/// Drops what an output file holds after `step` (a run killed after its last checkpoint wrote
/// more): thermo lines with a larger step, extended XYZ frames with a larger `step`.
fn truncate_after(path: &Path, step: u64) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let error = |e: std::io::Error| Error::Output {
        path: path.to_path_buf(),
        message: format!("cannot cut it back to step {step}: {e}"),
    };
    let kept = if text.starts_with(THERMO_HEADER) {
        let lines = text.lines().take_while(|l| {
            l.split(',')
                .next()
                .and_then(|s| s.parse::<u64>().ok())
                .is_none_or(|s| s <= step)
        });
        lines.map(|l| format!("{l}\n")).collect::<String>()
    } else if xyz::is_xyz(path) {
        xyz_frames_up_to(&text, step)
    } else {
        return Ok(());
    };
    if kept.len() != text.len() {
        std::fs::write(path, kept).map_err(error)?;
    }
    Ok(())
}

/// The frames of an XYZ text up to the first whose comment line records a `step` beyond
/// `step` (frames without one are kept).
fn xyz_frames_up_to(text: &str, step: u64) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let end = xyz::complete_frames(&lines)
        .into_iter()
        .take_while(|frame| {
            xyz::frame_step(lines[frame.start + 1]).is_none_or(|s| s <= step as f64)
        })
        .last()
        .map_or(0, |frame| frame.end);
    lines[..end].iter().map(|l| format!("{l}\n")).collect()
}

/// Moves an existing file aside as `#name.N#` (GROMACS' habit, N the first free number) and
/// returns the new path; `None` if there was no file.
fn back_up(path: &Path) -> Result<Option<PathBuf>> {
    if !path.exists() {
        return Ok(None);
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let backup = (1..)
        .map(|n| path.with_file_name(format!("#{name}.{n}#")))
        .find(|candidate| !candidate.exists())
        .expect("a free backup name");
    std::fs::rename(path, &backup).map_err(|e| Error::Output {
        path: path.to_path_buf(),
        message: format!(
            "cannot move the existing file aside to {}: {e}",
            backup.display()
        ),
    })?;
    Ok(Some(backup))
}

/// `relative` taken from the folder of the input file at `input`.
fn relative_to(input: &Path, relative: &Path) -> PathBuf {
    input.parent().unwrap_or(Path::new(".")).join(relative)
}

/// A path's identity for comparisons: canonical if it exists, else its canonical directory
/// joined with its file name.
fn same_file_key(path: &Path) -> PathBuf {
    if let Ok(canonical) = path.canonicalize() {
        return canonical;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            parent
                .canonicalize()
                .map_or_else(|_| path.to_path_buf(), |p| p.join(name))
        }
        _ => path.to_path_buf(),
    }
}

impl Input {
    /// Reads and parses an input file; syntax, type and unknown-key errors name the line.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Input {
            path: path.to_path_buf(),
            message: format!("cannot read the input file: {e}"),
        })?;
        let file: InputFile = toml::from_str(&text).map_err(|e| Error::Input {
            path: path.to_path_buf(),
            message: with_culprit_line(e.to_string().trim_end(), &text),
        })?;
        let input = Self {
            path: path.to_path_buf(),
            file,
        };
        input.validate()?;
        Ok(input)
    }

    fn error(&self, message: String) -> Error {
        Error::Input {
            path: self.path.clone(),
            message,
        }
    }

    /// A path from the input file, relative to its folder.
    pub fn resolve(&self, relative: &Path) -> PathBuf {
        relative_to(&self.path, relative)
    }

    /// Refuses outputs that would overwrite an input (the input file, the structure, a model
    /// file) or each other.
    fn check_output_paths(&self) -> Result<()> {
        let f = &self.file;
        let mut inputs = vec![
            ("the input file", self.path.clone()),
            ("structure.file", self.resolve(&f.structure.file)),
        ];
        if let Some((_, settings)) = f.potential.model() {
            inputs.push(("potential.model", self.resolve(&settings.model)));
        }
        if let Some(topology) = &f.structure.topology {
            inputs.push(("structure.topology", self.resolve(topology)));
        }
        let relaxed = f.minimize.as_ref().and_then(|m| m.output.clone());
        let outputs = [
            ("output.trajectory", &f.output.trajectory),
            ("output.thermo", &f.output.thermo),
            ("output.checkpoint", &f.output.checkpoint),
            ("minimize.output", &relaxed),
        ];
        let mut seen: Vec<(&str, PathBuf)> = Vec::new();
        for (key, path) in outputs {
            let Some(path) = path else { continue };
            let resolved = self.resolve(path);
            let directory = match resolved.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            if !directory.is_dir() {
                return Err(self.error(format!(
                    "{key}: the directory of {} does not exist",
                    resolved.display()
                )));
            }
            let path = same_file_key(&resolved);
            let clash = inputs
                .iter()
                .map(|(name, p)| (*name, same_file_key(p)))
                .chain(seen.iter().cloned())
                .find(|(_, other)| *other == path);
            if let Some((other, _)) = clash {
                return Err(self.error(format!(
                    "{key} is the same file as {other} ({}): it would be overwritten",
                    path.display()
                )));
            }
            seen.push((key, path));
        }
        if let Some(path) = &f.output.trajectory {
            crate::io::check_writable_format(&self.resolve(path), f.output.format.as_deref())
                .map_err(|e| self.error(format!("output.trajectory: {e}")))?;
        }
        if let Some(path) = &relaxed {
            crate::io::check_writable_format(&self.resolve(path), None)
                .map_err(|e| self.error(format!("minimize.output: {e}")))?;
        }
        Ok(())
    }

    /// Checks values serde cannot: signs, ranges and names.
    fn validate(&self) -> Result<()> {
        let positive = |key: &str, value: f64, unit: &str| {
            if value.is_finite() && value > 0.0 {
                Ok(())
            } else {
                Err(self.error(format!("{key} must be positive, got {value} {unit}")))
            }
        };
        let non_negative = |key: &str, value: f64, unit: &str| {
            if value.is_finite() && value >= 0.0 {
                Ok(())
            } else {
                Err(self.error(format!(
                    "{key} must be zero or positive, got {value} {unit}"
                )))
            }
        };
        let f = &self.file;
        if let Some(minimize) = &f.minimize {
            positive("minimize.fmax", minimize.fmax, "eV/Å")?;
            positive("minimize.maxstep", minimize.maxstep, "Å")?;
            match minimize.pressure {
                Some(_) if !minimize.relax_cell => {
                    return Err(self.error(
                        "minimize.pressure applies to a cell relaxation: set minimize.relax_cell \
                         = true, or remove it"
                            .into(),
                    ))
                }
                Some(p) if !p.is_finite() => {
                    return Err(self.error(format!(
                        "minimize.pressure must be a finite number of bar, got {p}"
                    )))
                }
                _ => {}
            }
        }
        if let Some(integrator) = &f.integrator {
            positive("integrator.timestep", integrator.timestep(), "fs")?;
            match integrator {
                IntegratorInput::VelocityVerlet { .. } => {}
                IntegratorInput::Langevin {
                    temperature,
                    friction,
                    ..
                } => {
                    non_negative("integrator.temperature", *temperature, "K")?;
                    non_negative("integrator.friction", *friction, "1/fs")?;
                }
                IntegratorInput::NoseHoover {
                    temperature,
                    damping,
                    chain,
                    ..
                } => {
                    positive("integrator.temperature", *temperature, "K")?;
                    positive("integrator.damping", *damping, "fs")?;
                    if !(1..=10).contains(chain) {
                        return Err(self.error(format!(
                            "integrator.chain must be between 1 and 10 thermostats, got {chain}"
                        )));
                    }
                }
                IntegratorInput::Csvr {
                    temperature,
                    damping,
                    ..
                } => {
                    non_negative("integrator.temperature", *temperature, "K")?;
                    non_negative("integrator.damping", *damping, "fs")?;
                }
            }
        }
        if let Some(barostat) = &f.barostat {
            self.check_barostat(barostat)?;
        }
        if let Some(velocities) = &f.velocities {
            non_negative("velocities.temperature", velocities.temperature, "K")?;
        }
        non_negative("neighbors.skin", f.neighbors.skin, "Å")?;
        if f.output.trajectory_stride == 0 {
            return Err(self.error("output.trajectory_stride must be at least 1".into()));
        }
        if f.output.thermo_stride == 0 {
            return Err(self.error("output.thermo_stride must be at least 1".into()));
        }
        self.check_output_paths()?;
        for (symbol, &mass) in &f.structure.masses {
            if element::atomic_number(symbol).is_none() {
                return Err(self.error(format!("structure.masses: unknown element '{symbol}'")));
            }
            positive(&format!("structure.masses.{symbol}"), mass, "amu")?;
        }
        Ok(())
    }

    /// Checks `[barostat]` and that the integrator suits it.
    fn check_barostat(&self, barostat: &BarostatInput) -> Result<()> {
        let (pressure, damping) = barostat.pressure_and_damping();
        if !pressure.is_finite() {
            return Err(self.error(format!(
                "barostat.pressure must be a finite number of bar, got {pressure}"
            )));
        }
        if !(damping.is_finite() && damping > 0.0) {
            return Err(self.error(format!(
                "barostat.damping must be positive, got {damping} fs"
            )));
        }
        let integrator = self.file.integrator.as_ref();
        match barostat {
            BarostatInput::Mtk { .. } => {
                if !matches!(integrator, None | Some(IntegratorInput::NoseHoover { .. })) {
                    return Err(self.error(
                        "barostat type \"mtk\" needs integrator type \"nose-hoover\" (MTK \
                         thermostats particles and cell with Nosé–Hoover chains, as LAMMPS' fix \
                         npt); \"c-rescale\" works with any thermostat"
                            .into(),
                    ));
                }
            }
            BarostatInput::CRescale {
                coupling,
                compressibility,
                ..
            } => {
                if matches!(coupling, CouplingInput::Triclinic) {
                    return Err(self.error(
                        "barostat type \"c-rescale\" couples \"isotropic\" or \"anisotropic\"; \
                         use type \"mtk\" for \"triclinic\""
                            .into(),
                    ));
                }
                if !(compressibility.is_finite() && *compressibility > 0.0) {
                    return Err(self.error(format!(
                        "barostat.compressibility must be positive, got {compressibility} 1/bar"
                    )));
                }
                if matches!(integrator, Some(IntegratorInput::VelocityVerlet { .. })) {
                    return Err(self.error(
                        "barostat type \"c-rescale\" needs a thermostat (integrator type \
                         \"langevin\", \"nose-hoover\" or \"csvr\"): its noise is set by the \
                         temperature"
                            .into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Builds the potential of `[potential]`.
    pub fn potential(&self) -> Result<Box<dyn Potential>> {
        build_potential(&self.file.potential, &self.path)
    }

    /// Builds the integrator of `[integrator]`; a relaxation's input has none and gets a
    /// zero-timestep velocity Verlet that is never stepped (FIRE moves the atoms).
    pub fn integrator(&self) -> Box<dyn Integrator> {
        let Some(integrator) = &self.file.integrator else {
            return Box::new(VelocityVerlet::new(0.0));
        };
        let thermostat = self.thermostat(integrator);
        match (self.file.barostat.as_ref(), integrator.temperature()) {
            (
                Some(&BarostatInput::CRescale {
                    pressure,
                    damping,
                    coupling,
                    compressibility,
                    seed,
                }),
                Some(temperature),
            ) => Box::new(CRescale::new(
                thermostat,
                temperature,
                (pressure, damping, compressibility),
                matches!(coupling, CouplingInput::Anisotropic),
                seed,
            )),
            _ => thermostat,
        }
    }

    /// The `[integrator]` itself (MTK included, as it replaces the Nosé–Hoover chain).
    fn thermostat(&self, integrator: &IntegratorInput) -> Box<dyn Integrator> {
        match *integrator {
            IntegratorInput::VelocityVerlet { timestep } => Box::new(VelocityVerlet::new(timestep)),
            IntegratorInput::Langevin {
                timestep,
                temperature,
                friction,
                seed,
            } => Box::new(Langevin::new(timestep, temperature, friction, seed)),
            IntegratorInput::NoseHoover {
                timestep,
                temperature,
                damping,
                chain,
            } => match self.file.barostat {
                Some(BarostatInput::Mtk {
                    pressure,
                    damping: pressure_damping,
                    coupling,
                }) => Box::new(Mtk::new(
                    timestep,
                    (temperature, damping),
                    (pressure, pressure_damping),
                    coupling.into(),
                    chain,
                )),
                _ => Box::new(NoseHooverChain::new(timestep, temperature, damping, chain)),
            },
            IntegratorInput::Csvr {
                timestep,
                temperature,
                damping,
                seed,
            } => Box::new(Csvr::new(timestep, temperature, damping, seed)),
        }
    }

    /// Reads the structure (frame `structure.frame`) and applies cell, periodicity, masses and
    /// velocities.
    pub fn system(&self) -> Result<System> {
        let path = self.resolve(&self.file.structure.file);
        let section = &self.file.structure;
        let topology = section.topology.as_ref().map(|t| self.resolve(t));
        let mut frames = read_structures_as(
            &path,
            section.format.as_deref(),
            &section.types,
            topology.as_deref(),
        )?;
        let count = frames.len() as i64;
        let wanted = self.file.structure.frame;
        let index = if wanted < 0 { count + wanted } else { wanted };
        if !(0..count).contains(&index) {
            return Err(self.error(format!(
                "structure.frame = {wanted}, but {} holds {count} frame{} (0 to {}, or -1 to -{count})",
                path.display(),
                if count == 1 { "" } else { "s" },
                count - 1
            )));
        }
        let structure = frames.swap_remove(index as usize);
        let section = &self.file.structure;
        let lattice = match &section.cell {
            Some(CellInput::Lengths([a, b, c])) => {
                Some(Matrix3::from_diagonal(&Vector3::new(*a, *b, *c)))
            }
            Some(CellInput::Vectors(rows)) => Some(Matrix3::from_fn(|i, j| rows[i][j])),
            None => structure.lattice,
        };
        let periodic = section
            .periodic
            .or(structure.periodic)
            .unwrap_or([lattice.is_some(); 3]);
        let cell = match lattice {
            Some(lattice) => Cell::new(lattice, periodic),
            None if periodic.iter().any(|&p| p) => Err(crate::cell::CellError::MissingVector {
                axis: periodic.iter().position(|&p| p).expect("one is periodic"),
            }),
            None => Ok(Cell::open()),
        }
        .map_err(|e| Error::Structure {
            path: path.clone(),
            message: format!("{e}; give structure.cell in the input or set structure.periodic"),
        })?;
        let masses = structure
            .species
            .iter()
            .map(|&z| {
                let symbol = element::symbol(z);
                section
                    .masses
                    .get(symbol)
                    .copied()
                    .or_else(|| element::standard_mass(z))
                    .ok_or_else(|| self.error(format!("no mass for element {symbol}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let Structure {
            species,
            positions,
            velocities,
            ..
        } = structure;
        let velocities = match &self.file.velocities {
            Some(v) => maxwell_boltzmann(&masses, v.temperature, v.seed),
            None => velocities.unwrap_or_else(|| vec![Vector3::zeros(); species.len()]),
        };
        Ok(System {
            species,
            masses,
            positions,
            velocities,
            cell,
        })
    }

    /// The `[integrator]` and `[run]` of an MD input (`mlmd run`, `mlmd bench --input`); an
    /// error when one is missing or the input is a relaxation's.
    pub fn md_sections(&self) -> Result<(&IntegratorInput, &RunInput)> {
        let f = &self.file;
        if f.minimize.is_some() {
            return Err(self.error(
                "[minimize] belongs to `mlmd minimize`; an MD run would not relax the structure \
                 (relax it with `mlmd minimize`, then run from its output)"
                    .into(),
            ));
        }
        match (&f.integrator, &f.run) {
            (Some(integrator), Some(run)) => Ok((integrator, run)),
            (None, _) => Err(self.error("missing section [integrator]".into())),
            (_, None) => Err(self.error("missing section [run]".into())),
        }
    }

    /// The `[minimize]` section of a relaxation's input (`mlmd minimize`); an error when it is
    /// missing or the input also has MD sections, which a relaxation would not use.
    pub fn minimize_section(&self) -> Result<&MinimizeInput> {
        let f = &self.file;
        let unused = [
            (
                "[integrator]",
                f.integrator.is_some(),
                "FIRE moves the atoms",
            ),
            (
                "[run]",
                f.run.is_some(),
                "FIRE stops at minimize.fmax or minimize.max_steps",
            ),
            (
                "[velocities]",
                f.velocities.is_some(),
                "FIRE starts from rest",
            ),
            (
                "[barostat]",
                f.barostat.is_some(),
                "minimize.relax_cell and minimize.pressure relax the cell",
            ),
            (
                "output.checkpoint",
                f.output.checkpoint.is_some(),
                "a relaxation has no restart",
            ),
        ];
        if let Some((name, _, why)) = unused.iter().find(|(_, present, _)| *present) {
            return Err(self.error(format!(
                "{name} is not used by `mlmd minimize` ({why}): remove it, or run MD with \
                 `mlmd run`"
            )));
        }
        f.minimize
            .as_ref()
            .ok_or_else(|| self.error("`mlmd minimize` needs a [minimize] section".into()))
    }

    /// Builds the whole simulation with its outputs.
    pub fn simulation(&self) -> Result<Simulation> {
        self.simulation_from(None)
    }

    /// The simulation with its outputs, continuing from `restart` if given: the checkpoint
    /// must come from this input (only `[run]` and `[output]` may differ), outputs are cut back
    /// to the checkpoint's step and appended to.
    pub fn simulation_from(&self, restart: Option<&Checkpoint>) -> Result<Simulation> {
        let key = self.restart_key()?;
        if let Some(checkpoint) = restart {
            check_same_input(&checkpoint.input, &key)?;
        }
        let mut simulation = self.simulation_without_outputs()?;
        let output = &self.file.output;
        let relaxed = self.file.minimize.as_ref().and_then(|m| m.output.clone());
        let paths = [&output.thermo, &output.trajectory, &relaxed];
        match restart {
            Some(checkpoint) => {
                for path in paths.into_iter().flatten() {
                    truncate_after(&self.resolve(path), checkpoint.step)?;
                }
            }
            None if !output.overwrite => {
                for path in paths.into_iter().flatten() {
                    if let Some(backup) = back_up(&self.resolve(path))? {
                        eprintln!(
                            "mlmd: moved the existing {} to {}",
                            path.display(),
                            backup.display()
                        );
                    }
                }
            }
            None => {}
        }
        let append = restart.is_some();
        if let Some(path) = &output.thermo {
            let log = ThermoLog::open(
                &self.resolve(path),
                output.thermo_stride,
                append,
                output.pressure_tensor,
            )?;
            simulation.add_observer(Box::new(log));
        }
        if let Some(path) = &output.trajectory {
            let writer = TrajectoryWriter::open(
                &self.resolve(path),
                &simulation.system,
                append,
                output.format.as_deref(),
            )?;
            simulation.add_observer(Box::new(TrajectoryObserver {
                writer,
                stride: output.trajectory_stride,
            }));
        }
        if let Some(path) = &output.checkpoint {
            simulation.set_checkpoints(CheckpointPlan {
                path: self.resolve(path),
                stride: output.checkpoint_stride,
                input: key,
            });
        }
        if let Some(checkpoint) = restart {
            simulation.restore(checkpoint)?;
        }
        Ok(simulation)
    }

    /// The input file's sections other than `[run]` and `[output]` as canonical TOML: what a
    /// restart must not change.
    pub fn restart_key(&self) -> Result<String> {
        let text = std::fs::read_to_string(&self.path).map_err(|e| Error::Input {
            path: self.path.clone(),
            message: format!("cannot read the input file: {e}"),
        })?;
        let mut table: toml::Table = toml::from_str(&text).map_err(|e| Error::Input {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        table.remove("run");
        table.remove("output");
        Ok(toml::to_string(&table).expect("a TOML table serialises"))
    }

    /// The simulation of the input without its `[output]` files (for benchmarks).
    pub fn simulation_without_outputs(&self) -> Result<Simulation> {
        let neighbors = &self.file.neighbors;
        let system = self.system()?;
        let relax_cell = self.file.minimize.as_ref().is_some_and(|m| m.relax_cell);
        for (what, present) in [
            ("[barostat]", self.file.barostat.is_some()),
            ("minimize.relax_cell", relax_cell),
        ] {
            if present && !system.cell.is_fully_periodic() {
                return Err(self.error(format!(
                    "{what} needs a cell periodic along a, b and c; the structure's periodicity \
                     is {:?}",
                    system.cell.periodic()
                )));
            }
        }
        Simulation::new(
            system,
            self.potential()?,
            self.integrator(),
            neighbors.method,
            neighbors.skin,
        )
    }
}
