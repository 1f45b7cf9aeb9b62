"""Helper of benches/compare_mace_torch.sh: builds a MACE-MP-0-medium-shaped model with random
weights in mace-torch, writes the benchmark structures, and times mace-torch's ASE calculator.

    python mace_torch_bench.py make OUTDIR            # OUTDIR/mp0-medium.model + structures
    python mace_torch_bench.py time MODEL STRUCTURE DTYPE STEPS   # prints JSON
"""
import json
import os
import resource
import sys
import time
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")

import numpy as np  # noqa: E402


def make(outdir):
    import ase.build
    import ase.io
    import torch
    from e3nn import o3
    from mace.modules import RealAgnosticResidualInteractionBlock, ScaleShiftMACE

    torch.manual_seed(0)
    torch.set_default_dtype(torch.float64)
    elements = list(range(1, 90))  # MACE-MP-0 covers 89 elements
    model = ScaleShiftMACE(
        r_max=6.0,
        num_bessel=10,
        num_polynomial_cutoff=5,
        max_ell=3,
        interaction_cls=RealAgnosticResidualInteractionBlock,
        interaction_cls_first=RealAgnosticResidualInteractionBlock,
        num_interactions=2,
        num_elements=len(elements),
        hidden_irreps=o3.Irreps("128x0e+128x1o"),
        MLP_irreps=o3.Irreps("16x0e"),
        atomic_energies=np.zeros(len(elements)),
        avg_num_neighbors=40.0,
        atomic_numbers=elements,
        correlation=3,
        gate=torch.nn.functional.silu,
        radial_MLP=[64, 64, 64],
        atomic_inter_scale=1.0,
        atomic_inter_shift=0.0,
    )
    torch.save(model, os.path.join(outdir, "mp0-medium.model"))
    # Diamond silicon, a = 5.43 Å: ~45 neighbours within 6 Å.
    si = ase.build.bulk("Si", "diamond", a=5.43, cubic=True)
    sizes = (("si-1000", (5, 5, 5)), ("si-9680", (11, 11, 10)), ("si-100000", (25, 25, 20)))
    for name, reps in sizes:
        atoms = si.repeat(reps)
        atoms.rattle(0.02, seed=1)
        ase.io.write(os.path.join(outdir, f"{name}.extxyz"), atoms)


def time_torch(model_path, structure, dtype, steps):
    import ase.io
    import torch
    from ase import units
    from ase.md.verlet import VelocityVerlet
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from mace.calculators import MACECalculator

    atoms = ase.io.read(structure)
    atoms.calc = MACECalculator(model_paths=model_path, device="cpu", default_dtype=dtype)
    MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(1))
    md = VelocityVerlet(atoms, timestep=1.0 * units.fs)
    atoms.get_forces()  # first evaluation: not timed, as in mlmd bench
    start = time.perf_counter()
    md.run(steps)
    wall = time.perf_counter() - start
    rate = steps / wall
    print(json.dumps({
        "code": "mace-torch",
        "atoms": len(atoms),
        "dtype": dtype,
        "threads": torch.get_num_threads(),
        "steps": steps,
        "wall_s": wall,
        "steps_per_s": rate,
        "atom_steps_per_s": rate * len(atoms),
        "ns_per_day": rate * 86400 * 1e-6,
        "peak_memory_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        time_torch(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
