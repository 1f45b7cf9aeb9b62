#!/usr/bin/env python3
"""Make the Allegro test model `allegro_small` with nequip-allegro 0.8.3 and its references.

    python tests/data/allegro/make_allegro_small.py [--mlmd PATH]

Needs the environment of scripts/requirements-nequip.txt plus nequip-allegro==0.8.3. Steps:
1. Build `AllegroModel` (seed 0, float64, H/C/O, r_max 4 Å, l_max 2, parity, 2 layers, 16 scalar
   and 8 tensor features, Bessel two-body embedding, per-type scales and shifts) with
   nequip-allegro's initialisation.
2. Every tensor-product path must move the energy of one of the seven reference structures by
   ≥ 1e-3 eV when its weights are zeroed (random initial weights can hide wrong paths); the
   tensor-product weights are doubled until they do. The table of path effects is written to
   allegro_small__paths.json.
3. References of the seven structures (tests/data/mace/structures.extxyz: a tiny triclinic cell
   smaller than the cutoff, a bulk cell, a slab, a molecular cluster, dimers) from nequip's ASE
   calculator: allegro_small__reference.json.
4. A genuine checkpoint (one nequip-train step, then the model's weights) and package:
   allegro_small.nequip.zip, both checked against the references, exported by
   scripts/export_nequip.py to allegro_small.safetensors (`--mlmd`: also compared with mlmd eval).
"""
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "nequip"))

from fixture_tools import STRUCTURES, ship, write_reference  # noqa: E402

CONFIG = {
    "_target_": "allegro.model.AllegroModel",
    "seed": 0,
    "model_dtype": "float64",
    "type_names": ["H", "C", "O"],
    "r_max": 4.0,
    "l_max": 2,
    "parity": True,
    "radial_chemical_embed": {"_target_": "allegro.nn.TwoBodyBesselScalarEmbed", "num_bessels": 8},
    "num_layers": 2,
    "num_scalar_features": 16,
    "num_tensor_features": 8,
    "allegro_mlp_hidden_layers_depth": 1,
    "allegro_mlp_hidden_layers_width": 16,
    "readout_mlp_hidden_layers_depth": 1,
    "readout_mlp_hidden_layers_width": 8,
    "avg_num_neighbors": 6.0,
    "per_type_energy_scales": {"H": 1.1, "C": 0.9, "O": 1.3},
    "per_type_energy_shifts": {"H": -1.0, "C": -2.0, "O": -3.0},
}
MIN_PATH_EFFECT = 1e-3


def path_effects(model, frames):
    """Per tensor product and path: the largest |ΔE| over `frames` when its weights are zero."""
    from export_nequip import energies_of

    base = energies_of(model, frames, CONFIG["type_names"])
    effects = []
    for tp in model.model.func.allegro.tps:
        weights = tp.weights.data
        row = []
        for p in range(weights.shape[1]):
            saved = weights[:, p].clone()
            weights[:, p] = 0
            energies = energies_of(model, frames, CONFIG["type_names"])
            weights[:, p] = saved
            row.append(max(abs(a - b) for a, b in zip(energies, base)))
        effects.append(row)
    return effects


def main():
    import argparse

    import ase.io
    import hydra
    from nequip.utils.global_state import set_global_state

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mlmd", help="mlmd binary: also compare with `mlmd eval`")
    args = parser.parse_args()

    set_global_state()
    model = hydra.utils.instantiate(CONFIG, _recursive_=False, _convert_="all").eval()
    frames = ase.io.read(STRUCTURES, ":")
    boost = 1.0
    while True:
        effects = path_effects(model, frames)
        weakest = min(min(row) for row in effects)
        print(f"tensor-product weights x{boost}: weakest path moves E by {weakest:.2e} eV")
        if weakest >= MIN_PATH_EFFECT:
            break
        for tp in model.model.func.allegro.tps:
            tp.weights.data *= 2.0
        boost *= 2.0
    (HERE / "allegro_small__paths.json").write_text(
        json.dumps({"tp_weight_boost": boost, "max_abs_dE_when_zeroed_eV": effects}, indent=1)
    )
    write_reference(model, HERE, "allegro_small", CONFIG["type_names"])
    ship(model, CONFIG, HERE, "allegro_small", args.mlmd)
    print("wrote allegro_small__paths.json, allegro_small__reference.json, allegro_small.nequip.zip, "
          "allegro_small.safetensors")


if __name__ == "__main__":
    main()
