//! Initial velocities and kinetic energy.

use crate::units::{AMU_A2_PER_FS2_IN_EV, BOLTZMANN_EV_PER_K};
use nalgebra::{Matrix3, Vector3};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Kinetic energy `½ Σ m v²`, eV (masses in amu, velocities in Å/fs).
pub fn kinetic_energy(masses: &[f64], velocities: &[Vector3<f64>]) -> f64 {
    0.5 * AMU_A2_PER_FS2_IN_EV
        * masses
            .iter()
            .zip(velocities)
            .map(|(m, v)| m * v.norm_squared())
            .sum::<f64>()
}

/// Kinetic tensor `Σ m v ⊗ v`, eV (its trace is twice the kinetic energy).
pub fn kinetic_tensor(masses: &[f64], velocities: &[Vector3<f64>]) -> Matrix3<f64> {
    masses
        .iter()
        .zip(velocities)
        .map(|(m, v)| v * v.transpose() * (m * AMU_A2_PER_FS2_IN_EV))
        .sum()
}

/// Degrees of freedom of `atoms` atoms whose total momentum is fixed: 3N − 3 (3 for one atom).
pub fn momentum_conserving_dof(atoms: usize) -> f64 {
    if atoms > 1 {
        3.0 * atoms as f64 - 3.0
    } else {
        3.0 * atoms as f64
    }
}

/// Removes the centre-of-mass velocity, so that the total momentum is zero.
pub fn remove_com_momentum(masses: &[f64], velocities: &mut [Vector3<f64>]) {
    let total_mass: f64 = masses.iter().sum();
    if total_mass <= 0.0 {
        return;
    }
    let momentum: Vector3<f64> = masses
        .iter()
        .zip(velocities.iter())
        .map(|(m, v)| v * *m)
        .sum();
    let com_velocity = momentum / total_mass;
    for v in velocities.iter_mut() {
        *v -= com_velocity;
    }
}

/// Maxwell-Boltzmann velocities at `temperature` (K) from a seeded generator, with zero total
/// momentum, rescaled so that the kinetic temperature with `3N − 3` degrees of freedom is exactly
/// `temperature` (as LAMMPS' `velocity create`). A single atom gets zero velocity.
pub fn maxwell_boltzmann(masses: &[f64], temperature: f64, seed: u64) -> Vec<Vector3<f64>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut velocities: Vec<Vector3<f64>> = masses
        .iter()
        .map(|&m| {
            let sigma = (BOLTZMANN_EV_PER_K * temperature / (m * AMU_A2_PER_FS2_IN_EV)).sqrt();
            Vector3::from_fn(|_, _| {
                let xi: f64 = StandardNormal.sample(&mut rng);
                sigma * xi
            })
        })
        .collect();
    remove_com_momentum(masses, &mut velocities);
    let dof = 3.0 * masses.len() as f64 - 3.0;
    let kinetic = kinetic_energy(masses, &velocities);
    if dof > 0.0 && kinetic > 0.0 {
        let scale = (0.5 * dof * BOLTZMANN_EV_PER_K * temperature / kinetic).sqrt();
        velocities.iter_mut().for_each(|v| *v *= scale);
    }
    velocities
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxwell_boltzmann_hits_temperature_with_zero_momentum() {
        let masses: Vec<f64> = (0..500)
            .map(|i| if i % 2 == 0 { 39.948 } else { 4.0026 })
            .collect();
        let velocities = maxwell_boltzmann(&masses, 300.0, 7);
        let momentum: Vector3<f64> = masses.iter().zip(&velocities).map(|(m, v)| v * *m).sum();
        assert!(momentum.norm() < 1e-12);
        let dof = 3.0 * 500.0 - 3.0;
        let temperature = 2.0 * kinetic_energy(&masses, &velocities) / (dof * BOLTZMANN_EV_PER_K);
        assert!((temperature - 300.0).abs() < 1e-9);
        assert_eq!(velocities, maxwell_boltzmann(&masses, 300.0, 7));
        assert_ne!(velocities, maxwell_boltzmann(&masses, 300.0, 8));
    }

    #[test]
    fn unit_conversion_matches_codata() {
        // 1 amu·Å²/fs² = 1.66053906660e-27 kg · 1e-20 m² / 1e-30 s² / 1.602176634e-19 J/eV
        assert!((AMU_A2_PER_FS2_IN_EV - 103.642_696_5).abs() < 1e-6);
    }
}
