//! Cheap test systems for the integrators' unit tests: independent anharmonic oscillators, and
//! an Einstein crystal in a deformable periodic cell (for barostats).

use crate::units::AMU_A2_PER_FS2_IN_EV;
use crate::{maxwell_boltzmann, Integrator, MdState};
use nalgebra::{Matrix3, Vector3};
use std::ops::{Deref, DerefMut};

/// Spring constant k (eV/Å²) and quartic coefficient a (eV/Å⁴) of the well.
const SPRING: f64 = 2.0;
const QUARTIC: f64 = 1.0;

/// What an integrator moves, owned.
pub struct Atoms {
    pub positions: Vec<Vector3<f64>>,
    pub velocities: Vec<Vector3<f64>>,
    pub cell: Matrix3<f64>,
    forces: Vec<Vector3<f64>>,
    masses: Vec<f64>,
    virial: Option<Matrix3<f64>>,
}

impl Atoms {
    fn new(positions: Vec<Vector3<f64>>, mass: f64, seed: u64, cell: Matrix3<f64>) -> Self {
        let masses = vec![mass; positions.len()];
        Self {
            velocities: maxwell_boltzmann(&masses, 300.0, seed),
            forces: vec![Vector3::zeros(); positions.len()],
            positions,
            masses,
            cell,
            virial: None,
        }
    }

    fn state(&mut self) -> MdState<'_> {
        MdState {
            positions: &mut self.positions,
            velocities: &mut self.velocities,
            forces: &self.forces,
            masses: &self.masses,
            cell: &mut self.cell,
            virial: self.virial.as_ref(),
        }
    }

    /// One full step of `integrator`, `update` computing the new forces between its halves.
    fn step(&mut self, integrator: &mut dyn Integrator, update: impl FnOnce(&mut Atoms)) {
        integrator.initial_integrate(self.state());
        update(self);
        integrator.final_integrate(self.state());
    }

    fn kinetic(&self) -> f64 {
        crate::kinetic_energy(&self.masses, &self.velocities)
    }
}

/// Atoms of 12 amu, each in its own well U(x) = Σ_c (k x_c²/2 + a x_c⁴/4), started at 0.1 Å
/// offsets with Maxwell–Boltzmann velocities at 300 K.
pub struct Oscillators(Atoms);

impl Deref for Oscillators {
    type Target = Atoms;
    fn deref(&self) -> &Atoms {
        &self.0
    }
}

impl DerefMut for Oscillators {
    fn deref_mut(&mut self) -> &mut Atoms {
        &mut self.0
    }
}

impl Oscillators {
    pub fn new(n: usize, seed: u64) -> Self {
        let positions = (0..n)
            .map(|i| Vector3::new(0.1, -0.05, 0.02 * (i % 5) as f64))
            .collect();
        let mut system = Self(Atoms::new(positions, 12.0, seed, Matrix3::zeros()));
        Self::update_forces(&mut system.0);
        system
    }

    fn update_forces(atoms: &mut Atoms) {
        for (f, x) in atoms.forces.iter_mut().zip(&atoms.positions) {
            *f = x.map(|c| -SPRING * c - QUARTIC * c.powi(3));
        }
    }

    /// Kinetic plus potential energy, eV.
    pub fn energy(&self) -> f64 {
        let potential: f64 = self
            .positions
            .iter()
            .flat_map(|x| x.iter())
            .map(|c| 0.5 * SPRING * c * c + 0.25 * QUARTIC * c.powi(4))
            .sum();
        potential + self.kinetic()
    }

    /// Kinetic energy per degree of freedom over kT/2 at `temperature`.
    pub fn kinetic_temperature(&self) -> f64 {
        let kinetic: f64 = self
            .masses
            .iter()
            .zip(&self.velocities)
            .map(|(m, v)| 0.5 * m * AMU_A2_PER_FS2_IN_EV * v.norm_squared())
            .sum();
        2.0 * kinetic / (3.0 * self.masses.len() as f64 * crate::units::BOLTZMANN_EV_PER_K)
    }

    /// One full step of `integrator`.
    pub fn step(&mut self, integrator: &mut dyn Integrator) {
        self.0.step(integrator, Self::update_forces);
    }
}

/// Einstein crystal in a periodic cell with a bulk modulus, for the barostat's tests: atoms of
/// 40 amu tied to sites `s_i` fixed in fractional coordinates,
/// `U = Σ k |x_i − s_i·h|²/2 + B (V − V₀)²/(2V₀)`, so that forces and virial
/// (`W = −Σ k d_i ⊗ d_i − B (V − V₀) V/V₀ · I`) follow any cell change.
pub struct Crystal {
    atoms: Atoms,
    sites: Vec<Vector3<f64>>,
    potential: f64,
}

impl Deref for Crystal {
    type Target = Atoms;
    fn deref(&self) -> &Atoms {
        &self.atoms
    }
}

impl DerefMut for Crystal {
    fn deref_mut(&mut self) -> &mut Atoms {
        &mut self.atoms
    }
}

/// Bulk modulus B (eV/Å³) and reference volume V₀ (Å³) of [`Crystal`].
const BULK: f64 = 0.05;
const V0: f64 = 1000.0;

impl Crystal {
    /// `n` atoms at 300 K in a 10.2 Å cube with a small shear (`sheared`) or none.
    pub fn new(n: usize, seed: u64, sheared: bool) -> Self {
        let shear = if sheared { 0.4 } else { 0.0 };
        let cell = Matrix3::new(10.2, 0.0, 0.0, shear, 10.2, 0.0, 0.0, 0.0, 10.2);
        let sites: Vec<Vector3<f64>> = (0..n)
            .map(|i| {
                let t = i as f64 + 0.5;
                Vector3::new(
                    (t * 0.618_034) % 1.0,
                    (t * 0.414_214) % 1.0,
                    (t * 0.732_051) % 1.0,
                )
            })
            .collect();
        let positions = sites.iter().map(|s| cell.tr_mul(s)).collect();
        let mut atoms = Atoms::new(positions, 40.0, seed, cell);
        let potential = Self::update_forces(&mut atoms, &sites);
        Self {
            atoms,
            sites,
            potential,
        }
    }

    /// Forces and virial into `atoms`; returns the potential energy.
    fn update_forces(atoms: &mut Atoms, sites: &[Vector3<f64>]) -> f64 {
        let volume = atoms.cell.determinant().abs();
        let pressure = BULK * (volume - V0) / V0;
        let mut potential = 0.5 * BULK * (volume - V0).powi(2) / V0;
        let mut virial = Matrix3::identity() * (-pressure * volume);
        for ((f, x), s) in atoms.forces.iter_mut().zip(&atoms.positions).zip(sites) {
            let d = x - atoms.cell.tr_mul(s);
            *f = -SPRING * d;
            potential += 0.5 * SPRING * d.norm_squared();
            virial -= d * d.transpose() * SPRING;
        }
        atoms.virial = Some(virial);
        potential
    }

    /// Kinetic plus potential energy, eV.
    pub fn energy(&self) -> f64 {
        self.potential + self.kinetic()
    }

    /// The cell's volume, Å³.
    pub fn volume(&self) -> f64 {
        self.cell.determinant().abs()
    }

    /// One full step of `integrator`.
    pub fn step(&mut self, integrator: &mut dyn Integrator) {
        let (sites, potential) = (&self.sites, &mut self.potential);
        self.atoms.step(integrator, |atoms| {
            *potential = Self::update_forces(atoms, sites);
        });
    }
}
