//! Row-parallel application of a row-wise kernel: rows are split into fixed chunks, so each
//! row's result does not depend on the number of threads.

use super::dense::Real;
use rayon::prelude::*;

/// Rows per task.
const CHUNK: usize = 32;
/// Below this many row × input × output entries a map runs on the calling thread: waking the
/// pool would cost more than the work.
const SERIAL_WORK: usize = 1 << 18;

/// Calls `kernel(x_rows, out_rows)` on matching chunks of `x [rows, width_in]` and
/// `out [rows, width_out]`, in parallel.
pub fn rows_in_parallel<T: Real>(
    x: &[T],
    width_in: usize,
    out: &mut [T],
    width_out: usize,
    kernel: impl Fn(&[T], &mut [T]) + Sync,
) {
    if width_in == 0 || width_out == 0 {
        return;
    }
    if x.len() * width_out < SERIAL_WORK {
        x.chunks(CHUNK * width_in)
            .zip(out.chunks_mut(CHUNK * width_out))
            .for_each(|(x, out)| kernel(x, out));
        return;
    }
    x.par_chunks(CHUNK * width_in)
        .zip(out.par_chunks_mut(CHUNK * width_out))
        .for_each(|(x, out)| kernel(x, out));
}

/// `kernel(x_rows, out_rows)` (as [`rows_in_parallel`]) into new rows of width `width_out`.
pub fn map_rows<T: Real>(
    x: &[T],
    width_in: usize,
    width_out: usize,
    kernel: impl Fn(&[T], &mut [T]) + Sync,
) -> Vec<T> {
    let mut out = vec![T::zero(); x.len() / width_in.max(1) * width_out];
    rows_in_parallel(x, width_in, &mut out, width_out, kernel);
    out
}
