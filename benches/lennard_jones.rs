//! One Lennard-Jones evaluation (energy, forces, virial) on fcc argon, cutoff 2.5σ:
//! ~1k and 32k atoms, on the spatial half list and on the full edge list.
//! Run: `cargo bench --bench lennard_jones`.
// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mlmd::bench::{fcc_argon, ARGON_EPSILON, ARGON_SIGMA};
use mlmd::neighbors::NeighborMethod;
use mlmd_potentials::{LennardJones, LennardJonesPair, Pairwise, Potential, Request};

fn evaluation(c: &mut Criterion) {
    let mut group = c.benchmark_group("lennard_jones");
    group.sample_size(20);
    let pair = LennardJonesPair {
        elements: [18, 18],
        epsilon: ARGON_EPSILON,
        sigma: ARGON_SIGMA,
    };
    let cutoff = 2.5 * ARGON_SIGMA;
    let mut lj =
        Pairwise::new(LennardJones::new(&[pair], cutoff, false).expect("valid parameters"));
    for cells in [6, 20] {
        let system = fcc_argon(cells, 0.8442, 100.0, 1);
        let radius = cutoff + 0.3 * ARGON_SIGMA;
        group.throughput(Throughput::Elements(system.len() as u64));
        // The engine's spatial half list, and the full edge list (the reference path).
        for (list, half) in [("spatial", true), ("edges", false)] {
            let neighbors = NeighborMethod::CellList.build_neighbors(
                &system.positions,
                &system.cell,
                radius,
                half,
            );
            let graph = neighbors.graph(
                &system.positions,
                &system.species,
                Some(system.cell.lattice()),
                1,
            );
            for (name, request) in [("forces", Request::FORCES), ("forces+virial", Request::ALL)] {
                let id = BenchmarkId::new(format!("{list}/{name}"), system.len());
                group.bench_with_input(id, &graph, |b, g| {
                    b.iter(|| lj.compute(g, request).expect("argon only"))
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, evaluation);
criterion_main!(benches);
