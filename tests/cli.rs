//! The command line and the files it reads and writes: eval against references, the bad-input
//! corpus, reproducibility, trajectories read back through chemfiles, non-finite forces.

mod common;

use common::{assert_voigt_stress, fixture, matrix, mlmd, vectors, write_extxyz};
use mlmd::cell::Cell;
use mlmd::io::{read_structures, TrajectoryWriter};
use mlmd::neighbors::NeighborMethod;
use mlmd::observers::{Observer, Thermo};
use mlmd::simulation::Simulation;
use mlmd::system::System;
use mlmd::Error;
use mlmd_integrators::VelocityVerlet;
use mlmd_potentials::{
    AtomicGraph, Evaluation, LennardJones, LennardJonesPair, Pairwise, Potential, PotentialError,
    Request,
};
use nalgebra::Vector3;
use std::path::{Path, PathBuf};

fn inputs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs")
}

/// The CLI test input with its outputs redirected into `dir`.
fn nvt_input_in(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(inputs().join("argon-nvt.toml")).unwrap();
    let structure = inputs().join("argon-108.extxyz");
    let text = text
        .replace("argon-108.extxyz", structure.to_str().unwrap())
        .replace("OUT/", "");
    let path = dir.join("input.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn every_bad_input_fails_with_its_message() {
    let mut count = 0;
    for entry in std::fs::read_dir(inputs().join("bad")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let expected = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} has no '# expect:' line", path.display()));
        let output = mlmd(&["run", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let name = path.file_name().unwrap().to_string_lossy();
        assert_eq!(
            output.status.code(),
            Some(1),
            "{name}: exit status; stderr: {stderr}"
        );
        assert!(
            stderr.contains(expected),
            "{name}: expected «{expected}» in «{stderr}»"
        );
        assert!(stderr.starts_with("error: "), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name} panicked: {stderr}");
        count += 1;
    }
    assert!(count >= 20, "only {count} bad inputs");
}

#[test]
fn missing_input_file_is_reported() {
    let output = mlmd(&["run", "no/such/input.toml"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("no/such/input.toml: cannot read the input file"));
}

/// Direct O(N²) sum of a shifted LJ over an open cluster: an independent reference.
fn cluster_energy_and_forces(
    positions: &[Vector3<f64>],
    epsilon: f64,
    sigma: f64,
    cutoff: f64,
) -> (f64, Vec<Vector3<f64>>) {
    let v = |r: f64| 4.0 * epsilon * ((sigma / r).powi(12) - (sigma / r).powi(6));
    let dv = |r: f64| {
        4.0 * epsilon * (-12.0 * sigma.powi(12) / r.powi(13) + 6.0 * sigma.powi(6) / r.powi(7))
    };
    let mut energy = 0.0;
    let mut forces = vec![Vector3::zeros(); positions.len()];
    for i in 0..positions.len() {
        for j in i + 1..positions.len() {
            let d = positions[j] - positions[i];
            let r = d.norm();
            if r < cutoff {
                energy += v(r) - v(cutoff);
                forces[i] += d / r * dv(r);
                forces[j] -= d / r * dv(r);
            }
        }
    }
    (energy, forces)
}

#[test]
fn eval_reproduces_ase_and_lammps_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixture("lj_argon_vv_fixture.json");
    let meta = &fixture["meta"];
    let (epsilon, sigma, cutoff) = (
        meta["epsilon_eV"].as_f64().unwrap(),
        meta["sigma_A"].as_f64().unwrap(),
        meta["cutoff_A"].as_f64().unwrap(),
    );
    let mut frames = String::new();
    for case in ["cubic", "triclinic"] {
        let initial = &fixture[case]["initial"];
        let positions = vectors(&initial["positions"]);
        let path = dir.path().join("frame.extxyz");
        write_extxyz(
            &path,
            &vec!["Ar"; positions.len()],
            &positions,
            Some(&matrix(&initial["cell"])),
            [true; 3],
        );
        frames += &std::fs::read_to_string(&path).unwrap();
    }
    // A third frame without cell or periodicity.
    let cluster: Vec<Vector3<f64>> = (0..5)
        .map(|i| Vector3::new(3.6 * i as f64, 0.4 * (i * i) as f64, 0.3 * i as f64))
        .collect();
    let path = dir.path().join("frame.extxyz");
    write_extxyz(&path, &["Ar"; 5], &cluster, None, [false; 3]);
    frames += &std::fs::read_to_string(&path).unwrap();
    let structure = dir.path().join("frames.extxyz");
    std::fs::write(&structure, frames).unwrap();
    let input = dir.path().join("input.toml");
    std::fs::write(
        &input,
        format!(
            "[structure]\nfile = \"frames.extxyz\"\n[potential]\ntype = \"lennard-jones\"\n\
             cutoff = {cutoff}\nshift = true\n[[potential.pairs]]\nelements = [\"Ar\", \"Ar\"]\n\
             epsilon = {epsilon:e}\nsigma = {sigma}\n[integrator]\ntype = \"velocity-verlet\"\n\
             timestep = 1.0\n[run]\nsteps = 1\n"
        ),
    )
    .unwrap();
    let frames = common::eval_frames(&input, &structure, dir.path());
    assert_eq!(frames.len(), 3);
    for (frame, case) in frames.iter().zip(["cubic", "triclinic"]) {
        let step0 = &fixture[case]["step0"];
        let energy = step0["energy_eV"].as_f64().unwrap();
        assert!(
            ((frame["energy"].as_f64().unwrap() - energy) / energy).abs() < 1e-10,
            "{case}"
        );
        let forces = vectors(&frame["forces"]);
        let reference = vectors(&step0["forces_eV_per_A"]);
        let largest = reference.iter().map(|f| f.amax()).fold(0.0, f64::max);
        for (f, r) in forces.iter().zip(&reference) {
            assert!((f - r).amax() < 1e-10 * largest, "{case}: force");
        }
        let stress = matrix(&frame["stress"]);
        assert_voigt_stress(
            &stress,
            &step0["virial_stress_voigt_eV_per_A3"],
            1e-10,
            case,
        );
    }
    let (energy, forces) = cluster_energy_and_forces(&cluster, epsilon, sigma, cutoff);
    assert!((frames[2]["energy"].as_f64().unwrap() - energy).abs() < 1e-12 * energy.abs());
    for (f, r) in vectors(&frames[2]["forces"]).iter().zip(&forces) {
        assert!((f - r).amax() < 1e-12);
    }
    assert!(
        frames[2]["stress"].is_null(),
        "no stress without periodicity"
    );
}

#[test]
fn run_writes_thermo_trajectory_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let input = nvt_input_in(dir.path());
    let output = mlmd(&["run", input.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("ns/day") && stdout.contains("Neighbors") && stdout.contains("Potential"),
        "{stdout}"
    );
    let thermo = std::fs::read_to_string(dir.path().join("thermo.csv")).unwrap();
    let lines: Vec<&str> = thermo.lines().collect();
    assert_eq!(lines[0], mlmd::observers::THERMO_HEADER);
    assert_eq!(lines.len(), 1 + 21, "steps 0, 10, ..., 200");
    let last: Vec<f64> = lines[21].split(',').map(|v| v.parse().unwrap()).collect();
    assert_eq!(last[0], 200.0);
    assert_eq!(last[1], 400.0);
    assert!((last[2] + last[3] - last[4]).abs() < 1e-12);
    assert!(last[5].is_finite(), "conserved energy");
    assert!(last[6] > 50.0 && last[6] < 150.0, "temperature {}", last[6]);
    assert!(last[7].is_finite(), "pressure");
    assert_eq!(last.len(), 10, "volume and density, no pressure tensor");
    let frames = read_structures(&dir.path().join("trajectory.extxyz")).unwrap();
    assert_eq!(frames.len(), 11);
    assert_eq!(frames[0].species.len(), 108);
}

/// Volume, density and (on request) the pressure tensor in the thermo log: the volume of the
/// 15.78 Å cube, 108 argon masses over it, and a tensor whose trace / 3 is the pressure.
#[test]
fn thermo_log_has_volume_density_and_the_pressure_tensor_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let input = nvt_input_in(dir.path());
    let text = std::fs::read_to_string(&input).unwrap();
    std::fs::write(
        &input,
        text.replace("[output]\n", "[output]\npressure_tensor = true\n"),
    )
    .unwrap();
    let output = mlmd(&["run", input.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let thermo = std::fs::read_to_string(dir.path().join("thermo.csv")).unwrap();
    let lines: Vec<&str> = thermo.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "{}{}",
            mlmd::observers::THERMO_HEADER,
            mlmd::observers::PRESSURE_TENSOR_HEADER
        )
    );
    let volume = 15.78f64.powi(3);
    let density = 108.0 * 39.948 * 1.660_539_066_60 / volume;
    for line in &lines[1..] {
        let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        assert_eq!(v.len(), 16);
        assert!((v[8] - volume).abs() < 1e-9 * volume, "volume {}", v[8]);
        assert!(
            (v[9] - density).abs() < 1e-9 * density,
            "density {} vs {density}",
            v[9]
        );
        let trace = (v[10] + v[11] + v[12]) / 3.0;
        assert!(
            (trace - v[7]).abs() < 1e-9 * v[7].abs().max(1.0),
            "{trace} vs {}",
            v[7]
        );
        assert!(v[10..].iter().all(|p| p.is_finite()));
    }
}

#[test]
fn same_input_and_seed_give_bit_identical_output_on_any_thread_count() {
    let runs: Vec<(Vec<u8>, Vec<u8>)> = ["1", "2", "2"]
        .iter()
        .map(|threads| {
            let dir = tempfile::tempdir().unwrap();
            let input = nvt_input_in(dir.path());
            let output = mlmd(&["run", input.to_str().unwrap(), "--threads", threads]);
            assert!(output.status.success());
            (
                std::fs::read(dir.path().join("trajectory.extxyz")).unwrap(),
                std::fs::read(dir.path().join("thermo.csv")).unwrap(),
            )
        })
        .collect();
    assert!(runs[0] == runs[1] && runs[1] == runs[2]);
    // In memory, at full precision.
    let state = || {
        let dir = tempfile::tempdir().unwrap();
        let input = mlmd::input::Input::read(&nvt_input_in(dir.path())).unwrap();
        let mut simulation = input.simulation().unwrap();
        simulation.run(100, &mut |_| {}).unwrap();
        (
            simulation.system.positions.clone(),
            simulation.system.velocities.clone(),
        )
    };
    assert_eq!(state(), state());
}

fn triclinic_argon() -> System {
    let fixture = fixture("lj_argon_vv_fixture.json");
    let initial = &fixture["triclinic"]["initial"];
    let positions = vectors(&initial["positions"]);
    System {
        species: vec![18; positions.len()],
        masses: vec![39.948; positions.len()],
        velocities: vectors(&initial["velocities_A_per_fs"]),
        positions,
        cell: Cell::new(matrix(&initial["cell"]), [true; 3]).unwrap(),
    }
}

#[test]
fn triclinic_trajectories_read_back_with_the_same_cell_and_positions() {
    let dir = tempfile::tempdir().unwrap();
    let system = triclinic_argon();
    // chemfiles writes extended XYZ with 6 significant digits and PDB with 3 decimals.
    for (name, tolerance) in [("t.extxyz", 2e-4), ("t.pdb", 2e-3)] {
        let path = dir.path().join(name);
        let mut writer = TrajectoryWriter::create(&path, &system).unwrap();
        writer.write(0, &system).unwrap();
        writer.write(1, &system).unwrap();
        drop(writer);
        let frames = read_structures(&path).unwrap();
        assert_eq!(frames.len(), 2, "{name}");
        let lattice = frames[1].lattice.expect("cell read back");
        assert!(
            (lattice - system.cell.lattice()).amax() < tolerance,
            "{name}: cell {lattice}"
        );
        for (x, reference) in frames[1].positions.iter().zip(&system.positions) {
            assert!((x - reference).amax() < tolerance, "{name}: position");
        }
        assert_eq!(frames[1].species, system.species);
    }
}

/// Lennard-Jones that returns a NaN force on atom 7 from its sixth call on.
struct FailsAtSixthCall {
    inner: Pairwise<LennardJones>,
    calls: usize,
}

impl Potential for FailsAtSixthCall {
    fn cutoff(&self) -> f64 {
        self.inner.cutoff()
    }
    fn check_species(&self, species: &[u8]) -> Result<(), PotentialError> {
        self.inner.check_species(species)
    }
    fn compute(
        &mut self,
        graph: &AtomicGraph<'_>,
        request: Request,
    ) -> Result<Evaluation, PotentialError> {
        self.calls += 1;
        let mut evaluation = self.inner.compute(graph, request)?;
        if self.calls >= 6 {
            evaluation.forces[7].y = f64::NAN;
        }
        Ok(evaluation)
    }
}

#[test]
fn non_finite_forces_stop_the_run_and_keep_the_trajectory_readable() {
    let dir = tempfile::tempdir().unwrap();
    let system = triclinic_argon();
    let pair = LennardJonesPair {
        elements: [18, 18],
        epsilon: 0.0103236,
        sigma: 3.405,
    };
    let potential = FailsAtSixthCall {
        inner: Pairwise::new(LennardJones::new(&[pair], 8.5125, true).unwrap()),
        calls: 0,
    };
    let path = dir.path().join("trajectory.extxyz");
    let writer = TrajectoryWriter::create(&path, &system).unwrap();
    let mut simulation = Simulation::new(
        system,
        Box::new(potential),
        Box::new(VelocityVerlet::new(1.0)),
        NeighborMethod::Auto,
        1.0,
    )
    .unwrap();
    simulation.add_observer(Box::new(mlmd::observers::TrajectoryObserver {
        writer,
        stride: 1,
    }));
    let error = simulation.run(20, &mut |_| {}).unwrap_err();
    assert!(
        matches!(
            error,
            Error::NonFinite {
                step: 5,
                atom: 7,
                element: "Ar",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "step 5: non-finite force on atom 7 (Ar); the run stopped there"
    );
    drop(simulation);
    let frames = read_structures(&path).unwrap();
    assert_eq!(frames.len(), 5, "steps 0 to 4 were written");
}

#[test]
fn observers_are_called_at_their_stride() {
    struct Steps(std::rc::Rc<std::cell::RefCell<Vec<u64>>>);
    impl Observer for Steps {
        fn stride(&self) -> u64 {
            3
        }
        fn needs_virial(&self) -> bool {
            false
        }
        fn observe(&mut self, step: u64, _: &System, thermo: &Thermo) -> mlmd::Result<()> {
            assert!(thermo.pressure.is_none(), "no virial was asked for");
            self.0.borrow_mut().push(step);
            Ok(())
        }
    }
    let pair = LennardJonesPair {
        elements: [18, 18],
        epsilon: 0.0103236,
        sigma: 3.405,
    };
    let lj = Pairwise::new(LennardJones::new(&[pair], 8.5, true).unwrap());
    let mut simulation = Simulation::new(
        triclinic_argon(),
        Box::new(lj),
        Box::new(VelocityVerlet::new(1.0)),
        NeighborMethod::Auto,
        1.0,
    )
    .unwrap();
    let steps = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    simulation.add_observer(Box::new(Steps(steps.clone())));
    simulation.run(10, &mut |_| {}).unwrap();
    assert_eq!(*steps.borrow(), vec![0, 3, 6, 9]);
}

#[test]
fn a_run_that_blows_up_stops_naming_step_and_atom() {
    // Argon at 100 fs per step: atoms fly apart within a few dozen steps. The run must stop with
    // exit status 1 at the first step where an atom moves farther than the per-step limit.
    let output = mlmd(&[
        "run",
        inputs().join("runaway-timestep.toml").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line in «{stderr}»"));
    assert!(
        line.contains("(Ar) moved") && line.contains("the system is blowing up"),
        "{line}"
    );
    let step: u64 = line["error: step ".len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(step > 1 && step < 200, "stopped at step {step}");
}

#[test]
fn bench_leaves_output_files_alone_and_threads_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let input = nvt_input_in(dir.path());
    for name in ["trajectory.extxyz", "thermo.csv"] {
        std::fs::write(dir.path().join(name), "an earlier run's results\n").unwrap();
    }
    let input = input.to_str().unwrap();
    let out = mlmd(&["bench", "--input", input, "--steps", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["trajectory.extxyz", "thermo.csv"] {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(text, "an earlier run's results\n", "bench touched {name}");
    }
    for threads in ["0", "100000"] {
        let out = mlmd(&["run", input, "--threads", threads]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("--threads {threads}: give a number from 1 to")),
            "{stderr}"
        );
    }
    let out = mlmd(&["bench", "--cells", "0"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--cells"));
}

#[test]
fn a_bad_output_path_is_refused_before_any_output_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let input = nvt_input_in(dir.path());
    let thermo = dir.path().join("thermo.csv");
    std::fs::write(&thermo, "an earlier run's log\n").unwrap();
    for trajectory in ["no-such-directory/trajectory.extxyz", "trajectory.abcdef"] {
        let text = std::fs::read_to_string(&input)
            .unwrap()
            .replace("trajectory.extxyz", trajectory);
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, text).unwrap();
        let out = mlmd(&["run", bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{trajectory}");
        assert_eq!(
            std::fs::read_to_string(&thermo).unwrap(),
            "an earlier run's log\n",
            "{trajectory}: the thermo log was truncated"
        );
    }
}

#[test]
fn existing_outputs_are_moved_aside_unless_overwrite_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let input = nvt_input_in(dir.path());
    let run = || {
        let out = mlmd(&["run", input.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    run();
    let first = std::fs::read_to_string(dir.path().join("thermo.csv")).unwrap();
    let stderr = run();
    assert!(stderr.contains("moved the existing"), "{stderr}");
    for name in ["thermo.csv", "trajectory.extxyz"] {
        let backup = dir.path().join(format!("#{name}.1#"));
        assert!(backup.is_file(), "no backup of {name}");
    }
    let backup = std::fs::read_to_string(dir.path().join("#thermo.csv.1#")).unwrap();
    assert_eq!(backup, first, "the first run's log is kept whole");
    run();
    assert!(
        dir.path().join("#thermo.csv.2#").is_file(),
        "numbered backups"
    );
    let text = std::fs::read_to_string(&input).unwrap() + "overwrite = true\n";
    assert!(text.contains("[output]"));
    std::fs::write(&input, text).unwrap();
    run();
    assert!(
        !dir.path().join("#thermo.csv.3#").exists(),
        "overwrite = true"
    );
}

#[test]
fn eval_needs_only_a_potential_section() {
    // The same energies from the full CLI test input and from a file holding its
    // [potential] alone, on one thread.
    let dir = tempfile::tempdir().unwrap();
    let full = nvt_input_in(dir.path());
    let text = std::fs::read_to_string(&full).unwrap();
    let start = text.find("[potential]").unwrap();
    let end = text.find("[integrator]").unwrap();
    let only = dir.path().join("potential.toml");
    std::fs::write(&only, &text[start..end]).unwrap();
    let structure = inputs().join("argon-108.extxyz");
    let energy = |input: &Path, threads: &str| {
        let frames =
            common::eval_frames_with(input, &structure, dir.path(), &["--threads", threads]);
        frames[0]["energy"].as_f64().unwrap()
    };
    assert_eq!(energy(&full, "2"), energy(&only, "1"));
    std::fs::write(
        &only,
        "[integrator]\ntype = \"velocity-verlet\"\ntimestep = 1.0\n",
    )
    .unwrap();
    let out = mlmd(&[
        "eval",
        only.to_str().unwrap(),
        "--structure",
        "x.extxyz",
        "--json",
        "y",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no [potential] section"));
}
