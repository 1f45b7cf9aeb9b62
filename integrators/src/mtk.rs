//! Constant pressure and temperature: the Martyna–Tobias–Klein barostat (1994) with Nosé–Hoover
//! chains on the particles and on the barostat, integrated as in Tuckerman et al. (2006) and
//! LAMMPS' `fix npt`, for isotropic, anisotropic and fully flexible (triclinic) cells.

use crate::chain::{Bath, Chain};
use crate::units::{BOLTZMANN_EV_PER_K, EV_PER_A3_IN_BAR};
use crate::{drift, exp_matrix, MdState};
use crate::{half_kick, kinetic_energy, kinetic_tensor, momentum_conserving_dof, Integrator};
use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};

/// How the cell may deform under the barostat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coupling {
    /// Uniform scaling: the shape is kept, the volume fluctuates (LAMMPS `iso`).
    Isotropic,
    /// The x, y and z lengths scale independently (LAMMPS `aniso`).
    Anisotropic,
    /// Every strain component, shear included: the shape relaxes too (LAMMPS `tri`). The
    /// strain rate is upper triangular (x' = ε̇ x acts on column vectors), so that a cell whose
    /// lattice vectors (rows) form a lower-triangular matrix — a along x, b in the xy plane, as
    /// LAMMPS and GROMACS require — keeps that form: no rotation.
    Triclinic,
}

impl Coupling {
    /// Degrees of freedom of the strain rate: 1, 3 or 6.
    fn dof(self) -> f64 {
        match self {
            Self::Isotropic => 1.0,
            Self::Anisotropic => 3.0,
            Self::Triclinic => 6.0,
        }
    }

    /// The orthogonal projection of a (symmetric) tensor onto the allowed strain rates:
    /// `Tr(g)/3 · I`, `diag(g)` or its upper triangle.
    fn project(self, g: &Matrix3<f64>) -> Matrix3<f64> {
        match self {
            Self::Isotropic => Matrix3::identity() * (g.trace() / 3.0),
            Self::Anisotropic => Matrix3::from_diagonal(&g.diagonal()),
            Self::Triclinic => g.upper_triangle(),
        }
    }
}

/// MTK NPT: particles (velocities v, N_f = 3N − 3 degrees of freedom) in a cell h whose
/// strain rate ε̇ (1/fs; in the coupling's subspace) is a dynamical variable of "mass" W = (N + 1) kT τ_p²
/// per component:
///
/// ```text
/// dr/dt = v + ε̇ r,   dv/dt = F/m − (ε̇ + Tr(ε̇)/N_f) v − ξ v,   dh/dt = ε̇ h,
/// W dε̇/dt = P[V (P_int − P_ext) + (2K/N_f) I] − ξ_b W ε̇,   V P_int = Σ m v⊗v + W_virial
/// ```
///
/// where `P` projects onto the coupling's strain rates ([`Coupling`]) and ξ, ξ_b are the
/// velocities of Nosé–Hoover chains on the particles (temperature T, damping τ) and on the
/// barostat (kT, τ_p). Step (LAMMPS' order, symmetric hence time-reversible): barostat chain,
/// particle chain, ε̇, velocity half step, positions and cell, forces, velocity half step, ε̇,
/// particle chain, barostat chain (each a half step except the positions). The conserved
/// quantity is `E + W‖ε̇‖²/2 + P_ext V` plus both chains' energies
/// ([`Integrator::reservoir_energy`]).
#[derive(Debug, Clone)]
pub struct Mtk {
    timestep: f64,
    /// P_ext, eV/Å³.
    pressure: f64,
    coupling: Coupling,
    thermostat: Bath,
    barostat: Bath,
    state: MtkState,
}

/// The dynamical variables beyond the atoms': both chains and ε̇.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct MtkState {
    particles: Chain,
    cell_chain: Chain,
    /// ε̇ row by row, 1/fs.
    strain_rate: [[f64; 3]; 3],
    /// The barostat mass W, eV·fs² (set from N on the first step).
    mass: f64,
}

impl Mtk {
    /// An MTK integrator: timestep (fs), temperature (K) and its damping time τ (fs), pressure
    /// (bar) and its damping time τ_p (fs; LAMMPS' `Pdamp`, typically 1000 timesteps), coupling,
    /// and the chains' length (3 is LAMMPS' default).
    pub fn new(
        timestep: f64,
        (temperature, damping): (f64, f64),
        (pressure, pressure_damping): (f64, f64),
        coupling: Coupling,
        chain: usize,
    ) -> Self {
        let kt = BOLTZMANN_EV_PER_K * temperature;
        Self {
            timestep,
            pressure: pressure / EV_PER_A3_IN_BAR,
            coupling,
            thermostat: Bath { kt, tau: damping },
            barostat: Bath {
                kt,
                tau: pressure_damping,
            },
            state: MtkState {
                particles: Chain::new(chain),
                cell_chain: Chain::new(chain),
                strain_rate: [[0.0; 3]; 3],
                mass: 0.0,
            },
        }
    }

    fn strain_rate(&self) -> Matrix3<f64> {
        Matrix3::from_fn(|i, j| self.state.strain_rate[i][j])
    }

    fn set_strain_rate(&mut self, rate: Matrix3<f64>) {
        self.state.strain_rate = std::array::from_fn(|i| std::array::from_fn(|j| rate[(i, j)]));
    }

    /// The barostat's kinetic energy `W‖ε̇‖²/2`, eV.
    fn cell_kinetic(&self) -> f64 {
        0.5 * self.state.mass * self.strain_rate().norm_squared()
    }

    /// Half a step of both chains, barostat's first (`cell_first`) or last.
    fn chains_half_step(&mut self, state: &mut MdState<'_>, cell_first: bool) {
        if cell_first {
            self.cell_chain_half_step();
        }
        let dof = momentum_conserving_dof(state.masses.len());
        let kinetic = kinetic_energy(state.masses, state.velocities);
        let scale = self
            .state
            .particles
            .half_step(kinetic, dof, self.thermostat, self.timestep);
        state.velocities.iter_mut().for_each(|v| *v *= scale);
        if !cell_first {
            self.cell_chain_half_step();
        }
    }

    fn cell_chain_half_step(&mut self) {
        let kinetic = self.cell_kinetic();
        let scale = self.state.cell_chain.half_step(
            kinetic,
            self.coupling.dof(),
            self.barostat,
            self.timestep,
        );
        self.set_strain_rate(self.strain_rate() * scale);
    }

    /// ε̇ over dt/2 under `P[V (P_int − P_ext) + (2K/N_f) I] / W`.
    fn strain_rate_half_step(&mut self, state: &MdState<'_>) {
        let n = state.masses.len();
        if self.state.mass == 0.0 {
            self.state.mass = (n as f64 + 1.0) * self.barostat.kt * self.barostat.tau.powi(2);
        }
        let virial = state
            .virial
            .expect("the engine hands the virial to an integrator that needs it");
        let kinetic = kinetic_tensor(state.masses, state.velocities);
        let volume = state.cell.determinant().abs();
        let diagonal = kinetic.trace() / momentum_conserving_dof(n) - self.pressure * volume;
        let force = kinetic + virial + Matrix3::identity() * diagonal;
        let rate = self.strain_rate()
            + self.coupling.project(&force) * (0.5 * self.timestep / self.state.mass);
        self.set_strain_rate(rate);
    }

    /// Velocities over dt/2: `exp(−A dt/4)`, half kick, `exp(−A dt/4)`, A = ε̇ + Tr(ε̇)/N_f.
    fn velocity_half_step(&self, state: &mut MdState<'_>) {
        let rate = self.strain_rate();
        let dof = momentum_conserving_dof(state.masses.len());
        let damping = rate + Matrix3::identity() * (rate.trace() / dof);
        let factor = exp_matrix(&(damping * (-0.25 * self.timestep)));
        scale_vectors(state.velocities, &factor);
        half_kick(state, self.timestep);
        scale_vectors(state.velocities, &factor);
    }

    /// Positions and cell over dt: dilated by `exp(ε̇ dt/2)`, drifted, dilated again.
    fn position_step(&self, state: &mut MdState<'_>) {
        let dilation = exp_matrix(&(self.strain_rate() * (0.5 * self.timestep)));
        self.dilate(state, &dilation);
        drift(state, self.timestep);
        self.dilate(state, &dilation);
    }

    /// `r → M r` for every position and lattice vector.
    fn dilate(&self, state: &mut MdState<'_>, m: &Matrix3<f64>) {
        scale_vectors(state.positions, m);
        *state.cell *= m.transpose();
    }
}

/// `v → M v` for each vector.
fn scale_vectors(vectors: &mut [Vector3<f64>], m: &Matrix3<f64>) {
    vectors.iter_mut().for_each(|v| *v = m * *v);
}

impl Integrator for Mtk {
    fn timestep(&self) -> f64 {
        self.timestep
    }

    fn initial_integrate(&mut self, mut state: MdState<'_>) {
        self.chains_half_step(&mut state, true);
        self.strain_rate_half_step(&state);
        self.velocity_half_step(&mut state);
        self.position_step(&mut state);
    }

    fn final_integrate(&mut self, mut state: MdState<'_>) {
        self.velocity_half_step(&mut state);
        self.strain_rate_half_step(&state);
        self.chains_half_step(&mut state, false);
    }

    /// The velocity scalings are linear maps of every velocity: a zero total momentum stays 0.
    fn conserves_momentum(&self) -> bool {
        true
    }

    fn needs_virial(&self) -> bool {
        true
    }

    fn changes_cell(&self) -> bool {
        true
    }

    fn reservoir_energy(&self, volume: f64) -> f64 {
        self.cell_kinetic()
            + self.pressure * volume
            + self.state.particles.energy(self.thermostat)
            + self.state.cell_chain.energy(self.barostat)
    }

    fn save_state(&self) -> String {
        serde_json::to_string(&self.state).expect("the MTK state serialises")
    }

    fn load_state(&mut self, state: &str) -> Result<(), String> {
        let loaded: MtkState =
            serde_json::from_str(state).map_err(|e| format!("bad MTK barostat state: {e}"))?;
        let length = self.state.particles.eta.len();
        if loaded.particles.eta.len() != length || loaded.cell_chain.eta.len() != length {
            return Err(format!(
                "the checkpoint's MTK chains have length {}, the input {length}",
                loaded.particles.eta.len()
            ));
        }
        self.state = loaded;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Crystal;

    fn npt(coupling: Coupling, pressure: f64) -> Mtk {
        Mtk::new(1.0, (300.0, 50.0), (pressure, 200.0), coupling, 3)
    }

    /// Largest deviation of the extended energy over 1.5 ps at 2000 bar, eV, and the relative
    /// volume change.
    fn deviation(coupling: Coupling, dt: f64) -> (f64, f64) {
        let mut system = Crystal::new(64, 5, true);
        let mut mtk = Mtk::new(dt, (300.0, 50.0), (2000.0, 200.0), coupling, 3);
        let conserved = |s: &Crystal, m: &Mtk| s.energy() + m.reservoir_energy(s.volume());
        let (e0, v0) = (conserved(&system, &mtk), system.volume());
        let mut deviation: f64 = 0.0;
        for _ in 0..(1500.0 / dt) as usize {
            system.step(&mut mtk);
            deviation = deviation.max((conserved(&system, &mtk) - e0).abs());
        }
        (deviation, (system.volume() / v0 - 1.0).abs())
    }

    /// The extended energy is conserved to O(dt²) while the cell moves by 10 %, for every
    /// coupling: halving the step quarters its deviation.
    #[test]
    fn conserves_its_extended_energy() {
        for coupling in [
            Coupling::Isotropic,
            Coupling::Anisotropic,
            Coupling::Triclinic,
        ] {
            let (coarse, change) = deviation(coupling, 1.0);
            let (fine, _) = deviation(coupling, 0.5);
            eprintln!("{coupling:?}: deviation {coarse:e} / {fine:e} eV, volume change {change}");
            assert!(change > 0.05, "{coupling:?}: the barostat acts ({change})");
            assert!(
                coarse / fine > 3.5,
                "{coupling:?}: {coarse:e} vs {fine:e} is not O(dt²)"
            );
            assert!(fine < 2e-5 * 64.0, "{coupling:?}: deviation {fine:e} eV");
        }
    }

    /// Forward 200 steps, every velocity reversed (atoms, ε̇, chains), back 200 steps: the start
    /// is reached to 1e-8 Å, cell included (9e-13 Å after 100 steps, 9e-10 after 200: round-off
    /// grows exponentially in the coupled dynamics).
    #[test]
    fn is_time_reversible() {
        let mut system = Crystal::new(64, 5, true);
        let mut mtk = npt(Coupling::Triclinic, 2000.0);
        let (start, cell) = (system.positions.clone(), system.cell);
        (0..200).for_each(|_| system.step(&mut mtk));
        assert!((system.cell - cell).norm() > 1e-3, "the cell moves");
        system.velocities.iter_mut().for_each(|v| *v = -*v);
        mtk.set_strain_rate(-mtk.strain_rate());
        mtk.state.particles.reverse();
        mtk.state.cell_chain.reverse();
        (0..200).for_each(|_| system.step(&mut mtk));
        let error = system
            .positions
            .iter()
            .zip(&start)
            .map(|(a, b)| (a - b).norm())
            .fold((system.cell - cell).abs().max(), f64::max);
        assert!(error < 1e-8, "returned within {error:e} Å");
    }

    /// Anisotropic coupling keeps an orthorhombic cell orthorhombic; isotropic keeps its shape;
    /// triclinic keeps a lower-triangular cell lower-triangular while shearing it.
    #[test]
    fn couplings_deform_the_cell_as_named() {
        let mut system = Crystal::new(32, 2, true);
        let start = system.cell;
        let mut mtk = npt(Coupling::Triclinic, 3000.0);
        (0..500).for_each(|_| system.step(&mut mtk));
        assert_eq!(
            system.cell.upper_triangle(),
            Matrix3::from_diagonal(&system.cell.diagonal())
        );
        assert!(
            (system.cell[(2, 0)] - start[(2, 0)]).abs() > 1e-4,
            "c tilts"
        );
        let mut system = Crystal::new(32, 2, false);
        let mut mtk = npt(Coupling::Anisotropic, 3000.0);
        (0..500).for_each(|_| system.step(&mut mtk));
        let off_diagonal = system.cell - Matrix3::from_diagonal(&system.cell.diagonal());
        assert_eq!(off_diagonal, Matrix3::zeros());
        let mut system = Crystal::new(32, 2, true);
        let shape = system.cell / system.volume().cbrt();
        let mut mtk = npt(Coupling::Isotropic, 3000.0);
        (0..500).for_each(|_| system.step(&mut mtk));
        let error = (system.cell / system.volume().cbrt() - shape).abs().max();
        assert!(error < 1e-12, "shape changed by {error:e}");
    }

    #[test]
    fn state_survives_a_checkpoint() {
        let mut system = Crystal::new(8, 3, false);
        let mut mtk = npt(Coupling::Triclinic, 10.0);
        (0..50).for_each(|_| system.step(&mut mtk));
        let mut copy = npt(Coupling::Triclinic, 10.0);
        copy.load_state(&mtk.save_state()).unwrap();
        assert_eq!(copy.state, mtk.state);
        let mut short = Mtk::new(1.0, (300.0, 50.0), (10.0, 200.0), Coupling::Triclinic, 2);
        assert!(short.load_state(&mtk.save_state()).is_err());
    }
}
