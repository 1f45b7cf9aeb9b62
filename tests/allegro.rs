//! Allegro: `tests/data/allegro/allegro_small.safetensors`, exported by
//! `scripts/export_nequip.py` from the package that `tests/data/allegro/make_allegro_small.py`
//! builds with nequip-allegro 0.8.3 (every tensor-product path moves the energy by ≥ 0.02 eV),
//! against nequip's ASE calculator (`allegro_small__reference.json`): energies, forces, stress
//! and per-atom energies in f64 on seven structures (a cell smaller than the cutoff, bulk, slab,
//! cluster, dimers), f32 against f64, and invariance.

mod common;

use common::data;
use common::models::{self, Model};

fn allegro() -> Model {
    Model {
        kind: "allegro",
        file: "allegro/allegro_small.safetensors".into(),
    }
}

const REFERENCE: &str = "allegro/allegro_small__reference.json";

#[test]
fn eval_reproduces_nequip_allegro_in_float64() {
    let structures = data("mace/structures.extxyz");
    let references = models::reference(REFERENCE, &structures);
    let frames = models::eval(&allegro(), "float64", "fast", &structures);
    models::assert_parity(&frames, &references, "energies", "allegro_small");
}

#[test]
fn float32_follows_float64() {
    let structures = data("mace/structures.extxyz");
    models::assert_f32_follows_f64(
        &models::eval(&allegro(), "float64", "fast", &structures),
        &models::eval(&allegro(), "float32", "fast", &structures),
        "allegro_small",
    );
}

#[test]
fn rotation_and_translation_leave_energy_unchanged_and_rotate_forces() {
    for (name, r) in models::reference(REFERENCE, &data("mace/structures.extxyz")) {
        if [
            "pbc_bulk8",
            "molecule_ethanol",
            "slab_pbc_TTF",
            "pbc_tiny_triclinic",
        ]
        .contains(&name.as_str())
        {
            models::assert_invariance(&allegro(), &r, &format!("allegro_small {name}"));
        }
    }
}
