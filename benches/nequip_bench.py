"""Helper of benches/compare_nequip.sh: builds a NequIP model (l_max 2, 4 layers, 64 features,
r_max 5 Å) and an Allegro model (l_max 2, 2 layers, 64 scalar and 16 tensor features, r_max
5 Å) for silicon with their packages' random initial weights as genuine checkpoints, writes the
benchmark structure, and times nequip's ASE calculator.

    python nequip_bench.py make OUTDIR    # OUTDIR/{nequip,allegro}.ckpt + si-1000.extxyz
    python nequip_bench.py time CHECKPOINT STRUCTURE STEPS   # prints JSON

Needs the environment of scripts/requirements-nequip.txt.
"""
import json
import os
import pathlib
import resource
import sys
import time
import warnings

warnings.filterwarnings("ignore")
ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import numpy as np  # noqa: E402

MODEL = {
    "_target_": "nequip.model.NequIPGNNModel",
    "seed": 0,
    "model_dtype": "float32",
    "type_names": ["Si"],
    "r_max": 5.0,
    "num_layers": 4,
    "l_max": 2,
    "parity": True,
    "num_features": 64,
    "radial_mlp_depth": 2,
    "radial_mlp_width": 64,
    "avg_num_neighbors": 30.0,
    "per_type_energy_scales": 1.0,
    "per_type_energy_shifts": -5.0,
}


ALLEGRO = {
    "_target_": "allegro.model.AllegroModel",
    "seed": 0,
    "model_dtype": "float32",
    "type_names": ["Si"],
    "r_max": 5.0,
    "l_max": 2,
    "parity": True,
    "radial_chemical_embed": {"_target_": "allegro.nn.TwoBodyBesselScalarEmbed", "num_bessels": 8},
    "num_layers": 2,
    "num_scalar_features": 64,
    "num_tensor_features": 16,
    "allegro_mlp_hidden_layers_depth": 2,
    "allegro_mlp_hidden_layers_width": 64,
    "readout_mlp_hidden_layers_depth": 1,
    "readout_mlp_hidden_layers_width": 32,
    "avg_num_neighbors": 30.0,
    "per_type_energy_scales": 1.0,
    "per_type_energy_shifts": -5.0,
}


def make(outdir):
    import ase.build
    import ase.io
    import hydra
    from nequip.utils.global_state import set_global_state
    from nequip_checkpoint import label, make_checkpoint

    out = pathlib.Path(outdir)
    set_global_state()
    si = ase.build.bulk("Si", "diamond", a=5.43, cubic=True)
    for name, config in (("nequip", MODEL), ("allegro", ALLEGRO)):
        model = hydra.utils.instantiate(config, _recursive_=False, _convert_="all").eval()
        frames = []
        for seed in range(4):
            atoms = si.copy()
            atoms.rattle(0.05, seed=seed)
            frames.append(atoms)
        frames = label(model, frames, config["type_names"])
        (out / f"train-{name}").mkdir()
        make_checkpoint(config, model, frames, out / f"train-{name}", out / f"{name}.ckpt")
    # Diamond silicon, a = 5.43 Å, 5x5x5 cubic cells: 1,000 atoms, 28 neighbours within 5 Å.
    atoms = si.repeat((5, 5, 5))
    atoms.rattle(0.02, seed=1)
    ase.io.write(out / "si-1000.extxyz", atoms)


def time_nequip(checkpoint, structure, steps):
    import ase.io
    import torch
    from ase import units
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from ase.md.verlet import VelocityVerlet
    from export_nequip import calculator, saved_model
    from nequip.utils.global_state import set_global_state

    set_global_state()
    atoms = ase.io.read(structure)
    model = saved_model(checkpoint).eval()
    atoms.calc = calculator(model, ["Si"])
    MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(1))
    md = VelocityVerlet(atoms, timestep=1.0 * units.fs)
    atoms.get_forces()  # first evaluation: not timed, as in mlmd bench
    start = time.perf_counter()
    md.run(steps)
    wall = time.perf_counter() - start
    rate = steps / wall
    print(json.dumps({
        "code": "nequip",
        "atoms": len(atoms),
        "threads": torch.get_num_threads(),
        "steps": steps,
        "wall_s": wall,
        "steps_per_s": rate,
        "atom_steps_per_s": rate * len(atoms),
        "ns_per_day": rate * 86400 * 1e-6,
        "peak_memory_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        time_nequip(sys.argv[2], sys.argv[3], int(sys.argv[4]))
