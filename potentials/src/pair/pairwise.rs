//! Turns a [`PairPotential`] into a [`Potential`] over a full, sender-sorted edge list.

use super::PairPotential;
use crate::{AtomicGraph, Evaluation, Potential, PotentialError, Request};
use nalgebra::{Matrix3, Vector3};
use rayon::prelude::*;

/// Sums a pair potential over the edges of an [`AtomicGraph`], in parallel over atoms.
///
/// Each atom's force is accumulated from its own outgoing edges (the list is full), so no two
/// threads write the same force and the result does not depend on the number of threads.
#[derive(Debug, Clone)]
pub struct Pairwise<P> {
    pair: P,
}

impl<P: PairPotential> Pairwise<P> {
    /// Wraps a pair potential.
    pub fn new(pair: P) -> Self {
        Self { pair }
    }

    /// The wrapped pair potential.
    pub fn pair(&self) -> &P {
        &self.pair
    }
}

/// Start of each sender's edges (length `n_atoms + 1`), or an error if the edges are not sorted
/// by sender.
fn sender_offsets(senders: &[u32], n_atoms: usize) -> Result<Vec<usize>, PotentialError> {
    let mut offsets = vec![0usize; n_atoms + 1];
    let mut previous = 0u32;
    for &sender in senders {
        if sender < previous || sender as usize >= n_atoms {
            return Err(PotentialError::Invalid(
                "pair potentials need edges sorted by sender, with senders below the atom count"
                    .into(),
            ));
        }
        previous = sender;
        offsets[sender as usize + 1] += 1;
    }
    for i in 0..n_atoms {
        offsets[i + 1] += offsets[i];
    }
    Ok(offsets)
}

/// Atoms per parallel work item.
const ATOMS_PER_CHUNK: usize = 256;

/// What one atom contributes: its force, half of its pair energies and half of its virial.
struct AtomTerms {
    force: Vector3<f64>,
    energy: f64,
    virial: Matrix3<f64>,
}

impl<P: PairPotential> Potential for Pairwise<P> {
    fn cutoff(&self) -> f64 {
        self.pair.cutoff()
    }

    fn check_species(&self, species: &[u8]) -> Result<(), PotentialError> {
        self.pair.check_species(species)
    }

    fn compute(
        &mut self,
        graph: &AtomicGraph<'_>,
        request: Request,
    ) -> Result<Evaluation, PotentialError> {
        let n_atoms = graph.len();
        let offsets = sender_offsets(graph.senders, n_atoms)?;
        let types = graph
            .species
            .iter()
            .enumerate()
            .map(|(atom, &z)| {
                self.pair
                    .type_of(z)
                    .ok_or(PotentialError::UnknownSpecies { element: z, atom })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let cutoff_squared = self.pair.cutoff().powi(2);
        let lattice = graph.cell.copied().unwrap_or_else(Matrix3::zeros);
        let pair = &self.pair;
        let atom_terms = |i: usize| -> AtomTerms {
            let mut terms = AtomTerms {
                force: Vector3::zeros(),
                energy: 0.0,
                virial: Matrix3::zeros(),
            };
            let xi = graph.positions[i];
            for e in offsets[i]..offsets[i + 1] {
                let j = graph.receivers[e] as usize;
                let [s0, s1, s2] = graph.unit_shifts[e];
                let shift =
                    lattice.tr_mul(&Vector3::new(f64::from(s0), f64::from(s1), f64::from(s2)));
                let d = graph.positions[j] - xi + shift;
                let r2 = d.norm_squared();
                if r2 >= cutoff_squared {
                    continue;
                }
                let (v, g) = pair.energy_and_gradient(types[i], types[j], r2);
                terms.energy += 0.5 * v;
                terms.force += d * g;
                if request.virial {
                    terms.virial -= d * d.transpose() * (0.5 * g);
                }
            }
            terms
        };
        // Fixed-size chunks summed in order: the energy and virial are bit-identical whatever
        // the number of threads.
        let mut forces = vec![Vector3::zeros(); n_atoms];
        let partial_sums: Vec<(f64, Matrix3<f64>)> = forces
            .par_chunks_mut(ATOMS_PER_CHUNK)
            .enumerate()
            .map(|(chunk, chunk_forces)| {
                let first = chunk * ATOMS_PER_CHUNK;
                let mut sum = (0.0, Matrix3::zeros());
                for (offset, force) in chunk_forces.iter_mut().enumerate() {
                    let terms = atom_terms(first + offset);
                    *force = terms.force;
                    sum.0 += terms.energy;
                    sum.1 += terms.virial;
                }
                sum
            })
            .collect();
        let (energy, virial) = partial_sums
            .into_iter()
            .fold((0.0, Matrix3::zeros()), |a, b| (a.0 + b.0, a.1 + b.1));
        if !request.forces {
            forces.clear();
        }
        Ok(Evaluation {
            energy,
            forces,
            virial: request.virial.then_some(virial),
        })
    }
}
