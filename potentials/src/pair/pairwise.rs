//! Turns a [`PairPotential`] into a [`Potential`] over a spatial [`PairList`](crate::PairList)
//! or a sender-sorted edge list (full or half).

use super::spatial;
use super::PairPotential;
use crate::{AtomicGraph, Evaluation, Potential, PotentialError, Request};
use nalgebra::{Matrix3, Vector3};
use rayon::prelude::*;

/// The atoms are split into this many contiguous ranges, whatever the number of threads, so
/// that sums are taken in the same order on any machine: results are bit-identical.
const RANGES: usize = 8;

/// Sums a pair potential over the pairs of an [`AtomicGraph`], in parallel.
///
/// On a spatial [`PairList`](crate::PairList) (what the engine hands it), the pairs run block by
/// block in batches the compiler vectorises (see [`PairPotential::evaluate_batch`]). On an edge
/// list (the reference path), each pair is computed once and applied to both atoms (Newton's third law): every edge of a
/// half list (what it asks for), or of a full list the edge that "owns" the pair (sender <
/// receiver, or for an atom and its own image the edge with the lexicographically positive
/// shift). Each of
/// a fixed number of atom ranges accumulates into its own force buffer; the buffers are then
/// added in a fixed order.
#[derive(Debug, Clone)]
pub struct Pairwise<P> {
    pair: P,
    /// One force buffer per atom range, kept between calls (edge lists).
    buffers: Vec<Vec<Vector3<f64>>>,
    /// The buffers of the spatial path, kept between calls.
    spatial: spatial::Buffers,
    /// Whether the spatial path keeps to the target's baseline vector instructions.
    baseline: bool,
}

impl<P: PairPotential> Pairwise<P> {
    /// Wraps a pair potential.
    pub fn new(pair: P) -> Self {
        Self {
            pair,
            buffers: vec![Vec::new(); RANGES],
            spatial: spatial::Buffers::default(),
            baseline: false,
        }
    }

    /// Runs the spatial path with the target's baseline vector instructions (SSE2 on x86-64)
    /// even where the CPU has wider ones. The results are the same bit for bit (the same
    /// operations in the same order); for tests and comparisons.
    pub fn with_baseline_instructions(mut self) -> Self {
        self.baseline = true;
        self
    }

    /// The wrapped pair potential.
    pub fn pair(&self) -> &P {
        &self.pair
    }
}

/// Whether edge `sender → receiver` with `shift` is the one of its pair that computes it (the
/// one a half list keeps).
#[inline]
fn owns_pair(sender: usize, receiver: usize, shift: [i32; 3]) -> bool {
    sender < receiver || (sender == receiver && shift > [0, 0, 0])
}

/// Checks that the edges are sorted by sender and name existing atoms.
fn check_sorted(senders: &[u32], n_atoms: usize) -> Result<(), PotentialError> {
    let sorted = senders.par_windows(2).all(|w| w[0] <= w[1]);
    if sorted && senders.last().is_none_or(|&s| (s as usize) < n_atoms) {
        Ok(())
    } else {
        Err(PotentialError::Invalid(
            "pair potentials need edges sorted by sender, with senders below the atom count".into(),
        ))
    }
}

impl<P: PairPotential> Potential for Pairwise<P> {
    fn cutoff(&self) -> f64 {
        self.pair.cutoff()
    }

    fn check_species(&self, species: &[u8]) -> Result<(), PotentialError> {
        self.pair.check_species(species)
    }

    fn half_list(&self) -> bool {
        true
    }

    fn compute(
        &mut self,
        graph: &AtomicGraph<'_>,
        request: Request,
    ) -> Result<Evaluation, PotentialError> {
        // Pair types by element: a table lookup per atom.
        let mut table = [u32::MAX; 256];
        for &z in graph.species {
            table[z as usize] = self.pair.type_of(z).map_or(u32::MAX, |t| t as u32);
        }
        let types: Vec<u32> = graph
            .species
            .par_iter()
            .with_min_len(1 << 16)
            .map(|&z| table[z as usize])
            .collect();
        if types
            .par_iter()
            .with_min_len(1 << 16)
            .any(|&t| t == u32::MAX)
        {
            let atom = types
                .iter()
                .position(|&t| t == u32::MAX)
                .expect("found above");
            let element = graph.species[atom];
            return Err(PotentialError::UnknownSpecies { element, atom });
        }
        match graph.pairs {
            Some(list) => self.compute_spatial(list, graph, &types, request),
            None => self.compute_edges(graph, &types, request),
        }
    }
}

impl<P: PairPotential> Pairwise<P> {
    /// The sum over a spatial pair list.
    fn compute_spatial(
        &mut self,
        list: &crate::PairList,
        graph: &AtomicGraph<'_>,
        types: &[u32],
        request: Request,
    ) -> Result<Evaluation, PotentialError> {
        if list.n_atoms() != graph.len() {
            return Err(PotentialError::Invalid(format!(
                "the pair list is for {} atoms, the system has {}",
                list.n_atoms(),
                graph.len()
            )));
        }
        let lattice = graph.cell.copied().unwrap_or_else(Matrix3::zeros);
        let input = spatial::Input {
            list,
            positions: graph.positions,
            types,
            lattice: &lattice,
            baseline: self.baseline,
        };
        let (energy, forces, virial) = if request.virial {
            spatial::compute::<P, true>(&self.pair, &input, &mut self.spatial, request.forces)
        } else {
            spatial::compute::<P, false>(&self.pair, &input, &mut self.spatial, request.forces)
        };
        Ok(Evaluation {
            energy,
            forces,
            virial: request.virial.then_some(virial),
            energies: None,
        })
    }

    /// The sum over an edge list, full or half.
    fn compute_edges(
        &mut self,
        graph: &AtomicGraph<'_>,
        types: &[u32],
        request: Request,
    ) -> Result<Evaluation, PotentialError> {
        let n_atoms = graph.len();
        check_sorted(graph.senders, n_atoms)?;
        let cutoff_squared = self.pair.cutoff().powi(2);
        let lattice = graph.cell.copied().unwrap_or_else(Matrix3::zeros);
        let lattice_rows = [0, 1, 2].map(|k| lattice.row(k).transpose());
        let pair = &self.pair;
        let atoms_per_range = n_atoms.div_ceil(RANGES).max(1);
        let sums: Vec<(f64, Matrix3<f64>)> = self
            .buffers
            .par_iter_mut()
            .enumerate()
            .map(|(range, forces)| {
                forces.clear();
                forces.resize(n_atoms, Vector3::zeros());
                let first = (range * atoms_per_range).min(n_atoms) as u32;
                let last = ((range + 1) * atoms_per_range).min(n_atoms) as u32;
                let start = graph.senders.partition_point(|&s| s < first);
                let end = graph.senders.partition_point(|&s| s < last);
                let mut energy = 0.0;
                let mut virial = Matrix3::zeros();
                let mut e = start;
                while e < end {
                    // The edges of sender i: its force and position stay in registers.
                    let i = graph.senders[e] as usize;
                    let xi = graph.positions[i];
                    let ti = types[i] as usize;
                    let mut fi = Vector3::zeros();
                    while e < end && graph.senders[e] as usize == i {
                        let j = graph.receivers[e] as usize;
                        let shift = graph.unit_shifts[e];
                        e += 1;
                        if !graph.half_list && !owns_pair(i, j, shift) {
                            continue;
                        }
                        let mut d = graph.positions[j] - xi;
                        if shift != [0, 0, 0] {
                            d += lattice_rows[0] * f64::from(shift[0])
                                + lattice_rows[1] * f64::from(shift[1])
                                + lattice_rows[2] * f64::from(shift[2]);
                        }
                        let r2 = d.norm_squared();
                        if r2 < cutoff_squared {
                            let (v, g) = pair.energy_and_gradient(ti, types[j] as usize, r2);
                            energy += v;
                            let f = d * g;
                            fi += f;
                            forces[j] -= f;
                            if request.virial {
                                virial -= d * d.transpose() * g;
                            }
                        }
                    }
                    forces[i] += fi;
                }
                (energy, virial)
            })
            .collect();
        let (energy, virial) = sums
            .into_iter()
            .fold((0.0, Matrix3::zeros()), |a, b| (a.0 + b.0, a.1 + b.1));
        let mut forces = Vec::new();
        if request.forces {
            forces = vec![Vector3::zeros(); n_atoms];
            let buffers = &self.buffers;
            forces
                .par_chunks_mut(4096)
                .enumerate()
                .for_each(|(chunk, out)| {
                    let offset = chunk * 4096;
                    for (k, f) in out.iter_mut().enumerate() {
                        *f = buffers.iter().map(|b| b[offset + k]).sum();
                    }
                });
        }
        Ok(Evaluation {
            energy,
            forces,
            virial: request.virial.then_some(virial),
            energies: None,
        })
    }
}
