//! Neighbor lists under periodic boundaries: a full, directed edge list with integer cell
//! shifts, or a half list of each pair once, from three interchangeable builders; for pair
//! potentials, the cell list builds the half list in its lean, spatial form ([`PairList`]).
//!
//! Every builder returns the same edges (receiver, sender, shift) for the same input: all pairs
//! closer than the cutoff (strictly), in both directions, an atom's own periodic images
//! included, with `D = x[receiver] − x[sender] + shift · lattice` for the positions as given
//! (not wrapped); a half list holds, as it is built, one edge of each pair. Edges come sorted by
//! sender.

mod brute_force;
mod cell_list;
mod cell_pairs;
mod kd_tree;
mod verlet;
mod wrapped;

pub use verlet::VerletList;

use crate::cell::Cell;
use mlmd_potentials::{AtomicGraph, PairList};
use nalgebra::{Matrix3, Vector3};
use serde::Deserialize;

/// The neighbors a potential is handed: an edge list, or the spatial half list.
#[derive(Debug, Clone, PartialEq)]
pub enum Neighbors {
    /// A full or half edge list.
    Edges(NeighborList),
    /// A half list in spatial order (pair potentials on the cell list).
    Pairs(PairList),
}

impl Default for Neighbors {
    fn default() -> Self {
        Neighbors::Edges(NeighborList::default())
    }
}

impl Neighbors {
    /// Edges, or pairs of a half list.
    pub fn len(&self) -> usize {
        match self {
            Neighbors::Edges(list) => list.len(),
            Neighbors::Pairs(list) => list.len(),
        }
    }

    /// Whether there are no edges or pairs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The graph a potential sees: these neighbors of `positions` (the positions they were built
    /// for, or moved since by less than the skin), `species` and the lattice `cell` (rows, Å).
    pub fn graph<'a>(
        &'a self,
        positions: &'a [Vector3<f64>],
        species: &'a [u8],
        cell: Option<&'a Matrix3<f64>>,
        generation: u64,
    ) -> AtomicGraph<'a> {
        let (edges, pairs) = match self {
            Neighbors::Edges(list) => (list, None),
            Neighbors::Pairs(list) => (&EMPTY_EDGES, Some(list)),
        };
        AtomicGraph {
            positions,
            species,
            cell,
            senders: &edges.senders,
            receivers: &edges.receivers,
            unit_shifts: &edges.shifts,
            generation,
            half_list: edges.half || pairs.is_some(),
            pairs,
        }
    }
}

/// The edge list of a graph on a [`PairList`].
static EMPTY_EDGES: NeighborList = NeighborList {
    half: true,
    senders: Vec::new(),
    receivers: Vec::new(),
    shifts: Vec::new(),
};

/// A full, directed edge list (or a half list, see [`NeighborList::half`]), sorted by sender.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NeighborList {
    /// Whether the list holds each pair once (on one of its two edges: which one depends on the
    /// builder) instead of both directions.
    pub half: bool,
    /// Atom each edge starts from.
    pub senders: Vec<u32>,
    /// Atom each edge points to.
    pub receivers: Vec<u32>,
    /// Integer lattice shift of each edge.
    pub shifts: Vec<[i32; 3]>,
}

impl NeighborList {
    /// Number of edges.
    pub fn len(&self) -> usize {
        self.senders.len()
    }

    /// Whether the list has no edges.
    pub fn is_empty(&self) -> bool {
        self.senders.is_empty()
    }

    /// Appends another list (whose senders must all follow this one's).
    fn append(&mut self, mut other: NeighborList) {
        self.senders.append(&mut other.senders);
        self.receivers.append(&mut other.receivers);
        self.shifts.append(&mut other.shifts);
    }

    /// An empty list, full or half; a half list built by [`NeighborList::push`] keeps the
    /// edges that [`owns_pair`] picks.
    fn new(half: bool) -> Self {
        Self {
            half,
            ..Self::default()
        }
    }

    /// Adds an edge, unless the list is half and the edge does not own its pair.
    fn push(&mut self, sender: usize, receiver: usize, shift: [i32; 3]) {
        if self.half && !owns_pair(sender, receiver, shift) {
            return;
        }
        self.senders.push(sender as u32);
        self.receivers.push(receiver as u32);
        self.shifts.push(shift);
    }
}

/// Whether edge `sender → receiver` with `shift` is the one of its pair a half list keeps:
/// sender < receiver, or for an atom and its own image the lexicographically positive shift.
#[inline]
pub fn owns_pair(sender: usize, receiver: usize, shift: [i32; 3]) -> bool {
    sender < receiver || (sender == receiver && shift > [0, 0, 0])
}

/// How to build the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NeighborMethod {
    /// Choose from the system: see [`NeighborMethod::resolve`].
    Auto,
    /// All pairs and images: O(N²), the reference.
    BruteForce,
    /// Binning in fractional coordinates: O(N), parallel.
    CellList,
    /// A k-d tree over the atoms and their explicit periodic images: for open or sparse systems.
    KdTree,
}

/// Systems with fewer atoms than this use the brute-force builder under `auto`.
const BRUTE_FORCE_MAX_ATOMS: usize = 64;

impl NeighborMethod {
    /// The concrete builder for a system: brute force for a few atoms, a k-d tree for systems
    /// without periodic axes, a cell list otherwise.
    pub fn resolve(self, n_atoms: usize, cell: &Cell) -> NeighborMethod {
        match self {
            NeighborMethod::Auto if n_atoms < BRUTE_FORCE_MAX_ATOMS => NeighborMethod::BruteForce,
            NeighborMethod::Auto if !cell.is_periodic() => NeighborMethod::KdTree,
            NeighborMethod::Auto => NeighborMethod::CellList,
            method => method,
        }
    }

    /// Builds the full neighbor list of `positions` in `cell` within `cutoff` (Å).
    pub fn build(self, positions: &[Vector3<f64>], cell: &Cell, cutoff: f64) -> NeighborList {
        self.build_list(positions, cell, cutoff, false)
    }

    /// What a potential asks for: the full edge list, or (`half`) the half list, spatial from
    /// the cell list (an edge list from the other builders, or where the atoms and images do
    /// not fit 32-bit entries). Positions should be wrapped into the cell (as a
    /// [`VerletList`] does), which keeps the images few.
    pub fn build_neighbors(
        self,
        positions: &[Vector3<f64>],
        cell: &Cell,
        cutoff: f64,
        half: bool,
    ) -> Neighbors {
        if half && self.resolve(positions.len(), cell) == NeighborMethod::CellList {
            if let Some(list) = cell_pairs::build(positions, cell, cutoff) {
                return Neighbors::Pairs(list);
            }
        }
        Neighbors::Edges(self.build_list(positions, cell, cutoff, half))
    }

    /// Builds the full list, or with `half` the half list.
    pub fn build_list(
        self,
        positions: &[Vector3<f64>],
        cell: &Cell,
        cutoff: f64,
        half: bool,
    ) -> NeighborList {
        match self.resolve(positions.len(), cell) {
            NeighborMethod::BruteForce => brute_force::build(positions, cell, cutoff, half),
            NeighborMethod::CellList => cell_list::build(positions, cell, cutoff, half),
            NeighborMethod::KdTree => kd_tree::build(positions, cell, cutoff, half),
            NeighborMethod::Auto => unreachable!("resolve never returns Auto"),
        }
    }
}

impl std::fmt::Display for NeighborMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NeighborMethod::Auto => "auto",
            NeighborMethod::BruteForce => "brute-force",
            NeighborMethod::CellList => "cell-list",
            NeighborMethod::KdTree => "kd-tree",
        })
    }
}

/// Per-atom loops run in parallel tasks of at least this many atoms: small systems stay on one
/// thread rather than wake others for microseconds of work.
pub const MIN_PARALLEL: usize = 1024;

/// Atoms per parallel work item of the builders.
const ATOMS_PER_CHUNK: usize = 512;

/// Runs `neighbors_of(i, list)` for every atom, in parallel chunks, and concatenates the results
/// in atom order, so that the list is sorted by sender whatever the number of threads. With
/// `owned_only`, the lists keep only the edges [`owns_pair`] picks, and the result is half.
fn collect_by_sender(
    n_atoms: usize,
    owned_only: bool,
    neighbors_of: impl Fn(usize, &mut NeighborList) + Sync,
) -> NeighborList {
    use rayon::prelude::*;
    let chunks: Vec<NeighborList> = (0..n_atoms.div_ceil(ATOMS_PER_CHUNK))
        .into_par_iter()
        .map(|chunk| {
            let mut list = NeighborList::new(owned_only);
            for i in chunk * ATOMS_PER_CHUNK..((chunk + 1) * ATOMS_PER_CHUNK).min(n_atoms) {
                neighbors_of(i, &mut list);
            }
            list
        })
        .collect();
    let total = chunks.iter().map(NeighborList::len).sum();
    let mut list = NeighborList {
        senders: Vec::with_capacity(total),
        receivers: Vec::with_capacity(total),
        shifts: Vec::with_capacity(total),
        half: owned_only,
    };
    for chunk in chunks {
        list.append(chunk);
    }
    list
}
