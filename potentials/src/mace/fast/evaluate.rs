//! One evaluation of a [`Network`]: the forward pass layer by layer (node work as row-parallel
//! matrix products, edge work streamed per receiver), then the backward pass in reverse (edge
//! work streamed per sender, so that each task owns what it writes), and forces and virial from
//! the per-edge gradients. Every sum runs in a fixed order: results do not depend on threads.

use super::network::Network;
use crate::fast::edges::{Edges, Harmonics};
use crate::fast::forces::assemble;
use crate::fast::skip::ElementGroups;
use crate::fast::{EdgePasses, EdgeWork, Real};
use crate::{Evaluation, Request};
use rayon::prelude::*;

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
        let mut passes = work.start(&self.edge, edges);
        let n = elements.len();
        let groups = ElementGroups::new(elements, self.atomic_numbers.len());
        let (scale, shift) = self.scale_shift.unwrap_or((1.0, 0.0));
        let (readout, tape) = self.forward(elements, &groups, passes.as_mut());
        let pair = edges.pair_energies(n);
        let energies: Vec<f64> = (0..n)
            .map(|i| {
                self.atomic_energies[elements[i] as usize] + scale * (pair[i] + readout[i]) + shift
            })
            .collect();
        assemble(energies, (edges, harmonics), request, scale, |g_y, g_r| {
            self.backward(elements, &groups, passes.as_mut(), &tape, scale, (g_y, g_r))
        })
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
        let rows = self.embedding.apply(&identity);
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
            let up = layer.linear_up.apply(h);
            let summed = passes.forward(t, &up);
            let mut message = layer.linear.apply(&summed);
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
            let mut features = layer.product_linear.apply(&basis);
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

    /// The backward pass: adds the harmonics and radial-basis gradients of every edge to `g_y`,
    /// `g_r` (sender order).
    fn backward(
        &self,
        elements: &[u32],
        groups: &ElementGroups,
        passes: &mut dyn EdgePasses<T>,
        tape: &Tape<T>,
        scale: f64,
        (g_y, g_r): (&mut [T], &mut [T]),
    ) {
        let n = elements.len();
        let t_scale = T::of(scale);
        let last = self.layers.len() - 1;
        let mut g_h = vec![T::zero(); tape.features[last + 1].len()];
        self.layers[last]
            .readout
            .backward(&tape.features[last + 1], t_scale, &mut g_h);
        for (t, layer) in self.layers.iter().enumerate().rev() {
            let g_basis = layer.product_linear.apply_transposed(&g_h);
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
            let mut g_summed = layer.linear.apply_transposed(&g_message);
            g_summed.iter_mut().for_each(|v| *v *= layer.inverse_avg);
            let g_up = passes.backward(t, &tape.up[t], &g_summed, g_y, g_r);
            if t == 0 {
                break;
            }
            let mut g_prev = layer.linear_up.apply_transposed(&g_up);
            if layer.residual && layer.use_sc {
                layer.skip.backward(&g_h, groups, &mut g_prev);
            }
            self.layers[t - 1]
                .readout
                .backward(&tape.features[t], t_scale, &mut g_prev);
            g_h = g_prev;
        }
    }
}
