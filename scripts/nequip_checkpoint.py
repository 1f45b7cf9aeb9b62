"""A genuine nequip training checkpoint for a model architecture and given weights, without a
real training run: nequip-train runs one step at a tiny learning rate on frames labelled by the
model itself, then the checkpoint's model weights are replaced by the given ones. Used to make
test and benchmark models (tests/data/nequip/make_nequip_small.py, benches/nequip_bench.py);
needs the environment of scripts/requirements-nequip.txt.
"""
import glob
import json
import pathlib
import subprocess
import sys

CONFIG = """
run: [train]
seed: 0
cutoff_radius: {r_max}
model_type_names: {type_names}
chemical_species: ${{model_type_names}}
dataloader:
  _target_: torch.utils.data.DataLoader
  batch_size: 2
data:
  _target_: nequip.data.datamodule.NequIPDataModule
  seed: ${{seed}}
  split_dataset:
    dataset:
      _target_: nequip.data.dataset.ASEDataset
      file_path: {data}
      transforms:
        - _target_: nequip.data.transforms.ChemicalSpeciesToAtomTypeMapper
          model_type_names: ${{model_type_names}}
          chemical_species_to_atom_type_map: ${{list_to_identity_dict:${{chemical_species}}}}
        - _target_: nequip.data.transforms.NeighborListTransform
          r_max: ${{cutoff_radius}}
    train: {train}
    val: {val}
  train_dataloader: ${{dataloader}}
  val_dataloader: ${{dataloader}}
trainer:
  _target_: lightning.Trainer
  max_steps: 1
  logger: false
  enable_progress_bar: false
  callbacks:
    - _target_: lightning.pytorch.callbacks.ModelCheckpoint
      dirpath: ${{hydra:runtime.output_dir}}
      filename: last
training_module:
  _target_: nequip.train.NequIPLightningModule
  loss:
    _target_: nequip.train.EnergyForceLoss
    per_atom_energy: true
    coeffs:
      total_energy: 1.0
      forces: 1.0
  val_metrics:
    _target_: nequip.train.EnergyForceMetrics
    coeffs:
      total_energy_mae: 1.0
      forces_mae: 1.0
  optimizer:
    _target_: torch.optim.Adam
    lr: 1.0e-6
  model:
{model}
"""


def tool(name):
    """A command-line tool of the running Python environment."""
    return str(pathlib.Path(sys.executable).parent / name)


def label(model, frames, type_names):
    """`frames` with the energies and forces of `model` (nequip's ASE calculator)."""
    from ase.calculators.singlepoint import SinglePointCalculator
    from export_nequip import evaluate

    out = []
    for atoms in frames:
        atoms = atoms.copy()
        energy, forces = evaluate(model, atoms, type_names)
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
        out.append(atoms)
    return out


def make_checkpoint(model_config, model, frames, work, out):
    """Writes `out`: a nequip-train checkpoint of the model `model_config` (the training
    config's `training_module.model`, `_target_` included) holding `model`'s weights. `frames`
    (at least 3, labelled by `label`) are the training data; `work` is a scratch folder that
    must outlive packaging (nequip-package reads an example frame from the data)."""
    import ase.io
    import torch

    work = pathlib.Path(work)
    data = work / "frames.extxyz"
    ase.io.write(data, frames)
    block = "\n".join(f"    {key}: {json.dumps(value)}" for key, value in model_config.items())
    config = CONFIG.format(
        r_max=model_config["r_max"],
        type_names=json.dumps(model_config["type_names"]),
        data=data,
        train=len(frames) - 1,
        val=1,
        model=block,
    )
    (work / "train.yaml").write_text(config)
    subprocess.run(
        [tool("nequip-train"), "-cp", str(work), "-cn", "train", f"hydra.run.dir={work / 'run'}"],
        check=True,
        cwd=work,
    )
    [trained] = glob.glob(str(work / "run" / "last*.ckpt"))
    checkpoint = torch.load(trained, map_location="cpu", weights_only=False)
    weights = model.state_dict()
    state = checkpoint["state_dict"]
    prefix = "model.sole_model."
    keys = [k for k in state if k.startswith(prefix)]
    if sorted(k[len(prefix):] for k in keys) != sorted(weights):
        sys.exit(f"checkpoint keys under {prefix} do not match the model's state dict")
    for key in keys:
        state[key] = weights[key[len(prefix):]].clone()
    torch.save(checkpoint, out)
    return out


def package(checkpoint, out):
    """`nequip-package build checkpoint out`."""
    subprocess.run([tool("nequip-package"), "build", str(checkpoint), str(out)], check=True)
