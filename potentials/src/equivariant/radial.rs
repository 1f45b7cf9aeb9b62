//! Radial pieces: MACE's Bessel basis and polynomial cutoff envelope, and e3nn's
//! `FullyConnectedNet` with normalize2mom-scaled SiLU (the radial MLP).

use super::tensor::{tensor, FloatType};
use burn::tensor::{backend::Backend, Tensor};

/// e3nn's normalize2mom constant for SiLU: a Monte-Carlo estimate of ⟨silu(z)²⟩^(−1/2) (seed 0,
/// 10⁶ samples), which models were trained with. The exact value, 1.676532…, is 0.16 % off.
pub const SILU_NORMALIZE2MOM: f64 = 1.679_176_792_398_941_8;

/// `x · sigmoid(x)` written as `x / (1 + exp(−x))`, exact in f64 on every backend.
pub fn silu<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    x.clone() * (x.neg().exp().add_scalar(1.0)).recip()
}

/// `R_n(r) = prefactor · sin(w_n r) / r` (MACE's `BesselBasis`, w_n = nπ/r_max by default).
#[derive(Debug, Clone)]
pub struct BesselBasis<B: Backend> {
    /// `[1, n]`.
    weights: Tensor<B, 2>,
    prefactor: f64,
}

impl<B: Backend> BesselBasis<B> {
    /// The basis with explicit frequencies (a model's buffer) and prefactor.
    pub fn from_parts(
        weights: &[f64],
        prefactor: f64,
        device: &B::Device,
        float: FloatType,
    ) -> Self {
        Self {
            weights: tensor(weights, [1, weights.len()], device, float),
            prefactor,
        }
    }

    /// `num_basis` functions with w_n = nπ/r_max and prefactor √(2/r_max).
    pub fn new(r_max: f64, num_basis: usize, device: &B::Device, float: FloatType) -> Self {
        let weights: Vec<f64> = (1..=num_basis)
            .map(|n| n as f64 * std::f64::consts::PI / r_max)
            .collect();
        Self::from_parts(&weights, (2.0 / r_max).sqrt(), device, float)
    }

    /// `[E, 1]` lengths → `[E, n]`.
    pub fn forward(&self, r: Tensor<B, 2>) -> Tensor<B, 2> {
        (r.clone() * self.weights.clone()).sin() * r.recip().mul_scalar(self.prefactor)
    }
}

/// MACE's `PolynomialCutoff`: with u = r/r_max,
/// `f = 1 − (p+1)(p+2)/2 uᵖ + p(p+2) uᵖ⁺¹ − p(p+1)/2 uᵖ⁺²` below r_max, 0 beyond.
#[derive(Debug, Clone, Copy)]
pub struct PolynomialCutoff {
    /// Cutoff, Å.
    pub r_max: f64,
    /// The exponent p.
    pub p: f64,
}

impl PolynomialCutoff {
    /// The envelope f(r) and its derivative df/dr (1/Å) at one distance `r`, Å.
    pub fn value_and_derivative(&self, r: f64) -> (f64, f64) {
        if r >= self.r_max {
            return (0.0, 0.0);
        }
        let p = self.p;
        let u = r / self.r_max;
        let up = u.powf(p);
        let (a, b, c) = (
            -(p + 1.0) * (p + 2.0) / 2.0,
            p * (p + 2.0),
            -p * (p + 1.0) / 2.0,
        );
        let value = 1.0 + up * (a + u * (b + u * c));
        let slope = u.powf(p - 1.0) * (p * a + u * ((p + 1.0) * b + u * (p + 2.0) * c));
        (value, slope / self.r_max)
    }

    /// `[E, 1]` lengths → `[E, 1]` envelope.
    pub fn forward<B: Backend>(&self, r: Tensor<B, 2>) -> Tensor<B, 2> {
        let p = self.p;
        let u = r.clone().mul_scalar(1.0 / self.r_max);
        let up = u.clone().powf_scalar(p);
        let envelope = up
            .clone()
            .mul_scalar(-(p + 1.0) * (p + 2.0) / 2.0)
            .add(up.clone().mul(u.clone()).mul_scalar(p * (p + 2.0)))
            .add(up.mul(u.clone()).mul(u).mul_scalar(-p * (p + 1.0) / 2.0))
            .add_scalar(1.0);
        envelope.mask_fill(r.greater_equal_elem(self.r_max), 0.0)
    }
}

/// e3nn's `FullyConnectedNet(hs, silu)` without biases: per layer `h ← h @ (W / √h_in)`, then
/// `cst · silu(h)` on every layer but the last.
#[derive(Debug, Clone)]
pub struct RadialMlp<B: Backend> {
    /// Weights `[h_in, h_out]`, already divided by √h_in.
    layers: Vec<Tensor<B, 2>>,
    activation_constant: f64,
}

impl<B: Backend> RadialMlp<B> {
    /// Layers as (weights row-major, h_in, h_out); `activation_constant` is the normalize2mom
    /// constant (use [`SILU_NORMALIZE2MOM`] for e3nn models).
    pub fn new(
        layers: &[(Vec<f64>, usize, usize)],
        activation_constant: f64,
        device: &B::Device,
        float: FloatType,
    ) -> Self {
        let layers = layers
            .iter()
            .map(|(w, h_in, h_out)| {
                let scaled: Vec<f64> = w.iter().map(|v| v / (*h_in as f64).sqrt()).collect();
                tensor(&scaled, [*h_in, *h_out], device, float)
            })
            .collect();
        Self {
            layers,
            activation_constant,
        }
    }

    /// `[E, h_0]` → `[E, h_last]`.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.layers.len().saturating_sub(1);
        self.layers.iter().enumerate().fold(x, |h, (k, w)| {
            let h = h.matmul(w.clone());
            if k < last {
                silu(h).mul_scalar(self.activation_constant)
            } else {
                h
            }
        })
    }
}
