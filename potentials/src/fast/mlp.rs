//! The radial MLP (e3nn's `FullyConnectedNet` without biases) on a batch of edges, with its
//! backward pass: `z_k = h_k W_k / √h_in`, `h_{k+1} = c · silu(z_k)` except after the last layer
//! (silu(z) = z σ(z)).

use super::dense::{gemm, Layout, Real};

/// silu(z) = z σ(z) and its derivative.
pub fn silu_and_slope<T: Real>(z: T) -> (T, T) {
    let sigma = T::one() / (T::one() + (-z).exp());
    (z * sigma, sigma * (T::one() + z * (T::one() - sigma)))
}

/// The MLP's weights, each `[h_in, h_out]` already divided by √h_in.
#[derive(Debug, Clone)]
pub struct RadialMlp<T> {
    layers: Vec<(Vec<T>, usize, usize)>,
    constant: T,
}

/// The hidden gates and activations of one batch, kept for the backward pass.
#[derive(Debug, Default)]
pub struct MlpTape<T> {
    /// Per hidden layer: `σ(z_k) [rows, h_out]`.
    sigma: Vec<Vec<T>>,
    /// Per hidden layer: `c · silu(z_k)`.
    post: Vec<Vec<T>>,
    /// Gradient buffers of the backward pass.
    grad: [Vec<T>; 2],
}

impl<T: Real> RadialMlp<T> {
    /// Layers as (weights row-major, h_in, h_out) and the normalize2mom constant c.
    pub fn new(layers: &[(Vec<f64>, usize, usize)], constant: f64) -> Self {
        Self {
            layers: layers
                .iter()
                .map(|(w, h_in, h_out)| {
                    let scale = 1.0 / (*h_in as f64).sqrt();
                    (w.iter().map(|&v| T::of(v * scale)).collect(), *h_in, *h_out)
                })
                .collect(),
            constant: T::of(constant),
        }
    }

    /// The layers as (weights `[h_in][h_out]` divided by √h_in, h_in, h_out).
    #[cfg(any(feature = "cuda", feature = "wgpu"))]
    pub fn layers(&self) -> &[(Vec<T>, usize, usize)] {
        &self.layers
    }

    /// The normalize2mom constant c.
    #[cfg(any(feature = "cuda", feature = "wgpu"))]
    pub fn constant(&self) -> T {
        self.constant
    }

    /// Input width.
    pub fn width_in(&self) -> usize {
        self.layers.first().map_or(0, |l| l.1)
    }

    /// Output width.
    pub fn width_out(&self) -> usize {
        self.layers.last().map_or(0, |l| l.2)
    }

    /// `x [rows, h_0]` → `out [rows, h_last]`, keeping the hidden values in `tape`.
    pub fn forward(&self, x: &[T], rows: usize, tape: &mut MlpTape<T>, out: &mut [T]) {
        let hidden = self.layers.len() - 1;
        tape.sigma.resize_with(hidden, Vec::new);
        tape.post.resize_with(hidden, Vec::new);
        for (k, (w, h_in, h_out)) in self.layers.iter().enumerate() {
            let input: &[T] = if k == 0 { x } else { &tape.post[k - 1] };
            let (a, b) = (
                Layout::row_major(rows, *h_in),
                Layout::row_major(*h_in, *h_out),
            );
            let c = Layout::row_major(rows, *h_out);
            if k == hidden {
                gemm(T::one(), (input, a), (w, b), T::zero(), (&mut out[..], c));
                continue;
            }
            let mut z = std::mem::take(&mut tape.sigma[k]);
            z.resize(rows * h_out, T::zero());
            let input: &[T] = if k == 0 { x } else { &tape.post[k - 1] };
            gemm(T::one(), (input, a), (w, b), T::zero(), (&mut z[..], c));
            let post = &mut tape.post[k];
            post.clear();
            post.extend(z.iter_mut().map(|v| {
                let z = *v;
                *v = T::one() / (T::one() + (-z).exp());
                z * *v * self.constant
            }));
            tape.sigma[k] = z;
        }
    }

    /// `g_x [rows, h_0] = ∂/∂x` of `Σ g_out · out`, from the tape of the forward pass.
    pub fn backward(&self, tape: &mut MlpTape<T>, g_out: &[T], rows: usize, g_x: &mut [T]) {
        let [mut g, mut g_h] = std::mem::take(&mut tape.grad);
        for (k, (w, h_in, h_out)) in self.layers.iter().enumerate().rev() {
            let input: &[T] = if k + 1 == self.layers.len() {
                g_out
            } else {
                &g
            };
            let (a, b) = (
                Layout::row_major(rows, *h_out),
                Layout::row_major(*h_in, *h_out).t(),
            );
            let c = Layout::row_major(rows, *h_in);
            if k == 0 {
                gemm(T::one(), (input, a), (w, b), T::zero(), (&mut g_x[..], c));
                break;
            }
            g_h.resize(rows * h_in, T::zero());
            gemm(T::one(), (input, a), (w, b), T::zero(), (&mut g_h[..], c));
            // c · silu'(z) = c σ (1 + z (1 − σ)) = c σ + h (1 − σ) with h = c z σ.
            for ((gh, &s), &h) in g_h
                .iter_mut()
                .zip(&tape.sigma[k - 1])
                .zip(&tape.post[k - 1])
            {
                *gh *= self.constant * s + h * (T::one() - s);
            }
            std::mem::swap(&mut g, &mut g_h);
        }
        tape.grad = [g, g_h];
    }
}
