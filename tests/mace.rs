//! MACE models exported from mace-torch (`scripts/export_mace.py` on
//! `shared/fixtures/mace/mace_small_{a,b}.model`, and the models of
//! `tests/data/mace/make_extra_models.py`) against mace-torch's references: energies,
//! forces, stress and per-atom energies through `mlmd eval` in f64 and f32, invariance under
//! rotation and translation, and energy conservation in NVE.

mod common;

use common::data;
use common::models::{self, Model};

const MODELS: [&str; 2] = ["mace_small_a", "mace_small_b"];
/// Built by `tests/data/mace/make_extra_models.py`: a ScaleShiftMACE with the reduced
/// (cuequivariance) contraction basis, and a plain MACE stored in float32.
const EXTRA_MODELS: [&str; 2] = ["mace_reduced_cg", "mace_plain_f32"];

/// The model file `mace/{name}.safetensors`.
fn mace(name: &str) -> (Model, String) {
    let model = Model {
        kind: "mace",
        file: format!("mace/{name}.safetensors"),
    };
    (model, format!("mace/{name}__reference.json"))
}

#[test]
fn eval_reproduces_mace_torch_in_float64() {
    let structures = data("mace/structures.extxyz");
    for name in MODELS.into_iter().chain(EXTRA_MODELS) {
        let (model, reference) = mace(name);
        let references = models::reference(&reference, &structures);
        for mode in ["fast", "reference"] {
            let frames = models::eval(&model, "float64", mode, &structures);
            models::assert_parity(
                &frames,
                &references,
                "node_energy",
                &format!("{name} {mode}"),
            );
        }
    }
}

#[test]
fn float32_follows_float64() {
    let structures = data("mace/structures.extxyz");
    for name in MODELS {
        let (model, _) = mace(name);
        models::assert_f32_follows_f64(
            &models::eval(&model, "float64", "fast", &structures),
            &models::eval(&model, "float32", "fast", &structures),
            name,
        );
    }
}

#[test]
fn rotation_and_translation_leave_energy_unchanged_and_rotate_forces() {
    for name in MODELS {
        let (model, reference) = mace(name);
        for (structure, r) in models::reference(&reference, &data("mace/structures.extxyz")) {
            if ["pbc_bulk8", "molecule_ethanol", "slab_pbc_TTF"].contains(&structure.as_str()) {
                models::assert_invariance(&model, &r, &format!("{name} {structure}"));
            }
        }
    }
}

#[test]
fn nve_with_the_float64_model_conserves_energy() {
    // pbc_bulk8 relaxed with mace-torch (FIRE, fmax 1e-3 eV/Å) under mace_small_b, whose ZBL
    // repulsion keeps atoms apart (mace_small_a's random weights have none: it collapses when
    // hot). 8 atoms from 300 K, 0.5 fs, 2 ps: total energy within 1e-4 eV/atom of its start.
    let (model, _) = mace("mace_small_b");
    let (worst, mean_temperature) =
        models::nve_drift(&model, &data("mace/bulk8_relaxed_b.extxyz"), 8, 300.0);
    assert!(
        mean_temperature > 50.0,
        "the atoms move (mean T {mean_temperature} K)"
    );
    assert!(worst <= 1e-4, "total energy drifted by {worst:e} eV/atom");
    eprintln!("NVE: max |E − E0| = {worst:e} eV/atom, mean T = {mean_temperature:.1} K");
}
