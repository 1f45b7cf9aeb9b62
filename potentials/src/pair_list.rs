//! The lean half neighbor list pair potentials run on: atoms in a spatial order, each pair once,
//! one `u32` per pair.

use nalgebra::{Matrix3, Vector3};

/// A half neighbor list over atoms reordered in space (by the builder: cell order), cut into
/// blocks of consecutive atoms, the units of parallel work.
///
/// Atom `k` of the order is atom `order[k]` of the system. An entry of atom `i` (in the order)
/// packs a neighbor `j` (in the order) and a lattice image `n`: `entry = code(n) << atom_bits | j`;
/// the pair's vector is `D = x[order[j]] − x[order[i]] + n · lattice` (lattice rows) for the
/// positions as the potential is given them. Each pair appears once, on one of its two atoms.
/// The list may hold pairs longer than the potential's cutoff (the skin).
///
/// Newton's third law puts a pair's force on both atoms; the atoms a block's entries reach lie
/// in its *window* ([`PairBlock::window_start`], [`PairBlock::window_len`]): a circular range of
/// the order around the block, so that blocks can accumulate forces in private buffers and add
/// them in a fixed order (results do not depend on the number of threads).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PairList {
    /// The system's atom at each position of the spatial order.
    pub order: Vec<u32>,
    /// The position in the order of each of the system's atoms (the inverse of `order`).
    pub rank: Vec<u32>,
    /// Blocks of consecutive atoms of the order, covering it in order.
    pub blocks: Vec<PairBlock>,
    /// Images `n` range over `−reach[a] ..= reach[a]` along axis `a`.
    pub image_reach: [i32; 3],
    /// Low bits of an entry holding the neighbor's position in the order.
    pub atom_bits: u32,
}

/// The pairs of a block of consecutive atoms of a [`PairList`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PairBlock {
    /// First atom of the block (position in the order).
    pub start: u32,
    /// The pairs of the block's atom `start + a` are `entries[offsets[a]..offsets[a + 1]]`.
    pub offsets: Vec<u32>,
    /// Packed neighbor and image, see [`PairList`].
    pub entries: Vec<u32>,
    /// First atom (position in the order) of the block's window.
    pub window_start: u32,
    /// Atoms in the window, which runs circularly from `window_start` and holds the block and
    /// every neighbor its entries name.
    pub window_len: u32,
}

impl PairBlock {
    /// Atoms in the block.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether the block has no atoms.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// End (exclusive) of the block's atoms in the order.
    pub fn end(&self) -> u32 {
        self.start + self.len() as u32
    }

    /// The window of a block of atoms `start..end` (of `n`) whose pairs name the atoms
    /// `touched`: a circular range starting at or before `start` that holds the block
    /// and every touched atom, atoms after the block counted forward from `end`, atoms before it
    /// backward from `start`, whichever is nearer. Returns (first atom, length).
    pub fn window(
        n: usize,
        start: usize,
        end: usize,
        touched: impl Iterator<Item = usize>,
    ) -> (u32, u32) {
        let (mut back, mut ahead) = (0usize, 0usize);
        for j in touched {
            // Distances forward from `end` and backward from `start`, circularly (no division).
            let forward = if j >= end { j - end } else { j + n - end };
            let backward = if j < start { start - j } else { start + n - j };
            if (start..end).contains(&j) {
                continue;
            } else if forward < backward {
                ahead = ahead.max(forward + 1);
            } else {
                back = back.max(backward);
            }
        }
        if back + (end - start) + ahead >= n {
            return (start as u32, n as u32);
        }
        (
            ((start + n - back) % n) as u32,
            (back + end - start + ahead) as u32,
        )
    }
}

/// Packs neighbors and images into entries and back for one list's `atom_bits` and image reach.
#[derive(Debug, Clone, Copy)]
pub struct EntryCodec {
    atom_bits: u32,
    reach: [i32; 3],
}

impl EntryCodec {
    /// The codec for `n_atoms` atoms and images within `reach` along each axis, or `None` when
    /// the two do not fit in 32 bits together.
    pub fn new(n_atoms: usize, reach: [i32; 3]) -> Option<Self> {
        let atom_bits = bits_for(n_atoms);
        let images: u64 = reach.iter().map(|&r| 2 * r.max(0) as u64 + 1).product();
        (atom_bits + bits_for(images as usize) <= 32).then_some(Self { atom_bits, reach })
    }

    /// Low bits holding the neighbor.
    pub fn atom_bits(&self) -> u32 {
        self.atom_bits
    }

    /// The image half-widths.
    pub fn reach(&self) -> [i32; 3] {
        self.reach
    }

    /// The entry for neighbor `j` seen through image `n` (`|n[a]| ≤ reach[a]`).
    #[inline]
    pub fn encode(&self, j: usize, n: [i32; 3]) -> u32 {
        let [ra, rb, rc] = self.reach;
        let code = ((n[0] + ra) * (2 * rb + 1) + (n[1] + rb)) * (2 * rc + 1) + (n[2] + rc);
        (code as u32) << self.atom_bits | j as u32
    }

    /// The neighbor of an entry.
    #[inline]
    pub fn atom(&self, entry: u32) -> usize {
        (entry & ((1u64 << self.atom_bits) - 1) as u32) as usize
    }

    /// The image code of an entry (an index into [`EntryCodec::image_vectors`]).
    #[inline]
    pub fn code(&self, entry: u32) -> usize {
        (u64::from(entry) >> self.atom_bits) as usize
    }

    /// The integer image of a code.
    pub fn image(&self, code: usize) -> [i32; 3] {
        let [_, wb, wc] = self.reach.map(|r| 2 * r + 1);
        let code = code as i32;
        [
            code / (wb * wc) - self.reach[0],
            code / wc % wb - self.reach[1],
            code % wc - self.reach[2],
        ]
    }

    /// The Cartesian vector `n · lattice` of every image code, Å.
    pub fn image_vectors(&self, lattice: &Matrix3<f64>) -> Vec<Vector3<f64>> {
        let count: i32 = self.reach.iter().map(|&r| 2 * r + 1).product();
        (0..count as usize)
            .map(|code| {
                let n = self.image(code);
                (0..3).fold(Vector3::zeros(), |sum, a| {
                    sum + lattice.row(a).transpose() * f64::from(n[a])
                })
            })
            .collect()
    }
}

/// Bits needed to write the numbers below `count` (at least 1).
fn bits_for(count: usize) -> u32 {
    (usize::BITS - count.saturating_sub(1).leading_zeros()).max(1)
}

impl PairList {
    /// The codec of this list's entries.
    pub fn codec(&self) -> EntryCodec {
        EntryCodec {
            atom_bits: self.atom_bits,
            reach: self.image_reach,
        }
    }

    /// Atoms in the list.
    pub fn n_atoms(&self) -> usize {
        self.order.len()
    }

    /// Pairs in the list.
    pub fn len(&self) -> usize {
        self.blocks.iter().map(|b| b.entries.len()).sum()
    }

    /// Whether the list has no pairs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every pair as (atom, neighbor, image) in the system's atom numbering, in list order.
    pub fn pairs(&self) -> impl Iterator<Item = (usize, usize, [i32; 3])> + '_ {
        let codec = self.codec();
        self.blocks.iter().flat_map(move |block| {
            (0..block.len()).flat_map(move |a| {
                let i = self.order[block.start as usize + a] as usize;
                let range = block.offsets[a] as usize..block.offsets[a + 1] as usize;
                block.entries[range].iter().map(move |&entry| {
                    let j = self.order[codec.atom(entry)] as usize;
                    (i, j, codec.image(codec.code(entry)))
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_refuse_what_does_not_fit() {
        let codec = EntryCodec::new(1000, [1, 2, 0]).unwrap();
        assert_eq!(codec.atom_bits(), 10);
        for n in [[-1, -2, 0], [0, 0, 0], [1, 2, 0], [1, -1, 0]] {
            let entry = codec.encode(999, n);
            assert_eq!(
                (codec.atom(entry), codec.image(codec.code(entry))),
                (999, n)
            );
        }
        let lattice = Matrix3::new(2.0, 0.0, 0.0, 0.5, 3.0, 0.0, 0.0, 0.0, 4.0);
        let vectors = codec.image_vectors(&lattice);
        let entry = codec.encode(3, [1, -2, 0]);
        assert_eq!(vectors[codec.code(entry)], Vector3::new(1.0, -6.0, 0.0));
        assert!(EntryCodec::new(1 << 28, [1, 1, 1]).is_none());
        assert!(EntryCodec::new(1 << 27, [1, 1, 1]).is_some());
    }

    #[test]
    fn windows_hold_the_block_and_its_neighbors() {
        // Block 10..20 of 100 reaching 25 and, across the end, 2: window 10..26 + 0..3.
        assert_eq!(
            PairBlock::window(100, 10, 20, [12, 25].into_iter()),
            (10, 16)
        );
        assert_eq!(
            PairBlock::window(100, 90, 100, [95, 2].into_iter()),
            (90, 13)
        );
        assert_eq!(PairBlock::window(100, 10, 20, [8, 21].into_iter()), (8, 14));
        assert_eq!(PairBlock::window(10, 2, 5, [0, 9, 7].into_iter()), (9, 9));
        assert_eq!(
            PairBlock::window(10, 2, 5, [0, 9, 8, 7].into_iter()),
            (2, 10)
        );
    }
}
