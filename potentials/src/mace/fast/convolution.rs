//! The interaction's channel-wise ("uvu") tensor product on one edge, forward and backward,
//! in the m-major layout (channels fastest, so every inner loop runs over channels).
//!
//! For path p (first-input block i of multiplicity C, harmonic block l₂, output block of 2l₃+1
//! components) and edge features x (the sender's `linear_up` output), harmonics Y and radial
//! weights w: `out[k][u] += Σ_i G[i][k] w[p,u] x[i][u]` with `G[i][k] = pw Σ_j C_ijk Y_j`.

use super::dense::{axpy, dot, Real};
use crate::equivariant::{Instruction, Irreps, W3jTable};

/// One path of the product.
#[derive(Debug, Clone)]
struct ConvPath<T> {
    offset1: usize,
    d1: usize,
    offset2: usize,
    offset3: usize,
    d3: usize,
    weight_offset: usize,
    /// The non-zero `pw · C[i][j][k]` as (i · d3 + k, j, value).
    coefficients: Vec<(usize, usize, T)>,
}

/// The product's paths (see the module docs).
#[derive(Debug, Clone)]
pub struct Convolution<T> {
    paths: Vec<ConvPath<T>>,
    channels: usize,
    /// Per-edge weights.
    pub weight_numel: usize,
    /// Width of the output (`conv_tp`'s irreps).
    pub dim_out: usize,
}

/// Per-edge scratch of a [`Convolution`].
#[derive(Debug, Default)]
pub struct ConvScratch<T> {
    coupling: Vec<T>,
    weighted: Vec<T>,
    grad_weighted: Vec<T>,
    grad_coupling: Vec<T>,
}

impl<T: Real> Convolution<T> {
    /// MACE's convolution: `instructions` from `mace_instructions(up, sh, target)`, every first
    /// input block of multiplicity `C` and every second input block of multiplicity 1.
    pub fn new(
        up: &Irreps,
        sh: &Irreps,
        mid: &Irreps,
        instructions: &[Instruction],
        w3j: &W3jTable,
    ) -> Result<Self, String> {
        let channels = up.0.first().map_or(0, |b| b.mul);
        let (s1, s2, s3) = (up.slices(), sh.slices(), mid.slices());
        let mut paths = Vec::new();
        for (p, i) in instructions.iter().enumerate() {
            let (a, b, c) = (up.0[i.input1], sh.0[i.input2], mid.0[i.output]);
            if a.mul != channels || b.mul != 1 || c.mul != channels {
                return Err(format!(
                    "the fast convolution needs {channels}-channel blocks and single harmonics, \
                     path {p} has {}x{} ⊗ {}x{} → {}x{}",
                    a.mul, a.ir, b.mul, b.ir, c.mul, c.ir
                ));
            }
            let (d1, d2, d3) = (a.ir.dim(), b.ir.dim(), c.ir.dim());
            paths.push(ConvPath {
                offset1: s1[i.input1].0,
                d1,
                offset2: s2[i.input2].0,
                offset3: s3[i.output].0,
                d3,
                weight_offset: p * channels,
                coefficients: sparse(&w3j.get([a.ir.l, b.ir.l, c.ir.l]), [d1, d2, d3])
                    .map(|(ik, j, v)| (ik, j, T::of(v * i.path_weight)))
                    .collect(),
            });
        }
        Ok(Self {
            paths,
            channels,
            weight_numel: instructions.len() * channels,
            dim_out: mid.dim(),
        })
    }

    /// `G[i][k] = Σ_j pw C_ijk Y_j` for one path, and `wx[i][u] = w[p,u] x[i][u]`.
    fn prepare(&self, p: &ConvPath<T>, x: &[T], y: &[T], w: &[T], s: &mut ConvScratch<T>) {
        let c = self.channels;
        s.coupling.clear();
        s.coupling.resize(p.d1 * p.d3, T::zero());
        for &(ik, j, v) in &p.coefficients {
            s.coupling[ik] += v * y[p.offset2 + j];
        }
        let w = &w[p.weight_offset..][..c];
        s.weighted.clear();
        for i in 0..p.d1 {
            let xi = &x[p.offset1 + i * c..][..c];
            s.weighted.extend(xi.iter().zip(w).map(|(&a, &b)| a * b));
        }
    }

    /// `out += TP(x, y; w)` for one edge: x `[dim_up]`, y `[n_sh]`, w `[weight_numel]`.
    pub fn forward(&self, x: &[T], y: &[T], w: &[T], out: &mut [T], s: &mut ConvScratch<T>) {
        let c = self.channels;
        for p in &self.paths {
            self.prepare(p, x, y, w, s);
            for k in 0..p.d3 {
                let row = &mut out[p.offset3 + k * c..][..c];
                for i in 0..p.d1 {
                    axpy(row, s.coupling[i * p.d3 + k], &s.weighted[i * c..][..c]);
                }
            }
        }
    }

    /// The backward of [`forward`](Self::forward) for one edge, given `g_out [dim_out]`:
    /// `g_x += ∂/∂x`, `g_w = ∂/∂w` (overwritten), `g_y += ∂/∂y`.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        x: &[T],
        y: &[T],
        w: &[T],
        g_out: &[T],
        g_x: &mut [T],
        g_w: &mut [T],
        g_y: &mut [T],
        s: &mut ConvScratch<T>,
    ) {
        let c = self.channels;
        for p in &self.paths {
            self.prepare(p, x, y, w, s);
            // gwx[i][u] = Σ_k G[i][k] g_out[k][u];  gG[i][k] = Σ_u g_out[k][u] wx[i][u].
            s.grad_weighted.clear();
            s.grad_weighted.resize(p.d1 * c, T::zero());
            s.grad_coupling.clear();
            s.grad_coupling.resize(p.d1 * p.d3, T::zero());
            for k in 0..p.d3 {
                let go = &g_out[p.offset3 + k * c..][..c];
                for i in 0..p.d1 {
                    let g = s.coupling[i * p.d3 + k];
                    axpy(&mut s.grad_weighted[i * c..][..c], g, go);
                    s.grad_coupling[i * p.d3 + k] = dot(go, &s.weighted[i * c..][..c]);
                }
            }
            let gw = &mut g_w[p.weight_offset..][..c];
            gw.fill(T::zero());
            let wp = &w[p.weight_offset..][..c];
            for i in 0..p.d1 {
                let gwx = &s.grad_weighted[i * c..][..c];
                let xi = &x[p.offset1 + i * c..][..c];
                for ((g, &a), &b) in gw.iter_mut().zip(gwx).zip(xi) {
                    *g += a * b;
                }
                let gx = &mut g_x[p.offset1 + i * c..][..c];
                for ((g, &a), &b) in gx.iter_mut().zip(gwx).zip(wp) {
                    *g += a * b;
                }
            }
            for &(ik, j, v) in &p.coefficients {
                g_y[p.offset2 + j] += v * s.grad_coupling[ik];
            }
        }
    }
}

/// The non-zero entries of a `[d1][d2][d3]` block as (i · d3 + k, j, value).
fn sparse(
    block: &[f64],
    [d1, d2, d3]: [usize; 3],
) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
    (0..d1 * d2 * d3).filter_map(move |flat| {
        let (i, j, k) = (flat / (d2 * d3), flat / d3 % d2, flat % d3);
        (block[flat].abs() > 1e-14).then_some((i * d3 + k, j, block[flat]))
    })
}
