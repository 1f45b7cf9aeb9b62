"""ASE's FIRE on two Lennard-Jones argon systems: the references of tests/minimize.rs.

    python tests/data/fire/make_fire_reference.py   (ASE 3.29; writes next to this file)

- cluster: a 13-atom argon icosahedron (ase.cluster.Icosahedron), rattled by 0.1 Å, no cell;
- crystal: fcc argon, 3x3x3 cubic cells (108 atoms, a = 5.26 Å), rattled by 0.1 Å, periodic.
Lennard-Jones ε = 0.0103236 eV, σ = 3.405 Å, cutoff 8.5125 Å, pair energy shifted to zero at the
cutoff (ASE's LennardJones with smooth=False, as mlmd's `shift = true`). FIRE with ASE's
defaults to fmax = 1e-4 eV/Å. Writes each start structure (extended XYZ, full precision) and
fire_reference.json: steps, initial and final energy, final largest force, final positions.
"""
import json
from pathlib import Path

import ase
import numpy as np
from ase.build import bulk
from ase.calculators.lj import LennardJones
from ase.cluster import Icosahedron
from ase.optimize import FIRE

HERE = Path(__file__).resolve().parent
FMAX = 1e-4


def calculator():
    return LennardJones(sigma=3.405, epsilon=0.0103236, rc=8.5125, smooth=False)


def write_extxyz(atoms, path):
    lines = [str(len(atoms))]
    if atoms.pbc.any():
        lattice = " ".join(f"{x:.17g}" for x in atoms.cell.array.ravel())
        lines.append(f'Lattice="{lattice}" Properties=species:S:1:pos:R:3 pbc="T T T"')
    else:
        lines.append('Properties=species:S:1:pos:R:3 pbc="F F F"')
    lines += [f"{s} {x:.17g} {y:.17g} {z:.17g}"
              for s, (x, y, z) in zip(atoms.get_chemical_symbols(), atoms.positions)]
    path.write_text("\n".join(lines) + "\n")


def systems():
    cluster = Icosahedron("Ar", noshells=2, latticeconstant=5.26)
    cluster.rattle(0.1, seed=3)
    cluster.center()
    crystal = bulk("Ar", "fcc", a=5.26, cubic=True).repeat((3, 3, 3))
    crystal.rattle(0.1, seed=4)
    return {"cluster": cluster, "crystal": crystal}


def main():
    out = {"ase_version": ase.__version__, "fmax": FMAX, "systems": {}}
    for name, atoms in systems().items():
        write_extxyz(atoms, HERE / f"{name}.extxyz")
        atoms.calc = calculator()
        initial = atoms.get_potential_energy()
        optimizer = FIRE(atoms, logfile=None)
        optimizer.run(fmax=FMAX, steps=20000)
        forces = atoms.get_forces()
        out["systems"][name] = {
            "atoms": len(atoms),
            "steps": optimizer.nsteps,
            "initial_energy": initial,
            "energy": atoms.get_potential_energy(),
            "max_force": float(np.sqrt((forces ** 2).sum(axis=1)).max()),
            "positions": atoms.positions.tolist(),
        }
        print(name, out["systems"][name]["steps"], initial, out["systems"][name]["energy"])
    (HERE / "fire_reference.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
