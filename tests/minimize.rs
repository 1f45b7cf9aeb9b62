//! `mlmd minimize` (FIRE) against ASE's FIRE on the same Lennard-Jones argon systems
//! (`tests/data/fire/make_fire_reference.py`): a rattled 13-atom icosahedron without a cell and
//! a rattled 108-atom periodic fcc crystal, relaxed to a largest force of 1e-4 eV/Å.

mod common;

use common::{data, fixture, mlmd};
use mlmd::io::read_structures;
use nalgebra::Matrix3;
use std::path::Path;

/// A relaxation input for `structure` with the `[minimize]` body `minimize` and `extra`
/// sections, written into `dir`.
fn input(dir: &Path, structure: &Path, minimize: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("input.toml");
    let text = format!(
        "[structure]\nfile = \"{}\"\n\n[potential]\ntype = \"lennard-jones\"\ncutoff = 8.5125\n\
         shift = true\n[[potential.pairs]]\nelements = [\"Ar\", \"Ar\"]\nepsilon = 0.0103236\n\
         sigma = 3.405\n\n[minimize]\n{minimize}\n\n[output]\nthermo = \"thermo.csv\"\n\
         trajectory = \"relaxation.extxyz\"\n{extra}",
        structure.display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn fire_reproduces_ase_on_a_cluster_and_a_crystal() {
    let reference = fixture("fire/fire_reference.json");
    for name in ["cluster", "crystal"] {
        let r = &reference["systems"][name];
        let dir = tempfile::tempdir().unwrap();
        let path = input(
            dir.path(),
            &data(&format!("fire/{name}.extxyz")),
            "fmax = 1e-4\noutput = \"relaxed.extxyz\"",
            "",
        );
        let output = mlmd(&["minimize", path.to_str().unwrap(), "--threads", "1"]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{name}: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("FIRE converged"), "{stdout}");

        let thermo = std::fs::read_to_string(dir.path().join("thermo.csv")).unwrap();
        let last: Vec<f64> = thermo
            .lines()
            .last()
            .unwrap()
            .split(',')
            .map(|v| v.parse().unwrap_or(f64::NAN))
            .collect();
        let atoms = r["atoms"].as_f64().unwrap();
        let steps = r["steps"].as_f64().unwrap();
        assert!(
            (last[0] - steps).abs() <= 2.0,
            "{name}: {} steps, ASE {steps}",
            last[0]
        );
        let de = (last[2] - r["energy"].as_f64().unwrap()).abs() / atoms;
        assert!(
            de <= 1e-6,
            "{name}: energy differs from ASE's by {de:e} eV/atom"
        );
        assert_eq!(last[3], 0.0, "no kinetic energy in a relaxation");

        let relaxed = &read_structures(&dir.path().join("relaxed.extxyz")).unwrap()[0];
        // Periodic atoms may come back wrapped into the cell: compare fractional differences
        // modulo whole lattice vectors.
        let lattice = relaxed.lattice.unwrap_or_else(Matrix3::identity);
        let to_fractional = lattice.transpose().try_inverse().unwrap();
        let periodic = relaxed.lattice.is_some();
        let worst = relaxed
            .positions
            .iter()
            .zip(common::vectors(&r["positions"]))
            .map(|(a, b)| {
                let mut d = to_fractional * (a - b);
                if periodic {
                    d = d.map(|x| x - x.round());
                }
                (lattice.transpose() * d).norm()
            })
            .fold(0.0, f64::max);
        assert!(
            worst < 1e-4,
            "{name}: relaxed positions differ from ASE's by {worst:e} Å"
        );
        let frames = read_structures(&dir.path().join("relaxation.extxyz")).unwrap();
        // A frame every 100 steps (the default stride) and the relaxed one.
        assert_eq!(frames.len(), 2, "first and relaxed frames");
        eprintln!(
            "{name}: {} steps (ASE {steps}), |ΔE| {de:.1e} eV/atom, |Δx| {worst:.1e} Å",
            last[0]
        );
    }
}

#[test]
fn a_relaxation_that_runs_out_of_steps_fails_and_keeps_its_result() {
    let dir = tempfile::tempdir().unwrap();
    let path = input(
        dir.path(),
        &data("fire/crystal.extxyz"),
        "fmax = 1e-4\nmax_steps = 10\noutput = \"relaxed.extxyz\"",
        "",
    );
    let output = mlmd(&["minimize", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("FIRE did not reach fmax = 0.0001 eV/Å in 10 steps"),
        "{stderr}"
    );
    assert_eq!(
        read_structures(&dir.path().join("relaxed.extxyz"))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn sections_of_the_other_command_are_refused() {
    let structure = data("fire/crystal.extxyz");
    let dirs: Vec<_> = (0..5).map(|_| tempfile::tempdir().unwrap()).collect();
    let cases = [
        (
            "minimize",
            input(
                dirs[0].path(),
                &structure,
                "fmax = 0.01",
                "\n[run]\nsteps = 10\n",
            ),
            "[run] is not used by `mlmd minimize`",
        ),
        (
            "minimize",
            input(
                dirs[1].path(),
                &structure,
                "fmax = 0.01",
                "\n[velocities]\ntemperature = 10.0\n",
            ),
            "[velocities] is not used by `mlmd minimize`",
        ),
        (
            "minimize",
            input(
                dirs[4].path(),
                &structure,
                "fmax = 0.01",
                "checkpoint = \"run.ckpt\"\n",
            ),
            "output.checkpoint is not used by `mlmd minimize`",
        ),
        (
            "run",
            input(
                dirs[2].path(),
                &structure,
                "fmax = 0.01",
                "\n[integrator]\ntype = \"velocity-verlet\"\ntimestep = 1.0\n\n[run]\nsteps = 10\n",
            ),
            "[minimize] belongs to `mlmd minimize`",
        ),
    ];
    for (command, path, expected) in cases {
        let output = mlmd(&[command, path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(expected),
            "expected «{expected}» in «{stderr}»"
        );
    }
    let bare = dirs[3].path().join("bare.toml");
    let text = std::fs::read_to_string(input(dirs[3].path(), &structure, "", "")).unwrap();
    let start = text.find("[minimize]").unwrap();
    let end = start + text[start..].find("[output]").unwrap();
    std::fs::write(&bare, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let output = mlmd(&["minimize", bare.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("needs a [minimize] section"), "{stderr}");
}

/// An fcc argon crystal (4×4×4 cells, 256 atoms) in a cell 3 % too large and sheared by 2 %,
/// relaxed with the cell free (unshifted pairs, so that the energy is the lattice sum's):
/// at 0 bar it reaches the lattice constant that minimises the energy with this cutoff, and
/// at 10 kbar the one where the pressure is 10 kbar, both computed independently
/// (`tests/data/fire/make_lattice_constant.py`), to 1e-4 Å (5e-6 Å seen at fmax 1e-6), with a
/// cubic, unrotated cell and the reference energy per atom.
#[test]
fn fire_with_the_cell_free_reaches_the_lattice_constant() {
    let reference = fixture("fire/lj_lattice_constant.json");
    let (n, a) = (4, 5.276_399_659 * 1.03);
    let edge = a * n as f64;
    let text = common::sheared_fcc_argon(n, a, 0.02);
    for pressure in ["0", "10000"] {
        let dir = tempfile::tempdir().unwrap();
        let structure = dir.path().join("strained.extxyz");
        std::fs::write(&structure, &text).unwrap();
        let path = input(
            dir.path(),
            &structure,
            &format!(
                "fmax = 1e-6\nrelax_cell = true\npressure = {pressure}\n\
                 output = \"relaxed.extxyz\""
            ),
            "",
        );
        std::fs::write(
            &path,
            std::fs::read_to_string(&path)
                .unwrap()
                .replace("shift = true", "shift = false"),
        )
        .unwrap();
        let output = mlmd(&["minimize", path.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        // The relaxed structure reads back with the lattice written (chemfiles keeps it as
        // lengths and angles: to the last digit or so).
        let path = dir.path().join("relaxed.extxyz");
        let lattice = read_structures(&path).unwrap()[0].lattice.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let written: Vec<f64> = text
            .split("Lattice=\"")
            .nth(1)
            .and_then(|l| l.split('"').next())
            .unwrap()
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        assert!((lattice - Matrix3::from_row_slice(&written)).abs().max() < 1e-12);
        let expected = reference[pressure]["lattice_constant_A"].as_f64().unwrap();
        let rows: Vec<f64> = (0..3).map(|k| lattice.row(k).norm() / n as f64).collect();
        let product = |i: usize, j: usize| lattice.row(i).dot(&lattice.row(j)) / edge.powi(2);
        eprintln!(
            "{pressure} bar: lattice constants {rows:?} Å (reference {expected:.6}), {stdout}"
        );
        for a in rows {
            assert!(
                (a - expected).abs() < 1e-4,
                "{pressure} bar: a = {a}, not {expected}"
            );
        }
        for (i, j) in [(0, 1), (0, 2), (1, 2)] {
            assert!(
                product(i, j).abs() < 1e-5,
                "{pressure} bar: the cell is not cubic: {lattice}"
            );
        }
        for (i, j) in [(0, 1), (0, 2), (1, 2)] {
            assert_eq!(
                lattice[(i, j)],
                0.0,
                "{pressure} bar: the cell rotated: {lattice}"
            );
        }
        let energy: f64 = stdout
            .split("energy ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap();
        let per_atom = reference[pressure]["energy_per_atom_eV"].as_f64().unwrap();
        // At 0 bar the energy is stationary in a; at 10 kbar it moves by P dV.
        let tolerance = if pressure == "0" { 1e-9 } else { 1e-6 };
        assert!(
            (energy / 256.0 - per_atom).abs() < tolerance,
            "{pressure} bar: {} eV/atom, reference {per_atom}",
            energy / 256.0
        );
    }
}
