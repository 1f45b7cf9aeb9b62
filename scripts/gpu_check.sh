#!/usr/bin/env bash
# MACE and NequIP on a CUDA GPU in one run (at most ~8 minutes on an H200): parity of `mlmd eval` on CUDA
# (fast path f64 and f32, reference path f32) with mace-torch on the four MACE fixtures and with
# nequip on the three NequIP fixtures (fast path f64 and f32), then
# `mlmd bench` on CUDA and on the CPU path of the same machine (f32/f64; 1,000, 9,680, 100,000
# and 1,000,000 atoms where they fit), with µs/atom/step and peak host and GPU memory.
# scripts/gpu_check.py says what each part checks.
#
# Usage: scripts/gpu_check.sh [MLMD_BINARY] [MODEL.safetensors]
#   MLMD_BINARY: an mlmd built with `--features cuda`; without it, this script builds one (needs
#   cargo; on a GPU machine without Rust, build here with
#   `cargo build --release --features cuda` and carry target/release/mlmd).
#   MODEL: MACE-MP-0-medium shapes for the speed part, e.g. made with
#   `python3 benches/mace_torch_bench.py make DIR` and `scripts/export_mace.py`; without it the
#   speed part is skipped.
# Needs: python3 with numpy, nvidia-smi, the CUDA driver and NVRTC (cudarc loads them at run time).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
if [ -z "$bin" ]; then
    cargo build --release --features cuda --bin mlmd
    bin=target/release/mlmd
fi
# burn's CUDA backend opens libcuda and libnvrtc by name: put their folders on the search path.
for lib in libcuda.so libnvrtc.so; do
    if ! ldconfig -p | grep -q "$lib"; then
        found=$(find /usr/local /usr/lib /opt -name "$lib*" 2>/dev/null | head -1 || true)
        [ -n "$found" ] && export LD_LIBRARY_PATH="$(dirname "$found")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
        [ -n "$found" ] || echo "warning: $lib not found" >&2
    fi
done
export PYTHONUNBUFFERED=1
exec python3 scripts/gpu_check.py "$bin" ${2:+--model "$2"} ${GPU_CHECK_ARGS:-} --threads "$(nproc)" --budget "${GPU_CHECK_BUDGET:-450}"
