//! Thermodynamic state and its CSV log.

use super::Observer;
use crate::error::{Error, Result};
use crate::system::System;
use crate::units::{BOLTZMANN_EV_PER_K, EV_PER_A3_IN_BAR};
use nalgebra::Matrix3;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Thermodynamic quantities at one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thermo {
    /// Time, fs.
    pub time: f64,
    /// Potential energy, eV.
    pub potential: f64,
    /// Kinetic energy, eV.
    pub kinetic: f64,
    /// The conserved quantity of the integrator: total energy plus its thermostat's
    /// [`reservoir energy`](mlmd_integrators::Integrator::reservoir_energy), eV.
    pub conserved: f64,
    /// Kinetic temperature, K.
    pub temperature: f64,
    /// Pressure `(2 KE / 3 + tr W / 3) / V`, bar; `None` without a virial or a periodic volume.
    pub pressure: Option<f64>,
    /// Pressure tensor `(Σ m v ⊗ v + W) / V`, bar (its trace / 3 is `pressure`).
    pub pressure_tensor: Option<Matrix3<f64>>,
    /// Volume of a fully periodic cell, Å³.
    pub volume: Option<f64>,
    /// Mass density Σm / V, g/cm³ (fully periodic cells).
    pub density: Option<f64>,
}

/// 1 amu/Å³ in g/cm³.
const AMU_PER_A3_IN_G_PER_CM3: f64 = 1.660_539_066_60;

impl Thermo {
    /// Computes the thermodynamic state. `degrees_of_freedom` sets the temperature;
    /// `reservoir` (eV) is the integrator's term of the conserved quantity.
    pub fn new(
        system: &System,
        time: f64,
        potential: f64,
        virial: Option<&Matrix3<f64>>,
        degrees_of_freedom: f64,
        reservoir: f64,
    ) -> Self {
        let kinetic = system.kinetic_energy();
        let temperature = if degrees_of_freedom > 0.0 {
            2.0 * kinetic / (degrees_of_freedom * BOLTZMANN_EV_PER_K)
        } else {
            0.0
        };
        let volume =
            Some(system.cell.volume()).filter(|&v| system.cell.is_fully_periodic() && v > 0.0);
        let pressure_tensor = virial.zip(volume).map(|(w, v)| {
            (mlmd_integrators::kinetic_tensor(&system.masses, &system.velocities) + w) / v
                * EV_PER_A3_IN_BAR
        });
        Self {
            time,
            potential,
            kinetic,
            conserved: potential + kinetic + reservoir,
            temperature,
            pressure: pressure_tensor.map(|p| p.trace() / 3.0),
            pressure_tensor,
            volume,
            density: volume
                .map(|v| system.masses.iter().sum::<f64>() / v * AMU_PER_A3_IN_G_PER_CM3),
        }
    }

    /// Total energy, eV.
    pub fn total(&self) -> f64 {
        self.potential + self.kinetic
    }
}

/// The thermo log: CSV with step, time (fs), potential, kinetic, total and conserved energy
/// (eV), temperature (K), pressure (bar), volume (Å³) and density (g/cm³), and on request the
/// pressure tensor (bar); fields that are undefined (no periodic cell) are empty.
pub struct ThermoLog {
    path: PathBuf,
    file: BufWriter<File>,
    stride: u64,
    pressure_tensor: bool,
}

/// The CSV header of the thermo log.
pub const THERMO_HEADER: &str = "step,time_fs,potential_eV,kinetic_eV,total_eV,conserved_eV,\
temperature_K,pressure_bar,volume_A3,density_g_cm3";

/// The columns [`THERMO_HEADER`] gets with `output.pressure_tensor = true`.
pub const PRESSURE_TENSOR_HEADER: &str = ",pxx_bar,pyy_bar,pzz_bar,pxy_bar,pxz_bar,pyz_bar";

impl ThermoLog {
    /// Creates the log file and writes its header.
    pub fn create(path: &Path, stride: u64) -> Result<Self> {
        Self::open(path, stride, false, false)
    }

    /// Creates the log file (header first), or with `append` continues an existing one; with
    /// `pressure_tensor`, six more columns.
    pub fn open(path: &Path, stride: u64, append: bool, pressure_tensor: bool) -> Result<Self> {
        let error = |e: std::io::Error| Error::Output {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let existing = append && path.metadata().is_ok_and(|m| m.len() > 0);
        let mut file = crate::io::open_output(path, append).map_err(error)?;
        if !existing {
            let extra = if pressure_tensor {
                PRESSURE_TENSOR_HEADER
            } else {
                ""
            };
            writeln!(file, "{THERMO_HEADER}{extra}").map_err(error)?;
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
            stride,
            pressure_tensor,
        })
    }
}

impl Observer for ThermoLog {
    fn stride(&self) -> u64 {
        self.stride
    }

    fn needs_virial(&self) -> bool {
        true
    }

    fn observe(&mut self, step: u64, _system: &System, thermo: &Thermo) -> Result<()> {
        let field = |value: Option<f64>| value.map(|v| format!("{v:.10e}")).unwrap_or_default();
        let mut line = format!(
            "{step},{},{:.15e},{:.15e},{:.15e},{:.15e},{:.10e},{},{},{}",
            thermo.time,
            thermo.potential,
            thermo.kinetic,
            thermo.total(),
            thermo.conserved,
            thermo.temperature,
            field(thermo.pressure),
            field(thermo.volume),
            field(thermo.density),
        );
        if self.pressure_tensor {
            for (i, j) in [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)] {
                line.push(',');
                line.push_str(&field(thermo.pressure_tensor.map(|p| p[(i, j)])));
            }
        }
        writeln!(self.file, "{line}")
            .and_then(|()| self.file.flush())
            .map_err(|e| Error::Output {
                path: self.path.clone(),
                message: e.to_string(),
            })
    }
}
