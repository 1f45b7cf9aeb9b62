"""What the nequip-framework fixture scripts share (tests/data/nequip/make_nequip_small.py,
tests/data/allegro/make_allegro_small.py): references from nequip's ASE calculator on the seven
reference structures, and shipping a model as a genuine checkpoint, a package and an mlmd
model file. Needs the environment of scripts/requirements-nequip.txt.
"""
import json
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[3]
STRUCTURES = ROOT / "tests" / "data" / "mace" / "structures.extxyz"
sys.path.insert(0, str(ROOT / "scripts"))


def reference(folder, name):
    return json.loads((folder / f"{name}__reference.json").read_text())["structures"]


def check_energies(model, folder, name, type_names, label):
    """Asserts that `model` reproduces `name`'s reference energies (1e-10 eV)."""
    import ase.io
    from export_nequip import energies_of

    frames = ase.io.read(STRUCTURES, ":")
    mine = energies_of(model, frames, type_names)
    ref = reference(folder, name)
    worst = max(abs(e - ref[a.info["name"]]["energy"]) for a, e in zip(frames, mine))
    print(f"{label}: max |ΔE| vs {name}__reference.json = {worst:.2e} eV")
    if worst > 1e-10:
        sys.exit(f"{label} does not reproduce the reference")


def write_reference(model, folder, name, type_names):
    """nequip's ASE calculator on the seven structures, in the shared fixtures' layout:
    energy, forces, per-atom energies, stress σ = (1/V) ∂E/∂ε (3x3, periodic cells only)."""
    import ase.io
    from ase.stress import voigt_6_to_full_3x3_stress
    from export_nequip import calculator

    structures = {}
    for atoms in ase.io.read(STRUCTURES, ":"):
        atoms.calc = calculator(model, type_names)
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
    document = {"model": name, "dtype": "float64", "made_by": "tests/data (nequip fixture scripts)",
                "structures": structures}
    (folder / f"{name}__reference.json").write_text(json.dumps(document, indent=1))


def training_frames(model, type_names):
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
    return label(model, frames, type_names)


def contents(path):
    """A model file's metadata and tensors (as bytes), to compare two exports."""
    from safetensors import safe_open

    with safe_open(str(path), "np") as f:
        return f.metadata(), {k: f.get_tensor(k).tobytes() for k in f.keys()}


def ship(model, config, folder, name, mlmd=None, export=True):
    """`name`.ckpt (not committed) and `name`.nequip.zip holding `model`, each checked against
    the reference; with `export`, `name`.safetensors by scripts/export_nequip.py from the
    package, which must equal the checkpoint's export (`mlmd`: also `--check` it)."""
    import nequip_checkpoint
    from export_nequip import saved_model

    type_names = config["type_names"]
    checkpoint, package = folder / f"{name}.ckpt", folder / f"{name}.nequip.zip"
    with tempfile.TemporaryDirectory() as tmp:
        frames = training_frames(model, type_names)
        nequip_checkpoint.make_checkpoint(config, model, frames, tmp, checkpoint)
        check_energies(saved_model(checkpoint), folder, name, type_names, f"{name} checkpoint")
        # nequip-package reads an example frame from the training data
        nequip_checkpoint.package(checkpoint, package)
    check_energies(saved_model(package), folder, name, type_names, f"{name} package")
    if not export:
        return
    exporter = ROOT / "scripts" / "export_nequip.py"
    out = folder / f"{name}.safetensors"
    check = ["--check", str(STRUCTURES), "--mlmd", mlmd] if mlmd else []
    subprocess.run([sys.executable, exporter, package, out] + check, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        from_checkpoint = pathlib.Path(tmp) / "from_ckpt.safetensors"
        subprocess.run([sys.executable, exporter, checkpoint, from_checkpoint], check=True)
        if contents(from_checkpoint) != contents(out):
            sys.exit(f"{name}: the package and the checkpoint export differently")
