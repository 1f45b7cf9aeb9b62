//! Lennard-Jones against ASE and LAMMPS, finite differences and finite strain.

mod common;

use common::{assert_voigt_stress, cell, fixture, matrix, relative, vectors};
use mlmd::cell::Cell;
use mlmd::neighbors::{NeighborMethod, Neighbors};
use mlmd_potentials::{Evaluation, LennardJones, LennardJonesPair, Pairwise, Potential, Request};
use nalgebra::{Matrix3, Vector3};

fn argon(fixture: &serde_json::Value) -> Pairwise<LennardJones> {
    let meta = &fixture["meta"];
    let pair = LennardJonesPair {
        elements: [18, 18],
        epsilon: meta["epsilon_eV"].as_f64().unwrap(),
        sigma: meta["sigma_A"].as_f64().unwrap(),
    };
    Pairwise::new(LennardJones::new(&[pair], meta["cutoff_A"].as_f64().unwrap(), true).unwrap())
}

/// Energy, forces and virial on the engine's list (the cell list's spatial half list, built at
/// cutoff + skin), checked against the full edge list's (the reference path) to 1e-12 relative.
fn evaluate(
    potential: &mut dyn Potential,
    positions: &[Vector3<f64>],
    cell: &Cell,
    skin: f64,
) -> Evaluation {
    let cutoff = potential.cutoff() + skin;
    let species = vec![18u8; positions.len()];
    let mut on = |neighbors: &Neighbors| {
        let graph = neighbors.graph(positions, &species, Some(cell.lattice()), 1);
        potential.compute(&graph, Request::ALL).unwrap()
    };
    let full = on(&Neighbors::Edges(
        NeighborMethod::CellList.build(positions, cell, cutoff),
    ));
    let spatial = NeighborMethod::CellList.build_neighbors(positions, cell, cutoff, true);
    assert!(matches!(spatial, Neighbors::Pairs(_)));
    let result = on(&spatial);
    assert_same_results(&result, &full, 1e-12);
    result
}

/// Energy, forces and virial agree to `tolerance` relative to the largest of each.
fn assert_same_results(result: &Evaluation, reference: &Evaluation, tolerance: f64) {
    assert!(relative(result.energy, reference.energy, 1e-300) < tolerance);
    let largest = reference
        .forces
        .iter()
        .map(|f| f.amax())
        .fold(0.0, f64::max);
    for (f, f0) in result.forces.iter().zip(&reference.forces) {
        assert!((f - f0).amax() <= tolerance * largest, "{f} vs {f0}");
    }
    let (w, w0) = (result.virial.unwrap(), reference.virial.unwrap());
    assert!((w - w0).amax() <= tolerance * w0.amax());
}

/// 4,000 argon atoms (fcc, displaced, some outside the cell) make many blocks: the spatial path
/// gives the same bits on 1, 2 and 3 threads and with baseline vector instructions, and the
/// edge path's results to 1e-12.
#[test]
fn spatial_path_is_bit_identical_on_any_thread_count_and_instruction_set() {
    let mut system = mlmd::bench::fcc_argon(10, 0.8442, 100.0, 7);
    let length = system.cell.lattice()[(0, 0)];
    for (k, x) in system.positions.iter_mut().enumerate() {
        let wobble = Vector3::new((k as f64).sin(), (k as f64 * 1.3).cos(), (k as f64).cos());
        *x += 0.3 * wobble;
        if k % 7 == 0 {
            x.y += length;
        }
    }
    let cutoff = 2.5 * mlmd::bench::ARGON_SIGMA;
    let pair = LennardJonesPair {
        elements: [18, 18],
        epsilon: mlmd::bench::ARGON_EPSILON,
        sigma: mlmd::bench::ARGON_SIGMA,
    };
    let lj = LennardJones::new(&[pair], cutoff, false).unwrap();
    let (positions, cell) = (&system.positions, &system.cell);
    let spatial = NeighborMethod::CellList.build_neighbors(positions, cell, cutoff + 1.0, true);
    let Neighbors::Pairs(list) = &spatial else {
        panic!("a spatial list")
    };
    assert!(list.blocks.len() >= 8, "{} blocks", list.blocks.len());
    let graph = spatial.graph(positions, &system.species, Some(cell.lattice()), 1);
    let run = |threads: usize, potential: Pairwise<LennardJones>| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut potential = potential;
        pool.install(|| potential.compute(&graph, Request::ALL).unwrap())
    };
    let reference = run(1, Pairwise::new(lj.clone()));
    let bits = |e: &Evaluation| {
        let forces: Vec<[u64; 3]> = e
            .forces
            .iter()
            .map(|f| [f.x, f.y, f.z].map(f64::to_bits))
            .collect();
        (
            e.energy.to_bits(),
            forces,
            e.virial.unwrap().map(f64::to_bits),
        )
    };
    for threads in [2, 3] {
        assert_eq!(
            bits(&run(threads, Pairwise::new(lj.clone()))),
            bits(&reference)
        );
    }
    let baseline = Pairwise::new(lj.clone()).with_baseline_instructions();
    assert_eq!(bits(&run(2, baseline)), bits(&reference));
    let full = Neighbors::Edges(NeighborMethod::CellList.build(positions, cell, cutoff + 1.0));
    let graph = full.graph(positions, &system.species, Some(cell.lattice()), 1);
    let edges = Pairwise::new(lj).compute(&graph, Request::ALL).unwrap();
    assert_same_results(&reference, &edges, 1e-12);
}

#[test]
fn energy_forces_and_virial_equal_ase_and_lammps() {
    let fixture = fixture("lj_argon_vv_fixture.json");
    let crosscheck = fixture_cases();
    let mut lj = argon(&fixture);
    for case in ["cubic", "triclinic"] {
        let data = &fixture[case];
        let initial = &data["initial"];
        let positions = vectors(&initial["positions"]);
        let cell = cell(&initial["cell"], &initial["pbc"]);
        // A skin adds edges beyond the cutoff: the potential must ignore them.
        for skin in [0.0, 1.5] {
            let result = evaluate(&mut lj, &positions, &cell, skin);
            let step0 = &data["step0"];
            let energy = step0["energy_eV"].as_f64().unwrap();
            assert!(
                relative(result.energy, energy, 1e-300) < 1e-10,
                "{case}: energy"
            );
            let lammps = crosscheck[case];
            assert!(
                (result.energy - lammps).abs() < 1e-12,
                "{case}: LAMMPS energy"
            );
            let forces = vectors(&step0["forces_eV_per_A"]);
            let largest = forces.iter().map(|f| f.amax()).fold(0.0, f64::max);
            for (f, reference) in result.forces.iter().zip(&forces) {
                assert!((f - reference).amax() < 1e-10 * largest, "{case}: force");
            }
            // ASE: stress = −virial/V, Voigt xx yy zz yz xz xy.
            let stress = -result.virial.unwrap() / cell.volume();
            assert_voigt_stress(
                &stress,
                &step0["virial_stress_voigt_eV_per_A3"],
                1e-10,
                case,
            );
        }
    }
}

/// LAMMPS' step-0 energies from the cross-check fixture.
fn fixture_cases() -> std::collections::HashMap<&'static str, f64> {
    let crosscheck = fixture("lammps_crosscheck.json");
    let mut energies = std::collections::HashMap::new();
    for case in crosscheck["cases"].as_array().unwrap() {
        let name = if case["case"] == "cubic" {
            "cubic"
        } else {
            "triclinic"
        };
        energies.insert(name, case["step0_energy_lammps"].as_f64().unwrap());
    }
    energies
}

#[test]
fn forces_are_minus_the_gradient_and_virial_is_the_strain_derivative() {
    let fixture = fixture("lj_argon_vv_fixture.json");
    let mut lj = argon(&fixture);
    let initial = &fixture["triclinic"]["initial"];
    let positions = vectors(&initial["positions"]);
    let lattice = matrix(&initial["cell"]);
    let cell = Cell::new(lattice, [true; 3]).unwrap();
    let result = evaluate(&mut lj, &positions, &cell, 0.0);
    let h = 1e-5;
    for atom in [0, 17, 255] {
        for axis in 0..3 {
            let mut displaced = positions.clone();
            displaced[atom][axis] += h;
            let plus = evaluate(&mut lj, &displaced, &cell, 0.0).energy;
            displaced[atom][axis] -= 2.0 * h;
            let minus = evaluate(&mut lj, &displaced, &cell, 0.0).energy;
            let numeric = -(plus - minus) / (2.0 * h);
            let analytic = result.forces[atom][axis];
            assert!(
                (numeric - analytic).abs() < 1e-8 + 1e-6 * analytic.abs(),
                "{numeric} vs {analytic}"
            );
        }
    }
    // W = −∂E/∂ε: strain positions and cell by (1 + ε) with a symmetric ε.
    let strained = |epsilon: Matrix3<f64>| {
        let deformation = Matrix3::identity() + epsilon;
        let positions: Vec<_> = positions.iter().map(|x| deformation * x).collect();
        let lattice = lattice * deformation.transpose();
        let cell = Cell::new(lattice, [true; 3]).unwrap();
        evaluate(&mut argon(&fixture), &positions, &cell, 0.0).energy
    };
    let virial = result.virial.unwrap();
    for (a, b) in [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)] {
        let mut epsilon = Matrix3::zeros();
        epsilon[(a, b)] = 0.5 * h;
        epsilon[(b, a)] += 0.5 * h;
        let numeric = -(strained(epsilon) - strained(-epsilon)) / (2.0 * h);
        assert!(
            (numeric - virial[(a, b)]).abs() < 1e-6 * virial.amax(),
            "W[{a}{b}]: {numeric} vs {}",
            virial[(a, b)]
        );
    }
}
