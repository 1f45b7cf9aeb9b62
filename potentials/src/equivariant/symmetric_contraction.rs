//! MACE's symmetric contraction (`EquivariantProductBasisBlock`'s `SymmetricContraction`): the
//! body-ordered product basis, with the coupling tensors U given as data.

use super::tensor::{indices, tensor, FloatType};
use crate::PotentialError;
use burn::tensor::{backend::Backend, Int, Tensor};

/// One correlation order ν of one output irrep: `U_ν` (shape `[M?] + [D]^ν + [K]`, the leading
/// M = 2L+1 absent for L = 0) and its weights `[n_elements, K, C]`.
#[derive(Debug, Clone)]
pub struct ContractionOrder {
    /// ν.
    pub nu: usize,
    /// U's shape as stored.
    pub u_shape: Vec<usize>,
    /// U's values, row-major.
    pub u: Vec<f64>,
    /// Weights `[n_elements, K, C]`, row-major.
    pub weights: Vec<f64>,
}

/// Non-zeros of U handled together: bounds the `[N, C, chunk]` temporaries.
const NONZEROS_PER_CHUNK: usize = 256;

/// A run of non-zero entries of U_ν on the device.
#[derive(Debug, Clone)]
struct NonZeros<B: Backend> {
    /// Per feature slot ν: the feature index of each non-zero, `[nnz]`.
    features: Vec<Tensor<B, 1, Int>>,
    /// The k of each non-zero.
    k: Tensor<B, 1, Int>,
    /// `[nnz, M]`: value of each non-zero placed in its output component m.
    scatter: Tensor<B, 2>,
}

/// One correlation order on the device: U's non-zeros in chunks, and the weights.
#[derive(Debug, Clone)]
struct SparseOrder<B: Backend> {
    chunks: Vec<NonZeros<B>>,
    /// `[n_elements, K, C]`.
    weights: Tensor<B, 3>,
}

/// One output irrep L: `B[n, c, m] = Σ_ν Σ_k W_ν[e_n, k, c] Σ_i U_ν[m, i1..iν, k] x[n,c,i1]⋯x[n,c,iν]`.
///
/// U is over 99 % zeros, so it is stored sparse: each non-zero contributes its value times a
/// product of ν features times one weight, and the terms are summed into their m.
#[derive(Debug, Clone)]
pub struct Contraction<B: Backend> {
    /// 2L + 1.
    m: usize,
    orders: Vec<SparseOrder<B>>,
}

impl<B: Backend> Contraction<B> {
    /// A contraction with output dimension `m` (= 2L+1) over feature dimension `d` and
    /// `channels` channels.
    pub fn new(
        m: usize,
        d: usize,
        channels: usize,
        orders: &[ContractionOrder],
        device: &B::Device,
        float: FloatType,
    ) -> Result<Self, PotentialError> {
        let orders = orders
            .iter()
            .map(|order| {
                let nu = order.nu;
                let leading = usize::from(m > 1);
                let expected_rank = leading + nu + 1;
                if order.u_shape.len() != expected_rank
                    || order.u_shape[leading..leading + nu].iter().any(|&s| s != d)
                    || (m > 1 && order.u_shape[0] != m)
                {
                    return Err(PotentialError::Invalid(format!(
                        "U for correlation {nu}, 2L+1 = {m}, D = {d} has shape {:?}",
                        order.u_shape
                    )));
                }
                let kk = *order.u_shape.last().expect("rank ≥ 2");
                let n_weights = order.weights.len();
                if kk == 0 || n_weights % (kk * channels) != 0 {
                    return Err(PotentialError::Invalid(format!(
                        "weights of correlation {nu} do not match U's {kk} columns"
                    )));
                }
                let mut features = vec![Vec::new(); nu];
                let (mut ks, mut scatter_rows) = (Vec::new(), Vec::new());
                for (flat, &value) in order.u.iter().enumerate() {
                    if value == 0.0 {
                        continue;
                    }
                    let mut rest = flat;
                    let k = rest % kk;
                    rest /= kk;
                    for slot in (0..nu).rev() {
                        features[slot].push((rest % d) as u32);
                        rest /= d;
                    }
                    let component = rest;
                    ks.push(k as u32);
                    let mut row = vec![0.0; m];
                    row[component] = value;
                    scatter_rows.extend(row);
                }
                let n_elements = n_weights / (kk * channels);
                let chunks = (0..ks.len())
                    .step_by(NONZEROS_PER_CHUNK)
                    .map(|start| {
                        let end = (start + NONZEROS_PER_CHUNK).min(ks.len());
                        NonZeros {
                            features: features
                                .iter()
                                .map(|f| indices(&f[start..end], device))
                                .collect(),
                            k: indices(&ks[start..end], device),
                            scatter: tensor(
                                &scatter_rows[start * m..end * m],
                                [end - start, m],
                                device,
                                float,
                            ),
                        }
                    })
                    .collect();
                Ok(SparseOrder {
                    chunks,
                    weights: tensor(&order.weights, [n_elements, kk, channels], device, float),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { m, orders })
    }

    /// `x [N, C, D]`, `elements [N]` (indices into the weights' first axis) → `[N, C · M]`
    /// (c-major).
    pub fn forward(&self, x: Tensor<B, 3>, elements: Tensor<B, 1, Int>) -> Tensor<B, 2> {
        let [n, c, _] = x.dims();
        let mut total: Option<Tensor<B, 2>> = None;
        for order in &self.orders {
            // [n_el, K, C] → per node [N, K, C].
            let node_weights = order.weights.clone().select(0, elements.clone());
            for chunk in &order.chunks {
                // Per non-zero [N, nnz, C] → [N, C, nnz], times the ν features of each.
                let mut product = node_weights
                    .clone()
                    .select(1, chunk.k.clone())
                    .swap_dims(1, 2);
                for feature in &chunk.features {
                    product = product * x.clone().select(2, feature.clone());
                }
                let nnz = chunk.k.dims()[0];
                let out = product.reshape([n * c, nnz]).matmul(chunk.scatter.clone());
                total = Some(match total {
                    Some(t) => t + out,
                    None => out,
                });
            }
        }
        total
            .expect("at least one correlation order")
            .reshape([n, c * self.m])
    }
}
