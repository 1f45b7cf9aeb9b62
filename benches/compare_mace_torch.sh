#!/usr/bin/env bash
# MACE on CPU: mace-torch (ASE calculator) and mlmd on the same model and structures, in one go;
# prints steps/s, ns/day at 1 fs, µs/atom/step, peak memory and the mlmd/mace-torch speed ratio.
#
# The model has MACE-MP-0 medium's shapes (128x0e+128x1o, max_ell 3, correlation 3, r_max 6 Å,
# 2 interactions, 89 elements, radial MLP [64, 64, 64]) with mace-torch's random initial
# weights; benches/mace_torch_bench.py builds it and the structures (diamond Si, ~45 neighbours
# within 6 Å). Both codes run velocity Verlet at 1 fs after one untimed force evaluation, on the
# same number of threads.
#
# Needs: pip install -r scripts/requirements.txt
# Usage: benches/compare_mace_torch.sh [steps] [threads] [sizes] [dtypes]
#        defaults: 3 steps, all cores, "1000", "float32 float64"; sizes from 1000, 9680, 100000.
# mace-torch runs only up to TORCH_MAX_ATOMS atoms (default 1000: it needs ~5 MB/atom in f32,
# ~9 MB/atom in f64); larger sizes time mlmd alone.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-3}
torch_max=${TORCH_MAX_ATOMS:-1000}
threads=${2:-$(nproc)}
sizes=${3:-1000}
dtypes=${4:-float32 float64}
python3 -c "import mace" 2>/dev/null || {
    echo "mace-torch not found: pip install -r scripts/requirements.txt" >&2
    exit 1
}
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=$threads TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 PYTHONWARNINGS=ignore
python3 benches/mace_torch_bench.py make "$work" 2>/dev/null
python3 scripts/export_mace.py "$work/mp0-medium.model" "$work/mp0-medium.safetensors" \
    2>/dev/null >/dev/null

printf '%-6s %-8s %-11s %9s %9s %14s %9s %7s\n' \
    atoms dtype code steps/s ns/day us/atom/step peak_MiB ratio
for size in $sizes; do
    structure="$work/si-$size.extxyz"
    for dtype in $dtypes; do
        input="$work/mlmd-$size-$dtype.toml"
        cat >"$input" <<TOML
[structure]
file = "$structure"

[potential]
type = "mace"
model = "$work/mp0-medium.safetensors"
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
        torch_json=null
        if [ "$size" -le "$torch_max" ]; then
            torch_json=$(python3 benches/mace_torch_bench.py time "$work/mp0-medium.model" \
                "$structure" "$dtype" "$steps" 2>/dev/null | tail -1)
        fi
        mlmd_json=$(./target/release/mlmd bench --input "$input" --steps "$steps" \
            --threads "$threads")
        python3 - "$torch_json" "$mlmd_json" "$size" "$dtype" <<'PY'
import json, sys
torch, ours = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rows = [("mlmd", ours, "")]
if torch is not None:
    ratio = ours["steps_per_s"] / torch["steps_per_s"]
    rows = [("mace-torch", torch, ""), ("mlmd", ours, f"{ratio:7.2f}")]
for code, r, extra in rows:
    us = 1e6 / r["atom_steps_per_s"]
    print(f"{sys.argv[3]:<6} {sys.argv[4]:<8} {code:<11} {r['steps_per_s']:9.4f} "
          f"{r['ns_per_day']:9.5f} {us:14.1f} "
          f"{r['peak_memory_mib']:9.0f} {extra}")
PY
    done
done
