//! One Lennard-Jones evaluation (energy, forces, virial) on fcc argon, cutoff 2.5σ:
//! ~1k and 32k atoms. Run: `cargo bench --bench lennard_jones`.
// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mlmd::bench::{fcc_argon, ARGON_EPSILON, ARGON_SIGMA};
use mlmd::neighbors::NeighborMethod;
use mlmd_potentials::{AtomicGraph, LennardJones, LennardJonesPair, Pairwise, Potential, Request};

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
        let list = NeighborMethod::CellList.build(
            &system.positions,
            &system.cell,
            cutoff + 0.3 * ARGON_SIGMA,
        );
        let graph = AtomicGraph {
            positions: &system.positions,
            species: &system.species,
            cell: Some(system.cell.lattice()),
            senders: &list.senders,
            receivers: &list.receivers,
            unit_shifts: &list.shifts,
            generation: 1,
            half_list: false,
        };
        group.throughput(Throughput::Elements(system.len() as u64));
        for (name, request) in [("forces", Request::FORCES), ("forces+virial", Request::ALL)] {
            group.bench_with_input(BenchmarkId::new(name, system.len()), &graph, |b, g| {
                b.iter(|| lj.compute(g, request).expect("argon only"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, evaluation);
criterion_main!(benches);
