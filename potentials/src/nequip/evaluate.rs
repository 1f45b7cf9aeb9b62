//! One evaluation of a NequIP [`Network`]: the forward pass layer by layer (node work as
//! row-parallel maps, edge work streamed per receiver), the backward pass in reverse (edge work
//! streamed per sender), then forces and virial from the per-edge gradients. Every sum runs in
//! a fixed order: results do not depend on the number of threads.

use super::network::{Layer, Network};
use crate::fast::edges::{Edges, Harmonics};
use crate::fast::forces::assemble;
use crate::fast::mlp::MlpTape;
use crate::fast::parallel::map_rows;
use crate::fast::skip::ElementGroups;
use crate::fast::{EdgePasses, EdgeWork, Real};
use crate::{Evaluation, Request};
use rayon::prelude::*;

/// Row i of `x` times `norm[types[i]]`.
fn scale_rows<T: Real>(x: &mut [T], norm: &[T], types: &[u32]) {
    let width = x.len() / types.len().max(1);
    x.par_chunks_mut(width.max(1))
        .zip(types)
        .for_each(|(row, &t)| row.iter_mut().for_each(|v| *v *= norm[t as usize]));
}

/// What the backward pass reads from the forward pass, per layer.
struct Tape<T> {
    /// Node features entering each layer, then those leaving the last one.
    features: Vec<Vec<T>>,
    /// `linear_1`'s normalised output.
    up: Vec<Vec<T>>,
    /// The gate's input.
    gate_in: Vec<Vec<T>>,
}

impl<T: Real> Network<T> {
    /// Energies, and forces and virial as `request` asks, of atoms of the given type indices on
    /// `edges`, the edge work done by `work`.
    pub fn evaluate(
        &self,
        types: &[u32],
        edges: &Edges<T>,
        harmonics: &Harmonics,
        request: Request,
        work: &dyn EdgeWork<T>,
    ) -> Evaluation {
        let mut passes = work.start(&self.edge, edges);
        let n = types.len();
        let groups = ElementGroups::new(types, self.embedding.len());
        let tape = self.forward(types, &groups, passes.as_mut());
        let last = tape.features.last().expect("features");
        let mut readout = vec![T::zero(); n];
        let mut mlp_tape = MlpTape::default();
        self.readout.forward(last, n, &mut mlp_tape, &mut readout);
        let pair = edges.pair_energies(n);
        let energies: Vec<f64> = (0..n)
            .map(|i| {
                let (scale, shift) = self.scale_shift[types[i] as usize];
                shift + scale * readout[i].to_f64() + pair[i]
            })
            .collect();
        assemble(energies, (edges, harmonics), request, 1.0, |g_y, g_r| {
            let scales: Vec<T> = types
                .iter()
                .map(|&t| T::of(self.scale_shift[t as usize].0))
                .collect();
            let mut g_h = vec![T::zero(); last.len()];
            self.readout.backward(&mut mlp_tape, &scales, n, &mut g_h);
            self.backward(types, &groups, &tape, g_h, passes.as_mut(), (g_y, g_r));
        })
    }

    /// The layers' forward pass; the tape.
    fn forward(
        &self,
        types: &[u32],
        groups: &ElementGroups,
        passes: &mut dyn EdgePasses<T>,
    ) -> Tape<T> {
        let embedded = types
            .iter()
            .flat_map(|&t| self.embedding[t as usize].iter().copied())
            .collect();
        let mut tape = Tape {
            features: vec![embedded],
            up: Vec::new(),
            gate_in: Vec::new(),
        };
        for (t, layer) in self.layers.iter().enumerate() {
            let h = tape.features.last().expect("embedding");
            let mut up = layer.linear_1.apply(h);
            scale_rows(&mut up, &layer.norm, types);
            let summed = passes.forward(t, &up);
            let mut x = layer.linear_2.apply(&summed);
            if let Some(sc) = &layer.sc {
                let mut skip = vec![T::zero(); x.len()];
                sc.forward(h, groups, &mut skip);
                x.iter_mut().zip(skip).for_each(|(x, s)| *x += s);
            }
            let (d_in, d_out) = (layer.gate.dim_in(), layer.gate.dim_out());
            let mut out = map_rows(&x, d_in, d_out, |x, y| {
                let mut gates = Vec::new();
                for (x, y) in x.chunks_exact(d_in).zip(y.chunks_exact_mut(d_out)) {
                    layer.gate.forward(x, y, &mut gates);
                }
            });
            if layer.resnet {
                out.iter_mut().zip(h).for_each(|(o, &h)| *o += h);
            }
            tape.features.push(out);
            tape.up.push(up);
            tape.gate_in.push(x);
        }
        tape
    }

    /// The layers' backward pass from `g_h` (gradient of the last features): adds the
    /// harmonics and radial-basis gradients of every edge to `g_y`, `g_r` (sender order).
    fn backward(
        &self,
        types: &[u32],
        groups: &ElementGroups,
        tape: &Tape<T>,
        mut g_h: Vec<T>,
        passes: &mut dyn EdgePasses<T>,
        (g_y, g_r): (&mut [T], &mut [T]),
    ) {
        for (t, layer) in self.layers.iter().enumerate().rev() {
            let g_x = gate_backward(layer, &tape.gate_in[t], &g_h);
            let g_summed = layer.linear_2.apply_transposed(&g_x);
            let mut g_up = passes.backward(t, &tape.up[t], &g_summed, g_y, g_r);
            if t == 0 {
                break;
            }
            scale_rows(&mut g_up, &layer.norm, types);
            let mut g_prev = layer.linear_1.apply_transposed(&g_up);
            if let Some(sc) = &layer.sc {
                sc.backward(&g_x, groups, &mut g_prev);
            }
            if layer.resnet {
                g_prev.iter_mut().zip(&g_h).for_each(|(g, &h)| *g += h);
            }
            g_h = g_prev;
        }
    }
}

/// The gate's backward on every row.
fn gate_backward<T: Real>(layer: &Layer<T>, x: &[T], g_y: &[T]) -> Vec<T> {
    let (gate, d_in, d_out) = (&layer.gate, layer.gate.dim_in(), layer.gate.dim_out());
    let mut g_x = vec![T::zero(); x.len()];
    g_x.par_chunks_mut(d_in.max(1))
        .enumerate()
        .for_each_init(Vec::new, |scratch, (i, g)| {
            gate.backward(
                &x[i * d_in..][..d_in],
                &g_y[i * d_out..][..d_out],
                g,
                scratch,
            );
        });
    g_x
}
