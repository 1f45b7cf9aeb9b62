//! The interaction's edge work streamed over the graph: per receiver in the forward pass
//! (radial MLP on the receiver's edges, tensor product, sum), per sender in the backward pass
//! (MLP recomputed, gradients to the sender's features, the edge weights, harmonics and radial
//! basis). No per-edge tensor outlives its receiver's or sender's task.

use super::convolution::ConvScratch;
use super::dense::Real;
use super::edges::Edges;
use super::mlp::MlpTape;
use super::network::Layer;
use rayon::prelude::*;

/// Per-task buffers.
struct Scratch<T> {
    tape: MlpTape<T>,
    radial: Vec<T>,
    weights: Vec<T>,
    grad_weights: Vec<T>,
    grad_radial: Vec<T>,
    conv: ConvScratch<T>,
}

impl<T: Real> Scratch<T> {
    fn new() -> Self {
        Self {
            tape: MlpTape::default(),
            radial: Vec::new(),
            weights: Vec::new(),
            grad_weights: Vec::new(),
            grad_radial: Vec::new(),
            conv: ConvScratch::default(),
        }
    }
}

/// `A[r] = Σ_{e into r} TP(up[sender], Y_e; MLP(R_e))`, `[n, dim_mid]`.
pub fn convolve_forward<T: Real>(layer: &Layer<T>, edges: &Edges<T>, up: &[T], n: usize) -> Vec<T> {
    let conv = &layer.conv;
    let (dim_up, numel) = (up.len() / n.max(1), conv.weight_numel);
    let nb = layer.mlp.width_in();
    let nsh = edges.harmonics.len() / edges.len().max(1);
    let mut summed = vec![T::zero(); n * conv.dim_out];
    summed
        .par_chunks_mut(conv.dim_out)
        .enumerate()
        .for_each_init(Scratch::new, |s, (r, out)| {
            let range = edges.receiver_start[r]..edges.receiver_start[r + 1];
            let rows = range.len();
            if rows == 0 {
                return;
            }
            s.weights.resize(rows * numel, T::zero());
            let radial = &edges.radial[range.start * nb..range.end * nb];
            layer.mlp.forward(radial, rows, &mut s.tape, &mut s.weights);
            for (k, e) in range.enumerate() {
                let sender = edges.senders[e] as usize;
                conv.forward(
                    &up[sender * dim_up..][..dim_up],
                    &edges.harmonics[e * nsh..][..nsh],
                    &s.weights[k * numel..][..numel],
                    out,
                    &mut s.conv,
                );
            }
        });
    summed
}

/// The backward of [`convolve_forward`] given `g_summed [n, dim_mid]`: returns `g_up`, and adds
/// each edge's harmonics and radial-basis gradients to `g_y`, `g_r` (sender order).
pub fn convolve_backward<T: Real>(
    layer: &Layer<T>,
    edges: &Edges<T>,
    up: &[T],
    g_summed: &[T],
    g_y: &mut [T],
    g_r: &mut [T],
) -> Vec<T> {
    let conv = &layer.conv;
    let n = edges.sender_start.len() - 1;
    let (dim_up, numel, dim_mid) = (up.len() / n.max(1), conv.weight_numel, conv.dim_out);
    let nb = layer.mlp.width_in();
    let nsh = edges.harmonics.len() / edges.len().max(1);
    let mut g_up = vec![T::zero(); up.len()];
    let mut tasks = Vec::with_capacity(n);
    let (mut rest_y, mut rest_r) = (g_y, g_r);
    for (a, g) in g_up.chunks_mut(dim_up.max(1)).enumerate() {
        let count = edges.sender_start[a + 1] - edges.sender_start[a];
        let (y, tail_y) = std::mem::take(&mut rest_y).split_at_mut(count * nsh);
        let (r, tail_r) = std::mem::take(&mut rest_r).split_at_mut(count * nb);
        (rest_y, rest_r) = (tail_y, tail_r);
        tasks.push((a, g, y, r));
    }
    tasks
        .into_par_iter()
        .for_each_init(Scratch::new, |s, (a, g_x, g_y, g_r)| {
            let list = &edges.by_sender[edges.sender_start[a]..edges.sender_start[a + 1]];
            let rows = list.len();
            if rows == 0 {
                return;
            }
            s.radial.clear();
            for &e in list {
                s.radial
                    .extend_from_slice(&edges.radial[e as usize * nb..][..nb]);
            }
            s.weights.resize(rows * numel, T::zero());
            layer
                .mlp
                .forward(&s.radial, rows, &mut s.tape, &mut s.weights);
            s.grad_weights.resize(rows * numel, T::zero());
            let x = &up[a * dim_up..][..dim_up];
            for (k, &e) in list.iter().enumerate() {
                let (e, receiver) = (e as usize, edges.receivers[e as usize] as usize);
                conv.backward(
                    x,
                    &edges.harmonics[e * nsh..][..nsh],
                    &s.weights[k * numel..][..numel],
                    &g_summed[receiver * dim_mid..][..dim_mid],
                    g_x,
                    &mut s.grad_weights[k * numel..][..numel],
                    &mut g_y[k * nsh..][..nsh],
                    &mut s.conv,
                );
            }
            s.grad_radial.resize(rows * nb, T::zero());
            layer
                .mlp
                .backward(&s.tape, &s.grad_weights, rows, &mut s.grad_radial);
            g_r.iter_mut()
                .zip(&s.grad_radial)
                .for_each(|(a, &b)| *a += b);
        });
    g_up
}
