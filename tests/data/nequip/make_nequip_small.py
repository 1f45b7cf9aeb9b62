#!/usr/bin/env python3
"""Rebuild the shared fixture `nequip_small` as a real nequip checkpoint and package, then export
it to mlmd's model file.

    python tests/data/nequip/make_nequip_small.py [--mlmd PATH]

Needs the environment of scripts/requirements-nequip.txt. Steps:
1. Rebuild `NequIPGNNModel` from the fixture's hyperparameters (nequip_small.json), load the
   fixture's weights (nequip_small.state_dict.pt, strict) and check the energies of the seven
   reference structures against nequip_small__reference.json.
2. Train that architecture for one step with `nequip-train` (a few frames labelled by the model
   itself), so that nequip writes a genuine checkpoint; put the fixture's weights into it
   (nequip_small.ckpt) and check it through `nequip.model.ModelFromCheckpoint`.
3. `nequip-package build` the checkpoint (nequip_small.nequip.zip), check it through
   `ModelFromPackage`.
4. `scripts/export_nequip.py` both files; the package's export is nequip_small.safetensors, and
   the two exports must be identical.
5. Relax the bulk reference structure with nequip's ASE calculator (FIRE, fmax 1e-3 eV/Å):
   bulk8_relaxed.extxyz, the start of the NVE test.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
STRUCTURES = ROOT / "tests" / "data" / "mace" / "structures.extxyz"
sys.path.insert(0, str(ROOT / "scripts"))

def hyperparameters():
    return json.loads((HERE / "nequip_small.json").read_text())["hyperparameters"]


def fixture_state_dict():
    import torch

    return torch.load(HERE / "nequip_small.state_dict.pt", map_location="cpu")


def check_energies(model, label):
    """Largest |ΔE| of `model` (a nequip GraphModel) against the reference energies."""
    import ase.io
    from export_nequip import energies_of

    reference = json.loads((HERE / "nequip_small__reference.json").read_text())["structures"]
    frames = ase.io.read(STRUCTURES, ":")
    mine = energies_of(model, frames, hyperparameters()["type_names"])
    worst = max(abs(e - reference[a.info["name"]]["energy"]) for a, e in zip(frames, mine))
    print(f"{label}: max |ΔE| vs nequip_small__reference.json = {worst:.2e} eV")
    if worst > 1e-10:
        sys.exit(f"{label} does not reproduce the fixture")


def rebuild():
    from nequip.model import NequIPGNNModel
    from nequip.utils.global_state import set_global_state

    set_global_state()
    model = NequIPGNNModel(**hyperparameters())
    model.load_state_dict(fixture_state_dict(), strict=True)
    return model


def make_checkpoint(model, work):
    """nequip_small.ckpt: a nequip-train checkpoint holding the fixture's weights."""
    import ase.io
    import numpy as np
    from nequip_checkpoint import label, make_checkpoint as checkpoint_of

    hp = hyperparameters()
    bulk = next(a for a in ase.io.read(STRUCTURES, ":") if a.info["name"] == "pbc_bulk8")
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(6):
        atoms = bulk.copy()
        atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
        frames.append(atoms)
    frames = label(model, frames, hp["type_names"])
    config = {"_target_": "nequip.model.NequIPGNNModel", **hp}
    return checkpoint_of(config, model, frames, work, HERE / "nequip_small.ckpt")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mlmd", help="mlmd binary: also compare with `mlmd eval`")
    args = parser.parse_args()
    model = rebuild()
    check_energies(model, "rebuilt model")
    import nequip_checkpoint
    from export_nequip import saved_model

    package = HERE / "nequip_small.nequip.zip"
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = make_checkpoint(model, pathlib.Path(tmp))
        check_energies(saved_model(checkpoint), "checkpoint")
        # nequip-package reads an example frame from the training data
        nequip_checkpoint.package(checkpoint, package)
    check_energies(saved_model(package), "package")
    exporter = ROOT / "scripts" / "export_nequip.py"
    out = HERE / "nequip_small.safetensors"
    check = ["--check", str(STRUCTURES), "--mlmd", args.mlmd] if args.mlmd else []
    subprocess.run([sys.executable, exporter, package, out] + check, check=True)
    from_checkpoint = pathlib.Path(tempfile.mkdtemp()) / "from_ckpt.safetensors"
    subprocess.run([sys.executable, exporter, checkpoint, from_checkpoint], check=True)
    if contents(from_checkpoint) != contents(out):
        sys.exit("the package and the checkpoint export differently")
    os.remove(from_checkpoint)
    relax(model)
    print(f"wrote {checkpoint.name}, {package.name}, {out.name}, bulk8_relaxed.extxyz")


def contents(path):
    """A model file's metadata and tensors (as bytes), to compare two exports."""
    from safetensors import safe_open

    with safe_open(str(path), "np") as f:
        return f.metadata(), {k: f.get_tensor(k).tobytes() for k in f.keys()}


def relax(model):
    import ase.io
    from ase.optimize import FIRE
    from export_nequip import calculator

    atoms = next(a for a in ase.io.read(STRUCTURES, ":") if a.info["name"] == "pbc_bulk8")
    atoms.calc = calculator(model.eval(), hyperparameters()["type_names"])
    FIRE(atoms, logfile=None).run(fmax=1e-3, steps=2000)
    atoms.calc = None
    ase.io.write(HERE / "bulk8_relaxed.extxyz", atoms)


if __name__ == "__main__":
    main()
