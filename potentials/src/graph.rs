//! The input every potential consumes: atoms and a directed edge list.

use crate::PairList;
use nalgebra::{Matrix3, Vector3};

/// Atoms and their directed edges, as a potential sees them.
///
/// Edge `e` goes from `senders[e]` to `receivers[e]` and its vector is
/// `positions[receivers[e]] - positions[senders[e]] + unit_shifts[e] · cell`
/// (cell rows are the lattice vectors), which is MACE's and ASE's convention
/// (`D = x[j] - x[i] + S·cell` with `i` the sender). The list is full (every pair appears in both
/// directions) unless `half_list` says it holds each pair once, as a potential may ask for
/// ([`Potential::half_list`](crate::Potential::half_list)). It may hold edges longer than the
/// potential's cutoff (the neighbor-list skin); a potential must ignore those.
#[derive(Debug, Clone, Copy)]
pub struct AtomicGraph<'a> {
    /// Cartesian positions, Å.
    pub positions: &'a [Vector3<f64>],
    /// Atomic numbers.
    pub species: &'a [u8],
    /// Lattice vectors as rows, Å; `None` for a system without a cell.
    pub cell: Option<&'a Matrix3<f64>>,
    /// Index of the atom each edge starts from.
    pub senders: &'a [u32],
    /// Index of the atom each edge points to.
    pub receivers: &'a [u32],
    /// Integer lattice shift of each edge.
    pub unit_shifts: &'a [[i32; 3]],
    /// Bumps on every neighbor-list rebuild, so that a potential may cache edge data.
    pub generation: u64,
    /// Whether each pair appears once (on the edge with sender < receiver, or for an atom and
    /// its own image the edge with the lexicographically positive shift) instead of twice.
    pub half_list: bool,
    /// The half list in its lean, spatial form, which the engine hands a potential that asks
    /// for a half list ([`Potential::half_list`](crate::Potential::half_list)) when its builder
    /// makes one; the edge list is then empty.
    pub pairs: Option<&'a PairList>,
}

impl AtomicGraph<'_> {
    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Whether the graph has no atoms.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The Cartesian shift `unit_shift · cell` of edge `edge`, Å.
    pub fn shift_vector(&self, edge: usize) -> Vector3<f64> {
        match self.cell {
            Some(cell) => {
                let s = self.unit_shifts[edge];
                cell.row(0).transpose() * f64::from(s[0])
                    + cell.row(1).transpose() * f64::from(s[1])
                    + cell.row(2).transpose() * f64::from(s[2])
            }
            None => Vector3::zeros(),
        }
    }

    /// The vector of edge `edge`: `x[receiver] - x[sender] + shift`, Å.
    pub fn edge_vector(&self, edge: usize) -> Vector3<f64> {
        let sender = self.senders[edge] as usize;
        let receiver = self.receivers[edge] as usize;
        self.positions[receiver] - self.positions[sender] + self.shift_vector(edge)
    }
}
