//! Forces and virial of an energy built from tensors, by burn's autodiff.
//!
//! Positions and the cell are deformed by a symmetric strain ε (zero, but tracked), edge vectors
//! are built from the deformed positions and shifts, and one backward pass gives
//! F = −∂E/∂x and the virial W = −∂E/∂ε (stress = −W/V, ASE's sign).

use super::tensor::{indices, tensor, to_host, FloatType};
use crate::{AtomicGraph, Evaluation, PotentialError, Request};
use burn::tensor::{backend::AutodiffBackend, Int, Tensor};
use nalgebra::{Matrix3, Vector3};

/// What an energy function sees: the graph's edges within the cutoff, on the device.
#[derive(Debug, Clone)]
pub struct GraphInputs<B: AutodiffBackend> {
    /// `[N, 3]` positions (strained), Å.
    pub positions: Tensor<B, 2>,
    /// `[E, 3]` edge vectors `x[receiver] − x[sender] + shift`, Å.
    pub vectors: Tensor<B, 2>,
    /// `[E]` senders.
    pub senders: Tensor<B, 1, Int>,
    /// `[E]` receivers.
    pub receivers: Tensor<B, 1, Int>,
    /// Host copies of the kept edges' senders and receivers.
    pub edges: Vec<(u32, u32)>,
    /// Number of atoms.
    pub n_atoms: usize,
}

/// Evaluates `energies` (per-atom energies, a `[N]` tensor) on the graph's edges shorter than
/// `cutoff` and, as `request` asks, the forces and virial of their sum, returned in f64.
pub fn evaluate_with_autodiff<B: AutodiffBackend>(
    graph: &AtomicGraph<'_>,
    cutoff: f64,
    request: Request,
    device: &B::Device,
    float: FloatType,
    energies: impl FnOnce(&GraphInputs<B>) -> Result<Tensor<B, 1>, PotentialError>,
) -> Result<Evaluation, PotentialError> {
    let n_atoms = graph.len();
    let mut edges = Vec::new();
    let mut shifts = Vec::new();
    for e in 0..graph.senders.len() {
        if graph.edge_vector(e).norm() < cutoff {
            edges.push((graph.senders[e], graph.receivers[e]));
            let s = graph.shift_vector(e);
            shifts.extend([s.x, s.y, s.z]);
        }
    }
    let n_edges = edges.len();
    let flat: Vec<f64> = graph
        .positions
        .iter()
        .flat_map(|x| [x.x, x.y, x.z])
        .collect();
    let positions = tensor::<B, 2>(&flat, [n_atoms, 3], device, float).require_grad();
    let strain = tensor::<B, 2>(&[0.0; 9], [3, 3], device, float).require_grad();
    let symmetric = (strain.clone() + strain.clone().transpose()).mul_scalar(0.5);
    let strained = positions.clone() + positions.clone().matmul(symmetric.clone());
    let senders_host: Vec<u32> = edges.iter().map(|e| e.0).collect();
    let receivers_host: Vec<u32> = edges.iter().map(|e| e.1).collect();
    let senders = indices::<B>(&senders_host, device);
    let receivers = indices::<B>(&receivers_host, device);
    let vectors = if n_edges == 0 {
        // No operation on empty tensors: on CUDA a launch over nothing is an error.
        tensor::<B, 2>(&[], [0, 3], device, float)
    } else {
        let shifts = tensor::<B, 2>(&shifts, [n_edges, 3], device, float);
        let shifts = shifts.clone() + shifts.matmul(symmetric);
        strained.clone().select(0, receivers.clone()) - strained.clone().select(0, senders.clone())
            + shifts
    };
    let inputs = GraphInputs {
        positions: strained,
        vectors,
        senders,
        receivers,
        edges,
        n_atoms,
    };
    let per_atom = energies(&inputs)?;
    let total = per_atom.clone().sum();
    let per_atom = to_host(per_atom.detach());
    let value = per_atom.iter().sum();
    if !request.forces && !request.virial {
        return Ok(Evaluation {
            energy: value,
            forces: Vec::new(),
            virial: None,
            energies: Some(per_atom),
        });
    }
    let gradients = total.backward();
    let forces = if request.forces {
        let g = positions
            .grad(&gradients)
            .map(to_host)
            .unwrap_or_else(|| vec![0.0; 3 * n_atoms]);
        g.chunks_exact(3)
            .map(|c| -Vector3::new(c[0], c[1], c[2]))
            .collect()
    } else {
        Vec::new()
    };
    let virial = request.virial.then(|| {
        let g = strain
            .grad(&gradients)
            .map(to_host)
            .unwrap_or_else(|| vec![0.0; 9]);
        -Matrix3::from_row_slice(&g)
    });
    Ok(Evaluation {
        energy: value,
        forces,
        virial,
        energies: Some(per_atom),
    })
}
