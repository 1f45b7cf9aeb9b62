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
}

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
        let volume = system.cell.volume();
        let pressure = virial
            .filter(|_| system.cell.is_fully_periodic() && volume > 0.0)
            .map(|w| (2.0 * kinetic + w.trace()) / (3.0 * volume) * EV_PER_A3_IN_BAR);
        Self {
            time,
            potential,
            kinetic,
            conserved: potential + kinetic + reservoir,
            temperature,
            pressure,
        }
    }

    /// Total energy, eV.
    pub fn total(&self) -> f64 {
        self.potential + self.kinetic
    }
}

/// The thermo log: CSV with step, time (fs), potential, kinetic, total and conserved energy
/// (eV), temperature (K) and pressure (bar; empty when undefined).
pub struct ThermoLog {
    path: PathBuf,
    file: BufWriter<File>,
    stride: u64,
}

/// The CSV header of the thermo log.
pub const THERMO_HEADER: &str =
    "step,time_fs,potential_eV,kinetic_eV,total_eV,conserved_eV,temperature_K,pressure_bar";

impl ThermoLog {
    /// Creates the log file and writes its header.
    pub fn create(path: &Path, stride: u64) -> Result<Self> {
        Self::open(path, stride, false)
    }

    /// Creates the log file (header first), or with `append` continues an existing one.
    pub fn open(path: &Path, stride: u64, append: bool) -> Result<Self> {
        let error = |e: std::io::Error| Error::Output {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let existing = append && path.metadata().is_ok_and(|m| m.len() > 0);
        let mut file = crate::io::open_output(path, append).map_err(error)?;
        if !existing {
            writeln!(file, "{THERMO_HEADER}").map_err(error)?;
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
            stride,
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
        let pressure = thermo
            .pressure
            .map(|p| format!("{p:.10e}"))
            .unwrap_or_default();
        writeln!(
            self.file,
            "{step},{},{:.15e},{:.15e},{:.15e},{:.15e},{:.10e},{pressure}",
            thermo.time,
            thermo.potential,
            thermo.kinetic,
            thermo.total(),
            thermo.conserved,
            thermo.temperature
        )
        .and_then(|()| self.file.flush())
        .map_err(|e| Error::Output {
            path: self.path.clone(),
            message: e.to_string(),
        })
    }
}
