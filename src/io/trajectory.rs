//! Trajectories in any format chemfiles writes, chosen by the file's extension; extended XYZ
//! written by mlmd itself.

use super::lattice_to_chemfiles;
use crate::element;
use crate::error::{Error, Result};
use crate::system::System;
use chemfiles::{Atom, Frame, Trajectory, UnitCell};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes frames of a system, with velocities where the format holds them. What is on disk
/// after each frame is a complete, readable trajectory: a killed run loses at most the frame
/// being written.
pub struct TrajectoryWriter {
    path: PathBuf,
    sink: Sink,
}

/// Where the frames go.
enum Sink {
    /// Extended XYZ at full precision ([`super::xyz::write_frame`]), flushed after every frame.
    Xyz(BufWriter<std::fs::File>),
    /// Any other format through chemfiles. chemfiles has no flush, and DCD and NetCDF keep their
    /// frame count in a header it updates on closing: the file is closed after every frame
    /// and reopened to append the next (~0.5 ms a frame).
    Chemfiles {
        format: Option<String>,
        atoms: Vec<Atom>,
        /// Open from creation to the end of the first frame.
        trajectory: Option<Trajectory>,
    },
}

impl TrajectoryWriter {
    /// Creates (or truncates) a trajectory file for the atoms of `system`.
    pub fn create(path: &Path, system: &System) -> Result<Self> {
        Self::open(path, system, false, None)
    }

    /// Creates a trajectory file, or with `append` continues an existing one, in the chemfiles
    /// format `format` (or the extension's).
    pub fn open(path: &Path, system: &System, append: bool, format: Option<&str>) -> Result<Self> {
        let error = |message: String| Error::Output {
            path: path.to_path_buf(),
            message,
        };
        let xyz = format.map_or(super::xyz::is_xyz(path), |f| f.eq_ignore_ascii_case("XYZ"));
        let sink = if xyz {
            Sink::Xyz(super::open_output(path, append).map_err(|e| error(e.to_string()))?)
        } else {
            if system.cell.has_full_lattice() && system.cell.lattice().determinant() < 0.0 {
                return Err(error("chemfiles cannot store a left-handed cell".into()));
            }
            let mode = if append && path.exists() { 'a' } else { 'w' };
            let trajectory =
                super::open_trajectory(path, mode, format).map_err(|e| error(e.message))?;
            Sink::Chemfiles {
                format: format.map(str::to_string),
                atoms: system
                    .species
                    .iter()
                    .map(|&z| Atom::new(element::symbol(z)))
                    .collect(),
                trajectory: Some(trajectory),
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            sink,
        })
    }

    /// Appends the current state of `system` as frame `step`.
    pub fn write(&mut self, step: u64, system: &System) -> Result<()> {
        let path = &self.path;
        let error = |message: String| Error::Output {
            path: path.clone(),
            message,
        };
        match &mut self.sink {
            Sink::Xyz(file) => super::xyz::write_frame(file, step, system)
                .and_then(|()| file.flush())
                .map_err(|e| error(e.to_string())),
            Sink::Chemfiles {
                format,
                atoms,
                trajectory,
            } => {
                let frame = chemfiles_frame(atoms, step, system);
                let mut open = match trajectory.take() {
                    Some(open) => open,
                    None => super::open_trajectory(path, 'a', format.as_deref())
                        .map_err(|e| error(e.message))?,
                };
                // Dropped (closed) at the end of this block: the file on disk is complete.
                open.write(&frame).map_err(|e| error(e.message))
            }
        }
    }
}

/// A chemfiles frame of `system` (velocities in chemfiles' Å/ps).
fn chemfiles_frame(atoms: &[Atom], step: u64, system: &System) -> Frame {
    let mut frame = Frame::new();
    frame.add_velocities();
    for ((atom, x), v) in atoms.iter().zip(&system.positions).zip(&system.velocities) {
        frame.add_atom(atom, [x.x, x.y, x.z], [v.x * 1e3, v.y * 1e3, v.z * 1e3]);
    }
    if system.cell.has_full_lattice() {
        frame.set_cell(&UnitCell::from_matrix(lattice_to_chemfiles(
            system.cell.lattice(),
        )));
    }
    frame.set_step(step as usize);
    frame
}
