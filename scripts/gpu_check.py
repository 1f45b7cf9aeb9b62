"""MACE and NequIP on a CUDA GPU: parity with mace-torch and nequip, and MACE speed/memory, in
one run (driven by gpu_check.sh).

    python3 scripts/gpu_check.py MLMD [--model MP0.safetensors] [--threads N]

1. Parity: `mlmd eval` with `device = "cuda"` on the four MACE fixtures of tests/data/mace
   against mace-torch's float64 references: the fast path (edge work in CUDA kernels) in float64
   with tests/mace.rs' float64 contract (|ΔE| ≤ 1e-9 eV, |ΔF| ≤ 1e-8 eV/Å, |Δσ| ≤ 1e-9 eV/Å³,
   per-atom energies ≤ 1e-9 eV) and in float32 with its float32 contract (energies within 1e-4
   relative, forces within 1e-4 of the largest force); the reference path (burn's CUDA backend,
   float32 only, TF32 matrix products) is reported beside them, not checked. The same for the
   three NequIP fixtures of tests/data/nequip against nequip's references (fast path only). The
   worst differences are printed.
2. Speed and memory: `mlmd bench --input` on diamond Si (1,000 to 1,000,000 atoms) with a
   MACE-MP-0-medium-shaped model (benches/mace_torch_bench.py make, scripts/export_mace.py):
   µs/atom/step, peak host memory (mlmd's report) and peak GPU memory (nvidia-smi, sampled every
   0.1 s), on the GPU and, beside it, on the CPU path of the same machine.
3. Threads: the CPU fast path on 1,000 atoms from one thread to all cores (`--scaling-only` runs
   this part alone).
Every run has a time limit so that the whole check fits its budget; a run that fails or runs out
of time is reported and the check goes on. Exit status 1 when a parity check fails.
"""
import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "mace"
# (potential type, model name under tests/data/<type>/, per-atom energy key of its reference)
MODELS = [("mace", m, "node_energy")
          for m in ["mace_small_a", "mace_small_b", "mace_reduced_cg", "mace_plain_f32"]]
MODELS += [("nequip", m, "energies") for m in ["nequip_small", "nequip_zbl", "nequip_variant"]]
LIMITS = ("energy", "forces", "stress", "energies")


def input_text(structure, model, dtype, device, mode, steps, kind="mace"):
    return (
        f'[structure]\nfile = "{structure}"\n\n'
        f'[potential]\ntype = "{kind}"\nmodel = "{model}"\ndtype = "{dtype}"\n'
        f'device = "{device}"\nmode = "{mode}"\n\n'
        '[integrator]\ntype = "velocity-verlet"\ntimestep = 1.0\n\n'
        "[velocities]\ntemperature = 300.0\nseed = 1\n\n"
        f"[run]\nsteps = {steps}\n"
    )


class GpuMemory:
    """Peak GPU memory in MiB over a block, from `nvidia-smi` sampled every 0.1 s."""

    def __enter__(self):
        self.peak, self.stop = 0, threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def sample(self):
        query = ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"]
        while not self.stop.is_set():
            try:
                used = int(subprocess.run(query, capture_output=True, text=True).stdout.split()[0])
                self.peak = max(self.peak, used)
            except (OSError, ValueError, IndexError):
                return
            time.sleep(0.1)

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


DEADLINE = [float("inf")]  # time.time() at which the whole check must end (--budget)
GPU = ["cuda"]  # the device of the "GPU" runs (--device cpu smoke-tests this script)


def run(command, limit):
    """Runs `command` with a time limit, cut to what is left of the budget;
    (ok, seconds, stdout, stderr)."""
    start = time.time()
    limit = min(limit, DEADLINE[0] - start)
    if limit < 5:
        return False, 0.0, "", "skipped: out of time budget"
    try:
        p = subprocess.run(command, capture_output=True, text=True, timeout=limit)
        return p.returncode == 0, time.time() - start, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return False, time.time() - start, "", f"timed out after {limit} s"


def eval_frames(mlmd, work, model, dtype, limit, structures=DATA / "structures.extxyz",
                mode="fast"):
    """`mlmd eval` of `model` = (type, name, _) on the GPU."""
    kind, name, _ = model
    path = work / f"eval-{name}-{dtype}-{mode}.toml"
    file = ROOT / "tests" / "data" / kind / f"{name}.safetensors"
    path.write_text(input_text(structures, file, dtype, GPU[0], mode, 0, kind))
    out = work / f"eval-{name}-{dtype}-{mode}.json"
    ok, seconds, _, err = run([mlmd, "eval", str(path), "--structure", str(structures),
                               "--json", str(out)], limit)
    if not ok:
        lines = [line for line in err.splitlines() if "panicked" in line or "rror" in line]
        return None, seconds, lines[:3] or err.strip().splitlines()[-1:]
    return json.loads(out.read_text())["frames"], seconds, []


def frames_text():
    """(name, extended-XYZ text) of each reference structure, in file order."""
    lines = (DATA / "structures.extxyz").read_text().splitlines()
    out, i = [], 0
    while i < len(lines) and lines[i].strip():
        count = int(lines[i])
        name = next(kv[5:] for kv in lines[i + 1].split() if kv.startswith("name="))
        out.append((name, "\n".join(lines[i:i + count + 2]) + "\n"))
        i += count + 2
    return out


def worst(frames, reference, energies_key):
    """Largest |difference| per quantity over the structures, and the largest |force|."""
    diff = dict.fromkeys(LIMITS, 0.0)
    force_scale = 0.0
    for frame, (name, _) in zip(frames, frames_text()):
        r = reference["structures"][name]
        pairs = {"energy": (frame["energy"], r["energy"]), "forces": (frame["forces"], r["forces"]),
                 "energies": (frame["energies"], r[energies_key])}
        if all(r["pbc"]):
            pairs["stress"] = (frame["stress"], r["stress"])
        for key, (a, b) in pairs.items():
            diff[key] = max(diff[key], float(np.max(np.abs(np.subtract(a, b)))))
        force_scale = max(force_scale, float(np.max(np.abs(r["forces"]))))
    return diff, force_scale


def float64_ok(diff):
    """tests/mace.rs' float64 contract."""
    limits = {"energy": 1e-9, "forces": 1e-8, "stress": 1e-9, "energies": 1e-9}
    return all(diff[k] <= limits[k] for k in LIMITS)


def float32_ok(frames, reference):
    """tests/mace.rs' float32 contract: energies within 1e-4 relative, forces within 1e-4 of
    the largest force (at least 1 eV/Å)."""
    for frame, (name, _) in zip(frames, frames_text()):
        r = reference["structures"][name]
        if abs(frame["energy"] - r["energy"]) > 1e-4 * abs(r["energy"]):
            return False
        fr = np.array(r["forces"])
        if np.max(np.abs(np.array(frame["forces"]) - fr)) > 1e-4 * max(np.max(np.abs(fr)), 1.0):
            return False
    return True


def each_structure(mlmd, work, model, dtype, mode):
    """After a failed evaluation: which structures fail on their own."""
    for name, text in frames_text():
        path = work / f"{name}.extxyz"
        path.write_text(text)
        frames, seconds, err = eval_frames(mlmd, work, model, dtype, 60, path, mode)
        print(f"    {name:20} {'ok' if frames else 'FAILED'} ({seconds:.0f} s) {err}")


def parity(mlmd, work):
    print(f"== parity: mlmd eval on {GPU[0]} vs mace-torch / nequip (float64), tests/data")
    failed = False
    for model in MODELS:
        kind, name, energies_key = model
        folder = ROOT / "tests" / "data" / kind
        reference = json.loads((folder / f"{name}__reference.json").read_text())
        modes = [("float64", "fast"), ("float32", "fast")]
        if kind == "mace":
            modes.append(("float32", "reference"))
        for dtype, mode in modes:
            frames, seconds, err = eval_frames(mlmd, work, model, dtype, 180, mode=mode)
            label = f"{name:16} {mode:9} {dtype:7}"
            checked = mode == "fast"
            if frames is None:
                print(f"{label} FAILED ({seconds:.0f} s): {err}")
                each_structure(mlmd, work, model, dtype, mode)
                failed |= checked
                continue
            diff, scale = worst(frames, reference, energies_key)
            ok = float64_ok(diff) if dtype == "float64" else float32_ok(frames, reference)
            failed |= checked and not ok
            verdict = ("ok" if ok else "FAILED") if checked else "(not checked)"
            detail = " ".join(f"{k}={v:.1e}" for k, v in diff.items())
            print(f"{label} {verdict} ({seconds:.0f} s) worst |Δ| {detail}"
                  f" (largest |F| {scale:.2f} eV/Å)")
    return failed


def diamond_si(cells, path, seed=1):
    """Diamond Si (a = 5.43 Å), cells = (nx, ny, nz) cubic cells, rattled by 0.02 Å."""
    a = 5.43
    basis = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0],
                      [.25, .25, .25], [.25, .75, .75], [.75, .25, .75], [.75, .75, .25]])
    grid = np.stack(np.meshgrid(*[np.arange(n) for n in cells], indexing="ij"), -1).reshape(-1, 3)
    positions = ((grid[:, None, :] + basis[None]) * a).reshape(-1, 3)
    positions += np.random.default_rng(seed).normal(0, 0.02, positions.shape)
    lx, ly, lz = (a * n for n in cells)
    lines = [str(len(positions)),
             f'Lattice="{lx} 0 0 0 {ly} 0 0 0 {lz}" Properties=species:S:1:pos:R:3 pbc="T T T"']
    lines += [f"Si {x:.8f} {y:.8f} {z:.8f}" for x, y, z in positions]
    path.write_text("\n".join(lines) + "\n")
    return len(positions)


def bench(mlmd, work, model, threads, cpu):
    print("== speed: mlmd bench --input, MACE-MP-0-medium shapes, diamond Si, velocity Verlet")
    print(f"{'atoms':>7} {'dtype':8} {'device':6} {'mode':9} {'steps/s':>9} {'us/atom/step':>13} "
          f"{'host_MiB':>9} {'gpu_MiB':>8}")
    cases = [  # atoms cells, dtype, device, mode, steps, limit
        ((5, 5, 5), "float32", "cuda", "fast", 5, 60),
        ((5, 5, 5), "float64", "cuda", "fast", 5, 60),
        ((11, 11, 10), "float32", "cuda", "fast", 3, 60),
        ((11, 11, 10), "float64", "cuda", "fast", 3, 60),
        ((25, 25, 20), "float32", "cuda", "fast", 2, 90),
        ((50, 50, 50), "float32", "cuda", "fast", 1, 120),
        ((5, 5, 5), "float32", "cuda", "reference", 5, 60),
        ((5, 5, 5), "float32", "cpu", "fast", 5, 60),
        ((5, 5, 5), "float64", "cpu", "fast", 5, 60),
        ((11, 11, 10), "float32", "cpu", "fast", 3, 60),
        ((25, 25, 20), "float32", "cpu", "fast", 2, 120),
    ]
    for cells, dtype, device, mode, steps, limit in cases:
        if device == "cpu" and not cpu:
            continue
        device = GPU[0] if device == "cuda" else device
        structure = work / f"si-{'x'.join(map(str, cells))}.extxyz"
        atoms = diamond_si(cells, structure)
        path = work / f"bench-{atoms}-{dtype}-{device}.toml"
        path.write_text(input_text(structure, model, dtype, device, mode, steps))
        with GpuMemory() as gpu:
            ok, seconds, out, err = run([mlmd, "bench", "--input", str(path), "--steps",
                                         str(steps), "--threads", str(threads)], limit)
        if not ok:
            tail = (err.strip().splitlines() or ["failed"])[-1]
            print(f"{atoms:7} {dtype:8} {device:6} {mode:9} FAILED ({seconds:.0f} s): {tail}")
            continue
        r = json.loads(out)
        us = 1e6 / r["atom_steps_per_s"]
        print(f"{atoms:7} {dtype:8} {device:6} {mode:9} {r['steps_per_s']:9.3f} {us:13.1f} "
              f"{r['peak_memory_mib']:9.0f} {gpu.peak:8d}")


def scaling(mlmd, work, model, cores):
    """The CPU fast path on 1,000 atoms (f32) from one thread to all cores."""
    print("== threads: CPU fast path, 1,000 atoms, float32")
    print(f"{'threads':>7} {'steps/s':>9} {'us/atom/step':>13} {'speed-up':>9}")
    structure = work / "si-scaling.extxyz"
    diamond_si((5, 5, 5), structure)
    path = work / "scaling.toml"
    path.write_text(input_text(structure, model, "float32", "cpu", "fast", 3))
    threads, first = 1, None
    while threads <= cores:
        ok, seconds, out, err = run([mlmd, "bench", "--input", str(path), "--steps", "3",
                                     "--threads", str(threads)], 60)
        if not ok:
            print(f"{threads:7} FAILED ({seconds:.0f} s): {(err.strip().splitlines() or [''])[-1]}")
        else:
            r = json.loads(out)
            first = first or r["steps_per_s"]
            print(f"{threads:7} {r['steps_per_s']:9.3f} {1e6 / r['atom_steps_per_s']:13.1f} "
                  f"{r['steps_per_s'] / first:9.2f}")
        threads = threads * 2 if threads * 2 <= cores or threads == cores else cores


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mlmd", help="the mlmd binary, built with --features cuda")
    parser.add_argument("--model", help="MACE-MP-0-medium-shaped .safetensors for the speed part")
    parser.add_argument("--threads", type=int, default=16, help="threads of the CPU runs")
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU speed runs")
    parser.add_argument("--scaling-only", action="store_true",
                        help="only the CPU fast path's thread scaling (needs --model)")
    parser.add_argument("--budget", type=float, default=450, help="seconds for the whole check")
    parser.add_argument("--device", default="cuda",
                        help="device of the GPU runs; cpu smoke-tests the script without a GPU")
    args = parser.parse_args()
    DEADLINE[0] = time.time() + args.budget
    GPU[0] = args.device
    mlmd = str(Path(args.mlmd).resolve())
    try:
        subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                        "--format=csv,noheader"])
    except OSError:
        print("nvidia-smi not found: no GPU memory figures")
    with tempfile.TemporaryDirectory() as tmp:
        if args.scaling_only:
            scaling(mlmd, Path(tmp), Path(args.model).resolve(), args.threads)
            return
        failed = parity(mlmd, Path(tmp))
        if args.model:
            bench(mlmd, Path(tmp), Path(args.model).resolve(), args.threads, not args.no_cpu)
            if not args.no_cpu:
                scaling(mlmd, Path(tmp), Path(args.model).resolve(), args.threads)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
