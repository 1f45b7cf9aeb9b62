#!/usr/bin/env bash
# LJ-melt in LAMMPS and in mlmd, 1 and 2 cores, two systems, in one go; prints mlmd/LAMMPS
# speed ratios.
#
# LAMMPS runs its classic bench/in.lj (tests/data/in.lj: 32,000 atoms, fcc, T* = 1.44, NVE) in
# reduced units; `mlmd bench` runs the same system in metal units with argon's epsilon, sigma and
# mass. Two systems: LAMMPS' own (rho* = 0.8442, rc = 2.5 sigma, skin 0.3 sigma) and a second one
# at another density and cutoff (rho* = 0.6, rc = 3.5 sigma, skin 0.3 sigma: about twice the
# pairs per atom), so that the comparison is not tuned to one input. Debian's LAMMPS has no
# OpenMP package, so its 2-core run uses 2 MPI ranks; mlmd uses 2 rayon threads. LAMMPS runs
# twice per system: with bench/in.lj's neighbor settings (rebuild every 20 steps, unchecked) and
# with `neigh_modify every 1 check yes` (rebuild when an atom moved half the skin, as mlmd
# does); the ratios are against each.
#
# Needs: apt-get install -y lammps   (binary `lmp`, with mpirun)
# Usage: benches/compare_lammps.sh [steps]      (default 300: runs of 100 steps last half a
# second at 32,000 atoms and are noisy)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-300}
command -v lmp >/dev/null || { echo "LAMMPS not found: apt-get install -y lammps" >&2; exit 1; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
atoms=32000

lammps_rate() { # cores every check rho rc -> atom-steps/s
    local cores=$1 log="$work/lammps.log"
    local args=(-in tests/data/in.lj -var nsteps "$steps" -var every "$2" -var check "$3"
        -var rho "$4" -var rc "$5" -log "$log" -screen none)
    if [ "$cores" = 1 ]; then
        lmp "${args[@]}"
    else
        mpirun --allow-run-as-root --oversubscribe -np "$cores" lmp "${args[@]}"
    fi
    awk -v n="$atoms" -v s="$steps" '/^Loop time of/ { printf "%.6g", n * s / $4 }' "$log"
}

mlmd_rate() { # threads rho rc -> atom-steps/s
    ./target/release/mlmd bench --steps "$steps" --threads "$1" --density "$2" --cutoff "$3" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["atom_steps_per_s"])'
}

printf '%-22s %-6s %20s %8s %20s %8s %18s\n' system cores "LAMMPS every 20 no" ratio \
    "LAMMPS every 1 yes" ratio "mlmd atom-step/s"
for system in "0.8442 2.5" "0.6 3.5"; do
    read -r rho rc <<<"$system"
    for cores in 1 2; do
        fixed=$(lammps_rate "$cores" 20 no "$rho" "$rc")
        checked=$(lammps_rate "$cores" 1 yes "$rho" "$rc")
        ours=$(mlmd_rate "$cores" "$rho" "$rc")
        ratios=$(python3 -c "print(f'{$ours / $fixed:.3f} {$ours / $checked:.3f}')")
        printf '%-22s %-6s %20.4g %8s %20.4g %8s %18.4g\n' "rho*=$rho rc=$rc" "$cores" \
            "$fixed" "${ratios% *}" "$checked" "${ratios#* }" "$ours"
    done
done
