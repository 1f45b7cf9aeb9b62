//! MACE's symmetric contraction (`EquivariantProductBasisBlock`'s `SymmetricContraction`): the
//! body-ordered product basis, with the coupling tensors U given as data.
//!
//! For output irrep L, channel c and node n of element e:
//! `B[n, c, m] = Σ_ν Σ_k W_ν[e, k, c] Σ_{i1..iν} U_ν[m, i1..iν, k] x[n,c,i1] ⋯ x[n,c,iν]`.
//!
//! The product x[i1]⋯x[iν] depends only on the multiset {i1..iν}, and W does not change during
//! a run, so at load time U and W are folded into one table per element,
//! `V_e[c, (L,m), j] = Σ_ν Σ_{k, i ∈ j} U_ν[m, i, k] W_ν[e, k, c]`, indexed by the distinct
//! monomials j that U uses (sorted index tuples, one table per degree). A forward pass builds
//! those monomials with gathers and multiplies them into V_e with batched matmuls.

use super::tensor::{indices, tensor, FloatType};
use crate::PotentialError;
use burn::tensor::{backend::Backend, Int, Tensor};
use std::collections::HashMap;

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

/// One output irrep of a contraction: its dimension 2L+1 and its correlation orders.
#[derive(Debug, Clone)]
pub struct ContractionIrrep {
    /// 2L + 1.
    pub m: usize,
    /// Its orders ν = 1..=correlation (any order).
    pub orders: Vec<ContractionOrder>,
}

/// The distinct monomials of each degree, as sorted feature-index tuples.
#[derive(Debug, Default)]
struct Monomials {
    /// Per degree ν (index ν − 1): tuple → column within that degree.
    columns: Vec<HashMap<Vec<usize>, usize>>,
}

impl Monomials {
    fn column(&mut self, tuple: Vec<usize>) -> (usize, usize) {
        let nu = tuple.len();
        if self.columns.len() < nu {
            self.columns.resize_with(nu, HashMap::new);
        }
        let degree = &mut self.columns[nu - 1];
        let next = degree.len();
        (nu, *degree.entry(tuple).or_insert(next))
    }

    fn total(&self) -> usize {
        self.columns.iter().map(HashMap::len).sum()
    }
}

/// All output irreps of one symmetric contraction, folded per element (see the module docs).
#[derive(Debug, Clone)]
pub struct SymmetricContraction<B: Backend> {
    /// Per degree ν: for each slot s < ν, the rows `c·D + i_s` of every channel and monomial
    /// (c-major) in the `[C·D, nodes]` feature matrix.
    monomials: Vec<Vec<Tensor<B, 1, Int>>>,
    /// Per element, per degree ν: `[C, Σ M, J_ν]`.
    tables: Vec<Vec<Tensor<B, 3>>>,
    /// 2L + 1 of each output irrep, in order.
    dims: Vec<usize>,
}

/// A contraction folded on the host: the distinct monomials of each degree and, per element,
/// the tables `V_e[c, (L,m), j]` that multiply them (see the module docs).
#[derive(Debug, Clone)]
pub struct FoldedContraction {
    /// Per degree ν (index ν − 1), per slot s < ν: the feature index i_s of each monomial j.
    pub monomials: Vec<Vec<Vec<u32>>>,
    /// Per element, per degree ν: `[C, ΣM, J_ν]`, row-major.
    pub tables: Vec<Vec<Vec<f64>>>,
    /// 2L + 1 of each output irrep, in order.
    pub dims: Vec<usize>,
    /// Feature dimension D per channel.
    pub d: usize,
    /// Channels C.
    pub channels: usize,
}

impl FoldedContraction {
    /// Folds U and W of every output irrep over feature dimension `d` (Σ (2l+1) of the input
    /// irreps per channel) and `channels` channels, for `n_elements` elements.
    pub fn new(
        d: usize,
        channels: usize,
        n_elements: usize,
        irreps: &[ContractionIrrep],
    ) -> Result<Self, PotentialError> {
        let total_m: usize = irreps.iter().map(|i| i.m).sum();
        // Pass 1: validate shapes and collect (monomial, output column, k-row of W) terms.
        let mut monomials = Monomials::default();
        // (degree, column within degree, output (L,m) column, irrep, order, k, value)
        let mut terms = Vec::new();
        let mut m_offset = 0;
        for (irrep_index, irrep) in irreps.iter().enumerate() {
            let m = irrep.m;
            for (order_index, order) in irrep.orders.iter().enumerate() {
                let nu = order.nu;
                let leading = usize::from(m > 1);
                if nu == 0
                    || order.u_shape.len() != leading + nu + 1
                    || order.u_shape[leading..leading + nu].iter().any(|&s| s != d)
                    || (m > 1 && order.u_shape[0] != m)
                {
                    return Err(PotentialError::Invalid(format!(
                        "U for correlation {nu}, 2L+1 = {m}, D = {d} has shape {:?}",
                        order.u_shape
                    )));
                }
                let kk = *order.u_shape.last().expect("rank ≥ 2");
                if order.weights.len() != n_elements * kk * channels {
                    return Err(PotentialError::Invalid(format!(
                        "weights of correlation {nu} hold {} values, expected {n_elements} \
                         elements × {kk} × {channels} channels",
                        order.weights.len()
                    )));
                }
                for (flat, &value) in order.u.iter().enumerate() {
                    if value == 0.0 {
                        continue;
                    }
                    let mut rest = flat;
                    let k = rest % kk;
                    rest /= kk;
                    let mut tuple = vec![0; nu];
                    for slot in (0..nu).rev() {
                        tuple[slot] = rest % d;
                        rest /= d;
                    }
                    tuple.sort_unstable();
                    let (degree, column) = monomials.column(tuple);
                    terms.push((
                        degree,
                        column,
                        m_offset + rest,
                        irrep_index,
                        order_index,
                        k,
                        value,
                    ));
                }
            }
            m_offset += m;
        }
        if monomials.total() == 0 {
            return Err(PotentialError::Invalid(
                "the symmetric contraction's U matrices are all zero".into(),
            ));
        }
        // Pass 2: fold U and W into per-element, per-degree tables [C, ΣM, J_ν].
        let widths: Vec<usize> = monomials.columns.iter().map(HashMap::len).collect();
        let mut tables: Vec<Vec<Vec<f64>>> = (0..n_elements)
            .map(|_| {
                widths
                    .iter()
                    .map(|&j| vec![0.0; channels * total_m * j])
                    .collect()
            })
            .collect();
        for &(degree, column, out, irrep, order, k, value) in &terms {
            let o = &irreps[irrep].orders[order];
            let kk = *o.u_shape.last().expect("rank ≥ 2");
            let j_width = widths[degree - 1];
            for (e, per_degree) in tables.iter_mut().enumerate() {
                let table = &mut per_degree[degree - 1];
                let w = &o.weights[(e * kk + k) * channels..(e * kk + k + 1) * channels];
                for (c, &wc) in w.iter().enumerate() {
                    table[(c * total_m + out) * j_width + column] += value * wc;
                }
            }
        }
        let monomials = monomials
            .columns
            .iter()
            .enumerate()
            .map(|(degree, map)| {
                let mut slots = vec![vec![0u32; map.len()]; degree + 1];
                for (tuple, &column) in map {
                    for (slot, &i) in tuple.iter().enumerate() {
                        slots[slot][column] = i as u32;
                    }
                }
                slots
            })
            .collect();
        Ok(Self {
            monomials,
            tables,
            dims: irreps.iter().map(|i| i.m).collect(),
            d,
            channels,
        })
    }

    /// Σ (2L+1) over the output irreps.
    pub fn total_m(&self) -> usize {
        self.dims.iter().sum()
    }
}

impl<B: Backend> SymmetricContraction<B> {
    /// A contraction over feature dimension `d` (Σ (2l+1) of the input irreps per channel) and
    /// `channels` channels, for nodes of `n_elements` elements.
    pub fn new(
        d: usize,
        channels: usize,
        n_elements: usize,
        irreps: &[ContractionIrrep],
        device: &B::Device,
        float: FloatType,
    ) -> Result<Self, PotentialError> {
        Ok(Self::from_folded(
            &FoldedContraction::new(d, channels, n_elements, irreps)?,
            device,
            float,
        ))
    }

    /// The contraction of a folded one, on `device`.
    pub fn from_folded(folded: &FoldedContraction, device: &B::Device, float: FloatType) -> Self {
        let (d, channels) = (folded.d, folded.channels);
        let total_m = folded.total_m();
        let monomials = folded
            .monomials
            .iter()
            .map(|slots| {
                // Rows of the [C·D, nodes] feature matrix: c·D + i for every channel c.
                slots
                    .iter()
                    .map(|s| {
                        let rows: Vec<u32> = (0..channels as u32)
                            .flat_map(|c| s.iter().map(move |&i| c * d as u32 + i))
                            .collect();
                        indices(&rows, device)
                    })
                    .collect()
            })
            .collect();
        Self {
            monomials,
            tables: folded
                .tables
                .iter()
                .map(|per_degree| {
                    per_degree
                        .iter()
                        .zip(&folded.monomials)
                        .map(|(t, slots)| {
                            tensor(t, [channels, total_m, slots[0].len()], device, float)
                        })
                        .collect()
                })
                .collect(),
            dims: folded.dims.clone(),
        }
    }

    /// `x [N, C, D]` and each node's element (index into the weights' first axis) →
    /// `[N, Σ_L C · (2L+1)]`, each irrep's block channel-major (e3nn's layout).
    pub fn forward(&self, x: Tensor<B, 3>, elements: &[u32]) -> Tensor<B, 2> {
        let [n, c, d] = x.dims();
        let device = x.device();
        // Nodes are grouped by element. Within a group the monomials are laid out
        // [C, J_ν, nodes], gathered as rows of a [C·D, nodes] matrix (contiguous copies, and a
        // row scatter-add backward), and each degree is one batched
        // matmul [C, ΣM, J_ν] × [C, J_ν, nodes], summed: no concatenation, whose backward would
        // write a full-size zero tensor per piece.
        let mut order = Vec::with_capacity(n);
        let mut groups = Vec::new();
        for (e, tables) in self.tables.iter().enumerate() {
            let nodes: Vec<u32> = (0..n as u32)
                .filter(|&i| elements[i as usize] as usize == e)
                .collect();
            if nodes.is_empty() {
                continue;
            }
            // 2-D row selects: burn-flex's scatter-add backward is fast only for matrices.
            let group = if nodes.len() == n {
                x.clone()
            } else {
                x.clone()
                    .reshape([n, c * d])
                    .select(0, indices(&nodes, &device))
                    .reshape([nodes.len(), c, d])
            };
            let n_e = nodes.len();
            let features = group.permute([1, 2, 0]).reshape([c * d, n_e]);
            let out = self
                .monomials
                .iter()
                .zip(tables)
                .map(|(slots, table)| {
                    let products = slots
                        .iter()
                        .map(|rows| features.clone().select(0, rows.clone()))
                        .reduce(|a, b| a * b)
                        .expect("degree ≥ 1");
                    let [_, _, j] = table.dims();
                    table.clone().matmul(products.reshape([c, j, n_e])) // [C, ΣM, n_e]
                })
                .reduce(|a, b| a + b)
                .expect("at least one degree");
            order.extend(nodes);
            groups.push(out.permute([2, 0, 1])); // [n_e, C, ΣM]
        }
        assert_eq!(order.len(), n, "every node's element has weights");
        let mut out = Tensor::cat(groups, 0);
        if order.iter().enumerate().any(|(i, &node)| i as u32 != node) {
            let mut inverse = vec![0u32; n];
            for (position, &node) in order.iter().enumerate() {
                inverse[node as usize] = position as u32;
            }
            let [_, _, m] = out.dims();
            out = out
                .reshape([n, c * m])
                .select(0, indices(&inverse, &device))
                .reshape([n, c, m]);
        }
        let mut offset = 0;
        let blocks = self
            .dims
            .iter()
            .map(|&m| {
                let block = out.clone().narrow(2, offset, m).reshape([n, c * m]);
                offset += m;
                block
            })
            .collect();
        Tensor::cat(blocks, 1)
    }
}
