//! Pair forces over a spatial [`PairList`]: one task per block, batched pairs, forces summed in
//! a fixed order.

use super::{PairBatch, PairPotential, BATCH};
use crate::{PairBlock, PairList};
use nalgebra::{Matrix3, Vector3};
use rayon::prelude::*;

/// Per-atom loops run in parallel tasks of at least this many atoms: small systems stay on one
/// thread rather than wake others for microseconds of work.
const MIN_PARALLEL: usize = 1024;

/// What the kernel keeps between calls (sized by the list, reused).
#[derive(Debug, Clone, Default)]
pub(super) struct Buffers {
    /// Positions in the list's order, Å.
    positions: Vec<Vector3<f64>>,
    /// Pair types in the list's order.
    types: Vec<u32>,
    /// Each block's force accumulator over its window, eV/Å.
    windows: Vec<Vec<Vector3<f64>>>,
    /// Forces in the list's order, eV/Å.
    forces: Vec<Vector3<f64>>,
}

/// What the kernel computes on.
pub(super) struct Input<'a> {
    /// The pairs.
    pub list: &'a PairList,
    /// Positions in the system's order, Å.
    pub positions: &'a [Vector3<f64>],
    /// Pair type of each atom.
    pub types: &'a [u32],
    /// The cell's rows, Å.
    pub lattice: &'a Matrix3<f64>,
    /// Whether to keep to the baseline vector instructions.
    pub baseline: bool,
}

/// Energy (eV), forces on the system's atoms (eV/Å, when `forces`) and, with `VIRIAL`, the
/// virial `W = −Σ_pairs D ⊗ F` (eV) of `pair` over the input's pairs.
///
/// Block `b` accumulates into its own window buffer: each pair's force `F = g D` (g the
/// potential's `(1/r) dV/dr`) is added to its atom and subtracted from its neighbor. The forces
/// are then the window buffers summed block by block in block order, so that results are
/// bit-identical on any number of threads.
pub(super) fn compute<P: PairPotential, const VIRIAL: bool>(
    pair: &P,
    input: &Input<'_>,
    buffers: &mut Buffers,
    forces: bool,
) -> (f64, Vec<Vector3<f64>>, Matrix3<f64>) {
    let Input {
        list,
        positions,
        types,
        lattice,
        baseline,
    } = *input;
    let n = list.n_atoms();
    let order = &list.order;
    buffers.positions.resize(n, Vector3::zeros());
    buffers.types.resize(n, 0);
    buffers
        .positions
        .par_iter_mut()
        .zip(buffers.types.par_iter_mut())
        .zip(order.par_iter())
        .with_min_len(MIN_PARALLEL)
        .for_each(|((x, t), &atom)| (*x, *t) = (positions[atom as usize], types[atom as usize]));
    buffers.windows.resize(list.blocks.len(), Vec::new());
    let images = list.codec().image_vectors(lattice);
    let (spatial, windows) = (
        (&buffers.positions[..], &buffers.types[..], &images[..]),
        &mut buffers.windows,
    );
    let vector = if baseline {
        Vector::Baseline
    } else {
        Vector::detect()
    };
    let sums: Vec<(f64, [f64; 6])> = list
        .blocks
        .par_iter()
        .zip(windows.par_iter_mut())
        .map(|(block, window)| vector.block_forces::<P, VIRIAL>(pair, list, block, spatial, window))
        .collect();
    let energy = sums.iter().map(|s| s.0).sum();
    let w = sums
        .iter()
        .fold([0.0; 6], |a, s| std::array::from_fn(|k| a[k] + s.1[k]));
    let virial = -Matrix3::new(w[0], w[3], w[4], w[3], w[1], w[5], w[4], w[5], w[2]);
    if !forces {
        return (energy, Vec::new(), virial);
    }
    gather_windows(list, &buffers.windows, &mut buffers.forces);
    let spatial_forces = &buffers.forces;
    let forces = list
        .rank
        .par_iter()
        .with_min_len(MIN_PARALLEL)
        .map(|&k| spatial_forces[k as usize])
        .collect();
    (energy, forces, virial)
}

/// The vector instructions the kernel is compiled for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Vector {
    /// The target's baseline (SSE2 on x86-64).
    Baseline,
    /// AVX2 (four doubles per instruction), where the CPU has it.
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

/// A block's inputs in the list's order: positions, pair types, image vectors.
type Spatial<'a> = (&'a [Vector3<f64>], &'a [u32], &'a [Vector3<f64>]);

impl Vector {
    /// The widest the CPU runs. Both compile the same operations in the same order, so results
    /// are identical bit for bit.
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return Vector::Avx2;
        }
        Vector::Baseline
    }

    /// [`block_forces`] compiled for these instructions.
    fn block_forces<P: PairPotential, const VIRIAL: bool>(
        self,
        pair: &P,
        list: &PairList,
        block: &PairBlock,
        spatial: Spatial<'_>,
        window: &mut Vec<Vector3<f64>>,
    ) -> (f64, [f64; 6]) {
        match self {
            Vector::Baseline => block_forces::<P, VIRIAL>(pair, list, block, spatial, window),
            // SAFETY: `detect` chose AVX2 because the CPU has it.
            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code)]
            Vector::Avx2 => unsafe {
                block_forces_avx2::<P, VIRIAL>(pair, list, block, spatial, window)
            },
        }
    }
}

/// [`block_forces`] with AVX2 enabled (the pair potential's batch inlined into it).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn block_forces_avx2<P: PairPotential, const VIRIAL: bool>(
    pair: &P,
    list: &PairList,
    block: &PairBlock,
    spatial: Spatial<'_>,
    window: &mut Vec<Vector3<f64>>,
) -> (f64, [f64; 6]) {
    block_forces::<P, VIRIAL>(pair, list, block, spatial, window)
}

/// One block's pairs: accumulates forces into `window` (resized to the block's window) and
/// returns the energy and `Σ g D ⊗ D` (xx, yy, zz, xy, xz, yz) of its pairs.
#[inline(always)]
fn block_forces<P: PairPotential, const VIRIAL: bool>(
    pair: &P,
    list: &PairList,
    block: &PairBlock,
    (positions, types, images): Spatial<'_>,
    window: &mut Vec<Vector3<f64>>,
) -> (f64, [f64; 6]) {
    let n = list.n_atoms();
    let codec = list.codec();
    let first = block.window_start as usize;
    let slot = |j: usize| {
        let w = j + n - first;
        if w >= n {
            w - n
        } else {
            w
        }
    };
    window.clear();
    window.resize(block.window_len as usize, Vector3::zeros());
    let (mut energy, mut virial) = (0.0, [0.0; 6]);
    let mut batch = PairBatch::EMPTY;
    let (mut dx, mut dy, mut dz) = ([0.0; BATCH], [0.0; BATCH], [0.0; BATCH]);
    let mut slots = [0usize; BATCH];
    for a in 0..block.len() {
        let i = block.start as usize + a;
        let (xi, ti) = (positions[i], types[i] as usize);
        let mut fi = Vector3::zeros();
        let row = &block.entries[block.offsets[a] as usize..block.offsets[a + 1] as usize];
        for chunk in row.chunks(BATCH) {
            // Gather, evaluate, scatter: whole passes over the batch, so that the vector loads
            // of the evaluation do not wait on the scalar stores of the gather.
            batch.len = chunk.len();
            let lanes = batch.lanes();
            batch.r2[batch.len..lanes].fill(f64::INFINITY);
            for (l, &entry) in chunk.iter().enumerate() {
                let j = codec.atom(entry);
                let d = positions[j] + images[codec.code(entry)] - xi;
                (dx[l], dy[l], dz[l]) = (d.x, d.y, d.z);
                batch.r2[l] = d.norm_squared();
                batch.types[l] = types[j];
                slots[l] = slot(j);
            }
            pair.evaluate_batch(ti, &mut batch);
            for l in 0..chunk.len() {
                let g = batch.gradient[l];
                let (x, y, z) = (dx[l], dy[l], dz[l]);
                let f = Vector3::new(x * g, y * g, z * g);
                fi += f;
                window[slots[l]] -= f;
                energy += batch.energy[l];
                if VIRIAL {
                    let terms = [x * x, y * y, z * z, x * y, x * z, y * z];
                    for (v, t) in virial.iter_mut().zip(terms) {
                        *v += t * g;
                    }
                }
            }
        }
        window[slot(i)] += fi;
    }
    (energy, virial)
}

/// Sums the blocks' windows into forces in the list's order: every atom gets the windows that
/// hold it, in block order. Parallel over blocks of destination atoms.
fn gather_windows(list: &PairList, windows: &[Vec<Vector3<f64>>], out: &mut Vec<Vector3<f64>>) {
    let n = list.n_atoms();
    out.clear();
    out.resize(n, Vector3::zeros());
    let mut rest = &mut out[..];
    let mut targets = Vec::with_capacity(list.blocks.len());
    for block in &list.blocks {
        let (head, tail) = rest.split_at_mut(block.len());
        targets.push((block.start as usize, head));
        rest = tail;
    }
    targets.into_par_iter().for_each(|(start, target)| {
        let end = start + target.len();
        for (block, window) in list.blocks.iter().zip(windows) {
            let first = block.window_start as usize;
            // The window as up to two linear pieces: first.. and, past the end, 0...
            let len = window.len();
            let pieces = [
                (first, (first + len).min(n), 0),
                (0, (first + len).saturating_sub(n), n - first),
            ];
            for (from, to, offset) in pieces {
                for k in from.max(start)..to.min(end) {
                    target[k - start] += window[k - from + offset];
                }
            }
        }
    });
}
