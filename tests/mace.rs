//! MACE models exported from mace-torch (`scripts/export_mace.py` on
//! `shared/fixtures/mace/mace_small_{a,b}.model`, and the models of
//! `tests/data/mace/make_extra_models.py`) against mace-torch's references: energies,
//! forces, stress and per-atom energies through `mlmd eval` in f64 and f32, invariance under
//! rotation and translation, and energy conservation in NVE.

mod common;

use common::{data, matrix, mlmd, vectors, write_extxyz};
use nalgebra::{Matrix3, Rotation3, Vector3};
use serde_json::Value;
use std::path::{Path, PathBuf};

const MODELS: [&str; 2] = ["mace_small_a", "mace_small_b"];
/// Built by `tests/data/mace/make_extra_models.py`: a ScaleShiftMACE with the reduced
/// (cuequivariance) contraction basis, and a plain MACE stored in float32.
const EXTRA_MODELS: [&str; 2] = ["mace_reduced_cg", "mace_plain_f32"];

/// An input file using `model` in `dtype` on the evaluation path `mode`, written into `dir`.
fn mace_input(dir: &Path, model: &str, dtype: &str, mode: &str) -> PathBuf {
    let path = dir.join("input.toml");
    let text = format!(
        "[structure]\nfile = \"{}\"\n\n[potential]\ntype = \"mace\"\nmodel = \"{}\"\n\
         dtype = \"{dtype}\"\nmode = \"{mode}\"\n\n[integrator]\ntype = \"velocity-verlet\"\ntimestep = 0.5\n\n\
         [run]\nsteps = 0\n",
        data("mace/structures.extxyz").display(),
        data(&format!("mace/{model}.safetensors")).display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// `mlmd eval` of the seven reference structures on the default (fast) path; the frames.
fn eval(model: &str, dtype: &str) -> Vec<Value> {
    eval_mode(model, dtype, "fast")
}

/// `mlmd eval` of the seven reference structures on the path `mode`; the report's frames.
fn eval_mode(model: &str, dtype: &str, mode: &str) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let input = mace_input(dir.path(), model, dtype, mode);
    common::eval_frames(&input, &data("mace/structures.extxyz"), dir.path())
}

/// `mlmd eval` of every frame of `structure` on the default path; the report's frames.
fn eval_file(model: &str, dtype: &str, structure: &Path) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let input = mace_input(dir.path(), model, dtype, "fast");
    common::eval_frames(&input, structure, dir.path())
}

/// The reference structures in file order (names from the extxyz comment lines).
fn reference(model: &str) -> Vec<(String, Value)> {
    let reference = common::fixture(&format!("mace/{model}__reference.json"));
    let text = std::fs::read_to_string(data("mace/structures.extxyz")).unwrap();
    let mut lines = text.lines();
    let mut out = Vec::new();
    while let Some(count) = lines.next() {
        let count: usize = count.trim().parse().unwrap();
        let comment = lines.next().unwrap();
        let name = comment
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix("name="))
            .unwrap()
            .to_string();
        out.push((name.clone(), reference["structures"][&name].clone()));
        lines.by_ref().take(count).for_each(drop);
    }
    out
}

fn flat(value: &Value) -> Vec<f64> {
    match value {
        Value::Array(items) => items.iter().flat_map(flat).collect(),
        Value::Number(n) => vec![n.as_f64().unwrap()],
        other => panic!("not numeric: {other}"),
    }
}

fn max_difference(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn eval_reproduces_mace_torch_in_float64() {
    let paths = ["fast", "reference"];
    for (model, mode) in MODELS
        .into_iter()
        .chain(EXTRA_MODELS)
        .flat_map(|m| paths.map(|p| (m, p)))
    {
        let frames = eval_mode(model, "float64", mode);
        let references = reference(model);
        assert_eq!(frames.len(), 7);
        for (frame, (name, r)) in frames.iter().zip(&references) {
            let de = (frame["energy"].as_f64().unwrap() - r["energy"].as_f64().unwrap()).abs();
            assert!(de <= 1e-9, "{model} {mode} {name}: |ΔE| = {de:e} eV");
            let df = max_difference(&flat(&frame["forces"]), &flat(&r["forces"]));
            assert!(df <= 1e-8, "{model} {mode} {name}: |ΔF| = {df:e} eV/Å");
            let de_atoms = max_difference(&flat(&frame["energies"]), &flat(&r["node_energy"]));
            assert!(
                de_atoms <= 1e-9,
                "{model} {mode} {name}: per-atom |ΔE| = {de_atoms:e} eV"
            );
            let periodic = r["pbc"].as_array().unwrap().iter().all(|p| p == true);
            if periodic {
                let ds = max_difference(&flat(&frame["stress"]), &flat(&r["stress"]));
                assert!(ds <= 1e-9, "{model} {mode} {name}: |Δσ| = {ds:e} eV/Å³");
            } else {
                assert!(
                    frame["stress"].is_null(),
                    "{model} {name}: stress without 3D periodicity"
                );
            }
        }
    }
}

#[test]
fn float32_follows_float64() {
    for model in MODELS {
        let f64_frames = eval(model, "float64");
        let f32_frames = eval(model, "float32");
        for (a, b) in f64_frames.iter().zip(&f32_frames) {
            let e64 = a["energy"].as_f64().unwrap();
            let e32 = b["energy"].as_f64().unwrap();
            assert!(
                (e64 - e32).abs() <= 1e-4 * e64.abs(),
                "{model}: E {e64} vs {e32}"
            );
            let forces64 = flat(&a["forces"]);
            let scale = forces64.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let df = max_difference(&forces64, &flat(&b["forces"]));
            assert!(
                df <= 1e-4 * scale.max(1.0),
                "{model}: ΔF {df:e} (scale {scale})"
            );
        }
    }
}

#[test]
fn rotation_and_translation_leave_energy_unchanged_and_rotate_forces() {
    let rotation = *Rotation3::from_euler_angles(0.7, -1.1, 2.3).matrix();
    let translation = Vector3::new(0.37, -1.21, 2.05);
    for model in MODELS {
        for (name, r) in reference(model) {
            if name != "pbc_bulk8" && name != "molecule_ethanol" && name != "slab_pbc_TTF" {
                continue;
            }
            let symbols: Vec<&str> = r["numbers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|z| match z.as_u64().unwrap() {
                    1 => "H",
                    6 => "C",
                    8 => "O",
                    other => panic!("element {other}"),
                })
                .collect();
            let pbc = common::flags(&r["pbc"]);
            let lattice = (!r["cell"].is_null()).then(|| matrix(&r["cell"]));
            let dir = tempfile::tempdir().unwrap();
            let write = |path: &Path, rotate: bool| {
                let map = |x: &Vector3<f64>| {
                    if rotate {
                        rotation * x + translation
                    } else {
                        *x
                    }
                };
                let positions: Vec<Vector3<f64>> =
                    vectors(&r["positions"]).iter().map(map).collect();
                // Lattice vectors are rows: each rotates as a vector.
                let cell: Option<Matrix3<f64>> =
                    lattice.map(|l| if rotate { l * rotation.transpose() } else { l });
                write_extxyz(path, &symbols, &positions, cell.as_ref(), pbc);
            };
            let plain = dir.path().join("plain.extxyz");
            let moved = dir.path().join("moved.extxyz");
            write(&plain, false);
            write(&moved, true);
            let a = &eval_file(model, "float64", &plain)[0];
            let b = &eval_file(model, "float64", &moved)[0];
            let de = (a["energy"].as_f64().unwrap() - b["energy"].as_f64().unwrap()).abs();
            assert!(de <= 1e-10, "{model} {name}: energy changed by {de:e} eV");
            let rotated: Vec<f64> = vectors(&a["forces"])
                .iter()
                .flat_map(|f| {
                    let g = rotation * f;
                    [g.x, g.y, g.z]
                })
                .collect();
            let df = max_difference(&rotated, &flat(&b["forces"]));
            assert!(
                df <= 1e-9,
                "{model} {name}: forces do not rotate (max diff {df:e})"
            );
            if !a["stress"].is_null() {
                let sigma = rotation * matrix(&a["stress"]) * rotation.transpose();
                let ds = max_difference(sigma.transpose().as_slice(), &flat(&b["stress"]));
                assert!(
                    ds <= 1e-10,
                    "{model} {name}: stress does not rotate ({ds:e})"
                );
            }
        }
    }
}

#[test]
fn nve_with_the_float64_model_conserves_energy() {
    // pbc_bulk8 relaxed with mace-torch (FIRE, fmax 1e-3 eV/Å) under mace_small_b, whose ZBL
    // repulsion keeps atoms apart (mace_small_a's random weights have none: it collapses when
    // hot). 8 atoms from 300 K, 0.5 fs, 2 ps: total energy within 1e-4 eV/atom of its start.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("nve.toml");
    std::fs::write(
        &input,
        format!(
            "[structure]\nfile = \"{}\"\n\n[potential]\ntype = \"mace\"\n\
             model = \"{}\"\ndtype = \"float64\"\n\n[integrator]\ntype = \"velocity-verlet\"\n\
             timestep = 0.5\n\n[velocities]\ntemperature = 300.0\nseed = 7\n\n\
             [run]\nsteps = 4000\n\n[output]\nthermo = \"thermo.csv\"\nthermo_stride = 20\n",
            data("mace/bulk8_relaxed_b.extxyz").display(),
            data("mace/mace_small_b.safetensors").display()
        ),
    )
    .unwrap();
    let out = mlmd(&["run", input.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let thermo = std::fs::read_to_string(dir.path().join("thermo.csv")).unwrap();
    let rows: Vec<Vec<f64>> = thermo
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 201);
    assert_eq!(rows[200][1], 2000.0, "2 ps");
    let e0 = rows[0][4];
    let worst = rows.iter().map(|r| (r[4] - e0).abs()).fold(0.0, f64::max) / 8.0;
    let mean_temperature = rows.iter().map(|r| r[6]).sum::<f64>() / rows.len() as f64;
    assert!(
        mean_temperature > 50.0,
        "the atoms move (mean T {mean_temperature} K)"
    );
    assert!(worst <= 1e-4, "total energy drifted by {worst:e} eV/atom");
    eprintln!("NVE: max |E − E0| = {worst:e} eV/atom, mean T = {mean_temperature:.1} K");
}
