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
6. Relax the bulk reference structure with nequip's ASE calculator under nequip_small (FIRE,
   fmax 1e-3 eV/Å): bulk8_relaxed.extxyz, the start of the NVE test.
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
STRUCTURES = ROOT / "tests" / "data" / "mace" / "structures.extxyz"
sys.path.insert(0, str(ROOT / "scripts"))

ZBL = {
    "_target_": "nequip.nn.pair_potential.ZBL",
    "units": "metal",
    "chemical_species": ["H", "C", "O"],
}


def hyperparameters():
    return json.loads((HERE / "nequip_small.json").read_text())["hyperparameters"]


def reference(name):
    return json.loads((HERE / f"{name}__reference.json").read_text())["structures"]


def check_energies(model, name, label):
    """Largest |ΔE| of `model` (a nequip GraphModel) against `name`'s reference energies."""
    import ase.io
    from export_nequip import energies_of

    frames = ase.io.read(STRUCTURES, ":")
    mine = energies_of(model, frames, hyperparameters()["type_names"])
    worst = max(abs(e - reference(name)[a.info["name"]]["energy"]) for a, e in zip(frames, mine))
    print(f"{label}: max |ΔE| vs {name}__reference.json = {worst:.2e} eV")
    if worst > 1e-10:
        sys.exit(f"{label} does not reproduce the reference")


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


def write_reference(model, name):
    """nequip's ASE calculator on the seven structures, in the fixture's reference layout."""
    import ase.io
    from ase.stress import voigt_6_to_full_3x3_stress
    from export_nequip import calculator

    structures = {}
    for atoms in ase.io.read(STRUCTURES, ":"):
        atoms.calc = calculator(model, hyperparameters()["type_names"])
        periodic = bool(atoms.pbc.all())
        structures[atoms.info["name"]] = {
            "energy": float(atoms.get_potential_energy()),
            "forces": atoms.get_forces().tolist(),
            "energies": atoms.get_potential_energies().tolist(),
            "numbers": atoms.numbers.tolist(),
            "positions": atoms.positions.tolist(),
            "cell": atoms.cell.array.tolist() if atoms.cell.rank == 3 else None,
            "pbc": atoms.pbc.tolist(),
            "stress": voigt_6_to_full_3x3_stress(atoms.get_stress()).tolist() if periodic else None,
        }
    document = {"model": name, "dtype": "float64", "made_by": "tests/data/nequip/make_nequip_small.py",
                "structures": structures}
    (HERE / f"{name}__reference.json").write_text(json.dumps(document, indent=1))


def training_frames(model):
    """Rattled copies of the bulk reference structure labelled by `model` itself."""
    import ase.io
    import numpy as np
    from nequip_checkpoint import label

    bulk = next(a for a in ase.io.read(STRUCTURES, ":") if a.info["name"] == "pbc_bulk8")
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(6):
        atoms = bulk.copy()
        atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
        frames.append(atoms)
    return label(model, frames, hyperparameters()["type_names"])


def contents(path):
    """A model file's metadata and tensors (as bytes), to compare two exports."""
    from safetensors import safe_open

    with safe_open(str(path), "np") as f:
        return f.metadata(), {k: f.get_tensor(k).tobytes() for k in f.keys()}


def ship(name, config, model, mlmd):
    """Checkpoint, package and export `model` as `name`.*; both exports must agree."""
    import nequip_checkpoint
    from export_nequip import saved_model

    checkpoint, package = HERE / f"{name}.ckpt", HERE / f"{name}.nequip.zip"
    with tempfile.TemporaryDirectory() as tmp:
        nequip_checkpoint.make_checkpoint(config, model, training_frames(model), tmp, checkpoint)
        check_energies(saved_model(checkpoint), name, f"{name} checkpoint")
        # nequip-package reads an example frame from the training data
        nequip_checkpoint.package(checkpoint, package)
    check_energies(saved_model(package), name, f"{name} package")
    exporter = ROOT / "scripts" / "export_nequip.py"
    out = HERE / f"{name}.safetensors"
    check = ["--check", str(STRUCTURES), "--mlmd", mlmd] if mlmd else []
    subprocess.run([sys.executable, exporter, package, out] + check, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        from_checkpoint = pathlib.Path(tmp) / "from_ckpt.safetensors"
        subprocess.run([sys.executable, exporter, checkpoint, from_checkpoint], check=True)
        if contents(from_checkpoint) != contents(out):
            sys.exit(f"{name}: the package and the checkpoint export differently")


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
    model = rebuild(config)
    check_energies(model, "nequip_small", "rebuilt model")
    ship("nequip_small", config, model, args.mlmd)
    zbl_config = {**config, "pair_potential": ZBL}
    zbl = rebuild(zbl_config)
    write_reference(zbl, "nequip_zbl")
    ship("nequip_zbl", zbl_config, zbl, args.mlmd)
    relax(model)
    print("wrote nequip_small.*, nequip_zbl.*, bulk8_relaxed.extxyz")


if __name__ == "__main__":
    main()
