//! Structures from any format chemfiles reads.

use super::{lattice_from_chemfiles, xyz};
use crate::element;
use crate::error::{Error, Result};
use crate::units::AMU_A2_PER_FS2_IN_EV;
use chemfiles::{CellShape, Frame, Property};
use nalgebra::{Matrix3, Vector3};
use std::path::Path;

/// One frame of a structure file, before masses and cell settings are applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Structure {
    /// Atomic numbers.
    pub species: Vec<u8>,
    /// Positions, Å.
    pub positions: Vec<Vector3<f64>>,
    /// Velocities in Å/fs, if the file has them.
    pub velocities: Option<Vec<Vector3<f64>>>,
    /// Lattice vectors as rows (Å), if the file has a cell.
    pub lattice: Option<Matrix3<f64>>,
    /// Periodicity, if the file states it (extended XYZ's `pbc`).
    pub periodic: Option<[bool; 3]>,
}

/// Reads every frame of a structure file (format from its extension).
pub fn read_structures(path: &Path) -> Result<Vec<Structure>> {
    read_structures_as(path, None, &TypeNames::new(), None)
}

/// Element symbols for atom type names a file uses instead of elements (LAMMPS data's "1").
pub type TypeNames = std::collections::BTreeMap<String, String>;

/// Reads every frame of a structure file in the chemfiles format `format` (e.g.
/// `"LAMMPS Data"`), or from its extension when `None`, naming atom types by `types`, and
/// taking the atoms (elements) from the first frame of `topology` when given: for trajectory
/// formats that store positions only (DCD, TRR, XTC, NetCDF).
pub fn read_structures_as(
    path: &Path,
    format: Option<&str>,
    types: &TypeNames,
    topology: Option<&Path>,
) -> Result<Vec<Structure>> {
    match read_with_chemfiles(path, format, types, topology) {
        Err(Error::Structure { message, .. })
            if message.contains(ROTATED_ORTHORHOMBIC) && xyz::is_xyz(path) && format.is_none() =>
        {
            let copy = NeutralLattices::of(path).map_err(|message| Error::Structure {
                path: path.to_path_buf(),
                message,
            })?;
            let mut structures = read_with_chemfiles(&copy.path, None, types, topology)?;
            for (structure, lattice) in structures.iter_mut().zip(&copy.lattices) {
                structure.lattice = *lattice;
            }
            Ok(structures)
        }
        result => result,
    }
}

/// chemfiles 0.10 refuses a cell within 1e-3° of orthorhombic that is not diagonal (a barostat
/// or a relaxation leaves such cells, slightly sheared or rotated) with this message.
const ROTATED_ORTHORHOMBIC: &str = "orthorhombic cell must have their a vector along x axis";

/// A copy of an (extended) XYZ file with every lattice replaced by a unit cube, so that
/// chemfiles reads the rest (positions are Cartesian: the cell does not enter them), and the
/// lattices it held, frame by frame.
struct NeutralLattices {
    path: std::path::PathBuf,
    lattices: Vec<Option<Matrix3<f64>>>,
}

impl NeutralLattices {
    fn of(path: &Path) -> std::result::Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let borrowed: Vec<&str> = text.lines().collect();
        let mut lattices = Vec::new();
        for frame in xyz::complete_frames(&borrowed) {
            let comment = &mut lines[frame.start + 1];
            match xyz::split_lattice(comment, "1 0 0 0 1 0 0 0 1") {
                Some((lattice, neutral)) => {
                    lattices.push(Some(lattice));
                    *comment = neutral;
                }
                None => lattices.push(None),
            }
        }
        let copy = std::env::temp_dir().join(format!(
            "mlmd-{}-cells-{}",
            std::process::id(),
            path.file_name().unwrap_or_default().to_string_lossy()
        ));
        std::fs::write(&copy, lines.join("\n") + "\n")
            .map_err(|e| format!("cannot copy it to {}: {e}", copy.display()))?;
        Ok(Self {
            path: copy,
            lattices,
        })
    }
}

impl Drop for NeutralLattices {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// [`read_structures_as`] through chemfiles alone.
fn read_with_chemfiles(
    path: &Path,
    format: Option<&str>,
    types: &TypeNames,
    topology: Option<&Path>,
) -> Result<Vec<Structure>> {
    let error = |message: String| Error::Structure {
        path: path.to_path_buf(),
        message,
    };
    if path.is_dir() {
        return Err(error("this is a directory, not a structure file".into()));
    }
    if !path.is_file() {
        return Err(error("no such file".into()));
    }
    let (mut trajectory, _complete_copy) = match super::open_trajectory(path, 'r', format) {
        Ok(trajectory) => (trajectory, None),
        Err(e)
            if e.message.contains("not enough lines") && xyz::is_xyz(path) && format.is_none() =>
        {
            let copy = CompleteFrames::of(path).map_err(error)?;
            eprintln!(
                "warning: {}: the last frame is incomplete (an interrupted run?); reading the {} \
                 complete frame{}",
                path.display(),
                copy.frames,
                if copy.frames == 1 { "" } else { "s" }
            );
            let trajectory = chemfiles::Trajectory::open_with_format(&copy.path, 'r', "XYZ")
                .map_err(|e| error(format!("cannot open: {}", e.message)))?;
            (trajectory, Some(copy))
        }
        Err(e) => return Err(error(format!("cannot open: {}", e.message))),
    };
    if let Some(topology) = topology {
        if !topology.is_file() {
            return Err(error(format!(
                "the topology (structure.topology) {} does not exist",
                topology.display()
            )));
        }
        let set = match super::chemfiles_format(topology, None) {
            Some(format) => trajectory.set_topology_with_format(topology, format),
            None => trajectory.set_topology_file(topology),
        };
        set.map_err(|e| {
            error(format!(
                "cannot take the atoms from {}: {}",
                topology.display(),
                e.message
            ))
        })?;
    }
    let count = trajectory.nsteps();
    let mut structures = Vec::with_capacity(count);
    for index in 0..count {
        let mut frame = Frame::new();
        if let Err(e) = trajectory.read(&mut frame) {
            if index > 0 {
                // A binary trajectory whose writer was killed in a frame: what follows the
                // last whole frame is cut off or not yet filled in.
                eprintln!(
                    "warning: {}: frames {index} to {} cannot be read ({}; an interrupted \
                     run?); reading the first {index}",
                    path.display(),
                    count - 1,
                    e.message
                );
                break;
            }
            return Err(error(format!("frame {index}: {}", e.message)));
        }
        structures
            .push(from_frame(&frame, types).map_err(|m| error(format!("frame {index}: {m}")))?);
    }
    if structures.is_empty() {
        return Err(error("the file holds no frame".into()));
    }
    Ok(structures)
}

fn from_frame(frame: &Frame, types: &TypeNames) -> Result<Structure, String> {
    let species = frame
        .iter_atoms()
        .enumerate()
        .map(|(index, atom)| {
            let name = atom.atomic_type();
            match types.get(name.trim()) {
                Some(symbol) => element::atomic_number(&normalize_symbol(symbol)).ok_or_else(|| {
                    format!("atom {index}: structure.types names type '{name}' '{symbol}', not an element")
                }),
                None => element::atomic_number(&normalize_symbol(&name)).ok_or_else(|| {
                    format!(
                        "atom {index} has unknown element '{name}' (name the elements of atom \
                         types with structure.types)"
                    )
                }),
            }
        })
        .collect::<Result<Vec<u8>, String>>()?;
    if species.is_empty() {
        return Err("the frame has no atoms".into());
    }
    let to_vectors = |rows: &[[f64; 3]]| -> Vec<Vector3<f64>> {
        rows.iter()
            .map(|r| Vector3::new(r[0], r[1], r[2]))
            .collect()
    };
    let positions = to_vectors(frame.positions());
    if let Some(atom) = positions
        .iter()
        .position(|x| !x.iter().all(|v| v.is_finite()))
    {
        return Err(format!("atom {atom} has a non-finite position"));
    }
    let cell = frame.cell();
    let lattice =
        (cell.shape() != CellShape::Infinite).then(|| lattice_from_chemfiles(cell.matrix()));
    let velocities = match frame.velocities() {
        // chemfiles gives velocities in Å/ps (it converts GRO's nm/ps; LAMMPS data files are
        // taken as metal units).
        Some(rows) => Some(to_vectors(rows).iter().map(|v| v * 1e-3).collect()),
        None => velocities_from_properties(frame, &species)?,
    };
    Ok(Structure {
        species,
        positions,
        velocities,
        lattice,
        periodic: periodicity(frame)?,
    })
}

/// Extended XYZ's per-atom columns: `velo`, `vel` or `velocities` in Å/fs (what mlmd writes), or
/// ASE's `momenta` (amu·Å per ASE time unit, divided by the standard masses, which ASE uses by
/// default). None if the frame has none of them.
fn velocities_from_properties(
    frame: &Frame,
    species: &[u8],
) -> Result<Option<Vec<Vector3<f64>>>, String> {
    let ase_time_fs = AMU_A2_PER_FS2_IN_EV.sqrt();
    let columns = [
        ("velo", None),
        ("vel", None),
        ("velocities", None),
        ("momenta", Some(())),
    ];
    for (name, momenta) in columns {
        if frame.atom(0).get(name).is_none() {
            continue;
        }
        let velocities = (0..species.len())
            .map(|i| match frame.atom(i).get(name) {
                Some(Property::Vector3D([x, y, z])) => {
                    let v = Vector3::new(x, y, z);
                    match momenta {
                        None => Ok(v),
                        Some(()) => {
                            let mass = element::standard_mass(species[i])
                                .ok_or_else(|| format!("atom {i}: no standard mass for momenta"))?;
                            Ok(v / (mass * ase_time_fs))
                        }
                    }
                }
                other => Err(format!(
                    "atom {i}: column '{name}' should hold three numbers, holds {other:?}"
                )),
            })
            .collect::<Result<Vec<_>, String>>()?;
        if let Some(atom) = velocities
            .iter()
            .position(|v| !v.iter().all(|c| c.is_finite()))
        {
            return Err(format!("atom {atom} has a non-finite velocity ('{name}')"));
        }
        return Ok(Some(velocities));
    }
    Ok(None)
}

/// The complete frames of an (extended) XYZ file whose last frame was cut off, copied to a
/// temporary file that is removed on drop.
struct CompleteFrames {
    path: std::path::PathBuf,
    frames: usize,
}

impl CompleteFrames {
    fn of(path: &Path) -> std::result::Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
        let lines: Vec<&str> = text.lines().collect();
        let complete = xyz::complete_frames(&lines);
        let Some(last) = complete.last() else {
            return Err("the file holds no complete frame".into());
        };
        let (end, frames) = (last.end, complete.len());
        let copy = std::env::temp_dir().join(format!(
            "mlmd-{}-complete-{}.xyz",
            std::process::id(),
            path.file_name().unwrap_or_default().to_string_lossy()
        ));
        std::fs::write(&copy, lines[..end].join("\n") + "\n")
            .map_err(|e| format!("cannot copy its complete frames to {}: {e}", copy.display()))?;
        Ok(Self { path: copy, frames })
    }
}

impl Drop for CompleteFrames {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// "AR", "ar", "Ar" → "Ar".
fn normalize_symbol(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => {
            first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
        }
        None => String::new(),
    }
}

/// Extended XYZ's `pbc="T T F"`, if present.
fn periodicity(frame: &Frame) -> Result<Option<[bool; 3]>, String> {
    let text = match frame.get("pbc") {
        None => return Ok(None),
        Some(Property::Bool(p)) => return Ok(Some([p; 3])),
        Some(Property::String(text)) => text,
        Some(other) => return Err(format!("cannot read pbc = {other:?}")),
    };
    let flags: Vec<bool> = text
        .split_whitespace()
        .map(|flag| match flag {
            "T" | "t" | "True" | "true" | "1" => Ok(true),
            "F" | "f" | "False" | "false" | "0" => Ok(false),
            _ => Err(format!("cannot read pbc = \"{text}\"")),
        })
        .collect::<Result<_, _>>()?;
    match flags.as_slice() {
        [p] => Ok(Some([*p; 3])),
        [a, b, c] => Ok(Some([*a, *b, *c])),
        _ => Err(format!("pbc = \"{text}\" needs one or three flags")),
    }
}
