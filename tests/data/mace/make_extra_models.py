"""Makes the extra MACE fixtures with mace-torch 0.3.16, exports them with
scripts/export_mace.py, and records mace-torch's energies, forces, per-atom energies and stresses
(float64) on structures.extxyz as references:

- mace_reduced_cg: ScaleShiftMACE with use_reduced_cg=True (the cuequivariance-compatible
  symmetric-contraction basis, mace-torch's default for new models);
- mace_plain_f32: the plain MACE class (no scale/shift), weights stored in float32.

    python tests/data/mace/make_extra_models.py   (from the repository root; needs
                                                   scripts/requirements.txt)
"""
import json
import os
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")

import ase.io  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from e3nn import o3  # noqa: E402
from mace.calculators import MACECalculator  # noqa: E402
from mace.modules import MACE, RealAgnosticResidualInteractionBlock, ScaleShiftMACE  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
ELEMENTS = [1, 6, 8]
E0 = [-0.7, -3.1, -2.2]


def common(seed, reduced):
    torch.manual_seed(seed)
    return dict(
        r_max=4.5,
        num_bessel=6,
        num_polynomial_cutoff=5,
        max_ell=2,
        interaction_cls=RealAgnosticResidualInteractionBlock,
        interaction_cls_first=RealAgnosticResidualInteractionBlock,
        num_interactions=2,
        num_elements=len(ELEMENTS),
        hidden_irreps=o3.Irreps("8x0e+8x1o"),
        MLP_irreps=o3.Irreps("8x0e"),
        atomic_energies=np.array(E0),
        avg_num_neighbors=6.0,
        atomic_numbers=ELEMENTS,
        correlation=3,
        gate=torch.nn.functional.silu,
        radial_MLP=[16, 16],
        use_reduced_cg=reduced,
    )


def export_with_references(name, model):
    model_path = os.path.join(here, f"{name}.model")
    torch.save(model, model_path)
    out = os.path.join(here, f"{name}.safetensors")
    subprocess.run(
        [sys.executable, os.path.join(here, "../../../scripts/export_mace.py"), model_path, out],
        check=True,
    )
    os.remove(model_path)
    calc = MACECalculator(models=[model], device="cpu", default_dtype="float64")
    # The model's own E0s (float32-rounded in a float32 model).
    e0 = np.zeros(119)
    e0[ELEMENTS] = model.atomic_energies_fn.atomic_energies.detach().double().numpy().ravel()
    structures = {}
    for atoms in ase.io.read(os.path.join(here, "structures.extxyz"), ":"):
        atoms.calc = calc
        entry = {
            "energy": float(atoms.get_potential_energy()),
            "forces": atoms.get_forces().tolist(),
            # The calculator reports node energies without E0; the fixtures include it.
            "node_energy": (calc.results["node_energy"] + e0[atoms.numbers]).tolist(),
            "pbc": atoms.pbc.tolist(),
        }
        if atoms.pbc.all():
            entry["stress"] = atoms.get_stress(voigt=False).tolist()
        structures[atoms.info["name"]] = entry
    with open(os.path.join(here, f"{name}__reference.json"), "w") as f:
        json.dump({"model": name, "dtype": "float64", "structures": structures}, f)


torch.set_default_dtype(torch.float64)
export_with_references(
    "mace_reduced_cg",
    ScaleShiftMACE(**common(5, True), atomic_inter_scale=1.1, atomic_inter_shift=0.05),
)
torch.set_default_dtype(torch.float32)
export_with_references("mace_plain_f32", MACE(**common(6, False)))
