//! The `mlmd` command line: run, eval, bench.

/// mimalloc: large tensor temporaries otherwise page-fault on every step with glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (position in its `mi_option_e`, v2): -1 keeps freed
/// memory mapped, so that each MD step reuses the previous step's pages instead of faulting in
/// fresh zeroed ones (13 % of a MACE step at 1,000 atoms).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

#[allow(unsafe_code)]
fn keep_freed_memory() {
    // SAFETY: setting a mimalloc option is allowed at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use mlmd::bench::LjMelt;
use mlmd::eval::evaluate_file;
use mlmd::input::Input;
use mlmd::units::ns_per_day;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

/// Molecular dynamics with machine-learned interatomic potentials (metal units: Å, eV, fs, amu,
/// K, bar).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run MD as an input file says: trajectory, thermo log, and a timing summary with ns/day.
    Run {
        /// The TOML input file (see the README for every key).
        input: PathBuf,
        /// Number of threads (default: all cores, or RAYON_NUM_THREADS).
        #[arg(long)]
        threads: Option<usize>,
        /// Continue from this checkpoint (written by `[output] checkpoint`) up to `run.steps`,
        /// appending to the outputs.
        #[arg(long)]
        restart: Option<PathBuf>,
    },
    /// Relax the structure's positions with FIRE (ASE's parameters) as the input's [minimize]
    /// section says: the relaxation's trajectory and thermo log, and the relaxed structure.
    Minimize {
        /// The TOML input file: [structure], [potential], [minimize], optional [neighbors] and
        /// [output].
        input: PathBuf,
        /// Number of threads (default: all cores, or RAYON_NUM_THREADS).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Evaluate the input file's potential on every frame of a structure file and write
    /// energies, forces and stresses as JSON.
    Eval {
        /// A TOML input file; only its [potential] section is read.
        input: PathBuf,
        /// Structure file, any format chemfiles reads; each frame's own cell and periodicity.
        #[arg(long)]
        structure: PathBuf,
        /// Output JSON: {"frames": [{"energy", "forces", "stress"}]} in eV, eV/Å, eV/Å³.
        #[arg(long)]
        json: PathBuf,
        /// Number of threads (default: all cores, or RAYON_NUM_THREADS).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Benchmark LAMMPS' LJ-melt system (argon, metal units) and print speed as JSON.
    Bench {
        /// fcc cells per side (20 gives 32,000 atoms, as LAMMPS' bench/in.lj).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1000))]
        cells: u64,
        /// Reduced density ρ* of LJ-melt (LAMMPS' in.lj: 0.8442).
        #[arg(long, default_value_t = 0.8442)]
        density: f64,
        /// Cutoff of LJ-melt, σ (LAMMPS' in.lj: 2.5).
        #[arg(long, default_value_t = 2.5)]
        cutoff: f64,
        /// Neighbor-list skin of LJ-melt, σ (LAMMPS' in.lj: 0.3).
        #[arg(long, default_value_t = 0.3)]
        skin: f64,
        /// Steps to time.
        #[arg(long, default_value_t = 100)]
        steps: u64,
        /// Number of threads (default: all cores, or RAYON_NUM_THREADS).
        #[arg(long)]
        threads: Option<usize>,
        /// Benchmark this input file's system, potential and integrator instead of LJ-melt
        /// (`--steps` steps after one untimed step; the LJ-melt options are ignored).
        #[arg(long)]
        input: Option<PathBuf>,
    },
}

impl Command {
    /// The `--threads` option.
    fn threads(&self) -> Option<usize> {
        match *self {
            Command::Run { threads, .. }
            | Command::Eval { threads, .. }
            | Command::Minimize { threads, .. }
            | Command::Bench { threads, .. } => threads,
        }
    }
}

/// The thread pool every command runs in: `--threads` (1 to the number of cores), else
/// RAYON_NUM_THREADS, else all cores. The command itself runs on one of its workers, so that
/// each parallel loop of a step starts there instead of handing work over from the main thread
/// and sleeping until it is done (which costs ~10 % on small systems).
fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, String> {
    let mut builder = rayon::ThreadPoolBuilder::new().stack_size(MAIN_STACK_BYTES);
    if let Some(n) = threads {
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        if n == 0 || n > cores {
            return Err(format!(
                "--threads {n}: give a number from 1 to {cores} (the cores of this machine)"
            ));
        }
        builder = builder.num_threads(n);
    }
    builder
        .build()
        .map_err(|e| format!("cannot start the threads: {e}"))
}

/// Stack of the worker threads, as a main thread's (8 MiB).
const MAIN_STACK_BYTES: usize = 8 << 20;

fn run(input: PathBuf, restart: Option<PathBuf>) -> Result<(), String> {
    let input = Input::read(&input).map_err(|e| e.to_string())?;
    let checkpoint = restart
        .map(|path| mlmd::checkpoint::Checkpoint::read(&path))
        .transpose()
        .map_err(|e| e.to_string())?;
    let (integrator, run) = input.md_sections().map_err(|e| e.to_string())?;
    let (total, timestep) = (run.steps, integrator.timestep());
    let done = checkpoint.as_ref().map_or(0, |c| c.step);
    if done > total {
        return Err(format!(
            "cannot restart: the checkpoint is at step {done}, beyond run.steps = {total}"
        ));
    }
    let mut simulation = input
        .simulation_from(checkpoint.as_ref())
        .map_err(|e| e.to_string())?;
    let steps = total - done;
    stop_on_signals(&mut simulation)?;
    eprintln!(
        "mlmd: {} atoms, {} steps of {} fs, neighbors by {}, {} threads",
        simulation.system.len(),
        steps,
        timestep,
        simulation.neighbor_method(),
        rayon::current_num_threads()
    );
    let start = Instant::now();
    let interactive = std::io::stderr().is_terminal();
    let bar = if interactive {
        let bar = ProgressBar::new(steps);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} steps  ETA {eta}  {msg}")
                .expect("valid template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let report_every = (steps / 10).max(1);
    let mut progress = |step: u64| {
        let step = step - done;
        let rate = ns_per_day(timestep, step, start.elapsed().as_secs_f64());
        if interactive {
            bar.set_position(step);
            if step % 10 == 0 {
                bar.set_message(format!("{rate:.3} ns/day"));
            }
        } else if step % report_every == 0 {
            eprintln!("step {step}/{steps}  {rate:.3} ns/day");
        }
    };
    let result = simulation.run(steps, &mut progress);
    bar.finish_and_clear();
    let summary = result.map_err(|e| e.to_string())?;
    print!("{summary}");
    if summary.interrupted {
        let checkpoint = match &input.file.output.checkpoint {
            Some(path) => input.resolve(path),
            None => {
                let path = input.path.with_extension("ckpt");
                let key = input.restart_key().map_err(|e| e.to_string())?;
                simulation
                    .checkpoint(&key)
                    .write(&path)
                    .map_err(|e| e.to_string())?;
                path
            }
        };
        return Err(format!(
            "interrupted at step {}; the state is in {}; resume with: mlmd run {} --restart {}",
            simulation.step(),
            checkpoint.display(),
            input.path.display(),
            checkpoint.display()
        ));
    }
    Ok(())
}

/// SIGINT and SIGTERM end the simulation after the current step; a second signal at once.
fn stop_on_signals(simulation: &mut mlmd::simulation::Simulation) -> Result<(), String> {
    let interrupt = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        flag::register_conditional_shutdown(signal, 130, Arc::clone(&interrupt))
            .and_then(|_| flag::register(signal, Arc::clone(&interrupt)))
            .map_err(|e| format!("cannot install the signal handlers: {e}"))?;
    }
    simulation.set_interrupt(interrupt);
    Ok(())
}

fn minimize(input: PathBuf) -> Result<(), String> {
    let input = Input::read(&input).map_err(|e| e.to_string())?;
    let section = input.minimize_section().map_err(|e| e.to_string())?.clone();
    let mut simulation = input.simulation().map_err(|e| e.to_string())?;
    stop_on_signals(&mut simulation)?;
    let cell = section
        .cell_pressure()
        .map_or(String::new(), |p| format!(" and the cell at {p} bar"));
    eprintln!(
        "mlmd: relaxing {} atoms{cell} with FIRE to a largest force of {} eV/Å (at most {} steps)",
        simulation.system.len(),
        section.fmax,
        section.max_steps
    );
    let mut fire = mlmd::integrators::Fire::new(section.maxstep);
    let mut progress = |step: u64, largest: f64| {
        if step % 100 == 0 {
            eprintln!("step {step}  largest force {largest:.3e} eV/Å");
        }
    };
    let summary = simulation
        .minimize(
            &mut fire,
            (section.fmax, section.max_steps),
            section.cell_pressure(),
            &mut progress,
        )
        .map_err(|e| e.to_string())?;
    print!("{summary}");
    if let Some(path) = &section.output {
        let path = input.resolve(path);
        mlmd::io::TrajectoryWriter::create(&path, &simulation.system)
            .and_then(|mut w| w.write(summary.steps, &simulation.system))
            .map_err(|e| e.to_string())?;
        println!("relaxed structure written to {}", path.display());
    }
    if summary.converged {
        Ok(())
    } else if summary.interrupted {
        Err(format!("interrupted at FIRE step {}", summary.steps))
    } else {
        Err(format!(
            "FIRE did not reach fmax = {} eV/Å in {} steps (largest force {:.3e} eV/Å)",
            section.fmax, summary.steps, summary.max_force
        ))
    }
}

fn eval(input: PathBuf, structure: PathBuf, json: PathBuf) -> Result<(), String> {
    let mut potential = mlmd::input::read_potential(&input).map_err(|e| e.to_string())?;
    let report = evaluate_file(potential.as_mut(), &structure).map_err(|e| e.to_string())?;
    let text = serde_json::to_string(&report).map_err(|e| e.to_string())?;
    std::fs::write(&json, text).map_err(|e| format!("output file {}: {e}", json.display()))?;
    eprintln!(
        "mlmd: {} frames evaluated, written to {}",
        report.frames.len(),
        json.display()
    );
    Ok(())
}

fn bench(melt: LjMelt, steps: u64, input: Option<PathBuf>) -> Result<(), String> {
    let report = match input {
        Some(path) => {
            let input = Input::read(&path).map_err(|e| e.to_string())?;
            input.md_sections().map_err(|e| e.to_string())?;
            mlmd::bench::input_file(&input, steps)
        }
        None => mlmd::bench::lj_melt(&melt, steps),
    }
    .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
    );
    Ok(())
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    let result =
        thread_pool(cli.command.threads()).and_then(|pool| pool.install(|| dispatch(cli.command)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a command.
fn dispatch(command: Command) -> Result<(), String> {
    match command {
        Command::Run { input, restart, .. } => run(input, restart),
        Command::Eval {
            input,
            structure,
            json,
            ..
        } => eval(input, structure, json),
        Command::Minimize { input, .. } => minimize(input),
        Command::Bench {
            cells,
            density,
            cutoff,
            skin,
            steps,
            input,
            ..
        } => {
            let melt = LjMelt {
                cells: cells as usize,
                density,
                cutoff,
                skin,
            };
            bench(melt, steps, input)
        }
    }
}
