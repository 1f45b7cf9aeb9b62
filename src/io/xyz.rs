//! Plain-text views of (extended) XYZ files, for what chemfiles does not do: writing frames at
//! full precision, finding the complete frames of a file whose last frame was cut off, each
//! frame's `step`, and lattices chemfiles refuses.

use crate::element;
use crate::system::System;
use nalgebra::Matrix3;
use std::io::Write;
use std::ops::Range;
use std::path::Path;

/// Writes `system` as one extended XYZ frame: the atom count; a comment line with the lattice
/// (when the cell has one; rows are the lattice vectors, Å), the columns
/// `species:S:1:pos:R:3:velo:R:3` (Å, Å/fs), the periodicity and `step`; one line per atom.
/// Numbers are written in Rust's shortest round-trip form, so reading them back gives the
/// same f64 values (ASE and chemfiles read the file).
pub fn write_frame(out: &mut impl Write, step: u64, system: &System) -> std::io::Result<()> {
    writeln!(out, "{}", system.len())?;
    if system.cell.has_full_lattice() {
        let values: Vec<String> = system
            .cell
            .lattice()
            .transpose()
            .iter()
            .map(f64::to_string)
            .collect();
        write!(out, "Lattice=\"{}\" ", values.join(" "))?;
    }
    let flags: Vec<&str> = system
        .cell
        .periodic()
        .iter()
        .map(|&p| if p { "T" } else { "F" })
        .collect();
    writeln!(
        out,
        "Properties=species:S:1:pos:R:3:velo:R:3 pbc=\"{}\" step={step}",
        flags.join(" ")
    )?;
    for ((&z, x), v) in system
        .species
        .iter()
        .zip(&system.positions)
        .zip(&system.velocities)
    {
        writeln!(
            out,
            "{} {} {} {} {} {} {}",
            element::symbol(z),
            x.x,
            x.y,
            x.z,
            v.x,
            v.y,
            v.z
        )?;
    }
    Ok(())
}

/// Whether the path's extension is `.xyz` or `.extxyz`.
pub fn is_xyz(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xyz") || e.eq_ignore_ascii_case("extxyz"))
}

/// The line ranges of the complete frames at the start of `lines` (a frame is its atom count,
/// a comment line and that many atom lines); stops at the first incomplete or unreadable one.
pub fn complete_frames(lines: &[&str]) -> Vec<Range<usize>> {
    let mut frames = Vec::new();
    let mut start = 0;
    while let Some(count) = lines
        .get(start)
        .and_then(|l| l.trim().parse::<usize>().ok())
    {
        let end = start + count + 2;
        if end > lines.len() {
            break;
        }
        frames.push(start..end);
        start = end;
    }
    frames
}

/// The lattice (rows, Å) of a frame's `Lattice="ax ay az bx by bz cx cy cz"` comment, if any,
/// and the comment with it replaced by `replacement`.
pub fn split_lattice(comment: &str, replacement: &str) -> Option<(Matrix3<f64>, String)> {
    let start = comment.find("Lattice=\"")? + "Lattice=\"".len();
    let end = start + comment[start..].find('"')?;
    let values: Vec<f64> = comment[start..end]
        .split_whitespace()
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    let lattice = (values.len() == 9).then(|| Matrix3::from_row_slice(&values))?;
    Some((
        lattice,
        format!("{}{replacement}{}", &comment[..start], &comment[end..]),
    ))
}

/// The `step=` a frame's comment line records (mlmd writes it), if any.
pub fn frame_step(comment: &str) -> Option<f64> {
    comment
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("step="))
        .and_then(|v| v.trim_matches('"').parse().ok())
}
