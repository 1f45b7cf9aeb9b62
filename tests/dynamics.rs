//! Integrators in the full engine: ASE's velocity-Verlet trajectory, NVE energy conservation,
//! time reversibility and Langevin statistics.

mod common;

use common::{cell, fixture, vectors};
use mlmd::bench::{fcc_argon, ARGON_EPSILON, ARGON_MASS, ARGON_SIGMA};
use mlmd::neighbors::NeighborMethod;
use mlmd::simulation::Simulation;
use mlmd::system::System;
use mlmd::units::{AMU_A2_PER_FS2_IN_EV, BOLTZMANN_EV_PER_K};
use mlmd_integrators::{Integrator, Langevin, VelocityVerlet};
use mlmd_potentials::{LennardJones, LennardJonesPair, Pairwise};

fn argon_lj(cutoff: f64) -> Box<Pairwise<LennardJones>> {
    let pair = LennardJonesPair {
        elements: [18, 18],
        epsilon: ARGON_EPSILON,
        sigma: ARGON_SIGMA,
    };
    Box::new(Pairwise::new(
        LennardJones::new(&[pair], cutoff, true).unwrap(),
    ))
}

fn simulation(system: System, integrator: Box<dyn Integrator>) -> Simulation {
    Simulation::new(
        system,
        argon_lj(2.5 * ARGON_SIGMA),
        integrator,
        NeighborMethod::Auto,
        1.0,
    )
    .unwrap()
}

#[test]
fn velocity_verlet_follows_ase_trajectories() {
    let fixture = fixture("lj_argon_vv_fixture.json");
    let epsilon = fixture["meta"]["epsilon_eV"].as_f64().unwrap();
    for case in ["cubic", "triclinic"] {
        let data = &fixture[case];
        let initial = &data["initial"];
        let positions = vectors(&initial["positions"]);
        let system = System {
            species: vec![18; positions.len()],
            masses: initial["masses_amu"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_f64().unwrap())
                .collect(),
            velocities: vectors(&initial["velocities_A_per_fs"]),
            positions,
            cell: cell(&initial["cell"], &initial["pbc"]),
        };
        let pair = LennardJonesPair {
            elements: [18, 18],
            epsilon,
            sigma: ARGON_SIGMA,
        };
        let lj = LennardJones::new(&[pair], 8.5125, true).unwrap();
        let dt = data["integrator"]["dt_fs"].as_f64().unwrap();
        let mut sim = Simulation::new(
            system,
            Box::new(Pairwise::new(lj)),
            Box::new(VelocityVerlet::new(dt)),
            NeighborMethod::CellList,
            0.5,
        )
        .unwrap();
        for row in data["energies"]["rows"].as_array().unwrap() {
            let step = row[0].as_u64().unwrap();
            sim.run(step - sim.step(), &mut |_| {}).unwrap();
            let thermo = sim.thermo().unwrap();
            // ASE's unit system (CODATA 2014) differs from ours (2018) by ~1e-8 relative.
            assert!(
                (thermo.potential - row[1].as_f64().unwrap()).abs() < 1e-6,
                "{case} step {step}"
            );
            assert!(
                (thermo.kinetic - row[2].as_f64().unwrap()).abs() < 1e-6,
                "{case} step {step}"
            );
        }
        let cell = sim.system.cell.clone();
        let final_positions = vectors(&data["final"]["positions"]);
        for (x, reference) in sim.system.positions.iter().zip(&final_positions) {
            // We wrap on rebuilds, ASE does not: compare modulo the lattice.
            let (d, _) =
                cell.wrap(&(x - reference + cell.cartesian(&nalgebra::Vector3::repeat(0.5))));
            let d = d - cell.cartesian(&nalgebra::Vector3::repeat(0.5));
            assert!(
                d.norm() < 1e-6,
                "{case}: final position off by {}",
                d.norm()
            );
        }
    }
}

/// 864 argon atoms (LJ fluid at ρ* = 0.8442, T* ≈ 0.72 after equipartition), 2 fs, 20 ps.
#[test]
fn nve_conserves_energy_over_20_ps() {
    let system = fcc_argon(6, 0.8442, 1.44 * ARGON_EPSILON / BOLTZMANN_EV_PER_K, 3);
    let n = system.len() as f64;
    let mut sim = simulation(system, Box::new(VelocityVerlet::new(2.0)));
    let mut energies = Vec::new();
    for _ in 0..=100 {
        energies.push(sim.thermo().unwrap().total() / n);
        sim.run(100, &mut |_| {}).unwrap();
    }
    let drift = (energies.last().unwrap() - energies[0]).abs();
    let spread = energies
        .iter()
        .map(|e| (e - energies[0]).abs())
        .fold(0.0, f64::max);
    assert!(
        drift < 1e-6,
        "total energy drift {drift:e} eV/atom over 20 ps"
    );
    assert!(spread < 1e-5, "total energy wanders {spread:e} eV/atom");
}

#[test]
fn velocity_verlet_is_time_reversible() {
    let system = fcc_argon(4, 0.8442, 120.0, 9);
    let start = system.positions.clone();
    let mut sim = simulation(system, Box::new(VelocityVerlet::new(2.0)));
    sim.run(500, &mut |_| {}).unwrap();
    sim.system.velocities.iter_mut().for_each(|v| *v = -*v);
    sim.run(500, &mut |_| {}).unwrap();
    let cell = sim.system.cell.clone();
    let half = cell.cartesian(&nalgebra::Vector3::repeat(0.5));
    for (x, x0) in sim.system.positions.iter().zip(&start) {
        let d = cell.wrap(&(x - x0 + half)).0 - half;
        assert!(d.norm() < 1e-8, "returned {} Å away", d.norm());
    }
}

#[test]
fn langevin_holds_temperature_with_gaussian_velocities() {
    let target = 94.0;
    let system = fcc_argon(6, 0.8442, target, 5);
    let mut sim = simulation(system, Box::new(Langevin::new(2.0, target, 0.01, 17)));
    sim.run(2000, &mut |_| {}).unwrap();
    let mut temperatures = Vec::new();
    let mut scaled = Vec::new();
    let sigma = (BOLTZMANN_EV_PER_K * target / (ARGON_MASS * AMU_A2_PER_FS2_IN_EV)).sqrt();
    for _ in 0..100 {
        sim.run(30, &mut |_| {}).unwrap();
        temperatures.push(sim.thermo().unwrap().temperature);
        scaled.extend(
            sim.system
                .velocities
                .iter()
                .flat_map(|v| v.iter().map(|c| c / sigma).collect::<Vec<_>>()),
        );
    }
    let mean_t = temperatures.iter().sum::<f64>() / temperatures.len() as f64;
    assert!(
        (mean_t / target - 1.0).abs() < 0.02,
        "mean temperature {mean_t} K"
    );
    // Velocity components in units of √(kT/m): standard normal moments.
    let n = scaled.len() as f64;
    let mean = scaled.iter().sum::<f64>() / n;
    let variance = scaled.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let kurtosis = scaled.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n / variance.powi(2);
    assert!(mean.abs() < 0.02, "mean {mean}");
    assert!(
        (variance - 1.0).abs() < 0.02,
        "variance {variance} (kT/m units)"
    );
    assert!((kurtosis - 3.0).abs() < 0.05, "kurtosis {kurtosis}");
    // Fraction within one standard deviation: 68.27% for a Gaussian.
    let within = scaled.iter().filter(|x| x.abs() < 1.0).count() as f64 / n;
    assert!((within - 0.6827).abs() < 0.005, "{within} within 1σ");
}
