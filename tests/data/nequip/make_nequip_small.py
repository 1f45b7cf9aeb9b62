#!/usr/bin/env python3
"""Rebuild the shared fixture `nequip_small` as a real nequip checkpoint and package, export it
to mlmd's model file, and make its ZBL twin `nequip_zbl`.

    python tests/data/nequip/make_nequip_small.py [--mlmd PATH]

Needs the environment of scripts/requirements-nequip.txt. Steps:
1. Rebuild `NequIPGNNModel` from the fixture's hyperparameters (nequip_small.json), load the
   fixture's weights (nequip_small.state_dict.pt, strict) and check the energies of the seven
   reference structures against nequip_small__reference.json.
2. Train that architecture for one step with `nequip-train` (frames labelled by the model
   itself), so that nequip writes a genuine checkpoint; put the fixture's weights into it
   (nequip_small.ckpt) and check it through nequip's own loader.
3. `nequip-package build` the checkpoint (nequip_small.nequip.zip), check it likewise.
4. `scripts/export_nequip.py` both; the package's export is nequip_small.safetensors, and the
   two exports must hold the same tensors and metadata (`--mlmd`: also compare with mlmd eval).
5. The same model with nequip's ZBL pair term (`pair_potential`; ZBL has no weights):
   references of the seven structures from nequip's ASE calculator
   (nequip_zbl__reference.json), then steps 2-4 (nequip_zbl.nequip.zip, .safetensors).
6. nequip_variant: another architecture (VARIANT: l_max 1, no parity, resnet, per-type
   average neighbour counts), references and steps 2-4 likewise.
7. Relax the bulk reference structure with nequip's ASE calculator under nequip_small (FIRE,
   fmax 1e-3 eV/Å): bulk8_relaxed.extxyz, the start of the NVE test.
"""
import argparse
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fixture_tools import STRUCTURES, check_energies, ship, write_reference  # noqa: E402

# A second architecture: l_max 1 without parity (only 0e, 1o features), 3 layers, resnet updates,
# 12 features, per-type average neighbour counts and a single energy scale, nequip's
# initialisation with the edge MLPs' last layers x4 (so that l = 1 paths matter).
VARIANT = {
    "_target_": "nequip.model.NequIPGNNModel",
    "seed": 3,
    "model_dtype": "float64",
    "type_names": ["H", "C", "O"],
    "r_max": 3.6,
    "num_layers": 3,
    "l_max": 1,
    "parity": False,
    "num_features": 12,
    "radial_mlp_depth": 1,
    "radial_mlp_width": 16,
    "num_bessels": 6,
    "polynomial_cutoff_p": 5,
    "avg_num_neighbors": {"H": 5.0, "C": 7.0, "O": 6.0},
    "convnet_resnet": True,
    "per_type_energy_scales": 1.7,
    "per_type_energy_shifts": {"H": -0.5, "C": -1.5, "O": -2.5},
}

ZBL = {
    "_target_": "nequip.nn.pair_potential.ZBL",
    "units": "metal",
    "chemical_species": ["H", "C", "O"],
}


def hyperparameters():
    return json.loads((HERE / "nequip_small.json").read_text())["hyperparameters"]


def rebuild(config):
    """The model of `config` (the training config's model section) with the fixture's weights;
    only weightless buffers of a pair term may be missing from them."""
    import hydra
    import torch
    from nequip.utils.global_state import set_global_state

    set_global_state()
    model = hydra.utils.instantiate(config, _recursive_=False, _convert_="all")
    weights = torch.load(HERE / "nequip_small.state_dict.pt", map_location="cpu")
    result = model.load_state_dict(weights, strict=False)
    missing = [k for k in result.missing_keys if ".pair_potential." not in k]
    if missing or result.unexpected_keys:
        sys.exit(f"fixture weights do not fit: {missing} {result.unexpected_keys}")
    return model.eval()


def relax(model):
    import ase.io
    from ase.optimize import FIRE
    from export_nequip import calculator

    atoms = next(a for a in ase.io.read(STRUCTURES, ":") if a.info["name"] == "pbc_bulk8")
    atoms.calc = calculator(model, hyperparameters()["type_names"])
    FIRE(atoms, logfile=None).run(fmax=1e-3, steps=2000)
    atoms.calc = None
    ase.io.write(HERE / "bulk8_relaxed.extxyz", atoms)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mlmd", help="mlmd binary: also compare with `mlmd eval`")
    args = parser.parse_args()
    config = {"_target_": "nequip.model.NequIPGNNModel", **hyperparameters()}
    types = config["type_names"]
    model = rebuild(config)
    check_energies(model, HERE, "nequip_small", types, "rebuilt model")
    ship(model, config, HERE, "nequip_small", args.mlmd)
    zbl_config = {**config, "pair_potential": ZBL}
    zbl = rebuild(zbl_config)
    write_reference(zbl, HERE, "nequip_zbl", types)
    ship(zbl, zbl_config, HERE, "nequip_zbl", args.mlmd)
    variant = variant_model()
    write_reference(variant, HERE, "nequip_variant", types)
    ship(variant, VARIANT, HERE, "nequip_variant", args.mlmd)
    relax(model)
    print("wrote nequip_small.*, nequip_zbl.*, nequip_variant.*, bulk8_relaxed.extxyz")


def variant_model():
    """VARIANT with nequip's initial weights, the edge MLPs' last layers x4."""
    import hydra
    from nequip.utils.global_state import set_global_state

    set_global_state()
    model = hydra.utils.instantiate(VARIANT, _recursive_=False, _convert_="all")
    for name, parameter in model.named_parameters():
        if "edge_mlp.mlp." in name and name.endswith(f"mlp.{2 * VARIANT['radial_mlp_depth']}.weight"):
            parameter.data *= 4.0
    return model.eval()


if __name__ == "__main__":
    main()
