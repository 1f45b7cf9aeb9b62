#!/usr/bin/env bash
# NequIP and Allegro on CPU: nequip's ASE calculator and mlmd on the same models and structure,
# in one go; prints steps/s, ns/day at 1 fs, µs/atom/step, peak memory and the mlmd/nequip
# speed ratio.
#
# The models are a NequIPGNNModel (l_max 2, 4 layers, 64 features, r_max 5 Å, radial MLP
# 2 x 64) and an AllegroModel (l_max 2, 2 layers, 64 scalar and 16 tensor features, r_max 5 Å)
# with their random initial weights, made genuine checkpoints by benches/nequip_bench.py (one
# nequip-train step each) and exported by scripts/export_nequip.py; the structure is diamond
# silicon, 1,000 atoms (28 neighbours within 5 Å). Both codes run
# velocity Verlet at 1 fs after one untimed force evaluation, on the same number of threads.
#
# Needs: a Python with pip install -r scripts/requirements-nequip.txt (PYTHON, default python3;
#        nequip-allegro included)
# Usage: benches/compare_nequip.sh [steps] [threads] [dtypes]
#        defaults: 3 steps, all cores, "float32 float64" (nequip runs the model's float32).
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-3}
threads=${2:-$(nproc)}
dtypes=${3:-float32 float64}
python=${PYTHON:-python3}
"$python" -c "import nequip" 2>/dev/null || {
    echo "nequip not found: pip install -r scripts/requirements-nequip.txt (or set PYTHON)" >&2
    exit 1
}
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=$threads PYTHONWARNINGS=ignore
"$python" benches/nequip_bench.py make "$work" >/dev/null 2>&1
structure="$work/si-1000.extxyz"
printf '%-6s %-8s %-8s %-8s %9s %9s %14s %9s %7s\n' \
    atoms model dtype code steps/s ns/day us/atom/step peak_MiB ratio
for model in nequip allegro; do
    "$python" scripts/export_nequip.py "$work/$model.ckpt" "$work/$model.safetensors" \
        >/dev/null 2>&1
    torch_json=$("$python" benches/nequip_bench.py time "$work/$model.ckpt" "$structure" \
        "$steps" 2>/dev/null | tail -1)
    "$python" - "$torch_json" "$model" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"{r['atoms']:<6} {sys.argv[2]:<8} {'float32':<8} {'nequip':<8} {r['steps_per_s']:9.4f} "
      f"{r['ns_per_day']:9.5f} {1e6 / r['atom_steps_per_s']:14.1f} {r['peak_memory_mib']:9.0f}")
PY
    for dtype in $dtypes; do
        input="$work/mlmd-$model-$dtype.toml"
        cat >"$input" <<TOML
[structure]
file = "$structure"

[potential]
type = "$model"
model = "$work/$model.safetensors"
dtype = "$dtype"

[integrator]
type = "velocity-verlet"
timestep = 1.0

[velocities]
temperature = 300.0
seed = 1

[run]
steps = $steps
TOML
        mlmd_json=$(./target/release/mlmd bench --input "$input" --steps "$steps" \
            --threads "$threads")
        "$python" - "$torch_json" "$mlmd_json" "$model" "$dtype" <<'PY'
import json, sys
torch, ours = json.loads(sys.argv[1]), json.loads(sys.argv[2])
ratio = ours["steps_per_s"] / torch["steps_per_s"]
us = 1e6 / ours["atom_steps_per_s"]
print(f"{ours['atoms']:<6} {sys.argv[3]:<8} {sys.argv[4]:<8} {'mlmd':<8} "
      f"{ours['steps_per_s']:9.4f} {ours['ns_per_day']:9.5f} {us:14.1f} "
      f"{ours['peak_memory_mib']:9.0f} {ratio:7.2f}")
PY
    done
done
