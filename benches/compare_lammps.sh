#!/usr/bin/env bash
# LJ-melt in LAMMPS and in mlmd, 1 and 2 cores, in one go; prints mlmd/LAMMPS speed ratios.
#
# LAMMPS runs its classic bench/in.lj (tests/data/in.lj: 32,000 atoms, fcc at rho* = 0.8442,
# rc = 2.5 sigma, skin 0.3 sigma, NVE, 100 steps) in reduced units; `mlmd bench` runs the same
# system in metal units with argon's epsilon, sigma and mass. Debian's LAMMPS has no OpenMP
# package, so its 2-core run uses 2 MPI ranks; mlmd uses 2 rayon threads.
#
# Needs: apt-get install -y lammps   (binary `lmp`, with mpirun)
# Usage: benches/compare_lammps.sh [steps]      (default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-100}
command -v lmp >/dev/null || { echo "LAMMPS not found: apt-get install -y lammps" >&2; exit 1; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
atoms=32000

lammps_rate() { # cores -> atom-steps/s
    local cores=$1 log="$work/lammps-$1.log"
    if [ "$cores" = 1 ]; then
        lmp -in tests/data/in.lj -var nsteps "$steps" -log "$log" -screen none
    else
        mpirun --allow-run-as-root --oversubscribe -np "$cores" \
            lmp -in tests/data/in.lj -var nsteps "$steps" -log "$log" -screen none
    fi
    awk -v n="$atoms" -v s="$steps" '/^Loop time of/ { printf "%.6g", n * s / $4 }' "$log"
}

mlmd_rate() { # threads -> atom-steps/s
    ./target/release/mlmd bench --steps "$steps" --threads "$1" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["atom_steps_per_s"])'
}

printf '%-6s %18s %18s %8s\n' cores "LAMMPS atom-step/s" "mlmd atom-step/s" ratio
for cores in 1 2; do
    lammps=$(lammps_rate "$cores")
    ours=$(mlmd_rate "$cores")
    ratio=$(python3 -c "print(f'{$ours / $lammps:.3f}')")
    printf '%-6s %18.4g %18.4g %8s\n' "$cores" "$lammps" "$ours" "$ratio"
done
