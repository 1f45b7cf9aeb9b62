//! What a run writes as it goes: the thermo log and the trajectory.

mod thermo;

pub use thermo::{Thermo, ThermoLog, PRESSURE_TENSOR_HEADER, THERMO_HEADER};

use crate::error::Result;
use crate::io::TrajectoryWriter;
use crate::system::System;

/// Something written every `stride` steps.
pub trait Observer {
    /// Steps between two writes.
    fn stride(&self) -> u64;

    /// Whether the observer needs the virial (for the pressure).
    fn needs_virial(&self) -> bool;

    /// Writes the state at `step`.
    fn observe(&mut self, step: u64, system: &System, thermo: &Thermo) -> Result<()>;

    /// Whether the observer writes at `step`.
    fn is_due(&self, step: u64) -> bool {
        step % self.stride() == 0
    }
}

/// A trajectory written every `stride` steps.
pub struct TrajectoryObserver {
    /// The writer.
    pub writer: TrajectoryWriter,
    /// Steps between frames.
    pub stride: u64,
}

impl Observer for TrajectoryObserver {
    fn stride(&self) -> u64 {
        self.stride
    }

    fn needs_virial(&self) -> bool {
        false
    }

    fn observe(&mut self, step: u64, system: &System, _thermo: &Thermo) -> Result<()> {
        self.writer.write(step, system)
    }
}
