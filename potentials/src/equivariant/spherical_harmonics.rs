//! Real spherical harmonics in e3nn's conventions (`o3.SphericalHarmonics(normalize=True)`).
//!
//! The l = 1 block is (x, y, z); the polar axis is y. Degrees above 1 follow e3nn's own
//! construction: `Y_{l+1} ∝ C(1, l, l+1) · (Y_1 ⊗ Y_l)`, scaled to the normalisation, which is
//! differentiable through burn's autodiff.

use super::tensor::{tensor, FloatType};
use super::wigner::{wigner_3j, W3jConvention};
use burn::tensor::{backend::Backend, Tensor};

/// How the harmonics of degree l are scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalization {
    /// Σ_m Y_lm² = 2l + 1 on the unit sphere (e3nn's default, MACE and NequIP).
    Component,
    /// ∫ Y_lm² dΩ = 1.
    Integral,
}

/// Spherical harmonics of degrees 0..=lmax of edge vectors.
#[derive(Debug, Clone)]
pub struct SphericalHarmonics<B: Backend> {
    lmax: usize,
    normalization: Normalization,
    /// `[3 (2l+1), 2l+3]` for l = 1..lmax−1: maps Y_1 ⊗ Y_l to Y_{l+1}.
    recursion: Vec<Tensor<B, 2>>,
}

/// The host recursion matrices and a check value: `M_l[(i, j), k] = c_l C(1, l, l+1)[i, j, k]`
/// with c_l such that component normalisation holds.
pub(crate) fn recursion_matrices(lmax: usize) -> Vec<Vec<f64>> {
    // Any unit vector: the norm of an irrep is rotation invariant.
    let u = [0.48, -0.6, 0.64];
    let mut y = vec![3f64.sqrt() * u[0], 3f64.sqrt() * u[1], 3f64.sqrt() * u[2]];
    let y1 = y.clone();
    let mut matrices = Vec::new();
    for l in 1..lmax {
        let (n, m) = (2 * l + 1, 2 * l + 3);
        let c = wigner_3j(1, l, l + 1, W3jConvention::E3nn06);
        let mut next = vec![0.0; m];
        for i in 0..3 {
            for j in 0..n {
                for k in 0..m {
                    next[k] += c[(i * n + j) * m + k] * y1[i] * y[j];
                }
            }
        }
        let norm = next.iter().map(|v| v * v).sum::<f64>().sqrt();
        let scale = ((2 * l + 3) as f64).sqrt() / norm;
        matrices.push(c.iter().map(|v| v * scale).collect());
        y = next.iter().map(|v| v * scale).collect();
    }
    matrices
}

impl<B: Backend> SphericalHarmonics<B> {
    /// Harmonics up to `lmax` with the given normalisation.
    pub fn new(
        lmax: usize,
        normalization: Normalization,
        device: &B::Device,
        float: FloatType,
    ) -> Self {
        let recursion = recursion_matrices(lmax)
            .iter()
            .enumerate()
            .map(|(k, m)| {
                let l = k + 1;
                tensor(m, [3 * (2 * l + 1), 2 * l + 3], device, float)
            })
            .collect();
        Self {
            lmax,
            normalization,
            recursion,
        }
    }

    /// Output dimension `(lmax + 1)²`.
    pub fn dim(&self) -> usize {
        (self.lmax + 1).pow(2)
    }

    /// `[E, 3]` vectors (normalised here) → `[E, (lmax+1)²]` harmonics, l = 0..lmax, m = −l..l.
    pub fn forward(&self, vectors: Tensor<B, 2>) -> Tensor<B, 2> {
        let [edges, _] = vectors.dims();
        let length = (vectors.clone() * vectors.clone())
            .sum_dim(1)
            .sqrt()
            .clamp_min(1e-12);
        let unit = vectors * length.recip();
        let y0 = unit
            .clone()
            .slice([0..edges, 0..1])
            .zeros_like()
            .add_scalar(1.0);
        let mut blocks = vec![y0];
        if self.lmax >= 1 {
            let y1 = unit.mul_scalar(3f64.sqrt());
            let mut y = y1.clone();
            blocks.push(y1.clone());
            for (k, matrix) in self.recursion.iter().enumerate() {
                let n = 2 * (k + 1) + 1;
                let outer = y1.clone().reshape([edges, 3, 1]) * y.reshape([edges, 1, n]);
                y = outer.reshape([edges, 3 * n]).matmul(matrix.clone());
                blocks.push(y.clone());
            }
        }
        let all = Tensor::cat(blocks, 1);
        match self.normalization {
            Normalization::Component => all,
            Normalization::Integral => all.mul_scalar(1.0 / (4.0 * std::f64::consts::PI).sqrt()),
        }
    }
}
