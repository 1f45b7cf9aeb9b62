//! Reading structures and writing trajectories through chemfiles.

mod structure;
mod trajectory;
pub(crate) mod xyz;

pub use structure::{read_structures, read_structures_as, Structure, TypeNames};
pub use trajectory::TrajectoryWriter;

use nalgebra::Matrix3;

/// chemfiles stores lattice vectors as matrix columns; mlmd as rows.
fn lattice_from_chemfiles(matrix: [[f64; 3]; 3]) -> Matrix3<f64> {
    Matrix3::from_fn(|row, column| matrix[column][row])
}

/// mlmd's lattice (rows) as a chemfiles matrix (columns).
fn lattice_to_chemfiles(lattice: &Matrix3<f64>) -> [[f64; 3]; 3] {
    std::array::from_fn(|row| std::array::from_fn(|column| lattice[(column, row)]))
}

/// Opens a chemfiles trajectory, mapping extensions chemfiles does not know (`.extxyz`) to
/// their format; chemfiles' own warnings are silenced, its errors are reported by the caller.
/// Checks that chemfiles can write a trajectory at `path` (format from the extension), without
/// touching the file: a message naming the problem otherwise.
pub fn check_writable_format(path: &std::path::Path, format: Option<&str>) -> Result<(), String> {
    chemfiles::set_warning_callback(|_| {});
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if format.is_none() && extension.eq_ignore_ascii_case("extxyz") {
        return Ok(());
    }
    let guessed = match format {
        Some(name) => name.to_string(),
        None => chemfiles::guess_format(path).map_err(|e| e.message)?,
    };
    // "<format> [/ <compression>]".
    let name = guessed.split('/').next().unwrap_or("").trim();
    match chemfiles::formats_list().iter().find(|f| f.name == name) {
        Some(format) if format.write => Ok(()),
        Some(_) => Err(format!(
            "chemfiles can read {name} files but not write them"
        )),
        None => Err(format!("chemfiles has no format named '{name}'")),
    }
}

fn open_trajectory(
    path: &std::path::Path,
    mode: char,
    format: Option<&str>,
) -> Result<chemfiles::Trajectory, chemfiles::Error> {
    chemfiles::set_warning_callback(|_| {});
    match chemfiles_format(path, format) {
        Some(format) => chemfiles::Trajectory::open_with_format(path, mode, format),
        None => chemfiles::Trajectory::open(path, mode),
    }
}

/// The chemfiles format to name for `path`: `format` if given, "XYZ" for `.extxyz` (an
/// extension chemfiles does not know), else none (chemfiles goes by the extension).
fn chemfiles_format<'a>(path: &std::path::Path, format: Option<&'a str>) -> Option<&'a str> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    format.or_else(|| extension.eq_ignore_ascii_case("extxyz").then_some("XYZ"))
}

/// Opens a text output for writing: created or truncated, or with `append` continued.
pub fn open_output(
    path: &std::path::Path,
    append: bool,
) -> std::io::Result<std::io::BufWriter<std::fs::File>> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append)
        .open(path)
        .map(std::io::BufWriter::new)
}
