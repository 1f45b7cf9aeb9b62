//! The three neighbor builders against ASE's lists and against each other.

mod common;

use common::{cell, fixture, vectors};
use mlmd::cell::Cell;
use mlmd::neighbors::{NeighborList, NeighborMethod};
use nalgebra::{Matrix3, Vector3};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const BUILDERS: [NeighborMethod; 3] = [
    NeighborMethod::BruteForce,
    NeighborMethod::CellList,
    NeighborMethod::KdTree,
];

/// Edges as a sorted set of (sender, receiver, shift).
fn edge_set(list: &NeighborList) -> Vec<(u32, u32, [i32; 3])> {
    let mut edges: Vec<_> = (0..list.len())
        .map(|e| (list.senders[e], list.receivers[e], list.shifts[e]))
        .collect();
    edges.sort_unstable();
    let before = edges.len();
    edges.dedup();
    assert_eq!(before, edges.len(), "duplicate edges");
    edges
}

fn is_sorted_by_sender(list: &NeighborList) -> bool {
    list.senders.windows(2).all(|w| w[0] <= w[1])
}

#[test]
fn every_builder_reproduces_ase_on_every_fixture_case() {
    let fixture = fixture("neighbor_lists.json");
    for case in fixture["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let positions = vectors(&case["positions"]);
        let cell = cell(&case["cell"], &case["pbc"]);
        let cutoff = case["cutoff"].as_f64().unwrap();
        let pairs = &case["pairs"];
        let mut expected: Vec<(u32, u32, [i32; 3])> = (0..pairs["i"].as_array().unwrap().len())
            .map(|p| {
                let s = &pairs["S"][p];
                (
                    pairs["i"][p].as_u64().unwrap() as u32,
                    pairs["j"][p].as_u64().unwrap() as u32,
                    std::array::from_fn(|k| s[k].as_i64().unwrap() as i32),
                )
            })
            .collect();
        expected.sort_unstable();
        assert_eq!(expected.len(), case["n_pairs"].as_u64().unwrap() as usize);
        for builder in BUILDERS {
            let list = builder.build(&positions, &cell, cutoff);
            assert!(is_sorted_by_sender(&list), "{name}: {builder} not sorted");
            assert_eq!(
                edge_set(&list),
                expected,
                "{name}: {builder} differs from ASE"
            );
        }
    }
}

fn random_system(
    rng: &mut Xoshiro256PlusPlus,
    n: usize,
    lattice: Matrix3<f64>,
    periodic: [bool; 3],
) -> (Vec<Vector3<f64>>, Cell) {
    let cell = Cell::new(lattice, periodic).unwrap();
    let positions = (0..n)
        .map(|_| {
            // Fractional coordinates beyond [0, 1) too: builders must accept unwrapped input.
            let s = Vector3::from_fn(|_, _| rng.random_range(-0.5..1.5));
            cell.cartesian(&s)
        })
        .collect();
    (positions, cell)
}

#[test]
fn builders_agree_on_random_systems() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2024);
    let lattices = [
        Matrix3::new(12.0, 0.0, 0.0, 0.0, 11.0, 0.0, 0.0, 0.0, 13.0),
        Matrix3::new(10.0, 0.0, 0.0, 4.5, 9.0, 0.0, -3.0, 2.5, 11.0),
        // A small, skewed cell: cutoff larger than its widths, atoms see their own images.
        Matrix3::new(3.1, 0.0, 0.0, 1.2, 2.9, 0.0, 0.7, -0.9, 3.3),
    ];
    let periodicities = [
        [true, true, true],
        [true, true, false],
        [false, true, false],
        [false, false, false],
    ];
    for (l, lattice) in lattices.iter().enumerate() {
        for periodic in periodicities {
            for (n, cutoff) in [(60, 4.5), (150, 3.0), (7, 6.5)] {
                let (positions, cell) = random_system(&mut rng, n, *lattice, periodic);
                let reference =
                    edge_set(&NeighborMethod::BruteForce.build(&positions, &cell, cutoff));
                for builder in [NeighborMethod::CellList, NeighborMethod::KdTree] {
                    let list = builder.build(&positions, &cell, cutoff);
                    assert!(is_sorted_by_sender(&list));
                    assert_eq!(
                        edge_set(&list),
                        reference,
                        "{builder}: lattice {l}, periodic {periodic:?}, {n} atoms, cutoff {cutoff}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_edge_is_shorter_than_the_cutoff_and_has_its_reverse() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let lattice = Matrix3::new(9.0, 0.0, 0.0, 2.0, 8.0, 0.0, 1.0, 1.0, 7.0);
    let (positions, cell) = random_system(&mut rng, 120, lattice, [true; 3]);
    let list = NeighborMethod::CellList.build(&positions, &cell, 5.0);
    let edges = edge_set(&list);
    assert!(edges.len() > 1000);
    for &(i, j, s) in &edges {
        let d = positions[j as usize] - positions[i as usize] + cell.shift_vector(s);
        assert!(d.norm() < 5.0);
        assert!(edges.binary_search(&(j, i, s.map(|v| -v))).is_ok());
    }
}

#[test]
fn auto_picks_a_builder_that_fits_the_system() {
    let periodic = Cell::new(Matrix3::identity() * 10.0, [true; 3]).unwrap();
    assert_eq!(
        NeighborMethod::Auto.resolve(10, &periodic),
        NeighborMethod::BruteForce
    );
    assert_eq!(
        NeighborMethod::Auto.resolve(1000, &periodic),
        NeighborMethod::CellList
    );
    assert_eq!(
        NeighborMethod::Auto.resolve(1000, &Cell::open()),
        NeighborMethod::KdTree
    );
    assert_eq!(
        NeighborMethod::KdTree.resolve(10, &periodic),
        NeighborMethod::KdTree
    );
}

/// A half list holds one edge of each pair: with their reverses, its edges are the full list's
/// (every fixture case, every builder, sorted by sender); and Lennard-Jones on it gives the
/// full list's energy, forces and virial to 1e-12 relative.
#[test]
fn half_lists_hold_each_pair_once_and_give_the_full_lists_results() {
    use mlmd_potentials::pair::{LennardJones, LennardJonesPair, Pairwise};
    use mlmd_potentials::{AtomicGraph, Potential, Request};
    let fixture = fixture("neighbor_lists.json");
    for case in fixture["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let positions = vectors(&case["positions"]);
        let cell = cell(&case["cell"], &case["pbc"]);
        let cutoff = case["cutoff"].as_f64().unwrap();
        let species = vec![18u8; positions.len()];
        let pair = LennardJonesPair {
            elements: [18, 18],
            epsilon: 0.0103236,
            sigma: 0.4 * cutoff,
        };
        let mut lj = Pairwise::new(LennardJones::new(&[pair], cutoff, true).unwrap());
        let mut evaluate = |list: &NeighborList| {
            let graph = AtomicGraph {
                positions: &positions,
                species: &species,
                cell: cell.has_full_lattice().then(|| cell.lattice()),
                senders: &list.senders,
                receivers: &list.receivers,
                unit_shifts: &list.shifts,
                generation: 1,
                half_list: list.half,
            };
            lj.compute(&graph, Request::ALL).unwrap()
        };
        let full = NeighborMethod::BruteForce.build(&positions, &cell, cutoff);
        let reference = evaluate(&full);
        for builder in BUILDERS {
            let half = builder.build_list(&positions, &cell, cutoff, true);
            assert!(half.half && is_sorted_by_sender(&half), "{name}: {builder}");
            let mut both = half.clone();
            for e in 0..half.len() {
                let s = half.shifts[e];
                both.senders.push(half.receivers[e]);
                both.receivers.push(half.senders[e]);
                both.shifts.push([-s[0], -s[1], -s[2]]);
            }
            assert_eq!(edge_set(&both), edge_set(&full), "{name}: {builder}");
            let result = evaluate(&half);
            let scale = reference.energy.abs().max(1e-300);
            assert!(
                (result.energy - reference.energy).abs() <= 1e-12 * scale,
                "{name}: {builder} energy {} vs {}",
                result.energy,
                reference.energy
            );
            let largest = |v: &[Vector3<f64>]| v.iter().map(|f| f.norm()).fold(0.0, f64::max);
            let force_scale = largest(&reference.forces).max(1e-300);
            for (a, b) in result.forces.iter().zip(&reference.forces) {
                assert!(
                    (a - b).norm() <= 1e-12 * force_scale,
                    "{name}: {builder} forces"
                );
            }
            let (w, w0) = (result.virial.unwrap(), reference.virial.unwrap());
            assert!(
                (w - w0).abs().max() <= 1e-12 * w0.abs().max().max(1e-300),
                "{name}: {builder} virial"
            );
        }
    }
}
