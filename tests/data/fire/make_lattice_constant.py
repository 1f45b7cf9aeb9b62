"""The lattice constants of fcc argon at 0 K under the Lennard-Jones potential (ε = 0.0103236 eV,
σ = 3.405 Å) with pairs cut at 8.5125 Å, at 0 bar (the energy minimum) and at 10 kbar, for
tests/minimize.rs (FIRE with the cell free must reach them).

Independent of mlmd: the energy per atom is the lattice sum E(a) = ½ Σ_{0 < |R| < r_c} φ(|R|)
over the fcc lattice vectors R, the volume per atom a³/4, and the pressure
P = −dE/dV = −(½ Σ |R| φ'(|R|)) / (3 a³/4); P(a) = P₀ is solved by bisection to 1e-12 Å (no
neighbour shell lies within 0.08 Å of the cutoff over ±1 % of these a, so E(a) is smooth
there, and the energy shift, a constant per pair inside the cutoff, changes nothing).
Writes lj_lattice_constant.json.
"""

import itertools
import json

import numpy as np

EPSILON, SIGMA, CUTOFF = 0.0103236, 3.405, 8.5125


def shells(a):
    """Distances |R| of fcc lattice vectors (conventional constant a) shorter than the cutoff."""
    n = int(np.ceil(CUTOFF / a)) + 1
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    cells = np.array(list(itertools.product(range(-n, n + 1), repeat=3)), dtype=float)
    points = (cells[:, None, :] + basis[None, :, :]).reshape(-1, 3) * a
    r = np.linalg.norm(points, axis=1)
    return r[(r > 0) & (r < CUTOFF)]


EV_PER_A3_IN_BAR = 1.602176634e6


def pressure(a):
    """P(a), bar."""
    r = shells(a)
    r_phi_prime = 24 * EPSILON * (-2 * (SIGMA / r) ** 12 + (SIGMA / r) ** 6)
    return -0.5 * np.sum(r_phi_prime) / (0.75 * a**3) * EV_PER_A3_IN_BAR


def energy(a):
    r = shells(a)
    return 0.5 * np.sum(4 * EPSILON * ((SIGMA / r) ** 12 - (SIGMA / r) ** 6))


def lattice_constant(target):
    low, high = 4.8, 5.6
    assert pressure(low) > target > pressure(high)
    while high - low > 1e-12:
        mid = 0.5 * (low + high)
        (low, high) = (mid, high) if pressure(mid) > target else (low, mid)
    a = 0.5 * (low + high)
    near = np.concatenate([shells(a * 0.99), shells(a * 1.01)])
    gap = np.min(np.abs(CUTOFF - near))
    print(f"{target} bar: a = {a:.12f} Å, energy {energy(a):.12f} eV/atom, nearest shell to "
          f"the cutoff over a ± 1 %: {gap:.3f} Å")
    assert gap > 0.08
    return {"lattice_constant_A": a, "energy_per_atom_eV": energy(a)}


def main():
    reference = {f"{p:g}": lattice_constant(p) for p in [0.0, 10000.0]}
    json.dump(reference, open("lj_lattice_constant.json", "w"), indent=1)


if __name__ == "__main__":
    main()
