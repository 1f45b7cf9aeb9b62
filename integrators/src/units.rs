//! Physical constants for metal units with fs (CODATA 2018, exact SI definitions).

/// 1 amu·Å²/fs² in eV: converts m·v² to energy (≈ 103.6427).
pub const AMU_A2_PER_FS2_IN_EV: f64 = 1.660_539_066_60e-27 * 1e10 / 1.602_176_634e-19;

/// Boltzmann constant, eV/K.
pub const BOLTZMANN_EV_PER_K: f64 = 8.617_333_262e-5;

/// 1 eV/Å³ in bar.
pub const EV_PER_A3_IN_BAR: f64 = 1.602_176_634e6;
