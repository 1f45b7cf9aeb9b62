//! One evaluation of a [`Network`]: the forward pass layer by layer (node work as row-parallel
//! matrix products, edge work streamed per receiver), then the backward pass in reverse (edge
//! work streamed per sender, so that each task owns what it writes), and forces and virial from
//! the per-edge gradients. Every sum runs in a fixed order: results do not depend on threads.

use super::convolve::{EdgePasses, EdgeWork};
use super::dense::Real;
use super::edges::{Edges, Harmonics};
use super::linear::LinearMap;
use super::network::Network;
use super::parallel::rows_in_parallel;
use super::skip::ElementGroups;
use crate::{Evaluation, Request};
use nalgebra::{Matrix3, Vector3};
use rayon::prelude::*;

/// `map(x)` for rows of `x`, in parallel.
fn apply<T: Real>(map: &LinearMap<T>, x: &[T]) -> Vec<T> {
    map_rows(x, map.dim_in(), map.dim_out(), |x, y| map.forward(x, y))
}

/// `mapᵀ(g)` for rows of `g`, in parallel.
fn apply_transposed<T: Real>(map: &LinearMap<T>, g: &[T]) -> Vec<T> {
    map_rows(g, map.dim_out(), map.dim_in(), |g, y| map.backward(g, y))
}

/// `f(row, out_row)` for each row of width `width_in` of `x`, into new rows of `width_out`.
fn map_rows<T: Real>(
    x: &[T],
    width_in: usize,
    width_out: usize,
    f: impl Fn(&[T], &mut [T]) + Sync,
) -> Vec<T> {
    let mut out = vec![T::zero(); x.len() / width_in.max(1) * width_out];
    rows_in_parallel(x, width_in, &mut out, width_out, f);
    out
}

/// What the backward pass reads from the forward pass.
struct Tape<T> {
    /// Node features entering each layer, then those leaving the last one.
    features: Vec<Vec<T>>,
    /// Per layer: the `linear_up` output and the message entering the contraction.
    up: Vec<Vec<T>>,
    message: Vec<Vec<T>>,
}

impl<T: Real> Network<T> {
    /// Energies, and forces and virial as `request` asks, of atoms of the given element indices
    /// on `edges`, the edge work done by `work`.
    pub fn evaluate(
        &self,
        elements: &[u32],
        edges: &Edges<T>,
        harmonics: &Harmonics,
        request: Request,
        work: &dyn EdgeWork<T>,
    ) -> Evaluation {
        let mut passes = work.start(&self.layers, edges);
        let n = elements.len();
        let groups = ElementGroups::new(elements, self.atomic_numbers.len());
        let (scale, shift) = self.scale_shift.unwrap_or((1.0, 0.0));
        let (readout, tape) = self.forward(elements, &groups, passes.as_mut());
        let mut pair = vec![0.0; n];
        if !edges.zbl.is_empty() {
            for (e, &(energy, _)) in edges.zbl.iter().enumerate() {
                pair[edges.receivers[e] as usize] += energy;
            }
        }
        let energies: Vec<f64> = (0..n)
            .map(|i| {
                self.atomic_energies[elements[i] as usize] + scale * (pair[i] + readout[i]) + shift
            })
            .collect();
        let mut evaluation = Evaluation {
            energy: energies.iter().sum(),
            forces: Vec::new(),
            virial: None,
            energies: Some(energies),
        };
        if request.forces || request.virial {
            let gradients = self.edge_gradients(
                elements,
                &groups,
                (edges, passes.as_mut()),
                harmonics,
                &tape,
                scale,
            );
            if request.forces {
                evaluation.forces = forces(edges, &gradients, n);
            }
            if request.virial {
                evaluation.virial = Some(virial(edges, &gradients, n));
            }
        }
        evaluation
    }

    /// Per-node Σ readouts (before scale and shift) and the tape.
    fn forward(
        &self,
        elements: &[u32],
        groups: &ElementGroups,
        passes: &mut dyn EdgePasses<T>,
    ) -> (Vec<f64>, Tape<T>) {
        let n = elements.len();
        // The embedding of a one-hot row is a row of the map: embed each element once.
        let n_elements = self.atomic_numbers.len();
        let mut identity = vec![T::zero(); n_elements * n_elements];
        for e in 0..n_elements {
            identity[e * n_elements + e] = T::one();
        }
        let rows = apply(&self.embedding, &identity);
        let width = self.embedding.dim_out();
        let embedded = elements
            .iter()
            .flat_map(|&e| rows[e as usize * width..][..width].iter().copied())
            .collect();
        let mut tape = Tape {
            features: vec![embedded],
            up: Vec::new(),
            message: Vec::new(),
        };
        let mut readout = vec![0.0; n];
        for (t, layer) in self.layers.iter().enumerate() {
            let h = tape.features.last().expect("embedding");
            let sc = layer.residual.then(|| {
                let mut sc = vec![T::zero(); n * layer.product_linear.dim_out()];
                layer.skip.forward(h, groups, &mut sc);
                sc
            });
            let up = apply(&layer.linear_up, h);
            let summed = passes.forward(t, &up);
            let mut message = apply(&layer.linear, &summed);
            message.iter_mut().for_each(|v| *v *= layer.inverse_avg);
            if !layer.residual {
                let mut skipped = vec![T::zero(); n * layer.contraction.dim_in()];
                layer.skip.forward(&message, groups, &mut skipped);
                message = skipped;
            }
            let dim_in = layer.contraction.dim_in();
            let mut basis = vec![T::zero(); n * layer.contraction.dim_out()];
            basis
                .par_chunks_mut(layer.contraction.dim_out())
                .enumerate()
                .for_each_init(Vec::new, |scratch, (i, out)| {
                    let x = &message[i * dim_in..][..dim_in];
                    layer
                        .contraction
                        .forward(elements[i] as usize, x, out, scratch);
                });
            let mut features = apply(&layer.product_linear, &basis);
            if let (Some(sc), true) = (sc, layer.use_sc) {
                features.iter_mut().zip(sc).for_each(|(f, s)| *f += s);
            }
            let mut energies = vec![T::zero(); n];
            layer.readout.forward(&features, &mut energies);
            readout
                .iter_mut()
                .zip(&energies)
                .for_each(|(r, e)| *r += e.to_f64());
            tape.features.push(features);
            tape.up.push(up);
            tape.message.push(message);
        }
        (readout, tape)
    }

    /// dE/d(edge vector) for every edge (receiver order), from the backward pass.
    fn edge_gradients(
        &self,
        elements: &[u32],
        groups: &ElementGroups,
        (edges, passes): (&Edges<T>, &mut dyn EdgePasses<T>),
        harmonics: &Harmonics,
        tape: &Tape<T>,
        scale: f64,
    ) -> Vec<Vector3<f64>> {
        let n = elements.len();
        let (nsh, nb) = (harmonics.dim, edges.radial.len() / edges.len().max(1));
        let mut g_y = vec![T::zero(); edges.len() * nsh];
        let mut g_r = vec![T::zero(); edges.len() * nb];
        let t_scale = T::of(scale);
        let last = self.layers.len() - 1;
        let mut g_h = vec![T::zero(); tape.features[last + 1].len()];
        self.layers[last]
            .readout
            .backward(&tape.features[last + 1], t_scale, &mut g_h);
        for (t, layer) in self.layers.iter().enumerate().rev() {
            let g_basis = apply_transposed(&layer.product_linear, &g_h);
            let dim_in = layer.contraction.dim_in();
            let dim_out = layer.contraction.dim_out();
            let mut g_message = vec![T::zero(); n * dim_in];
            g_message.par_chunks_mut(dim_in).enumerate().for_each_init(
                Vec::new,
                |scratch, (i, g)| {
                    let x = &tape.message[t][i * dim_in..][..dim_in];
                    let go = &g_basis[i * dim_out..][..dim_out];
                    layer
                        .contraction
                        .backward(elements[i] as usize, x, go, g, scratch);
                },
            );
            if !layer.residual {
                let mut g = vec![T::zero(); n * layer.linear.dim_out()];
                layer.skip.backward(&g_message, groups, &mut g);
                g_message = g;
            }
            let mut g_summed = apply_transposed(&layer.linear, &g_message);
            g_summed.iter_mut().for_each(|v| *v *= layer.inverse_avg);
            let g_up = passes.backward(t, &tape.up[t], &g_summed, &mut g_y, &mut g_r);
            if t == 0 {
                break;
            }
            let mut g_prev = apply_transposed(&layer.linear_up, &g_up);
            if layer.residual && layer.use_sc {
                layer.skip.backward(&g_h, groups, &mut g_prev);
            }
            self.layers[t - 1]
                .readout
                .backward(&tape.features[t], t_scale, &mut g_prev);
            g_h = g_prev;
        }
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
                let mut g = harmonics.backward(
                    &unit,
                    length,
                    &edges.harmonics64[e * nsh..][..nsh],
                    &mut gy,
                );
                let mut slope: f64 = g_r[p * nb..][..nb]
                    .iter()
                    .zip(&edges.radial_slope[e * nb..][..nb])
                    .map(|(g, s)| g.to_f64() * s)
                    .sum();
                if let Some(&(_, zbl)) = edges.zbl.get(e) {
                    slope += scale * zbl;
                }
                g += unit * slope;
                g
            })
            .collect()
    }
}

/// F = −∂E/∂x: an edge's vector is x[receiver] − x[sender] + shift.
fn forces<T: Real>(edges: &Edges<T>, g: &[Vector3<f64>], n: usize) -> Vec<Vector3<f64>> {
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
fn virial<T: Real>(edges: &Edges<T>, g: &[Vector3<f64>], n: usize) -> Matrix3<f64> {
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
