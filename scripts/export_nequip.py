#!/usr/bin/env python3
"""Export a NequIP model (nequip framework) to mlmd's model file: one safetensors file holding the
weights under nequip's own names, with every hyperparameter mlmd needs as JSON in the
safetensors metadata.

    python scripts/export_nequip.py INPUT OUTPUT.safetensors [--check STRUCTURES.extxyz]

INPUT is a `.nequip.zip` package (`nequip-package build`) or a training checkpoint (`.ckpt`).
Compiled models (`.nequip.pth`, `.nequip.pt2`) hold no readable architecture: pass the package or
checkpoint they were compiled from.

The modules of a package-loaded model are instances of the package's private copies of nequip and
e3nn, so the exporter does not inspect them: it rebuilds the model from the configuration saved
in the package or checkpoint with the installed nequip, loads the saved weights into it, checks
that both give the same energy on a test structure, and exports the rebuilt model.

Covers `NequIPGNNModel` (any l_max and layer count, parity on or off, gate nonlinearity,
per-type scales and shifts, per-type average neighbour counts, the ZBL pair term) of the
versions in scripts/requirements-nequip.txt. Anything else (other models, NormActivation, other
pair potentials, per-edge-type cutoffs, non-uniform feature counts, packages modified with
accelerated kernels) is refused with a message.

`--check` evaluates the structures of an extended XYZ file with nequip's ASE calculator and with
`mlmd eval` (found on PATH, or given with `--mlmd`) and prints the largest differences.
"""
import argparse
import json
import math
import os
import pathlib
import subprocess
import sys
import tempfile

FORMAT_VERSION = 1
# model builder -> (class name, mlmd architecture: metadata key, format mlmd-<key>, input type)
MODELS = {
    "nequip.model.NequIPGNNModel": ("NequIPGNNModel", "nequip"),
    "allegro.model.AllegroModel": ("AllegroModel", "allegro"),
}
ACCELERATED = ("OEQ", "OpenEquivariance", "Cueq", "CuEquivariance", "Triton", "Flash")


class Unsupported(Exception):
    """The model has a feature mlmd does not implement, or the file is not a model mlmd reads."""


def saved_config(path):
    """The training configuration saved with a package or checkpoint."""
    import torch
    import yaml

    name = pathlib.Path(path).name
    if name.endswith((".pth", ".pt2")):
        raise Unsupported(
            f"{name} is a compiled model (nequip-compile), which keeps no readable architecture; "
            "export the .nequip.zip package or the .ckpt checkpoint it was compiled from"
        )
    if name.endswith(".zip"):
        importer = torch.package.PackageImporter(str(path))
        return yaml.safe_load(importer.load_text(package="model", resource="config.yaml"))
    if name.endswith(".ckpt"):
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
        return checkpoint["hyper_parameters"]["info_dict"]
    raise Unsupported(f"{name}: expected a .nequip.zip package or a .ckpt checkpoint")


def saved_model(path):
    """The model as nequip itself loads it (package copies of the modules)."""
    from nequip.model import ModelFromCheckpoint, ModelFromPackage

    load = ModelFromPackage if str(path).endswith(".zip") else ModelFromCheckpoint
    model = load(str(path), compile_mode="eager")
    if hasattr(model, "metadata"):
        return model
    models = dict(model.items())
    if len(models) != 1:
        raise Unsupported(f"the file holds {len(models)} models ({', '.join(models)}); expected one")
    return next(iter(models.values()))


def refuse_accelerated(model):
    for name, module in model.named_modules():
        kind = type(module).__name__
        if any(tag.lower() in kind.lower() for tag in ACCELERATED):
            raise Unsupported(
                f"module {name} is {kind}: the package was built with an accelerated-kernel "
                "modifier; package the checkpoint again without modifiers"
            )


def rebuild(path):
    """The installed nequip's model from the saved configuration, with the saved weights."""
    import hydra
    from nequip.utils.global_state import set_global_state

    config = saved_config(path)
    model_config = dict(config["training_module"]["model"])
    target = model_config.get("_target_")
    if target not in MODELS:
        raise Unsupported(
            f"model {target}: this exporter covers {', '.join(MODELS)} (a model fine-tuned from "
            "a package or checkpoint: export that package or checkpoint)"
        )
    if model_config.get("per_edge_type_cutoff"):
        raise Unsupported("per_edge_type_cutoff is set: not supported by mlmd yet")
    if model_config.get("compile_mode", "eager") != "eager":
        model_config["compile_mode"] = "eager"
    set_global_state(allow_tf32=False)
    saved = saved_model(path)
    refuse_accelerated(saved)
    model = hydra.utils.instantiate(model_config, _recursive_=False, _convert_="all")
    result = model.load_state_dict(saved.state_dict(), strict=False)
    # e3nn's generated tensor-product code keeps constants the package saves with the weights
    unexpected = [k for k in result.unexpected_keys if "._compiled_main" not in k]
    if result.missing_keys or unexpected:
        raise Unsupported(
            f"the saved weights do not fit the rebuilt model: missing {result.missing_keys}, "
            f"unexpected {unexpected}"
        )
    model.eval()
    saved.eval()
    type_names = model_config["type_names"]
    atoms = test_structure(type_names)
    [mine], [theirs] = energies_of(model, [atoms], type_names), energies_of(saved, [atoms], type_names)
    if mine != theirs:
        raise Unsupported(
            f"the rebuilt model gives {mine!r} eV, the saved one {theirs!r} eV on a test structure"
        )
    return model, model_config


def test_structure(type_names):
    """A small periodic structure holding every type."""
    import ase
    import numpy as np

    rng = np.random.default_rng(7)
    n = max(4, len(type_names))
    symbols = [type_names[i % len(type_names)] for i in range(n)]
    cell = np.eye(3) * 3.5 + rng.normal(scale=0.1, size=(3, 3))
    positions = rng.uniform(size=(n, 3)) @ cell
    return ase.Atoms(symbols=symbols, positions=positions, cell=cell, pbc=True)


def calculator(model, type_names):
    """nequip's ASE calculator around `model`."""
    from nequip.integrations.ase import NequIPCalculator
    from nequip.nn import graph_model
    from nequip.data.transforms import (
        ChemicalSpeciesToAtomTypeMapper,
        NeighborListTransform,
    )

    r_max = float(model.metadata[graph_model.R_MAX_KEY])
    transforms = [
        ChemicalSpeciesToAtomTypeMapper(
            model_type_names=type_names,
            chemical_species_to_atom_type_map={t: t for t in type_names},
        ),
        NeighborListTransform(r_max=r_max),
    ]
    return NequIPCalculator(model=model.eval(), device="cpu", transforms=transforms)


def evaluate(model, atoms, type_names):
    """Energy (eV) and forces (eV/Å) of `atoms` by nequip's ASE calculator."""
    atoms = atoms.copy()
    atoms.calc = calculator(model, type_names)
    return float(atoms.get_potential_energy()), atoms.get_forces()


def energies_of(model, frames, type_names):
    return [evaluate(model, atoms, type_names)[0] for atoms in frames]


def activation(act, where):
    """(name, normalize2mom constant) of an e3nn activation."""
    import torch

    names = {torch.nn.functional.silu: "silu", torch.tanh: "tanh"}
    function = getattr(act, "f", act)
    name = names.get(function)
    if name is None:
        raise Unsupported(f"{where}: activation {function} (supported: silu, tanh)")
    constant = 1.0 if getattr(act, "_is_id", False) else float(getattr(act, "cst", 1.0))
    return {"function": name, "constant": constant}


def block_activations(module, where):
    """Per input block of an e3nn `Activation`: its irreps and activation."""
    out = []
    for mul, (l, p), act in module.paths:
        if act is None:
            raise Unsupported(f"{where}: a block without activation")
        out.append({"irreps": f"{mul}x{l}{'e' if p == 1 else 'o'}", **activation(act, where)})
    return out


def scalar_mlp(module, where):
    """The layers of a nequip `ScalarMLPFunction`: weight names, α, and the activation."""
    import torch

    layers, activations = [], set()
    for name, child in module.mlp.named_children():
        kind = type(child).__name__
        if kind == "ScalarLinearLayer":
            if child.bias is not None:
                raise Unsupported(f"{where}.mlp.{name}: biases are not supported")
            layers.append({"weight": f"{where}.mlp.{name}.weight", "alpha": float(child.alpha)})
        elif isinstance(child, torch.nn.SiLU):
            activations.add("silu")
        else:
            raise Unsupported(f"{where}.mlp.{name}: {kind} (supported: linear layers and SiLU)")
    if len(layers) > 1 and activations != {"silu"}:
        raise Unsupported(f"{where}: an MLP without SiLU between its layers")
    return layers


def gate(module, where):
    kind = type(module).__name__
    if kind != "Gate":
        raise Unsupported(f"{where}: nonlinearity {kind} (only the gate is supported)")
    cut = module.sc.cut
    blocks = [str(ir) for ir in cut.irreps_in]
    return {
        "irreps_in": "+".join(blocks),
        "extract": [list(map(int, i)) for i in cut.instructions],
        "scalars": block_activations(module.act_scalars, f"{where}.act_scalars"),
        "gates": block_activations(module.act_gates, f"{where}.act_gates"),
        "irreps_out": str(module.irreps_out),
    }


def per_type(tensor, n, where):
    values = [float(v) for v in tensor.detach().reshape(-1)]
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise Unsupported(f"{where}: {len(values)} values for {n} types")
    return values


def layer_metadata(name, layer, n_types):
    conv = layer.conv
    where = f"model.func.{name}"
    return {
        "name": name,
        "features_in": str(conv.irreps_in["node_features"]),
        "conv_out": str(conv.linear_2.irreps_out),
        "tp_out": str(conv.tp_scatter.tp.irreps_out),
        "use_sc": conv.sc is not None,
        "resnet": bool(layer.resnet),
        "feature_norm": per_type(
            conv.avg_num_neighbors_norm.norm_const, n_types, f"{where}.avg_num_neighbors_norm"
        ),
        "edge_mlp": scalar_mlp(conv.edge_mlp, f"{where}.conv.edge_mlp"),
        "gate": gate(layer.equivariant_nonlin, f"{where}.equivariant_nonlin"),
    }


def common_metadata(model_config):
    """What every architecture's metadata holds: format, versions, types, r_max."""
    import ase.data
    import e3nn
    import nequip
    import torch

    name, architecture = MODELS[model_config["_target_"]]
    type_names = list(model_config["type_names"])
    try:
        numbers = [ase.data.atomic_numbers[t] for t in type_names]
    except KeyError as e:
        raise Unsupported(f"type name {e} is not an element symbol") from e
    return {
        "format": f"mlmd-{architecture}",
        "format_version": FORMAT_VERSION,
        "model_class": name,
        "dtype": str(model_config.get("model_dtype", "float32")),
        "versions": {"nequip": nequip.__version__, "e3nn": e3nn.__version__,
                     "torch": torch.__version__},
        "w3j_convention": "e3nn-0.5",
        "type_names": type_names,
        "atomic_numbers": numbers,
        "r_max": float(model_config["r_max"]),
    }


def scales_and_shifts(module, n):
    scales = getattr(module, "scales", None)
    shifts = getattr(module, "shifts", None)
    return {
        "per_type_scales": per_type(scales, n, "scales") if scales is not None else [1.0] * n,
        "per_type_shifts": per_type(shifts, n, "shifts") if shifts is not None else [0.0] * n,
    }


def metadata(model, model_config):
    if MODELS[model_config["_target_"]][1] == "allegro":
        return allegro_metadata(model, model_config)
    return nequip_metadata(model, model_config)


def nequip_metadata(model, model_config):
    func = model.model.func
    children = dict(func.named_children())
    expected = {"type_embed", "spharm", "edge_norm", "bessel_encode", "per_atom_energy_readout",
                "per_type_energy_scale_shift", "total_energy_sum", "factor", "pair_potential"}
    layers = [k for k in children if k.startswith("layer") and k.endswith("_convnet")]
    unknown = sorted(set(children) - expected - set(layers))
    if unknown:
        raise Unsupported(f"modules {unknown} are not supported")
    common = common_metadata(model_config)
    n = len(common["type_names"])
    bessel = func.bessel_encode
    if getattr(func.edge_norm, "_per_edge_type", False):
        raise Unsupported("per-edge-type cutoffs are not supported")
    factor = float(func.factor.factor) if "factor" in children else 1.0
    r_max = float(model_config["r_max"])
    readout = func.per_atom_energy_readout
    return {
        **common,
        "sh_irreps": str(func.spharm.irreps_out["edge_attrs"]),
        "radial": {
            "num_bessel": int(bessel.num_bessels),
            "polynomial_p": float(bessel.cutoff.p),
            "prefactor": factor * r_max / math.pi,
        },
        "embedding_irreps": str(func.type_embed.irreps_out["node_features"]),
        "layers": [layer_metadata(k, children[k], n) for k in layers],
        "readout": scalar_mlp(readout.mlp_module if hasattr(readout, "mlp_module") else readout,
                              "model.func.per_atom_energy_readout.mlp_module"),
        **scales_and_shifts(func.per_type_energy_scale_shift, n),
        "zbl": zbl(children.get("pair_potential"), common["atomic_numbers"]),
    }


def linear_layers(module, where):
    """A ScalarMLPFunction that must be linear (one layer)."""
    layers = scalar_mlp(module, where)
    if len(layers) != 1:
        raise Unsupported(f"{where}: expected one linear layer, found {len(layers)}")
    return layers


def allegro_metadata(model, model_config):
    func = model.model.func
    children = dict(func.named_children())
    expected = {"edge_norm", "radial_chemical_embed", "scalar_embed_mlp", "tensor_embed",
                "allegro", "edge_readout", "edge_eng_sum", "per_type_energy_scale_shift",
                "total_energy_sum"}
    unknown = sorted(set(children) - expected)
    if unknown:
        raise Unsupported(f"modules {unknown} are not supported (e.g. pair potentials)")
    if getattr(func.edge_norm, "_per_edge_type", False):
        raise Unsupported("per-edge-type cutoffs are not supported")
    common = common_metadata(model_config)
    n, r_max = len(common["type_names"]), common["r_max"]
    embed = func.radial_chemical_embed
    parts = dict(embed.named_children())
    if set(parts) != {"bessel_encode", "type_embed"}:
        raise Unsupported(f"radial_chemical_embed {sorted(parts)}: only TwoBodyBesselScalarEmbed")
    allegro = func.allegro
    for weighter in (func.tensor_embed._edge_weighter, allegro._env_weighter):
        if not weighter.weight_individual_irreps or weighter.alpha != 1.0:
            raise Unsupported("weight_individual_irreps = False is not supported")
    layers = []
    for k, (tp, latent) in enumerate(zip(allegro.tps, allegro.latents)):
        if not tp.path_channel_coupling or tp.num_paths < 2:
            raise Unsupported(f"allegro.tps.{k}: needs path-channel coupling and 2+ paths")
        layers.append({
            "irreps_in1": str(tp.irreps_in1),
            "irreps_in2": str(tp.irreps_in2),
            "irreps_out": str(tp.irreps_out),
            "diagonal": bool(tp.w3j_is_ij_diagonal),
            "latent": scalar_mlp(latent, f"model.func.allegro.latents.{k}"),
        })
    bessel = embed.bessel_encode
    return {
        **common,
        "sh_irreps": str(func.tensor_embed.irreps_out["edge_attrs"]),
        "radial": {
            "num_bessel": int(bessel.num_bessels),
            "polynomial_p": float(bessel.cutoff.p),
            "prefactor": r_max / math.pi,
        },
        "num_scalar_features": int(allegro.num_scalar_features),
        "num_tensor_features": int(allegro.num_tensor_features),
        "basis_linear": linear_layers(
            embed.type_embed.basis_linear, "model.func.radial_chemical_embed.type_embed.basis_linear"
        ),
        "scalar_embed_mlp": scalar_mlp(func.scalar_embed_mlp.mlp_module,
                                       "model.func.scalar_embed_mlp.mlp_module"),
        "tensor_embed_linear": linear_layers(func.tensor_embed.env_embed_linear,
                                             "model.func.tensor_embed.env_embed_linear"),
        "first_projection": linear_layers(allegro.first_layer_env_embed_projection,
                                          "model.func.allegro.first_layer_env_embed_projection"),
        "env_norm": per_type(allegro.avg_num_neighbors_norm.norm_const, n, "allegro norm"),
        "layers": layers,
        "readout": scalar_mlp(func.edge_readout.mlp_module, "model.func.edge_readout.mlp_module"),
        "edge_sum_norm": [v / math.sqrt(2.0) for v in per_type(
            func.edge_eng_sum.norm_module.norm_const, n, "edge_eng_sum norm")],
        **scales_and_shifts(func.per_type_energy_scale_shift, n),
    }


def zbl(module, numbers):
    """nequip's ZBL pair term: its cutoff exponent and energy factor (half of e²/(4πε₀) in the
    model's units), or None."""
    if module is None:
        return None
    kind = type(module).__name__
    if kind != "ZBL":
        raise Unsupported(f"pair potential {kind}: only ZBL is supported")
    own = [int(z) for z in module.atomic_numbers.tolist()]
    if own != numbers:
        raise Unsupported(f"ZBL's atomic numbers {own} differ from the type names' {numbers}")
    return {"polynomial_p": float(module.cutoff.p), "energy_factor": float(module._qqr2exesquare)}


def tensors(model):
    """Parameters and persistent buffers under nequip's names, in float64."""
    out = {}
    for name, value in model.state_dict().items():
        if "._compiled_main" in name:  # e3nn's generated code: Wigner-3j constants
            continue
        out[name] = value.detach().to("cpu").double().contiguous()
    for name in list(out):
        if name.endswith("bessel_encode.bessel_weights"):
            out[name] = out[name].reshape(-1).contiguous()
    return out


def export(source, target):
    from safetensors.torch import save_file

    model, model_config = rebuild(source)
    meta = metadata(model, model_config)
    if meta["dtype"] not in ("float32", "float64"):
        raise Unsupported(f"model_dtype {meta['dtype']}")
    key = meta["format"].removeprefix("mlmd-")
    save_file(
        tensors(model),
        str(target),
        metadata={"format": meta["format"], "format_version": str(FORMAT_VERSION),
                  key: json.dumps(meta)},
    )
    return model, meta


def check(model, meta, structures, target, mlmd):
    import ase.io
    import numpy as np

    frames = ase.io.read(structures, ":")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "input.toml").write_text(
            f'[structure]\nfile = "{pathlib.Path(structures).resolve()}"\n\n[potential]\n'
            f'type = "{meta["format"].removeprefix("mlmd-")}"\n'
            f'model = "{pathlib.Path(target).resolve()}"\ndtype = "float64"\n\n'
            '[integrator]\ntype = "velocity-verlet"\ntimestep = 0.5\n\n[run]\nsteps = 0\n'
        )
        report = tmp / "eval.json"
        subprocess.run([mlmd, "eval", str(tmp / "input.toml"), "--structure", structures,
                        "--json", str(report)], check=True)
        ours = json.loads(report.read_text())["frames"]
    worst_e = worst_f = 0.0
    for atoms, frame in zip(frames, ours):
        energy, forces = evaluate(model, atoms, meta["type_names"])
        worst_e = max(worst_e, abs(energy - frame["energy"]))
        worst_f = max(worst_f, float(np.abs(forces - np.array(frame["forces"])).max()))
    print(f"{len(frames)} structures: max |ΔE| = {worst_e:.2e} eV, max |ΔF| = {worst_f:.2e} eV/Å")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", help=".nequip.zip package or .ckpt checkpoint")
    parser.add_argument("output", help="mlmd model file to write (.safetensors)")
    parser.add_argument("--check", metavar="STRUCTURES", help="extended XYZ file to compare on")
    parser.add_argument("--mlmd", default="mlmd", help="mlmd binary for --check")
    args = parser.parse_args()
    if os.path.abspath(args.input) == os.path.abspath(args.output):
        sys.exit("error: the output would overwrite the input")
    try:
        model, meta = export(args.input, args.output)
    except Unsupported as error:
        sys.exit(f"error: {args.input}: {error}")
    print(f"wrote {args.output}: {meta['model_class']}, {len(meta['layers'])} layers, "
          f"types {' '.join(meta['type_names'])}, r_max {meta['r_max']} Å")
    if args.check:
        check(model, meta, args.check, args.output, args.mlmd)


if __name__ == "__main__":
    main()
