//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod models;

use mlmd::cell::Cell;
use nalgebra::{Matrix3, Vector3};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A file under `tests/data`.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A JSON fixture under `tests/data`.
pub fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(data(name)).expect("fixture exists");
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// A JSON array of 3-vectors.
pub fn vectors(value: &Value) -> Vec<Vector3<f64>> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| {
            Vector3::new(
                v[0].as_f64().unwrap(),
                v[1].as_f64().unwrap(),
                v[2].as_f64().unwrap(),
            )
        })
        .collect()
}

/// A JSON 3×3 matrix (rows).
pub fn matrix(value: &Value) -> Matrix3<f64> {
    Matrix3::from_fn(|i, j| value[i][j].as_f64().unwrap())
}

/// A JSON [bool; 3].
pub fn flags(value: &Value) -> [bool; 3] {
    std::array::from_fn(|i| value[i].as_bool().unwrap())
}

/// A cell from fixture JSON (`cell` may be null).
pub fn cell(lattice: &Value, pbc: &Value) -> Cell {
    let lattice = if lattice.is_null() {
        Matrix3::zeros()
    } else {
        matrix(lattice)
    };
    Cell::new(lattice, flags(pbc)).expect("fixture cell is valid")
}

/// Runs the mlmd binary.
pub fn mlmd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlmd"))
        .args(args)
        .output()
        .expect("mlmd starts")
}

/// `mlmd eval INPUT --structure STRUCTURE` into a JSON file in `dir`; the report's frames.
pub fn eval_frames(input: &Path, structure: &Path, dir: &Path) -> Vec<Value> {
    eval_frames_with(input, structure, dir, &[])
}

/// [`eval_frames`] with more command-line arguments (e.g. `--threads 1`).
pub fn eval_frames_with(input: &Path, structure: &Path, dir: &Path, extra: &[&str]) -> Vec<Value> {
    let json = dir.join("eval.json");
    let mut args = vec![
        "eval",
        input.to_str().unwrap(),
        "--structure",
        structure.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend(extra);
    let output = mlmd(&args);
    assert!(
        output.status.success(),
        "mlmd eval failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    report["frames"].as_array().unwrap().clone()
}

/// Writes an extended XYZ file at full precision.
pub fn write_extxyz(
    path: &Path,
    symbols: &[&str],
    positions: &[Vector3<f64>],
    lattice: Option<&Matrix3<f64>>,
    pbc: [bool; 3],
) {
    let mut text = format!("{}\n", positions.len());
    if let Some(l) = lattice {
        let values: Vec<String> = l.transpose().iter().map(|v| format!("{v:.17e}")).collect();
        text += &format!("Lattice=\"{}\" ", values.join(" "));
    }
    let flag = |p: bool| if p { "T" } else { "F" };
    text += &format!(
        "Properties=species:S:1:pos:R:3 pbc=\"{} {} {}\"\n",
        flag(pbc[0]),
        flag(pbc[1]),
        flag(pbc[2])
    );
    for (symbol, x) in symbols.iter().zip(positions) {
        text += &format!("{symbol} {:.17e} {:.17e} {:.17e}\n", x.x, x.y, x.z);
    }
    std::fs::write(path, text).expect("writable");
}

/// Relative difference |a − b| / max(|b|, floor).
pub fn relative(a: f64, b: f64, floor: f64) -> f64 {
    (a - b).abs() / b.abs().max(floor)
}

/// Asserts that a stress tensor equals an ASE Voigt stress (xx yy zz yz xz xy) within
/// `tolerance` relative to its largest component, and is symmetric.
pub fn assert_voigt_stress(stress: &Matrix3<f64>, voigt: &Value, tolerance: f64, label: &str) {
    let reference: Vec<f64> = voigt
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let ours = [
        stress[(0, 0)],
        stress[(1, 1)],
        stress[(2, 2)],
        stress[(1, 2)],
        stress[(0, 2)],
        stress[(0, 1)],
    ];
    let scale = reference.iter().map(|v| v.abs()).fold(0.0, f64::max);
    for (a, b) in ours.iter().zip(&reference) {
        assert!(
            (a - b).abs() < tolerance * scale,
            "{label}: stress {a} vs {b}"
        );
    }
    assert!(
        (stress - stress.transpose()).amax() < 1e-14 * scale,
        "{label}: asymmetric stress"
    );
}

/// Writes `input` to `dir/input.toml`, runs `mlmd run` on it (with `extra` arguments) and
/// returns the rows of its thermo log `dir/thermo.csv`, header dropped (empty fields as NaN).
pub fn run_thermo(dir: &Path, input: &str, extra: &[&str]) -> Vec<Vec<f64>> {
    let path = dir.join("input.toml");
    std::fs::write(&path, input).unwrap();
    let mut args = vec!["run", path.to_str().unwrap()];
    args.extend(extra);
    let output = mlmd(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let thermo = std::fs::read_to_string(dir.join("thermo.csv")).unwrap();
    thermo
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .map(|v| v.parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect()
}

/// Mean and variance of column `c`.
pub fn moments(rows: &[Vec<f64>], c: usize) -> (f64, f64) {
    let n = rows.len() as f64;
    let mean = rows.iter().map(|r| r[c]).sum::<f64>() / n;
    let variance = rows.iter().map(|r| (r[c] - mean).powi(2)).sum::<f64>() / n;
    (mean, variance)
}

/// An extended XYZ argon fcc crystal of `n`×`n`×`n` cubic cells of edge `a` (Å), its b vector
/// tilted along x by `shear` times the crystal's edge (atoms carried along): 4n³ atoms.
pub fn sheared_fcc_argon(n: usize, a: f64, shear: f64) -> String {
    let edge = a * n as f64;
    let tilt = shear * edge;
    let basis = [
        [0.0, 0.0, 0.0],
        [0.5, 0.5, 0.0],
        [0.5, 0.0, 0.5],
        [0.0, 0.5, 0.5],
    ];
    let mut text = format!(
        "{}\nLattice=\"{edge} 0 0 {tilt} {edge} 0 0 0 {edge}\" Properties=species:S:1:pos:R:3 \
         pbc=\"T T T\"\n",
        4 * n * n * n
    );
    for cell in 0..n * n * n {
        for b in basis {
            let s = [
                ((cell / (n * n)) as f64 + b[0]) / n as f64,
                ((cell / n % n) as f64 + b[1]) / n as f64,
                ((cell % n) as f64 + b[2]) / n as f64,
            ];
            let x = s[0] * edge + s[1] * tilt;
            text += &format!("Ar {x} {} {}\n", s[1] * edge, s[2] * edge);
        }
    }
    text
}
