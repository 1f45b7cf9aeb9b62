//! Checkpoint and restart: a run continued from a checkpoint writes byte for byte what the
//! uninterrupted run writes (thermo log, trajectory, final checkpoint), for velocity Verlet,
//! Langevin (random-number state) and a MACE model; outputs written after a checkpoint by a run
//! that then died are cut back; a restart with a changed input is refused.

mod common;

use common::{data, mlmd};
use std::path::Path;

/// The CLI tests' argon input (Langevin, or the `[integrator]` body `integrator`) with a
/// checkpoint and outputs next to the input file.
fn argon_input(integrator: &str) -> String {
    let inputs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs");
    let text = std::fs::read_to_string(inputs.join("argon-nvt.toml"))
        .unwrap()
        .replace(
            "argon-108.extxyz",
            inputs.join("argon-108.extxyz").to_str().unwrap(),
        )
        .replace("OUT/", "")
        .replace("trajectory_stride = 20", "trajectory_stride = 5")
        .replace(
            "thermo_stride = 10",
            "thermo_stride = 5\ncheckpoint = \"run.ckpt\"",
        );
    match integrator {
        "langevin" => text,
        _ => {
            let start = text.find("[integrator]").unwrap();
            let end = start + text[start..].find("\n\n").unwrap();
            text[..start].to_string() + "[integrator]\n" + integrator + &text[end..]
        }
    }
}

/// A MACE (fast path, f64) input on the 64-atom example structure.
fn mace_input() -> String {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mace-nvt");
    format!(
        "[structure]\nfile = \"{}\"\n\n[potential]\ntype = \"mace\"\nmodel = \"{}\"\n\
         dtype = \"float64\"\n\n[integrator]\ntype = \"langevin\"\ntimestep = 0.5\n\
         temperature = 300.0\nfriction = 0.01\nseed = 1\n\n[velocities]\ntemperature = 300.0\n\
         seed = 2\n\n[run]\nsteps = 200\n\n[output]\ntrajectory = \"trajectory.extxyz\"\n\
         trajectory_stride = 2\nthermo = \"thermo.csv\"\nthermo_stride = 1\n\
         checkpoint = \"run.ckpt\"\n",
        example.join("co-h-bulk-64.extxyz").display(),
        data("mace/mace_small_b.safetensors").display()
    )
}

/// Writes `text` with `run.steps` set to `steps` as `dir/input.toml` and runs it.
fn run(dir: &Path, text: &str, steps: u64, restart: Option<&str>) -> std::process::Output {
    let start = text.find("steps = ").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    let text = format!("{}steps = {steps}{}", &text[..start], &text[end..]);
    let input = dir.join("input.toml");
    std::fs::write(&input, text).unwrap();
    let checkpoint = restart.map(|name| dir.join(name));
    let mut args = vec!["run", input.to_str().unwrap()];
    if let Some(checkpoint) = &checkpoint {
        args.extend(["--restart", checkpoint.to_str().unwrap()]);
    }
    mlmd(&args)
}

fn ok(output: std::process::Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn assert_same_files(a: &Path, b: &Path, label: &str) {
    for name in ["thermo.csv", "trajectory.extxyz", "run.ckpt"] {
        let (x, y) = (
            std::fs::read(a.join(name)).unwrap(),
            std::fs::read(b.join(name)).unwrap(),
        );
        assert!(x == y, "{label}: {name} differs after a restart");
    }
}

#[test]
fn a_restarted_run_equals_the_uninterrupted_one_byte_for_byte() {
    let cases = [
        (
            "velocity Verlet",
            argon_input("type = \"velocity-verlet\"\ntimestep = 2.0"),
            40,
            20,
        ),
        ("Langevin", argon_input("langevin"), 40, 20),
        (
            "Nosé–Hoover chain",
            argon_input(
                "type = \"nose-hoover\"\ntimestep = 2.0\ntemperature = 94.0\ndamping = 100.0",
            ),
            40,
            20,
        ),
        (
            "CSVR",
            argon_input("type = \"csvr\"\ntimestep = 2.0\ntemperature = 94.0\ndamping = 100.0"),
            40,
            20,
        ),
        (
            "MTK",
            argon_input(
                "type = \"nose-hoover\"\ntimestep = 2.0\ntemperature = 94.0\ndamping = 100.0\n\n\
                 [barostat]\ntype = \"mtk\"\npressure = 5000.0\ndamping = 200.0\n\
                 coupling = \"triclinic\"",
            ),
            40,
            20,
        ),
        (
            "C-rescale",
            argon_input(
                "type = \"csvr\"\ntimestep = 2.0\ntemperature = 94.0\ndamping = 100.0\n\n\
                 [barostat]\ntype = \"c-rescale\"\npressure = 5000.0\ndamping = 200.0\n\
                 coupling = \"anisotropic\"\ncompressibility = 1e-4",
            ),
            40,
            20,
        ),
        ("MACE", mace_input(), 10, 5),
    ];
    for (label, text, total, half) in cases {
        let (whole, split) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        ok(run(whole.path(), &text, total, None));
        ok(run(split.path(), &text, half, None));
        ok(run(split.path(), &text, total, Some("run.ckpt")));
        assert_same_files(whole.path(), split.path(), label);
    }
}

#[test]
fn outputs_written_after_the_checkpoint_are_cut_back() {
    let text = argon_input("langevin");
    let (whole, died) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    ok(run(whole.path(), &text, 40, None));
    // A run that checkpointed at step 20 and went on to step 30 before dying.
    ok(run(died.path(), &text, 20, None));
    std::fs::copy(
        died.path().join("run.ckpt"),
        died.path().join("step20.ckpt"),
    )
    .unwrap();
    ok(run(died.path(), &text, 30, Some("run.ckpt")));
    ok(run(died.path(), &text, 40, Some("step20.ckpt")));
    assert_same_files(whole.path(), died.path(), "cut back");
}

#[test]
fn a_restart_with_another_input_is_refused() {
    let text = argon_input("langevin");
    let dir = tempfile::tempdir().unwrap();
    ok(run(dir.path(), &text, 10, None));
    let changed = text.replacen("temperature = 94.0", "temperature = 120.0", 1);
    assert_ne!(changed, text, "the input names a temperature of 94 K");
    let out = run(dir.path(), &changed, 20, Some("run.ckpt"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot restart: the input's [integrator] differs from the checkpoint's"),
        "{stderr}"
    );
    let out = run(dir.path(), &text, 5, Some("run.ckpt"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("beyond run.steps = 5"));
}

#[test]
fn sigint_ends_the_run_after_a_step_and_it_resumes_bit_for_bit() {
    stop_and_resume("-INT");
}

#[test]
fn sigterm_ends_the_run_after_a_step_and_it_resumes_bit_for_bit() {
    stop_and_resume("-TERM");
}

/// Sends `signal` (a `kill` option) to a long run once it is under way: it ends after a step
/// with status 1, a summary and a checkpoint, and resuming from that checkpoint gives the files
/// of an uninterrupted run.
fn stop_and_resume(signal: &str) {
    let text = argon_input("langevin").replace("checkpoint = \"run.ckpt\"\n", "");
    let (stopped, whole) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let start = text.find("steps = ").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    let long = format!("{}steps = 100000000{}", &text[..start], &text[end..]);
    let input = stopped.path().join("input.toml");
    std::fs::write(&input, &long).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_mlmd"))
        .args(["run", input.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run is under way (a few thermo lines), then interrupt it.
    let thermo = stopped.path().join("thermo.csv");
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&thermo).map_or(0, |t| t.lines().count()) < 5 {
        assert!(started.elapsed().as_secs() < 60, "the run did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("interrupted at step") && stderr.contains("--restart"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Loop time"),
        "summary printed"
    );
    // Without [output] checkpoint the state goes next to the input: input.ckpt.
    let checkpoint = stopped.path().join("input.ckpt");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&checkpoint).unwrap()).unwrap();
    let step = saved["step"].as_u64().unwrap();
    assert!(step > 0 && step < 100000000);
    // Resume to step + 30 and compare with a run of that length from the start.
    let total = step + 30;
    ok(run(stopped.path(), &text, total, Some("input.ckpt")));
    ok(run(whole.path(), &text, total, None));
    for name in ["thermo.csv", "trajectory.extxyz"] {
        let a = std::fs::read(whole.path().join(name)).unwrap();
        let b = std::fs::read(stopped.path().join(name)).unwrap();
        assert!(a == b, "{name} differs after an interrupt and a restart");
    }
}

/// kill -9 in the middle of a run that writes a frame every step: the trajectory (extended
/// XYZ, DCD, NetCDF, XTC, TRR; the binary ones read with `structure.topology`) reads back, every
/// frame whole, and holds the frames the thermo log says were written.
#[test]
fn a_killed_run_leaves_a_readable_trajectory_in_every_format() {
    let inputs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs");
    let topology = inputs.join("argon-108.extxyz");
    for format in ["extxyz", "dcd", "nc", "xtc", "trr"] {
        let dir = tempfile::tempdir().unwrap();
        let text = argon_input("langevin")
            .replace("trajectory.extxyz", &format!("trajectory.{format}"))
            .replace("trajectory_stride = 5", "trajectory_stride = 1")
            .replace("thermo_stride = 5", "thermo_stride = 1");
        let start = text.find("steps = ").unwrap();
        let end = start + text[start..].find('\n').unwrap();
        let long = format!("{}steps = 100000000{}", &text[..start], &text[end..]);
        let input = dir.path().join("input.toml");
        std::fs::write(&input, &long).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mlmd"))
            .args(["run", input.to_str().unwrap(), "--threads", "1"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let thermo = dir.path().join("thermo.csv");
        let started = std::time::Instant::now();
        while std::fs::read_to_string(&thermo).map_or(0, |t| t.lines().count()) < 60 {
            assert!(started.elapsed().as_secs() < 60, "the run did not start");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let logged = std::fs::read_to_string(&thermo).unwrap().lines().count() - 1;
        let frames = mlmd::io::read_structures_as(
            &dir.path().join(format!("trajectory.{format}")),
            None,
            &Default::default(),
            Some(&topology),
        )
        .unwrap_or_else(|e| panic!("{format}: {e}"));
        assert!(
            frames.len() + 1 >= logged && frames.len() <= logged + 1,
            "{format}: {} frames for {logged} thermo lines",
            frames.len()
        );
        for frame in &frames {
            assert_eq!(frame.positions.len(), 108, "{format}");
            assert!(frame
                .positions
                .iter()
                .all(|x| x.iter().all(|c| c.is_finite())));
        }
    }
}
