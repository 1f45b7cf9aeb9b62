//! Integrators for mlmd: they move atoms given forces, in metal units with fs
//! (Å, eV, fs, amu, K): velocity Verlet (NVE), Langevin BAOAB, Nosé–Hoover chains and CSVR
//! (NVT); MTK and C-rescale (NPT); and FIRE, which relaxes structures.
//!
//! An integrator splits a step around the force evaluation, as LAMMPS' fixes do:
//! [`Integrator::initial_integrate`] runs before the forces at t + dt are known and
//! [`Integrator::final_integrate`] after.

mod c_rescale;
mod cell_filter;
mod chain;
mod csvr;
mod fire;
mod langevin;
mod mtk;
mod nose_hoover;
mod state;
#[cfg(test)]
mod testing;
pub mod units;
mod velocities;
mod velocity_verlet;

pub use c_rescale::CRescale;
pub use cell_filter::CellFilter;
pub use csvr::Csvr;
pub use fire::{max_force, Fire};
pub use langevin::Langevin;
pub use mtk::{Coupling, Mtk};
use nalgebra::Matrix3;
pub use nose_hoover::NoseHooverChain;
use rayon::prelude::*;
pub use state::MdState;
pub use velocities::{
    kinetic_energy, kinetic_tensor, maxwell_boltzmann, momentum_conserving_dof, remove_com_momentum,
};
pub use velocity_verlet::VelocityVerlet;

/// A time integrator, split around the force evaluation.
pub trait Integrator: Send {
    /// Timestep, fs.
    fn timestep(&self) -> f64;

    /// The part of the step before the new forces: e.g. velocity Verlet's half kick and drift.
    fn initial_integrate(&mut self, state: MdState<'_>);

    /// The part of the step after the new forces: the closing half kick.
    fn final_integrate(&mut self, state: MdState<'_>);

    /// Whether the integrator conserves total momentum (it does not under a thermostat);
    /// decides the degrees of freedom used for the temperature.
    fn conserves_momentum(&self) -> bool;

    /// The energy held by the integrator's thermostat (its chain's kinetic and potential
    /// energy) or exchanged with its bath (minus the heat it put in), eV: the conserved
    /// quantity of the run is `E_kin + E_pot + reservoir_energy()`. Zero for NVE.
    ///
    /// `volume` is the cell's volume, Å³ (a barostat adds `P_ext V`).
    fn reservoir_energy(&self, volume: f64) -> f64 {
        let _ = volume;
        0.0
    }

    /// Whether the integrator needs the virial at every step ([`MdState::virial`]): a barostat.
    fn needs_virial(&self) -> bool {
        false
    }

    /// Whether the integrator changes the cell ([`MdState::cell`]): a barostat.
    fn changes_cell(&self) -> bool {
        false
    }

    /// The state the integrator carries between steps beyond its settings (random-number
    /// streams), as text for a checkpoint; empty when there is none.
    fn save_state(&self) -> String {
        String::new()
    }

    /// Restores a state written by [`Integrator::save_state`].
    fn load_state(&mut self, state: &str) -> Result<(), String> {
        if state.is_empty() {
            Ok(())
        } else {
            Err("this integrator keeps no state, but the checkpoint holds one".into())
        }
    }
}

/// The matrix exponential (exact per component for a diagonal matrix, Padé otherwise).
pub(crate) fn exp_matrix(a: &Matrix3<f64>) -> Matrix3<f64> {
    if *a == Matrix3::from_diagonal(&a.diagonal()) {
        Matrix3::from_diagonal(&a.diagonal().map(f64::exp))
    } else {
        a.exp()
    }
}

/// Velocity change over `dt` (fs) from force `f` (eV/Å) on mass `m` (amu): `dt·f/m` in Å/fs.
#[inline]
pub(crate) fn kick_factor(dt: f64, mass: f64) -> f64 {
    dt / (mass * units::AMU_A2_PER_FS2_IN_EV)
}

/// Half kick: `v += (dt/2) F/m`.
pub(crate) fn half_kick(state: &mut MdState<'_>, dt: f64) {
    state
        .velocities
        .par_iter_mut()
        .with_min_len(MIN_PARALLEL)
        .zip(state.forces)
        .zip(state.masses)
        .for_each(|((v, f), &m)| *v += f * kick_factor(0.5 * dt, m));
}

/// Drift: `x += dt v`.
pub(crate) fn drift(state: &mut MdState<'_>, dt: f64) {
    state
        .positions
        .par_iter_mut()
        .with_min_len(MIN_PARALLEL)
        .zip(&*state.velocities)
        .for_each(|(x, v)| *x += v * dt);
}

/// Per-atom loops run in parallel tasks of at least this many atoms (each atom on its own: the
/// results do not depend on the number of threads).
const MIN_PARALLEL: usize = 1024;
