//! Forces and virial from the per-edge gradients of a fast-path evaluation.

use super::edges::{Edges, Harmonics};
use super::Real;
use crate::{Evaluation, Request};
use nalgebra::{Matrix3, Vector3};
use rayon::prelude::*;

/// The evaluation with per-atom `energies` (eV) and, as `request` asks, forces and virial from
/// the network's backward pass: `backward(g_y, g_r)` adds the gradients of every edge's
/// harmonics `[E][n_sh]` and radial basis `[E][n_bessel]` (sender order); `pair_scale` scales
/// the pair repulsion's slope (see [`edge_vector_gradients`]).
pub fn assemble<T: Real>(
    energies: Vec<f64>,
    (edges, harmonics): (&Edges<T>, &Harmonics),
    request: Request,
    pair_scale: f64,
    backward: impl FnOnce(&mut [T], &mut [T]),
) -> Evaluation {
    let n = energies.len();
    let mut evaluation = Evaluation {
        energy: energies.iter().sum(),
        forces: Vec::new(),
        virial: None,
        energies: Some(energies),
    };
    if request.forces || request.virial {
        let (nsh, nb) = (harmonics.dim, edges.radial.len() / edges.len().max(1));
        let mut g_y = vec![T::zero(); edges.len() * nsh];
        let mut g_r = vec![T::zero(); edges.len() * nb];
        backward(&mut g_y, &mut g_r);
        let gradients = edge_vector_gradients(edges, harmonics, &g_y, &g_r, pair_scale);
        if request.forces {
            evaluation.forces = forces(edges, &gradients, n);
        }
        if request.virial {
            evaluation.virial = Some(virial(edges, &gradients, n));
        }
    }
    evaluation
}

/// dE/d(edge vector) for every edge (receiver order), from the gradients `g_y [E][n_sh]` and
/// `g_r [E][n_bessel]` of its harmonics and radial basis (sender order) through the harmonics
/// recursion and dR/dr, plus `pair_scale ×` the slope of the edge's pair repulsion (if any).
pub fn edge_vector_gradients<T: Real>(
    edges: &Edges<T>,
    harmonics: &Harmonics,
    g_y: &[T],
    g_r: &[T],
    pair_scale: f64,
) -> Vec<Vector3<f64>> {
    let (nsh, nb) = (harmonics.dim, edges.radial.len() / edges.len().max(1));
    let mut position = vec![0usize; edges.len()];
    for (p, &e) in edges.by_sender.iter().enumerate() {
        position[e as usize] = p;
    }
    (0..edges.len())
        .into_par_iter()
        .map(|e| {
            let p = position[e];
            let v = edges.vectors[e];
            let length = v.norm();
            let unit = v / length;
            let mut gy: Vec<f64> = g_y[p * nsh..][..nsh].iter().map(|g| g.to_f64()).collect();
            let mut g =
                harmonics.backward(&unit, length, &edges.harmonics64[e * nsh..][..nsh], &mut gy);
            let mut slope: f64 = g_r[p * nb..][..nb]
                .iter()
                .zip(&edges.radial_slope[e * nb..][..nb])
                .map(|(g, s)| g.to_f64() * s)
                .sum();
            if let Some(&(_, zbl)) = edges.zbl.get(e) {
                slope += pair_scale * zbl;
            }
            g += unit * slope;
            g
        })
        .collect()
}

/// F = −∂E/∂x: an edge's vector is `x[receiver] − x[sender] + shift`.
pub fn forces<T: Real>(edges: &Edges<T>, g: &[Vector3<f64>], n: usize) -> Vec<Vector3<f64>> {
    (0..n)
        .into_par_iter()
        .map(|a| {
            let incoming: Vector3<f64> = (edges.receiver_start[a]..edges.receiver_start[a + 1])
                .map(|e| g[e])
                .sum();
            let outgoing: Vector3<f64> = edges.by_sender
                [edges.sender_start[a]..edges.sender_start[a + 1]]
                .iter()
                .map(|&e| g[e as usize])
                .sum();
            outgoing - incoming
        })
        .collect()
}

/// W = −sym(Σ_e v_e ⊗ ∂E/∂v_e), summed per receiver, then over atoms in order.
pub fn virial<T: Real>(edges: &Edges<T>, g: &[Vector3<f64>], n: usize) -> Matrix3<f64> {
    let per_atom: Vec<Matrix3<f64>> = (0..n)
        .into_par_iter()
        .map(|a| {
            (edges.receiver_start[a]..edges.receiver_start[a + 1])
                .map(|e| edges.vectors[e] * g[e].transpose())
                .sum()
        })
        .collect();
    let total: Matrix3<f64> = per_atom.iter().sum();
    -(total + total.transpose()) * 0.5
}
