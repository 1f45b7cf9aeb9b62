//! NequIP: `tests/data/nequip/nequip_small.safetensors`, exported by `scripts/export_nequip.py`
//! from the package `nequip_small.nequip.zip` that `tests/data/nequip/make_nequip_small.py`
//! builds (nequip-train checkpoint holding the shared fixture's weights, then nequip-package),
//! its ZBL twin nequip_zbl and a second architecture nequip_variant, against nequip's references (`nequip_small__reference.json`,
//! `nequip_zbl__reference.json`, nequip 0.19.1): energies,
//! forces, stress and per-atom energies in f64 on seven structures, f32 against f64,
//! invariance, NVE, and swapping the model of an input for a MACE one.

mod common;

use common::models::{self, Model};
use common::{data, mlmd};

fn nequip() -> Model {
    model("nequip_small")
}

fn model(name: &str) -> Model {
    Model {
        kind: "nequip",
        file: format!("nequip/{name}.safetensors"),
    }
}

const REFERENCE: &str = "nequip/nequip_small__reference.json";

#[test]
fn eval_reproduces_nequip_in_float64() {
    // nequip_zbl: the same weights with nequip's ZBL pair term; nequip_variant: l_max 1 without
    // parity, 3 layers, a resnet layer, per-type average neighbour counts. References from
    // nequip's ASE calculator (make_nequip_small.py).
    let structures = data("mace/structures.extxyz");
    for name in ["nequip_small", "nequip_zbl", "nequip_variant"] {
        let reference = format!("nequip/{name}__reference.json");
        let references = models::reference(&reference, &structures);
        let frames = models::eval(&model(name), "float64", "fast", &structures);
        models::assert_parity(&frames, &references, "energies", name);
    }
}

#[test]
fn float32_follows_float64() {
    let structures = data("mace/structures.extxyz");
    models::assert_f32_follows_f64(
        &models::eval(&nequip(), "float64", "fast", &structures),
        &models::eval(&nequip(), "float32", "fast", &structures),
        "nequip_small",
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
            models::assert_invariance(&nequip(), &r, &format!("nequip_small {name}"));
        }
    }
}

#[test]
fn nve_with_the_float64_model_conserves_energy() {
    // pbc_bulk8 relaxed with nequip's ASE calculator (FIRE, fmax 1e-3 eV/Å; make_nequip_small.py),
    // 8 atoms from 100 K (the random weights have no repulsion: hotter, atoms collapse),
    // 0.5 fs, 2 ps: total energy within 1e-4 eV/atom of its start.
    let (worst, mean_temperature) =
        models::nve_drift(&nequip(), &data("nequip/bulk8_relaxed.extxyz"), 8, 100.0);
    assert!(
        mean_temperature > 20.0,
        "the atoms move (mean T {mean_temperature} K)"
    );
    assert!(worst <= 1e-4, "total energy drifted by {worst:e} eV/atom");
    eprintln!("NVE: max |E − E0| = {worst:e} eV/atom, mean T = {mean_temperature:.1} K");
}

#[test]
fn one_input_runs_with_a_mace_a_nequip_or_an_allegro_model() {
    // The same input, `type` and `model` swapped: each run's first potential energy is the
    // model's own `mlmd eval` energy of the structure.
    let structure = data("nequip/bulk8_relaxed.extxyz");
    let swaps = [
        nequip(),
        Model {
            kind: "mace",
            file: "mace/mace_small_b.safetensors".into(),
        },
        Model {
            kind: "allegro",
            file: "allegro/allegro_small.safetensors".into(),
        },
    ];
    let mut energies = Vec::new();
    for model in &swaps {
        let dir = tempfile::tempdir().unwrap();
        let extra = "[run]\nsteps = 10\n\n[output]\nthermo = \"thermo.csv\"\nthermo_stride = 5\n";
        let input = models::input(dir.path(), model, "float64", "fast", &structure, extra);
        let out = mlmd(&["run", input.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let thermo = std::fs::read_to_string(dir.path().join("thermo.csv")).unwrap();
        let first: f64 = thermo
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .nth(2)
            .unwrap()
            .parse()
            .unwrap();
        let expected = models::eval(model, "float64", "fast", &structure)[0]["energy"]
            .as_f64()
            .unwrap();
        assert!(
            (first - expected).abs() <= 1e-9 * expected.abs().max(1.0),
            "{}: run starts at {first} eV, eval says {expected} eV",
            model.kind
        );
        energies.push(first);
    }
    assert!(
        (energies[0] - energies[1]).abs() > 1e-3,
        "two different models"
    );
}
