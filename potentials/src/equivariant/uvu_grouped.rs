//! The fast path of the channel-wise ("uvu") tensor product when every path's second input has
//! multiplicity 1, as in MACE's and NequIP's convolutions with edge spherical harmonics.
//!
//! Used as a convolution over a graph. Paths that share a first-input block are evaluated together: one matmul couples the second
//! input with all their Wigner-3j blocks (`Y[n, i, s] = Σ_j x2[n, j] C̃[j, (i, s)]`, s running
//! over every path's output components), one batched matmul contracts the first input
//! (`Z[n, u, s] = Σ_i x1[n, u, i] Y[n, i, s]`), and the per-edge weights, spread over each path's
//! components by a matmul with a 0/1 matrix, multiply Z element by element. Burn's CPU backend
//! multiplies equal shapes much faster than broadcast ones, forward and backward.

use super::tensor::{indices, tensor, FloatType};
use super::tensor_product::Paths;
use burn::tensor::{backend::Backend, IndexingUpdateOp, Int, Tensor};

/// One path within a group: its output block, first column in the group's S axis, and 2l+1.
#[derive(Debug, Clone, Copy)]
struct GroupPath {
    output: usize,
    start: usize,
    d3: usize,
}

/// The paths sharing one first-input block.
#[derive(Debug, Clone)]
struct InputGroup<B: Backend> {
    offset1: usize,
    mul1: usize,
    d1: usize,
    /// `[dim2, d1 · S]`, path weights included.
    coupling: Tensor<B, 2>,
    /// `[paths, S]`: 1 where column s belongs to the path.
    spread: Tensor<B, 2>,
    /// The per-edge weight columns of the group's paths, channel-major.
    weight_columns: Tensor<B, 1, Int>,
    paths: Vec<GroupPath>,
}

/// All groups of a product (see the module docs).
#[derive(Debug, Clone)]
pub(super) struct GroupedUvu<B: Backend> {
    groups: Vec<InputGroup<B>>,
}

impl<B: Backend> GroupedUvu<B> {
    /// The grouped form of a product's paths, or `None` if some path's second input has
    /// multiplicity other than 1.
    pub(super) fn new(paths: &Paths<B>, device: &B::Device, float: FloatType) -> Option<Self> {
        let (irreps_in1, irreps_in2, irreps_out) =
            (&paths.irreps_in1, &paths.irreps_in2, &paths.irreps_out);
        if paths
            .paths
            .iter()
            .any(|p| irreps_in2.0[p.instruction.input2].mul != 1)
        {
            return None;
        }
        let dim2 = irreps_in2.dim();
        // Offset of each path's weights in the per-edge weight vector.
        let mut weight_offsets = Vec::with_capacity(paths.paths.len());
        let mut offset = 0;
        for p in &paths.paths {
            weight_offsets.push(offset);
            offset += irreps_in1.0[p.instruction.input1].mul;
        }
        let mut groups = Vec::new();
        for (block, a) in irreps_in1.0.iter().enumerate() {
            let members: Vec<usize> = (0..paths.paths.len())
                .filter(|&t| paths.paths[t].instruction.input1 == block)
                .collect();
            let Some(&first) = members.first() else {
                continue;
            };
            let d1 = a.ir.dim();
            let mut group_paths = Vec::new();
            let mut width = 0;
            for &t in &members {
                let output = paths.paths[t].instruction.output;
                let d3 = irreps_out.0[output].ir.dim();
                group_paths.push(GroupPath {
                    output,
                    start: width,
                    d3,
                });
                width += d3;
            }
            let mut coupling = vec![0.0; dim2 * d1 * width];
            let mut spread = vec![0.0; members.len() * width];
            for (p, (&t, path)) in members.iter().zip(&group_paths).enumerate() {
                let data = &paths.paths[t];
                let d2 = irreps_in2.0[data.instruction.input2].ir.dim();
                // data.coefficients: [d2, d1 · d3], path weight included.
                for j in 0..d2 {
                    let row = data.offsets[1] + j;
                    for i in 0..d1 {
                        for k in 0..path.d3 {
                            coupling[row * d1 * width + i * width + path.start + k] =
                                data.coefficients[j * d1 * path.d3 + i * path.d3 + k];
                        }
                    }
                }
                for k in 0..path.d3 {
                    spread[p * width + path.start + k] = 1.0;
                }
            }
            // Channel-major, path-minor: the gathered weights reshape to [n · mul1, paths].
            let offsets = &weight_offsets;
            let columns: Vec<u32> = (0..a.mul)
                .flat_map(|u| members.iter().map(move |&t| (offsets[t] + u) as u32))
                .collect();
            groups.push(InputGroup {
                offset1: paths.paths[first].offsets[0],
                mul1: a.mul,
                d1,
                coupling: tensor(&coupling, [dim2, d1 * width], device, float),
                spread: tensor(&spread, [members.len(), width], device, float),
                weight_columns: indices(&columns, device),
                paths: group_paths,
            });
        }
        Some(Self { groups })
    }

    /// A convolution: edge e couples `nodes[senders[e]]` with `x2[e]` under `weights[e]`, and
    /// the results are summed at `receivers[e]`. Returns, per output block, `[n_nodes,
    /// mul · (2l+1)]` (`None` where no path ends). Nodes are split into blocks before the
    /// gather and edges summed before the split, so no slice of an edge-sized tensor is taken.
    pub(super) fn convolve(
        &self,
        nodes: &Tensor<B, 2>,
        senders: &Tensor<B, 1, Int>,
        receivers: &Tensor<B, 1, Int>,
        x2: &Tensor<B, 2>,
        weights: &Tensor<B, 2>,
        n_outputs: usize,
    ) -> Vec<Option<Tensor<B, 2>>> {
        let [n_nodes, _] = nodes.dims();
        let [n, _] = x2.dims();
        let mut outputs: Vec<Option<Tensor<B, 2>>> = vec![None; n_outputs];
        for g in &self.groups {
            let [_, width_total] = g.coupling.dims();
            let width = width_total / g.d1;
            let n_paths = g.paths.len();
            let y = x2
                .clone()
                .matmul(g.coupling.clone())
                .reshape([n, g.d1, width]);
            let x = nodes
                .clone()
                .narrow(1, g.offset1, g.mul1 * g.d1)
                .select(0, senders.clone())
                .reshape([n, g.mul1, g.d1]);
            let z = x.matmul(y).reshape([n * g.mul1, width]);
            let w = weights
                .clone()
                .select(1, g.weight_columns.clone())
                .reshape([n * g.mul1, n_paths])
                .matmul(g.spread.clone());
            let messages = (z * w).reshape([n, g.mul1 * width]);
            let summed = Tensor::<B, 2>::zeros(
                [n_nodes, g.mul1 * width],
                (&messages.device(), messages.dtype()),
            )
            .select_assign(0, receivers.clone(), messages, IndexingUpdateOp::Add)
            .reshape([n_nodes, g.mul1, width]);
            for path in &g.paths {
                let block = summed
                    .clone()
                    .narrow(2, path.start, path.d3)
                    .reshape([n_nodes, g.mul1 * path.d3]);
                let slot = &mut outputs[path.output];
                *slot = Some(match slot.take() {
                    Some(sum) => sum + block,
                    None => block,
                });
            }
        }
        outputs
    }
}
