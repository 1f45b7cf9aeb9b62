//! The interaction's channel-wise ("uvu") tensor product on one edge, forward and backward,
//! in the m-major layout (channels fastest, so every inner loop runs over channels).
//!
//! For path p (first-input block i of multiplicity C, harmonic block l₂, output block of 2l₃+1
//! components) and edge features x (the sender's `linear_up` output), harmonics Y and radial
//! weights w: `out[k][u] += Σ_i G[i][k] w[p,u] x[i][u]` with `G[i][k] = pw Σ_j C_ijk Y_j`.

use super::dense::Real;
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
    /// Channels per block of the per-edge loops (see [`LANES`]).
    block: usize,
    /// Per-edge weights.
    pub weight_numel: usize,
    /// Width of the output (`conv_tp`'s irreps).
    pub dim_out: usize,
}

/// Per-edge scratch of a [`Convolution`].
#[derive(Debug, Default)]
pub struct ConvScratch<T> {
    coupling: Vec<T>,
    /// ∂E/∂G per lane of a channel block, summed over blocks: `[d1 · d3][L]`.
    grad_coupling: Vec<T>,
}

/// Channels per block, the largest of these that divides the channel count (else one): the
/// per-edge loops unroll into whole-vector operations on a block.
const LANES: [usize; 2] = [16, 8];

/// `L` consecutive values of `v` from `at`.
fn block<T: Copy, const L: usize>(v: &[T], at: usize) -> [T; L] {
    v[at..at + L].try_into().expect("a block of L values")
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
            block: LANES.into_iter().find(|l| channels % l == 0).unwrap_or(1),
            weight_numel: instructions.len() * channels,
            dim_out: mid.dim(),
        })
    }

    /// `G[i][k] = Σ_j pw C_ijk Y_j` for one path, into `coupling [d1 · d3]`.
    fn coupling(p: &ConvPath<T>, y: &[T], coupling: &mut Vec<T>) {
        coupling.clear();
        coupling.resize(p.d1 * p.d3, T::zero());
        for &(ik, j, v) in &p.coefficients {
            coupling[ik] += v * y[p.offset2 + j];
        }
    }

    /// `out += TP(x, y; w)` for one edge: x `[dim_up]`, y `[n_sh]`, w `[weight_numel]`.
    pub fn forward(&self, x: &[T], y: &[T], w: &[T], out: &mut [T], s: &mut ConvScratch<T>) {
        match self.block {
            16 => self.forward_blocks::<16>(x, y, w, out, s),
            8 => self.forward_blocks::<8>(x, y, w, out, s),
            _ => self.forward_blocks::<1>(x, y, w, out, s),
        }
    }

    /// [`forward`](Self::forward) on blocks of `L` channels:
    /// `out[k][u] += w[u] Σ_i G[i][k] x[i][u]`.
    fn forward_blocks<const L: usize>(
        &self,
        x: &[T],
        y: &[T],
        w: &[T],
        out: &mut [T],
        s: &mut ConvScratch<T>,
    ) {
        let c = self.channels;
        for p in &self.paths {
            Self::coupling(p, y, &mut s.coupling);
            let g = &s.coupling;
            for b in (0..c).step_by(L) {
                let wb: [T; L] = block(w, p.weight_offset + b);
                for k in 0..p.d3 {
                    let mut acc = [T::zero(); L];
                    for i in 0..p.d1 {
                        let (gik, xi) = (g[i * p.d3 + k], block::<T, L>(x, p.offset1 + i * c + b));
                        acc.iter_mut().zip(xi).for_each(|(a, v)| *a += gik * v);
                    }
                    let o = &mut out[p.offset3 + k * c + b..][..L];
                    for l in 0..L {
                        o[l] += wb[l] * acc[l];
                    }
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
        let io = EdgeIo {
            x,
            w,
            g_out,
            g_x,
            g_w,
        };
        match self.block {
            16 => self.backward_blocks::<16>(y, io, g_y, s),
            8 => self.backward_blocks::<8>(y, io, g_y, s),
            _ => self.backward_blocks::<1>(y, io, g_y, s),
        }
    }

    /// [`backward`](Self::backward) on blocks of `L` channels. With `γ[i][u] = Σ_k G[i][k] g[k][u]`:
    /// `∂/∂x[i][u] = w[u] γ[i][u]`, `∂/∂w[u] = Σ_i γ[i][u] x[i][u]`,
    /// `∂/∂G[i][k] = Σ_u g[k][u] w[u] x[i][u]`, `∂/∂Y_j = Σ_ik pw C_ijk ∂/∂G[i][k]`.
    fn backward_blocks<const L: usize>(
        &self,
        y: &[T],
        io: EdgeIo<'_, T>,
        g_y: &mut [T],
        s: &mut ConvScratch<T>,
    ) {
        let (c, x, w, g_out) = (self.channels, io.x, io.w, io.g_out);
        for p in &self.paths {
            Self::coupling(p, y, &mut s.coupling);
            let g = &s.coupling;
            let gg = &mut s.grad_coupling;
            gg.clear();
            gg.resize(p.d1 * p.d3 * L, T::zero());
            for b in (0..c).step_by(L) {
                let wb: [T; L] = block(w, p.weight_offset + b);
                let mut gw = [T::zero(); L];
                for i in 0..p.d1 {
                    let xi: [T; L] = block(x, p.offset1 + i * c + b);
                    let wx: [T; L] = std::array::from_fn(|l| wb[l] * xi[l]);
                    let mut gwx = [T::zero(); L];
                    for k in 0..p.d3 {
                        let gk: [T; L] = block(g_out, p.offset3 + k * c + b);
                        let gik = g[i * p.d3 + k];
                        let lanes = &mut gg[(i * p.d3 + k) * L..][..L];
                        for l in 0..L {
                            gwx[l] += gik * gk[l];
                            lanes[l] += gk[l] * wx[l];
                        }
                    }
                    let gxi = &mut io.g_x[p.offset1 + i * c + b..][..L];
                    for l in 0..L {
                        gxi[l] += gwx[l] * wb[l];
                        gw[l] += gwx[l] * xi[l];
                    }
                }
                io.g_w[p.weight_offset + b..][..L].copy_from_slice(&gw);
            }
            for &(ik, j, v) in &p.coefficients {
                let d: T = gg[ik * L..][..L].iter().copied().sum();
                g_y[p.offset2 + j] += v * d;
            }
        }
    }
}

/// A product's coupling as flat tables, for the GPU kernels (`gpu::kernels`): output rows
/// (path p, component k) with their coefficients, in path order.
#[cfg(any(feature = "cuda", feature = "wgpu"))]
#[derive(Debug, Clone, Default)]
pub struct CouplingTables<T> {
    /// Per row: `offset3 + k · C`.
    pub row_out: Vec<u32>,
    /// Per row: `p · C`.
    pub row_w: Vec<u32>,
    /// Per row: its first coefficient (and one past the last row's).
    pub row_q: Vec<u32>,
    /// Per coefficient: `offset1 + i · C`.
    pub q_x: Vec<u32>,
    /// Per coefficient: j, with the harmonics' offset.
    pub q_y: Vec<u32>,
    /// Per coefficient: `pw · C_ijk`.
    pub q_v: Vec<T>,
    /// Per path: its first row (and one past the last path's).
    pub path_row: Vec<u32>,
}

#[cfg(any(feature = "cuda", feature = "wgpu"))]
impl<T: Real> Convolution<T> {
    /// Channels per block (C).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The coupling as [`CouplingTables`].
    pub fn tables(&self) -> CouplingTables<T> {
        let c = self.channels;
        let mut t = CouplingTables::default();
        let index = |v: usize| u32::try_from(v).expect("a table index fits in u32");
        for p in &self.paths {
            t.path_row.push(index(t.row_out.len()));
            for k in 0..p.d3 {
                t.row_out.push(index(p.offset3 + k * c));
                t.row_w.push(index(p.weight_offset));
                t.row_q.push(index(t.q_v.len()));
                for &(ik, j, v) in p.coefficients.iter().filter(|(ik, _, _)| ik % p.d3 == k) {
                    t.q_x.push(index(p.offset1 + ik / p.d3 * c));
                    t.q_y.push(index(p.offset2 + j));
                    t.q_v.push(v);
                }
            }
        }
        t.row_q.push(index(t.q_v.len()));
        t.path_row.push(index(t.row_out.len()));
        t
    }
}

/// One edge's inputs and gradient outputs in [`Convolution::backward`].
struct EdgeIo<'a, T> {
    x: &'a [T],
    w: &'a [T],
    g_out: &'a [T],
    g_x: &'a mut [T],
    g_w: &'a mut [T],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::equivariant::{ChannelwiseTensorProduct, W3jConvention};

    /// A deterministic pseudo-random value in (−1, 1) for index `i`.
    fn value(i: usize) -> f64 {
        ((i as f64 * 0.7548776662).fract() - 0.5) * 2.0 + 0.01 * (i % 7) as f64
    }

    /// The product of `up ⊗ (0e+1o+2e) → target` with 16 channels.
    fn convolution() -> Convolution<f64> {
        let up = Irreps::parse("16x0e+16x1o+16x2e").expect("irreps");
        let sh = Irreps::parse("1x0e+1x1o+1x2e").expect("irreps");
        let target = Irreps::parse("16x0e+16x1o+16x2e+16x3o").expect("irreps");
        let (mid, instructions) =
            ChannelwiseTensorProduct::<burn::backend::Flex>::mace_instructions(&up, &sh, &target);
        let w3j = W3jTable::new(W3jConvention::E3nn04);
        Convolution::new(&up, &sh, &mid, &instructions, &w3j).expect("a valid product")
    }

    /// Every channel block (16, 8 and one channel at a time) gives the same forward values and
    /// gradients to rounding.
    #[test]
    fn channel_blocks_agree() {
        let conv = convolution();
        let dim_up = 16 * 9;
        let x: Vec<f64> = (0..dim_up).map(value).collect();
        let y: Vec<f64> = (0..9).map(|i| value(i + 1000)).collect();
        let w: Vec<f64> = (0..conv.weight_numel).map(|i| value(i + 2000)).collect();
        let g_out: Vec<f64> = (0..conv.dim_out).map(|i| value(i + 3000)).collect();
        let run = |block: usize| {
            let conv = Convolution {
                block,
                ..conv.clone()
            };
            let mut s = ConvScratch::default();
            let mut out = vec![0.0; conv.dim_out];
            conv.forward(&x, &y, &w, &mut out, &mut s);
            let (mut g_x, mut g_w, mut g_y) = (
                vec![0.0; dim_up],
                vec![0.0; conv.weight_numel],
                vec![0.0; 9],
            );
            conv.backward(&x, &y, &w, &g_out, &mut g_x, &mut g_w, &mut g_y, &mut s);
            [out, g_x, g_w, g_y]
        };
        let reference = run(1);
        assert!(reference.iter().all(|v| v.iter().any(|&a| a.abs() > 1e-3)));
        for block in [8, 16] {
            for (a, b) in run(block).iter().zip(&reference) {
                for (p, q) in a.iter().zip(b) {
                    assert!(
                        (p - q).abs() <= 1e-12 * (1.0 + q.abs()),
                        "block {block}: {p} vs {q}"
                    );
                }
            }
        }
    }
}
