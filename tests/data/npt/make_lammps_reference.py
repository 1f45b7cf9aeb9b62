"""LAMMPS `fix npt` references for mlmd's NPT tests (tests/npt.rs): liquid argon, 864 atoms,
Lennard-Jones (ε = 0.0103236 eV, σ = 3.405 Å, cut at 8.5125 Å and shifted), 94 K, at 1 bar and
1000 bar, MTK isotropic (Tdamp 0.2 ps, Pdamp 1 ps), 2 fs steps.

1. Melts an fcc crystal at a liquid density (300 K, 10 ps, NVT) and cools it (94 K, 10 ps):
   the start of every NPT run, written to argon-liquid-864.extxyz for mlmd.
2. For each pressure: 40 ps to equilibrate, then PRODUCTION ps sampled every 20 fs: the mean
   density, its standard error (blocks of 20 ps), and the isothermal compressibility
   κ_T = Var(V) / (k_B T ⟨V⟩).

Needs Debian's `lammps` (`lmp`) and ASE. Run from this folder:
    python3 make_lammps_reference.py [PRODUCTION_PS]   (default 1000)
Writes lammps_npt_reference.json.
"""

import json
import subprocess
import sys

import numpy as np
from ase import Atoms
from ase.io import read, write

KB_EV = 8.617333262e-5
EV_PER_A3_IN_BAR = 1.602176634e6
T = 94.0
PRESSURES = [1.0, 1000.0]
DT_PS = 0.002
STRIDE = 10

HEAD = """units metal
atom_style atomic
boundary p p p
{setup}
mass 1 39.948
pair_style lj/cut 8.5125
pair_modify shift yes
pair_coeff 1 1 0.0103236 3.405
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
timestep {dt}
"""

MELT = """lattice fcc 5.8
region box block 0 6 0 6 0 6
create_box 1 box
create_atoms 1 box"""

MELT_RUN = """velocity all create 300.0 4928459 dist gaussian
fix hot all nvt temp 300.0 300.0 0.2
run 5000
unfix hot
fix cool all nvt temp 94.0 94.0 0.2
run 5000
write_data liquid.data nocoeff
"""

NPT_RUN = """velocity all create 94.0 {seed} dist gaussian
fix npt all npt temp 94.0 94.0 0.2 iso {p} {p} 1.0
thermo_style custom step temp press vol density
thermo_modify norm no
thermo {stride}
run 20000
reset_timestep 0
run {steps}
"""


def lammps(script, log):
    subprocess.run(["lmp", "-log", log, "-screen", "none"], input=script, text=True,
                   check=True)


def thermo_rows(log):
    """The rows of the last run in a LAMMPS log: step temp press vol density."""
    runs, rows = [], None
    for line in open(log):
        words = line.split()
        if words[:2] == ["Step", "Temp"]:
            rows = []
            runs.append(rows)
        elif rows is not None and len(words) == 5:
            try:
                rows.append([float(w) for w in words])
            except ValueError:
                rows = None
        elif words[:2] == ["Loop", "time"]:
            rows = None
    return np.array(runs[-1])


def main():
    production_ps = float(sys.argv[1]) if len(sys.argv) > 1 else 1000.0
    lammps(HEAD.format(setup=MELT, dt=DT_PS) + MELT_RUN, "melt.log")
    data = read("liquid.data", format="lammps-data", atom_style="atomic")
    atoms = Atoms(["Ar"] * len(data), positions=data.get_positions(wrap=True),
                  cell=data.cell, pbc=True)
    write("argon-liquid-864.extxyz", atoms, format="extxyz")
    reference = {"temperature_K": T, "production_ps": production_ps, "pressures": {}}
    steps = int(round(production_ps / DT_PS))
    for i, p in enumerate(PRESSURES):
        setup = "read_data liquid.data"
        script = HEAD.format(setup=setup, dt=DT_PS) + NPT_RUN.format(
            p=p, seed=1000 + i, stride=STRIDE, steps=steps)
        lammps(script, f"npt_{p:g}.log")
        rows = thermo_rows(f"npt_{p:g}.log")[1:]
        density, volume = rows[:, 4], rows[:, 3]
        blocks = np.array_split(density, max(2, int(production_ps / 20)))
        block_means = np.array([b.mean() for b in blocks])
        kappa = volume.var() / (KB_EV * T * volume.mean()) / EV_PER_A3_IN_BAR
        reference["pressures"][f"{p:g}"] = {
            "density_g_cm3": density.mean(),
            "density_standard_error": block_means.std(ddof=1) / np.sqrt(len(blocks)),
            "volume_A3": volume.mean(),
            "compressibility_per_bar": kappa,
            "temperature_K": rows[:, 1].mean(),
            "pressure_bar": rows[:, 2].mean(),
        }
        print(p, reference["pressures"][f"{p:g}"], flush=True)
    json.dump(reference, open("lammps_npt_reference.json", "w"), indent=1)


if __name__ == "__main__":
    main()
