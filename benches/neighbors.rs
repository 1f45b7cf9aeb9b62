//! Neighbor-list builds on fcc argon (cutoff 8.5125 Å + 1 Å skin): ~1k, ~10k and ~100k atoms,
//! each builder's full list (brute force only at 1k) and the cell list's spatial half list. Run: `cargo bench --bench neighbors`.
// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mlmd::bench::fcc_argon;
use mlmd::neighbors::NeighborMethod;

fn builds(c: &mut Criterion) {
    let mut group = c.benchmark_group("neighbor_build");
    group.sample_size(10);
    for cells in [6, 14, 29] {
        let system = fcc_argon(cells, 0.8442, 100.0, 1);
        group.throughput(Throughput::Elements(system.len() as u64));
        for method in [
            NeighborMethod::BruteForce,
            NeighborMethod::CellList,
            NeighborMethod::KdTree,
        ] {
            if method == NeighborMethod::BruteForce && cells > 6 {
                continue;
            }
            group.bench_with_input(
                BenchmarkId::new(method.to_string(), system.len()),
                &system,
                |b, s| b.iter(|| method.build(&s.positions, &s.cell, 9.5125)),
            );
        }
        group.bench_with_input(
            BenchmarkId::new("cell-list spatial half", system.len()),
            &system,
            |b, s| {
                b.iter(|| {
                    NeighborMethod::CellList.build_neighbors(&s.positions, &s.cell, 9.5125, true)
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, builds);
criterion_main!(benches);
