#!/usr/bin/env python3
"""Export a mace-torch model to mlmd's model file: one safetensors file holding the weights and
buffers, with every hyperparameter mlmd needs as JSON in the safetensors metadata.

    python scripts/export_mace.py INPUT.model OUTPUT.safetensors [--check STRUCTURE.extxyz]

Tested with the versions in scripts/requirements.txt. Covers `MACE` and `ScaleShiftMACE` with
`RealAgnosticInteractionBlock` / `RealAgnosticResidualInteractionBlock`, Bessel radial basis,
optional Agnesi distance transform and ZBL pair repulsion, float32 and float64, and any
symmetric-contraction basis (the U matrices are exported as data, so the reduced basis of
cuequivariance-built models is carried as is). Anything else is refused with a message.

`--check` evaluates the structures of an extended XYZ file with mace-torch and with `mlmd eval`
(found on PATH, or given with `--mlmd`) and prints the largest differences.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

FORMAT = "mlmd-mace"
FORMAT_VERSION = 1
INTERACTIONS = {
    "RealAgnosticInteractionBlock": False,
    "RealAgnosticResidualInteractionBlock": True,
}
CUEQ_HINT = (
    "this model uses cuequivariance modules; convert it back to e3nn first with "
    "`python -m mace.cli.convert_cueq_e3nn INPUT.model --output_model OUTPUT.model`"
)


class Unsupported(Exception):
    """The model has a feature mlmd does not implement."""


def load_model(path):
    import torch

    os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except ModuleNotFoundError as error:
        if "cuequivariance" in str(error):
            raise Unsupported(CUEQ_HINT) from error
        raise


def activation_constant(act, where):
    """The normalize2mom constant of an e3nn activation, checking that it is SiLU."""
    import torch

    if getattr(act, "f", None) is not torch.nn.functional.silu:
        raise Unsupported(f"{where}: only SiLU activations are supported, found {act}")
    return float(act.cst)


def irreps(value):
    return str(value)


def radial_metadata(model):
    embedding = model.radial_embedding
    bessel = embedding.bessel_fn
    if type(bessel).__name__ != "BesselBasis":
        raise Unsupported(f"radial basis {type(bessel).__name__}: only BesselBasis is supported")
    transform = getattr(embedding, "distance_transform", None)
    if transform is not None and type(transform).__name__ != "AgnesiTransform":
        raise Unsupported(
            f"distance transform {type(transform).__name__}: only AgnesiTransform is supported"
        )
    return {
        "num_bessel": int(bessel.bessel_weights.numel()),
        "polynomial_p": int(embedding.cutoff_fn.p),
        "distance_transform": None if transform is None else "Agnesi",
    }


def mlp_metadata(net, where):
    layers = list(net)
    constants = set()
    for k, layer in enumerate(layers):
        if float(layer.var_in) != 1.0 or float(layer.var_out) != 1.0:
            raise Unsupported(f"{where}.layer{k}: variance scaling other than 1 is not supported")
        if layer.act is not None:
            constants.add(activation_constant(layer.act, f"{where}.layer{k}"))
    if len(constants) != 1:
        raise Unsupported(f"{where}: expected one activation, found {len(constants)}")
    return {"layers": len(layers), "activation_constant": constants.pop()}


def interaction_metadata(index, block):
    name = type(block).__name__
    if name not in INTERACTIONS:
        raise Unsupported(
            f"interactions.{index} is a {name}; supported: {', '.join(sorted(INTERACTIONS))}"
        )
    return {
        "class": name,
        "residual": INTERACTIONS[name],
        "node_feats_irreps": irreps(block.linear_up.irreps_in),
        "linear_up_irreps": irreps(block.linear_up.irreps_out),
        "conv_tp_irreps": irreps(block.conv_tp.irreps_out),
        "linear_irreps": irreps(block.linear.irreps_out),
        "skip_tp_irreps": irreps(block.skip_tp.irreps_out),
        "avg_num_neighbors": float(block.avg_num_neighbors),
        "radial_mlp": mlp_metadata(block.conv_tp_weights, f"interactions.{index}.conv_tp_weights"),
    }


def product_metadata(index, block):
    contractions = block.symmetric_contractions
    return {
        "use_sc": bool(block.use_sc),
        "irreps_in": irreps(contractions.irreps_in),
        "irreps_out": irreps(contractions.irreps_out),
        "correlations": [int(c.correlation) for c in contractions.contractions],
        "linear_irreps": irreps(block.linear.irreps_out),
    }


def readout_metadata(index, block):
    name = type(block).__name__
    if name == "LinearReadoutBlock":
        return {"class": "linear", "irreps_in": irreps(block.linear.irreps_in)}
    if name == "NonLinearReadoutBlock":
        acts = block.non_linearity.acts
        if len(acts) != 1:
            raise Unsupported(f"readouts.{index}: a gated non-linearity is not supported")
        return {
            "class": "nonlinear",
            "irreps_in": irreps(block.linear_1.irreps_in),
            "hidden_irreps": irreps(block.linear_1.irreps_out),
            "activation_constant": activation_constant(acts[0], f"readouts.{index}"),
        }
    raise Unsupported(f"readouts.{index} is a {name}: not supported")


def first_value(tensor):
    return float(tensor.detach().reshape(-1)[0])


def metadata(model):
    import e3nn
    import mace
    import torch

    cls = type(model).__name__
    if cls not in ("MACE", "ScaleShiftMACE"):
        raise Unsupported(f"model class {cls}: only MACE and ScaleShiftMACE are supported")
    for name, module in model.named_modules():
        if "cuequivariance" in type(module).__module__:
            raise Unsupported(f"{name}: {CUEQ_HINT}")
    heads = list(getattr(model, "heads", ["Default"]))
    if len(heads) > 1:
        raise Unsupported(
            f"the model has {len(heads)} heads ({', '.join(heads)}); extract one with "
            "`mace_select_head` first"
        )
    for flag in ("use_agnostic_product", "use_last_readout_only"):
        if getattr(model, flag, False):
            raise Unsupported(f"models built with {flag}=True are not supported")
    if getattr(model, "embedding_specs", None) or getattr(model, "joint_embedding", None):
        raise Unsupported("models with extra (joint) embeddings are not supported")
    dtype = next(model.parameters()).dtype
    if dtype not in (torch.float32, torch.float64):
        raise Unsupported(f"dtype {dtype}: only float32 and float64 are supported")
    e3nn_minor = tuple(int(v) for v in e3nn.__version__.split(".")[:2])
    atomic_energies = model.atomic_energies_fn.atomic_energies.detach().reshape(-1)
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_class": cls,
        "dtype": "float64" if dtype == torch.float64 else "float32",
        "versions": {
            "mace-torch": mace.__version__,
            "e3nn": e3nn.__version__,
            "torch": torch.__version__,
        },
        "w3j_convention": "e3nn-0.4" if e3nn_minor < (0, 5) else "e3nn-0.5",
        "atomic_numbers": [int(z) for z in model.atomic_numbers],
        "atomic_energies": [float(e) for e in atomic_energies],
        "r_max": float(model.r_max),
        "sh_irreps": irreps(model.spherical_harmonics.irreps_out),
        "node_embedding_irreps": irreps(model.node_embedding.linear.irreps_out),
        "radial": radial_metadata(model),
        "pair_repulsion": None,
        "interactions": [interaction_metadata(i, b) for i, b in enumerate(model.interactions)],
        "products": [product_metadata(i, b) for i, b in enumerate(model.products)],
        "readouts": [readout_metadata(i, b) for i, b in enumerate(model.readouts)],
        "scale": None,
        "shift": None,
    }
    if getattr(model, "pair_repulsion", False):
        zbl = model.pair_repulsion_fn
        doc["pair_repulsion"] = {
            "type": "ZBL",
            "p": int(zbl.p),
            "a_exp": first_value(torch.as_tensor(zbl.a_exp)),
            "a_prefactor": first_value(torch.as_tensor(zbl.a_prefactor)),
        }
    if cls == "ScaleShiftMACE":
        doc["scale"] = first_value(model.scale_shift.scale)
        doc["shift"] = first_value(model.scale_shift.shift)
    return doc


def tensors(model):
    """Every float and integer tensor of the state dict (compiled Wigner-3j copies and masks
    excepted: mlmd computes those), contiguous, in the model's own dtype."""
    import torch

    out = {}
    for name, value in model.state_dict().items():
        if "._compiled_main" in name or name.endswith("output_mask") or value.dtype == torch.bool:
            continue
        out[name] = value.detach().cpu().contiguous()
    return out


def export(model_path, output_path):
    from safetensors.torch import save_file

    model = load_model(model_path)
    doc = metadata(model)
    save_file(
        tensors(model),
        output_path,
        metadata={"format": FORMAT, "format_version": str(FORMAT_VERSION), "mace": json.dumps(doc)},
    )
    return model, doc


def check(model, doc, output_path, structures, mlmd):
    """mace-torch vs `mlmd eval` on every frame of `structures`."""
    import ase.io
    import numpy as np
    from mace.calculators import MACECalculator

    frames = ase.io.read(structures, ":")
    calc = MACECalculator(models=[model], device="cpu", default_dtype=doc["dtype"])
    with tempfile.TemporaryDirectory() as tmp:
        input_path = os.path.join(tmp, "input.toml")
        json_path = os.path.join(tmp, "eval.json")
        with open(input_path, "w") as f:
            f.write(
                f'[structure]\nfile = "{os.path.abspath(structures)}"\n\n'
                f'[potential]\ntype = "mace"\nmodel = "{os.path.abspath(output_path)}"\n'
                f'dtype = "{doc["dtype"]}"\n\n'
                '[integrator]\ntype = "velocity-verlet"\ntimestep = 1.0\n\n[run]\nsteps = 0\n'
            )
        subprocess.run(
            [*mlmd, "eval", input_path, "--structure", structures, "--json", json_path],
            check=True,
        )
        ours = json.load(open(json_path))["frames"]
    worst = {"energy": 0.0, "forces": 0.0, "stress": 0.0}
    for index, (atoms, mine) in enumerate(zip(frames, ours)):
        atoms.calc = calc
        de = abs(atoms.get_potential_energy() - mine["energy"])
        df = float(np.abs(atoms.get_forces() - np.array(mine["forces"])).max(initial=0.0))
        ds = 0.0
        if mine["stress"] is not None:
            ds = float(np.abs(atoms.get_stress(voigt=False) - np.array(mine["stress"])).max())
        print(f"frame {index}: |dE| {de:.2e} eV  max|dF| {df:.2e} eV/A  max|dsigma| {ds:.2e} eV/A^3")
        worst = {k: max(worst[k], v) for k, v in zip(worst, (de, df, ds))}
    print("worst: " + ", ".join(f"{k} {v:.2e}" for k, v in worst.items()))
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="mace-torch .model file (a pickled module)")
    parser.add_argument("output", help="the .safetensors file to write")
    parser.add_argument("--check", metavar="STRUCTURE.extxyz", help="compare with mace-torch")
    parser.add_argument(
        "--mlmd", default="mlmd", help="the mlmd command for --check (default: mlmd on PATH)"
    )
    args = parser.parse_args()
    try:
        model, doc = export(args.model, args.output)
    except Unsupported as error:
        sys.exit(f"export_mace: {args.model}: {error}")
    except FileNotFoundError as error:
        sys.exit(f"export_mace: {error}")
    elements = doc["atomic_numbers"]
    shown = elements if len(elements) <= 10 else f"{len(elements)} elements, Z {elements[0]}..{elements[-1]}"
    print(
        f"wrote {args.output}: {doc['model_class']} ({doc['dtype']}), elements {shown}, "
        f"r_max {doc['r_max']} A, {len(doc['interactions'])} interactions"
    )
    if args.check:
        check(model, doc, args.output, args.check, args.mlmd.split())


if __name__ == "__main__":
    main()
