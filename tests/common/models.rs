//! Checks shared by the ML-model tests (MACE, NequIP): `mlmd eval` of a model file against
//! upstream references, f32 against f64, invariance under rotation and translation, and NVE
//! energy conservation.

use super::{data, flags, matrix, mlmd, vectors, write_extxyz};
use nalgebra::{Matrix3, Rotation3, Vector3};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A model file and the `[potential] type` that reads it.
#[derive(Debug, Clone)]
pub struct Model {
    /// `mace` or `nequip`.
    pub kind: &'static str,
    /// The file, under `tests/data`.
    pub file: String,
}

/// An input file running `model` on `structure` in `dtype` on the path `mode`, in `dir`;
/// `extra` is appended (sections after `[run]`).
pub fn input(
    dir: &Path,
    model: &Model,
    dtype: &str,
    mode: &str,
    structure: &Path,
    extra: &str,
) -> PathBuf {
    let path = dir.join("input.toml");
    let text = format!(
        "[structure]\nfile = \"{}\"\n\n[potential]\ntype = \"{}\"\nmodel = \"{}\"\n\
         dtype = \"{dtype}\"\nmode = \"{mode}\"\n\n[integrator]\ntype = \"velocity-verlet\"\n\
         timestep = 0.5\n\n{extra}",
        structure.display(),
        model.kind,
        data(&model.file).display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// `mlmd eval` of every frame of `structure`; the report's frames.
pub fn eval(model: &Model, dtype: &str, mode: &str, structure: &Path) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let input = input(
        dir.path(),
        model,
        dtype,
        mode,
        structure,
        "[run]\nsteps = 0\n",
    );
    super::eval_frames(&input, structure, dir.path())
}

/// The references of `reference` (a JSON file under `tests/data` with `structures` by name)
/// in the frame order of `structures` (names from the extxyz comment lines).
pub fn reference(reference: &str, structures: &Path) -> Vec<(String, Value)> {
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(data(reference)).unwrap()).unwrap();
    let text = std::fs::read_to_string(structures).unwrap();
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

/// Every number of a (nested) JSON array.
pub fn flat(value: &Value) -> Vec<f64> {
    match value {
        Value::Array(items) => items.iter().flat_map(flat).collect(),
        Value::Number(n) => vec![n.as_f64().unwrap()],
        other => panic!("not numeric: {other}"),
    }
}

/// max |a − b|.
pub fn max_difference(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Asserts f64 parity of `frames` with `references`: |ΔE| ≤ 1e-9 eV, |ΔF| ≤ 1e-8 eV/Å,
/// per-atom |ΔE| ≤ 1e-9 eV (the reference's `energies_key`), |Δσ| ≤ 1e-9 eV/Å³ for periodic
/// cells and no stress otherwise.
pub fn assert_parity(
    frames: &[Value],
    references: &[(String, Value)],
    energies_key: &str,
    label: &str,
) {
    assert_eq!(frames.len(), references.len());
    for (frame, (name, r)) in frames.iter().zip(references) {
        let de = (frame["energy"].as_f64().unwrap() - r["energy"].as_f64().unwrap()).abs();
        assert!(de <= 1e-9, "{label} {name}: |ΔE| = {de:e} eV");
        let df = max_difference(&flat(&frame["forces"]), &flat(&r["forces"]));
        assert!(df <= 1e-8, "{label} {name}: |ΔF| = {df:e} eV/Å");
        let de_atoms = max_difference(&flat(&frame["energies"]), &flat(&r[energies_key]));
        assert!(
            de_atoms <= 1e-9,
            "{label} {name}: per-atom |ΔE| = {de_atoms:e} eV"
        );
        let periodic = r["pbc"].as_array().unwrap().iter().all(|p| p == true);
        if periodic {
            let ds = max_difference(&flat(&frame["stress"]), &flat(&r["stress"]));
            assert!(ds <= 1e-9, "{label} {name}: |Δσ| = {ds:e} eV/Å³");
        } else {
            assert!(
                frame["stress"].is_null(),
                "{label} {name}: stress without 3D periodicity"
            );
        }
    }
}

/// Asserts that f32 frames follow f64 ones: energies within 1e-4 relative, forces within 1e-4
/// of the largest force (or 1 eV/Å).
pub fn assert_f32_follows_f64(f64_frames: &[Value], f32_frames: &[Value], label: &str) {
    assert_eq!(f64_frames.len(), f32_frames.len());
    for (a, b) in f64_frames.iter().zip(f32_frames) {
        let e64 = a["energy"].as_f64().unwrap();
        let e32 = b["energy"].as_f64().unwrap();
        assert!(
            (e64 - e32).abs() <= 1e-4 * e64.abs(),
            "{label}: E {e64} vs {e32}"
        );
        let forces64 = flat(&a["forces"]);
        let scale = forces64.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let df = max_difference(&forces64, &flat(&b["forces"]));
        assert!(
            df <= 1e-4 * scale.max(1.0),
            "{label}: ΔF {df:e} (scale {scale})"
        );
    }
}

/// Asserts that rotating and translating reference structure `r` (H/C/O) leaves the f64
/// energy unchanged (1e-10 eV) and rotates forces (1e-9 eV/Å) and stress (1e-10 eV/Å³).
pub fn assert_invariance(model: &Model, r: &Value, label: &str) {
    let rotation = *Rotation3::from_euler_angles(0.7, -1.1, 2.3).matrix();
    let translation = Vector3::new(0.37, -1.21, 2.05);
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
    let pbc = flags(&r["pbc"]);
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
        let positions: Vec<Vector3<f64>> = vectors(&r["positions"]).iter().map(map).collect();
        // Lattice vectors are rows: each rotates as a vector.
        let cell: Option<Matrix3<f64>> =
            lattice.map(|l| if rotate { l * rotation.transpose() } else { l });
        write_extxyz(path, &symbols, &positions, cell.as_ref(), pbc);
    };
    let plain = dir.path().join("plain.extxyz");
    let moved = dir.path().join("moved.extxyz");
    write(&plain, false);
    write(&moved, true);
    let a = &eval(model, "float64", "fast", &plain)[0];
    let b = &eval(model, "float64", "fast", &moved)[0];
    let de = (a["energy"].as_f64().unwrap() - b["energy"].as_f64().unwrap()).abs();
    assert!(de <= 1e-10, "{label}: energy changed by {de:e} eV");
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
        "{label}: forces do not rotate (max diff {df:e})"
    );
    if !a["stress"].is_null() {
        let sigma = rotation * matrix(&a["stress"]) * rotation.transpose();
        let ds = max_difference(sigma.transpose().as_slice(), &flat(&b["stress"]));
        assert!(ds <= 1e-10, "{label}: stress does not rotate ({ds:e})");
    }
}

/// Runs NVE with the f64 `model` from `structure` (`atoms` atoms), velocities drawn at
/// `temperature` (K), for 2 ps at 0.5 fs; (max |E − E0| per atom, eV; mean temperature, K).
pub fn nve_drift(model: &Model, structure: &Path, atoms: usize, temperature: f64) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[velocities]\ntemperature = {temperature:?}\nseed = 7\n\n[run]\nsteps = 4000\n\n\
         [output]\nthermo = \"thermo.csv\"\nthermo_stride = 20\n"
    );
    let input = input(dir.path(), model, "float64", "fast", structure, &extra);
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
    let worst = rows.iter().map(|r| (r[4] - e0).abs()).fold(0.0, f64::max) / atoms as f64;
    let mean_temperature = rows.iter().map(|r| r[6]).sum::<f64>() / rows.len() as f64;
    (worst, mean_temperature)
}
