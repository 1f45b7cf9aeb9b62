//! The cell list's lean half list: atoms in bin order, each pair once as a packed `u32`, blocks of
//! whole slabs of bins built in parallel.

use super::cell_list::Grid;
use super::wrapped::WrappedAtoms;
use crate::cell::Cell;
use mlmd_potentials::{EntryCodec, PairBlock, PairList};
use nalgebra::Vector3;
use rayon::prelude::*;

/// Blocks the builder makes at least (where there are slabs for them): work for a few threads.
const MIN_BLOCKS: usize = 8;

/// Slabs per block the builder aims at in large systems: a block's window reaches the stencil's
/// two slabs beyond it, so wider blocks sum fewer window entries.
const SLABS_PER_BLOCK: usize = 4;

/// The half list of pairs closer than `cutoff`, with atoms in bin order (the bins' slabs along
/// the axis with most bins, rows, then bins), or `None` when the atom count and the images do not
/// fit a 32-bit entry together (then build an edge list).
///
/// Each atom looks at the bins of half the stencil (offsets after zero in the bins' order, and
/// its own bin for atoms after it), so every pair is found once, from the atom that sees the
/// other at a forward offset; a block's neighbors then lie in it or in the slabs after it.
pub(super) fn build(positions: &[Vector3<f64>], cell: &Cell, cutoff: f64) -> Option<PairList> {
    let atoms = WrappedAtoms::new(positions, cell);
    let grid = Grid::new(&atoms, cell, cutoff);
    let n = positions.len();
    // Wrapping moved atoms by `images`: a pair's image becomes `n + s_i − s_j`.
    let wrapped: [i32; 3] =
        std::array::from_fn(|a| atoms.images.iter().map(|s| s[a].abs()).max().unwrap_or(0));
    let image_reach = std::array::from_fn(|a| {
        if grid.periodic[a] {
            (grid.reach[a] as usize).div_ceil(grid.counts[a]) as i32 + 2 * wrapped[a]
        } else {
            0
        }
    });
    let codec = EntryCodec::new(n, image_reach)?;
    let order = grid.bin_atoms.clone();
    let mut rank = vec![0u32; n];
    for (k, &atom) in order.iter().enumerate() {
        rank[atom as usize] = k as u32;
    }
    let images: Vec<[i32; 3]> = order.iter().map(|&a| atoms.images[a as usize]).collect();
    let wrapped = (wrapped != [0; 3]).then_some(&images[..]);
    let builder = BlockBuilder::new(&grid, cell, codec, wrapped, cutoff);
    let blocks = slab_blocks(&grid)
        .into_par_iter()
        .map(|bins| builder.block(bins))
        .collect();
    Some(PairList {
        order,
        rank,
        blocks,
        image_reach,
        atom_bits: codec.atom_bits(),
    })
}

/// Bin ranges of the blocks: whole slabs, [`SLABS_PER_BLOCK`] each or [`MIN_BLOCKS`] blocks,
/// whichever gives more (at most one per slab); independent of the number of threads.
fn slab_blocks(grid: &Grid) -> Vec<std::ops::Range<usize>> {
    let (bins_per_slab, slabs) = grid.slabs();
    let blocks = (slabs / SLABS_PER_BLOCK).max(MIN_BLOCKS.min(slabs)).max(1);
    (0..blocks)
        .map(|b| b * slabs / blocks * bins_per_slab..(b + 1) * slabs / blocks * bins_per_slab)
        .collect()
}

/// Bins `first..=last` of a row along the fastest axis, all seen through one image along it.
#[derive(Debug, Clone, Copy)]
struct Run {
    first: usize,
    last: usize,
    image: i32,
}

/// The runs of bins `home + offset` along `axis` for `offset` in `offsets`: consecutive bins of
/// one image merge into one run.
fn runs(grid: &Grid, axis: usize, home: usize, offsets: std::ops::RangeInclusive<i32>) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for (bin, image) in offsets.filter_map(|o| grid.along(axis, home, o)) {
        match runs.last_mut() {
            Some(run) if run.image == image && run.last + 1 == bin => run.last = bin,
            _ => runs.push(Run {
                first: bin,
                last: bin,
                image,
            }),
        }
    }
    runs
}

/// Candidate neighbors of the atoms of one bin: atoms `slots` (bin order) seen through `image`;
/// `own` for the run that starts at the home bin itself (only atoms after the atom count).
#[derive(Debug, Clone)]
struct Candidates {
    slots: std::ops::Range<usize>,
    image: [i32; 3],
    shift: Vector3<f64>,
    own: bool,
}

/// Candidates whose distances are computed in one vectorised pass.
const CHUNK: usize = 64;

/// What every block's build reads.
struct BlockBuilder<'a> {
    grid: &'a Grid,
    /// The bins' positions as x, y and z arrays (bin order), Å.
    coordinates: [Vec<f64>; 3],
    cell: &'a Cell,
    codec: EntryCodec,
    /// Wrapping images in bin order, `None` when every atom was inside the cell.
    images: Option<&'a [[i32; 3]]>,
    /// Along the fastest axis, per home bin: the runs of the whole stencil row, and of its
    /// half from the home bin on.
    rows: Vec<(Vec<Run>, Vec<Run>)>,
    cutoff_squared: f64,
}

impl<'a> BlockBuilder<'a> {
    fn new(
        grid: &'a Grid,
        cell: &'a Cell,
        codec: EntryCodec,
        images: Option<&'a [[i32; 3]]>,
        cutoff: f64,
    ) -> Self {
        let fast = grid.axes[2];
        let reach = grid.reach[fast];
        let rows = (0..grid.counts[fast])
            .map(|home| {
                (
                    runs(grid, fast, home, -reach..=reach),
                    runs(grid, fast, home, 0..=reach),
                )
            })
            .collect();
        let coordinates =
            std::array::from_fn(|a| grid.bin_positions.iter().map(|x| x[a]).collect());
        Self {
            grid,
            coordinates,
            cell,
            codec,
            images,
            rows,
            cutoff_squared: cutoff * cutoff,
        }
    }

    /// The pairs of the atoms in bins `bins`.
    fn block(&self, bins: std::ops::Range<usize>) -> PairBlock {
        let grid = self.grid;
        let (start, end) = (grid.bin_start[bins.start], grid.bin_start[bins.end]);
        let mut offsets = Vec::with_capacity(end - start + 1);
        let mut entries = Vec::new();
        offsets.push(0);
        let mut candidates = Vec::new();
        for home in bins {
            self.candidates(home, &mut candidates);
            for i in grid.bin_start[home]..grid.bin_start[home + 1] {
                match self.images {
                    None => self.atom_pairs::<false>(i, &candidates, &mut entries),
                    Some(_) => self.atom_pairs::<true>(i, &candidates, &mut entries),
                }
                offsets.push(entries.len() as u32);
            }
        }
        entries.shrink_to_fit();
        let n = grid.bin_atoms.len();
        let touched = entries.iter().map(|&e| self.codec.atom(e));
        let (window_start, window_len) = PairBlock::window(n, start, end, touched);
        PairBlock {
            start: start as u32,
            offsets,
            entries,
            window_start,
            window_len,
        }
    }

    /// The candidates of the atoms of bin `home` (half the stencil, as rows of runs).
    fn candidates(&self, home: usize, out: &mut Vec<Candidates>) {
        let grid = self.grid;
        let [p, q, r] = grid.axes;
        let b = grid.bin_coordinates_of(home);
        out.clear();
        for op in 0..=grid.reach[p] {
            let Some((bp, ip)) = grid.along(p, b[p], op) else {
                continue;
            };
            let first_q = if op == 0 { 0 } else { -grid.reach[q] };
            for oq in first_q..=grid.reach[q] {
                let Some((bq, iq)) = grid.along(q, b[q], oq) else {
                    continue;
                };
                let half_row = op == 0 && oq == 0;
                let (whole, half) = &self.rows[b[r]];
                let row_start = (bp * grid.counts[q] + bq) * grid.counts[r];
                for (k, run) in if half_row { half } else { whole }.iter().enumerate() {
                    let mut image = [0; 3];
                    (image[p], image[q], image[r]) = (ip, iq, run.image);
                    out.push(Candidates {
                        slots: grid.bin_start[row_start + run.first]
                            ..grid.bin_start[row_start + run.last + 1],
                        image,
                        shift: self.cell.shift_vector(image),
                        own: half_row && k == 0,
                    });
                }
            }
        }
    }

    /// Appends the pairs of atom `i` (bin order) closer than the cutoff among `candidates`.
    /// Candidates go in chunks: squared distances in one pass the compiler vectorises, then
    /// every candidate is written and the count advanced only for those inside (no branch).
    fn atom_pairs<const WRAPPED: bool>(
        &self,
        i: usize,
        candidates: &[Candidates],
        entries: &mut Vec<u32>,
    ) {
        let [xs, ys, zs] = &self.coordinates;
        let images = self.images.unwrap_or(&[]);
        let mut len = entries.len();
        let most = candidates.iter().map(|c| c.slots.len()).sum::<usize>();
        entries.resize(len + most, 0);
        let mut r2 = [0.0; CHUNK];
        for c in candidates {
            let first = if c.own { i + 1 } else { c.slots.start };
            let code = self.codec.encode(0, c.image);
            let mut start = first;
            while start < c.slots.end {
                let end = (start + CHUNK).min(c.slots.end);
                let r2 = &mut r2[..end - start];
                let (x, y, z) = (&xs[start..end], &ys[start..end], &zs[start..end]);
                for (k, r2) in r2.iter_mut().enumerate() {
                    let dx = x[k] - xs[i] + c.shift.x;
                    let dy = y[k] - ys[i] + c.shift.y;
                    let dz = z[k] - zs[i] + c.shift.z;
                    *r2 = dx * dx + dy * dy + dz * dz;
                }
                for (k, &r2) in r2.iter().enumerate() {
                    let j = start + k;
                    entries[len] = if WRAPPED {
                        let (si, sj) = (images[i], images[j]);
                        let n = std::array::from_fn(|a| c.image[a] + si[a] - sj[a]);
                        self.codec.encode(j, n)
                    } else {
                        code | j as u32
                    };
                    len += usize::from(r2 < self.cutoff_squared);
                }
                start = end;
            }
        }
        entries.truncate(len);
    }
}
