//! The three neighbor builders against ASE's lists and against each other.

mod common;

use common::{cell, fixture, vectors};
use mlmd::cell::Cell;
use mlmd::neighbors::{NeighborList, NeighborMethod, Neighbors};
use mlmd_potentials::PairList;
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

/// One case of ASE's neighbor-list fixture.
struct FixtureCase {
    name: String,
    positions: Vec<Vector3<f64>>,
    cell: Cell,
    cutoff: f64,
    /// The case as the fixture holds it (ASE's pairs).
    json: serde_json::Value,
}

/// The cases of `neighbor_lists.json`.
fn fixture_cases() -> Vec<FixtureCase> {
    let fixture = fixture("neighbor_lists.json");
    let cases = fixture["cases"].as_array().unwrap();
    cases
        .iter()
        .map(|case| FixtureCase {
            name: case["name"].as_str().unwrap().into(),
            positions: vectors(&case["positions"]),
            cell: cell(&case["cell"], &case["pbc"]),
            cutoff: case["cutoff"].as_f64().unwrap(),
            json: case.clone(),
        })
        .collect()
}

fn is_sorted_by_sender(list: &NeighborList) -> bool {
    list.senders.windows(2).all(|w| w[0] <= w[1])
}

#[test]
fn every_builder_reproduces_ase_on_every_fixture_case() {
    for FixtureCase {
        name,
        positions,
        cell,
        cutoff,
        json: case,
    } in fixture_cases()
    {
        let name = name.as_str();
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
/// (every fixture case, every builder, sorted by sender); and Lennard-Jones on it, and on the
/// cell list's spatial half list, gives the full list's energy, forces and virial to 1e-12
/// relative.
#[test]
fn half_lists_hold_each_pair_once_and_give_the_full_lists_results() {
    use mlmd_potentials::pair::{LennardJones, LennardJonesPair, Pairwise};
    use mlmd_potentials::{Potential, Request};
    for FixtureCase {
        name,
        positions,
        cell,
        cutoff,
        ..
    } in fixture_cases()
    {
        let name = name.as_str();
        let species = vec![18u8; positions.len()];
        let pair = LennardJonesPair {
            elements: [18, 18],
            epsilon: 0.0103236,
            sigma: 0.4 * cutoff,
        };
        let mut lj = Pairwise::new(LennardJones::new(&[pair], cutoff, true).unwrap());
        let mut evaluate = |neighbors: &Neighbors| {
            let lattice = cell.has_full_lattice().then(|| cell.lattice());
            let graph = neighbors.graph(&positions, &species, lattice, 1);
            lj.compute(&graph, Request::ALL).unwrap()
        };
        let full = NeighborMethod::BruteForce.build(&positions, &cell, cutoff);
        let reference = evaluate(&Neighbors::Edges(full.clone()));
        let spatial = NeighborMethod::CellList.build_neighbors(&positions, &cell, cutoff, true);
        assert!(
            matches!(spatial, Neighbors::Pairs(_)),
            "{name}: spatial list"
        );
        let lists = BUILDERS.map(|builder| {
            let half = builder.build_list(&positions, &cell, cutoff, true);
            (builder.to_string(), half)
        });
        let mut results = Vec::new();
        for (builder, half) in lists {
            assert!(half.half && is_sorted_by_sender(&half), "{name}: {builder}");
            let mut both = half.clone();
            for e in 0..half.len() {
                let s = half.shifts[e];
                both.senders.push(half.receivers[e]);
                both.receivers.push(half.senders[e]);
                both.shifts.push([-s[0], -s[1], -s[2]]);
            }
            assert_eq!(edge_set(&both), edge_set(&full), "{name}: {builder}");
            results.push((builder, evaluate(&Neighbors::Edges(half))));
        }
        results.push(("spatial".into(), evaluate(&spatial)));
        for (builder, result) in results {
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

/// The cell list's spatial half list, checked against a full edge list of the same positions:
/// the order is a permutation with its inverse, the blocks cover it in order, every neighbor
/// lies in its block's window, and the pairs with their reverses are the full list's edges.
fn check_spatial_list(list: &PairList, full: &NeighborList, what: &str) {
    let n = list.n_atoms();
    let mut seen = vec![false; n];
    for (k, &atom) in list.order.iter().enumerate() {
        assert!(
            !seen[atom as usize],
            "{what}: atom {atom} twice in the order"
        );
        seen[atom as usize] = true;
        assert_eq!(list.rank[atom as usize] as usize, k, "{what}: rank");
    }
    let codec = list.codec();
    let mut next = 0;
    for block in &list.blocks {
        assert_eq!(block.start as usize, next, "{what}: blocks out of order");
        next = block.end() as usize;
        let (first, len) = (block.window_start as usize, block.window_len as usize);
        let in_window = |j: usize| (j + n - first) % n < len;
        assert!(
            (block.start..block.end()).all(|k| in_window(k as usize)),
            "{what}: window"
        );
        for &entry in &block.entries {
            assert!(
                in_window(codec.atom(entry)),
                "{what}: neighbor outside the window"
            );
        }
    }
    assert_eq!(next, n, "{what}: blocks do not cover the atoms");
    let mut both = NeighborList::default();
    for (i, j, s) in list.pairs() {
        both.senders.extend([i as u32, j as u32]);
        both.receivers.extend([j as u32, i as u32]);
        both.shifts.extend([s, s.map(|v| -v)]);
    }
    assert_eq!(edge_set(&both), edge_set(full), "{what}: pairs");
}

/// Builds the spatial list (it must be one) of `positions`.
fn spatial_list(positions: &[Vector3<f64>], cell: &Cell, cutoff: f64) -> PairList {
    match NeighborMethod::CellList.build_neighbors(positions, cell, cutoff, true) {
        Neighbors::Pairs(list) => list,
        Neighbors::Edges(_) => panic!("the cell list builds a spatial half list"),
    }
}

#[test]
fn spatial_half_lists_hold_each_pair_once_on_fixtures_and_random_systems() {
    for FixtureCase {
        name,
        positions,
        cell,
        cutoff,
        ..
    } in fixture_cases()
    {
        let name = name.as_str();
        let full = NeighborMethod::BruteForce.build(&positions, &cell, cutoff);
        check_spatial_list(&spatial_list(&positions, &cell, cutoff), &full, name);
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(77);
    let lattices = [
        Matrix3::new(31.0, 0.0, 0.0, 0.0, 29.0, 0.0, 0.0, 0.0, 33.0),
        Matrix3::new(30.0, 0.0, 0.0, 9.0, 28.0, 0.0, -6.0, 5.0, 31.0),
        Matrix3::new(3.1, 0.0, 0.0, 1.2, 2.9, 0.0, 0.7, -0.9, 3.3),
    ];
    for (l, lattice) in lattices.iter().enumerate() {
        for periodic in [[true; 3], [true, false, true], [false; 3]] {
            // Thousands of atoms make several blocks; positions are not wrapped.
            let (n, cutoff) = if l == 2 { (9, 6.5) } else { (2500, 4.0) };
            let (positions, cell) = random_system(&mut rng, n, *lattice, periodic);
            let full = NeighborMethod::CellList.build(&positions, &cell, cutoff);
            let list = spatial_list(&positions, &cell, cutoff);
            let what = format!("lattice {l}, periodic {periodic:?}");
            assert!(
                l == 2 || list.blocks.len() >= 4,
                "{what}: {} blocks",
                list.blocks.len()
            );
            check_spatial_list(&list, &full, &what);
        }
    }
}
