//! Helpers shared by the potentials' integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A file under `potentials/tests/data`.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// All tensors of a safetensors file as (shape, f64 values).
pub fn read_tensors(name: &str) -> std::collections::HashMap<String, (Vec<usize>, Vec<f64>)> {
    let bytes = std::fs::read(data(name)).expect("fixture exists");
    let (tensors, _) = mlmd_potentials::mace::read_safetensors(&bytes).expect("valid safetensors");
    tensors
        .into_iter()
        .map(|(name, t)| (name, (t.shape, t.values)))
        .collect()
}

/// Largest absolute difference.
pub fn max_difference(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}
