//! The interaction's edge work streamed over the graph: per receiver in the forward pass
//! (radial MLP on the receiver's edges, tensor product, sum), per sender in the backward pass
//! (MLP recomputed, gradients to the sender's features, the edge weights, harmonics and radial
//! basis). No per-edge tensor outlives its receiver's or sender's task.

use super::convolution::ConvScratch;
use super::convolution::Convolution;
use super::dense::Real;
use super::edges::Edges;
use super::mlp::MlpTape;
use super::mlp::RadialMlp;
use rayon::prelude::*;

/// One layer's edge work: the radial MLP giving each edge's weights and the tensor product.
#[derive(Debug, Clone)]
pub struct EdgeStage<T> {
    /// Radial basis → per-edge weights of `conv`.
    pub mlp: RadialMlp<T>,
    /// The channel-wise tensor product of sender features and edge harmonics.
    pub conv: Convolution<T>,
}

/// Where the layers' edge work runs: on the CPU ([`CpuEdgeWork`]) or a GPU
/// (`gpu::GpuEdgeWork`).
pub trait EdgeWork<T: Real>: std::fmt::Debug + Send + Sync {
    /// Starts one evaluation of `layers` on `edges`.
    fn start<'a>(
        &'a self,
        layers: &'a [EdgeStage<T>],
        edges: &'a Edges<T>,
    ) -> Box<dyn EdgePasses<T> + 'a>;
}

/// The edge work of one evaluation, layer by layer.
pub trait EdgePasses<T> {
    /// Layer `t`'s `A[r] = Σ_{e into r} TP(up[sender], Y_e; MLP(R_e))`, `[n, dim_mid]`.
    fn forward(&mut self, t: usize, up: &[T]) -> Vec<T>;

    /// The backward of [`forward`](Self::forward) given `g_summed [n, dim_mid]`: returns `g_up`
    /// and adds each edge's harmonics and radial-basis gradients to `g_y`, `g_r` (sender
    /// order).
    fn backward(
        &mut self,
        t: usize,
        up: &[T],
        g_summed: &[T],
        g_y: &mut [T],
        g_r: &mut [T],
    ) -> Vec<T>;
}

/// The edge work on the CPU: rayon tasks over groups of receivers (forward) and senders
/// (backward).
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuEdgeWork;

/// [`CpuEdgeWork`] during one evaluation.
struct CpuPasses<'a, T> {
    layers: &'a [EdgeStage<T>],
    edges: &'a Edges<T>,
}

impl<T: Real> EdgeWork<T> for CpuEdgeWork {
    fn start<'a>(
        &'a self,
        layers: &'a [EdgeStage<T>],
        edges: &'a Edges<T>,
    ) -> Box<dyn EdgePasses<T> + 'a> {
        Box::new(CpuPasses { layers, edges })
    }
}

impl<T: Real> EdgePasses<T> for CpuPasses<'_, T> {
    fn forward(&mut self, t: usize, up: &[T]) -> Vec<T> {
        let n = self.edges.receiver_start.len() - 1;
        convolve_forward(&self.layers[t], self.edges, up, n)
    }

    fn backward(
        &mut self,
        t: usize,
        up: &[T],
        g_summed: &[T],
        g_y: &mut [T],
        g_r: &mut [T],
    ) -> Vec<T> {
        convolve_backward(&self.layers[t], self.edges, up, g_summed, g_y, g_r)
    }
}

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

/// Receivers (forward) or senders (backward) per task: their edges go through the radial MLP
/// as one batch, so that the MLP's matrix products see a few hundred rows.
const NODES_PER_TASK: usize = 8;

/// `A[r] = Σ_{e into r} TP(up[sender], Y_e; MLP(R_e))`, `[n, dim_mid]`.
fn convolve_forward<T: Real>(layer: &EdgeStage<T>, edges: &Edges<T>, up: &[T], n: usize) -> Vec<T> {
    let conv = &layer.conv;
    let (dim_up, numel) = (up.len() / n.max(1), conv.weight_numel);
    let nb = layer.mlp.width_in();
    let nsh = edges.harmonics.len() / edges.len().max(1);
    let mut summed = vec![T::zero(); n * conv.dim_out];
    summed
        .par_chunks_mut(conv.dim_out * NODES_PER_TASK)
        .enumerate()
        .for_each_init(Scratch::new, |s, (chunk, out)| {
            let first = chunk * NODES_PER_TASK;
            let count = out.len() / conv.dim_out;
            let start = edges.receiver_start[first];
            let end = edges.receiver_start[first + count];
            if end == start {
                return;
            }
            s.weights.resize((end - start) * numel, T::zero());
            let radial = &edges.radial[start * nb..end * nb];
            layer
                .mlp
                .forward(radial, end - start, &mut s.tape, &mut s.weights);
            for (r, out) in (first..first + count).zip(out.chunks_exact_mut(conv.dim_out)) {
                for e in edges.receiver_start[r]..edges.receiver_start[r + 1] {
                    let sender = edges.senders[e] as usize;
                    conv.forward(
                        &up[sender * dim_up..][..dim_up],
                        &edges.harmonics[e * nsh..][..nsh],
                        &s.weights[(e - start) * numel..][..numel],
                        out,
                        &mut s.conv,
                    );
                }
            }
        });
    summed
}

/// The backward of [`convolve_forward`] given `g_summed [n, dim_mid]`: returns `g_up`, and adds
/// each edge's harmonics and radial-basis gradients to `g_y`, `g_r` (sender order).
fn convolve_backward<T: Real>(
    layer: &EdgeStage<T>,
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
    let mut tasks = Vec::new();
    let (mut rest_y, mut rest_r) = (g_y, g_r);
    for (chunk, g) in g_up.chunks_mut(dim_up.max(1) * NODES_PER_TASK).enumerate() {
        let first = chunk * NODES_PER_TASK;
        let count = g.len() / dim_up.max(1);
        let edge_count = edges.sender_start[first + count] - edges.sender_start[first];
        let (y, tail_y) = std::mem::take(&mut rest_y).split_at_mut(edge_count * nsh);
        let (r, tail_r) = std::mem::take(&mut rest_r).split_at_mut(edge_count * nb);
        (rest_y, rest_r) = (tail_y, tail_r);
        tasks.push((first, count, g, y, r));
    }
    tasks
        .into_par_iter()
        .for_each_init(Scratch::new, |s, (first, count, g_x, g_y, g_r)| {
            let base = edges.sender_start[first];
            let list = &edges.by_sender[base..edges.sender_start[first + count]];
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
            for (a, g_x) in (first..first + count).zip(g_x.chunks_exact_mut(dim_up)) {
                let x = &up[a * dim_up..][..dim_up];
                for p in edges.sender_start[a]..edges.sender_start[a + 1] {
                    let (k, e) = (p - base, edges.by_sender[p] as usize);
                    let receiver = edges.receivers[e] as usize;
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
            }
            s.grad_radial.resize(rows * nb, T::zero());
            layer
                .mlp
                .backward(&mut s.tape, &s.grad_weights, rows, &mut s.grad_radial);
            g_r.iter_mut()
                .zip(&s.grad_radial)
                .for_each(|(a, &b)| *a += b);
        });
    g_up
}
