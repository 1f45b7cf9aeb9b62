//! Metal units with fs: Å, eV, fs, amu, K, bar, e. The constants live in the integrators crate
//! (which needs them) and are named once there.

pub use mlmd_integrators::units::{AMU_A2_PER_FS2_IN_EV, BOLTZMANN_EV_PER_K, EV_PER_A3_IN_BAR};

/// ns/day from a timestep (fs), a number of steps and the wall time (s) they took.
pub fn ns_per_day(timestep_fs: f64, steps: u64, wall_seconds: f64) -> f64 {
    timestep_fs * steps as f64 / wall_seconds * 86_400.0 / 1e6
}
