//! Plain-text views of (extended) XYZ files, for what chemfiles does not do: finding the
//! complete frames of a file whose last frame was cut off, and each frame's `step`.

use std::ops::Range;
use std::path::Path;

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

/// The `step=` a frame's comment line records (mlmd writes it), if any.
pub fn frame_step(comment: &str) -> Option<f64> {
    comment
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("step="))
        .and_then(|v| v.trim_matches('"').parse().ok())
}
