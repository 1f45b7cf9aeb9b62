//! e3nn tensor products: channel-wise "uvu" with per-edge weights (the MACE and NequIP
//! convolutions), fully connected "uvw" with shared weights, and element-wise "uuu".

use super::irreps::{Irrep, Irreps, MulIrrep};
use super::tensor::{tensor, FloatType};
use super::uvu_grouped::GroupedUvu;
use super::wigner::W3jTable;
use crate::PotentialError;
use burn::tensor::{backend::Backend, IndexingUpdateOp, Int, Tensor};

/// One path of a tensor product: blocks `input1 ⊗ input2 → output`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instruction {
    /// Block of the first input.
    pub input1: usize,
    /// Block of the second input.
    pub input2: usize,
    /// Output block.
    pub output: usize,
    /// The path weight (normalisation) multiplying this path.
    pub path_weight: f64,
}

/// Whether `c` is in `a ⊗ b` (triangle rule and parity).
pub fn couples(a: Irrep, b: Irrep, c: Irrep) -> bool {
    c.p == a.p * b.p && c.l >= a.l.abs_diff(b.l) && c.l <= a.l + b.l
}

/// A path's data: the Wigner-3j block times the path weight as `[d2, d1 · d3]` (j-major), on
/// the host and on the device.
#[derive(Debug, Clone)]
pub(super) struct PathData<B: Backend> {
    pub(super) instruction: Instruction,
    /// Column offsets of the path's blocks in input 1 and input 2.
    pub(super) offsets: [usize; 2],
    /// `[d2, d1 · d3]`, row-major.
    pub(super) coefficients: Vec<f64>,
    w3j: Tensor<B, 2>,
}

/// The shared core: `z[n, u, v, k] = Σ_ij x1[n, u, i] x2[n, v, j] C[i, j, k]` for each path.
#[derive(Debug, Clone)]
pub(super) struct Paths<B: Backend> {
    pub(super) irreps_in1: Irreps,
    pub(super) irreps_in2: Irreps,
    pub(super) irreps_out: Irreps,
    pub(super) paths: Vec<PathData<B>>,
}

impl<B: Backend> Paths<B> {
    fn new(
        irreps_in1: &Irreps,
        irreps_in2: &Irreps,
        irreps_out: &Irreps,
        instructions: &[Instruction],
        w3j: &W3jTable,
        device: &B::Device,
        float: FloatType,
    ) -> Result<Self, PotentialError> {
        let (slices1, slices2) = (irreps_in1.slices(), irreps_in2.slices());
        let paths = instructions
            .iter()
            .map(|&instruction| {
                let (a, b, c) = (
                    irreps_in1.0.get(instruction.input1),
                    irreps_in2.0.get(instruction.input2),
                    irreps_out.0.get(instruction.output),
                );
                let (Some(a), Some(b), Some(c)) = (a, b, c) else {
                    return Err(PotentialError::Invalid(format!(
                        "instruction {instruction:?} names a missing block"
                    )));
                };
                if !couples(a.ir, b.ir, c.ir) {
                    return Err(PotentialError::Invalid(format!(
                        "instruction {instruction:?}: {} ⊗ {} does not contain {}",
                        a.ir, b.ir, c.ir
                    )));
                }
                let (d1, d2, d3) = (a.ir.dim(), b.ir.dim(), c.ir.dim());
                let block = w3j.get([a.ir.l, b.ir.l, c.ir.l]);
                // [d1, d2, d3] → [d2, d1·d3], scaled by the path weight.
                let mut permuted = vec![0.0; block.len()];
                for i in 0..d1 {
                    for j in 0..d2 {
                        for k in 0..d3 {
                            permuted[j * d1 * d3 + i * d3 + k] =
                                block[(i * d2 + j) * d3 + k] * instruction.path_weight;
                        }
                    }
                }
                Ok(PathData {
                    instruction,
                    offsets: [slices1[instruction.input1].0, slices2[instruction.input2].0],
                    w3j: tensor(&permuted, [d2, d1 * d3], device, float),
                    coefficients: permuted,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            irreps_in1: irreps_in1.clone(),
            irreps_in2: irreps_in2.clone(),
            irreps_out: irreps_out.clone(),
            paths,
        })
    }

    /// `[n, mul1, mul2, d3]` for one path.
    fn couple(&self, path: &PathData<B>, x1: &Tensor<B, 2>, x2: &Tensor<B, 2>) -> Tensor<B, 4> {
        let i = path.instruction;
        let (a, b) = (self.irreps_in1.0[i.input1], self.irreps_in2.0[i.input2]);
        let x1 = x1.clone().narrow(1, path.offsets[0], a.dim());
        let x2 = x2.clone().narrow(1, path.offsets[1], b.dim());
        couple_blocks(
            x1,
            x2,
            [a.mul, b.mul],
            self.irreps_out.0[i.output].ir.dim(),
            &path.w3j,
        )
    }

    /// Sums path outputs `[n, mul_out · d3]` into the output layout (zeros for empty blocks).
    fn assemble(
        &self,
        n: usize,
        outputs: Vec<Option<Tensor<B, 2>>>,
        like: &Tensor<B, 2>,
    ) -> Tensor<B, 2> {
        let blocks = outputs
            .into_iter()
            .zip(&self.irreps_out.0)
            .map(|(block, irrep)| {
                block.unwrap_or_else(|| {
                    Tensor::zeros([n, irrep.dim()], (&like.device(), like.dtype()))
                })
            })
            .collect();
        Tensor::cat(blocks, 1)
    }
}

/// `z[n, u, v, k] = Σ_ij x1[n, u, i] x2[n, v, j] C[i, j, k]` for blocks `x1 [n, mul1 · d1]`,
/// `x2 [n, mul2 · d2]` and `w3j` = C as `[d2, d1 · d3]`.
fn couple_blocks<B: Backend>(
    x1: Tensor<B, 2>,
    x2: Tensor<B, 2>,
    [mul1, mul2]: [usize; 2],
    d3: usize,
    w3j: &Tensor<B, 2>,
) -> Tensor<B, 4> {
    let [n, width1] = x1.dims();
    let [_, width2] = x2.dims();
    let (d1, d2) = (width1 / mul1, width2 / mul2);
    let y = x2.reshape([n * mul2, d2]).matmul(w3j.clone());
    let y = if mul2 == 1 {
        y.reshape([n, d1, d3])
    } else {
        y.reshape([n, mul2, d1, d3])
            .swap_dims(1, 2)
            .reshape([n, d1, mul2 * d3])
    };
    x1.reshape([n, mul1, d1])
        .matmul(y)
        .reshape([n, mul1, mul2, d3])
}

fn accumulate<B: Backend>(slot: &mut Option<Tensor<B, 2>>, value: Tensor<B, 2>) {
    *slot = Some(match slot.take() {
        Some(sum) => sum + value,
        None => value,
    });
}

/// The channel-wise tensor product (e3nn mode "uvu", `shared_weights=False`):
/// `out_{u,k} = pw Σ_{v,i,j} w_{uv} C_{ijk} x1_{ui} x2_{vj}`, with weights per row (per edge),
/// flat in instruction order, each block `[mul1, mul2]`. Output block of a path has
/// multiplicity mul1.
#[derive(Debug, Clone)]
pub struct ChannelwiseTensorProduct<B: Backend> {
    paths: Paths<B>,
    /// The fast form when every second-input block has multiplicity 1.
    grouped: Option<GroupedUvu<B>>,
}

impl<B: Backend> ChannelwiseTensorProduct<B> {
    /// A "uvu" product over the given instructions.
    pub fn new(
        irreps_in1: &Irreps,
        irreps_in2: &Irreps,
        irreps_out: &Irreps,
        instructions: &[Instruction],
        w3j: &W3jTable,
        device: &B::Device,
        float: FloatType,
    ) -> Result<Self, PotentialError> {
        for i in instructions {
            if irreps_out.0[i.output].mul != irreps_in1.0[i.input1].mul {
                return Err(PotentialError::Invalid(format!(
                    "uvu instruction {i:?}: output multiplicity must equal input 1's"
                )));
            }
        }
        let paths = Paths::new(
            irreps_in1,
            irreps_in2,
            irreps_out,
            instructions,
            w3j,
            device,
            float,
        )?;
        let grouped = GroupedUvu::new(&paths, device, float);
        Ok(Self { paths, grouped })
    }

    /// MACE's rule (`tp_out_irreps_with_instructions`): [`Self::uvu_instructions`], then the
    /// instructions ordered by output.
    pub fn mace_instructions(
        irreps_in1: &Irreps,
        irreps_in2: &Irreps,
        target: &Irreps,
    ) -> (Irreps, Vec<Instruction>) {
        let (sorted, mut instructions) = Self::uvu_instructions(irreps_in1, irreps_in2, target);
        instructions.sort_by_key(|i| i.output);
        (sorted, instructions)
    }

    /// The "uvu" rule of MACE and NequIP: for every block of `irreps_in1` and of `irreps_in2`,
    /// every coupled irrep present in `target` becomes an output block of multiplicity mul1;
    /// outputs are then stably sorted (not simplified), the instructions kept in generation
    /// order (NequIP's order, which fixes its weight layout). Path weights are e3nn's for "uvu"
    /// with component normalisation: √((2l+1) / Σ_{paths → out} mul2).
    pub fn uvu_instructions(
        irreps_in1: &Irreps,
        irreps_in2: &Irreps,
        target: &Irreps,
    ) -> (Irreps, Vec<Instruction>) {
        let mut outputs = Vec::new();
        let mut instructions = Vec::new();
        for (i, a) in irreps_in1.0.iter().enumerate() {
            for (j, b) in irreps_in2.0.iter().enumerate() {
                for l in a.ir.l.abs_diff(b.ir.l)..=a.ir.l + b.ir.l {
                    let ir = Irrep::new(l, a.ir.p * b.ir.p);
                    if target.0.iter().any(|t| t.ir == ir) {
                        instructions.push((i, j, outputs.len()));
                        outputs.push(MulIrrep { mul: a.mul, ir });
                    }
                }
            }
        }
        let (sorted, permutation) = Irreps(outputs).sort();
        let instructions: Vec<Instruction> = instructions
            .into_iter()
            .map(|(i, j, k)| {
                let b = irreps_in2.0[j];
                let l_out = sorted.0[permutation[k]].ir.l;
                Instruction {
                    input1: i,
                    input2: j,
                    output: permutation[k],
                    path_weight: ((2 * l_out + 1) as f64 / b.mul as f64).sqrt(),
                }
            })
            .collect();
        (sorted, instructions)
    }

    /// Number of weights per row.
    pub fn weight_numel(&self) -> usize {
        self.paths
            .paths
            .iter()
            .map(|p| {
                self.paths.irreps_in1.0[p.instruction.input1].mul
                    * self.paths.irreps_in2.0[p.instruction.input2].mul
            })
            .sum()
    }

    /// Output irreps.
    pub fn irreps_out(&self) -> &Irreps {
        &self.paths.irreps_out
    }

    /// `x1 [E, dim1]`, `x2 [E, dim2]`, `weights [E, weight_numel]` → `[E, dim_out]`.
    pub fn forward(
        &self,
        x1: Tensor<B, 2>,
        x2: Tensor<B, 2>,
        weights: Tensor<B, 2>,
    ) -> Tensor<B, 2> {
        let [n, _] = x1.dims();
        let mut outputs = vec![None; self.paths.irreps_out.len()];
        let mut offset = 0;
        for path in &self.paths.paths {
            let z = self.paths.couple(path, &x1, &x2);
            let [_, mul1, mul2, d3] = z.dims();
            let w = weights.clone().narrow(1, offset, mul1 * mul2);
            offset += mul1 * mul2;
            let out = (z * w.reshape([n, mul1, mul2, 1]))
                .sum_dim(2)
                .reshape([n, mul1 * d3]);
            accumulate(&mut outputs[path.instruction.output], out);
        }
        self.paths.assemble(n, outputs, &x1)
    }

    /// The product as a graph convolution: edge e couples `nodes[senders[e]]` with
    /// `edge_attrs[e]` under `weights[e]`, and the results are summed at `receivers[e]` →
    /// `[n_nodes, dim_out]`. Equal to `forward` on gathered rows followed by a scatter-sum, and
    /// faster when the second input's blocks have multiplicity 1.
    pub fn convolve(
        &self,
        nodes: Tensor<B, 2>,
        senders: Tensor<B, 1, Int>,
        receivers: Tensor<B, 1, Int>,
        edge_attrs: Tensor<B, 2>,
        weights: Tensor<B, 2>,
    ) -> Tensor<B, 2> {
        let [n_nodes, _] = nodes.dims();
        match &self.grouped {
            Some(grouped) => {
                let outputs = grouped.convolve(
                    &nodes,
                    &senders,
                    &receivers,
                    &edge_attrs,
                    &weights,
                    self.paths.irreps_out.len(),
                );
                self.paths.assemble(n_nodes, outputs, &nodes)
            }
            None => {
                let messages = self.forward(nodes.clone().select(0, senders), edge_attrs, weights);
                let [_, width] = messages.dims();
                Tensor::<B, 2>::zeros([n_nodes, width], (&nodes.device(), nodes.dtype()))
                    .select_assign(0, receivers, messages, IndexingUpdateOp::Add)
            }
        }
    }
}

/// The fully connected tensor product (e3nn `FullyConnectedTensorProduct`, mode "uvw"):
/// `out_{w,k} = pw Σ_{u,v,i,j} W_{uvw} C_{ijk} x1_{ui} x2_{vj}` with shared weights, flat in
/// instruction order, each block `[mul1, mul2, mul_out]`; pw = √((2l+1) / Σ_{paths → out} mul1·mul2).
#[derive(Debug, Clone)]
pub struct FullyConnectedTensorProduct<B: Backend> {
    paths: Paths<B>,
    /// Per path `[mul1 · mul2, mul_out]`.
    weights: Vec<Tensor<B, 2>>,
}

impl<B: Backend> FullyConnectedTensorProduct<B> {
    /// Every coupled (block1, block2, out) triple, in e3nn's order, with its path weight.
    pub fn instructions(
        irreps_in1: &Irreps,
        irreps_in2: &Irreps,
        irreps_out: &Irreps,
    ) -> Vec<Instruction> {
        let mut triples = Vec::new();
        for (i, a) in irreps_in1.0.iter().enumerate() {
            for (j, b) in irreps_in2.0.iter().enumerate() {
                for (k, c) in irreps_out.0.iter().enumerate() {
                    if couples(a.ir, b.ir, c.ir) {
                        triples.push((i, j, k));
                    }
                }
            }
        }
        let mut fan_in = vec![0usize; irreps_out.len()];
        for &(i, j, k) in &triples {
            fan_in[k] += irreps_in1.0[i].mul * irreps_in2.0[j].mul;
        }
        triples
            .into_iter()
            .map(|(i, j, k)| Instruction {
                input1: i,
                input2: j,
                output: k,
                path_weight: ((2 * irreps_out.0[k].ir.l + 1) as f64 / fan_in[k] as f64).sqrt(),
            })
            .collect()
    }

    /// A fully connected product with e3nn's flat weights.
    pub fn new(
        irreps_in1: &Irreps,
        irreps_in2: &Irreps,
        irreps_out: &Irreps,
        weights: &[f64],
        w3j: &W3jTable,
        device: &B::Device,
        float: FloatType,
    ) -> Result<Self, PotentialError> {
        let instructions = Self::instructions(irreps_in1, irreps_in2, irreps_out);
        let paths = Paths::new(
            irreps_in1,
            irreps_in2,
            irreps_out,
            &instructions,
            w3j,
            device,
            float,
        )?;
        let mut offset = 0;
        let mut blocks = Vec::new();
        for i in &instructions {
            let (m1, m2, mo) = (
                irreps_in1.0[i.input1].mul,
                irreps_in2.0[i.input2].mul,
                irreps_out.0[i.output].mul,
            );
            let size = m1 * m2 * mo;
            let block = weights.get(offset..offset + size).ok_or_else(|| {
                PotentialError::Invalid(format!("FullyConnectedTensorProduct {irreps_in1} ⊗ {irreps_in2} → {irreps_out}: too few weights ({})", weights.len()))
            })?;
            blocks.push(tensor(block, [m1 * m2, mo], device, float));
            offset += size;
        }
        if offset != weights.len() {
            return Err(PotentialError::Invalid(format!(
                "FullyConnectedTensorProduct {irreps_in1} ⊗ {irreps_in2} → {irreps_out} needs {offset} weights, got {}",
                weights.len()
            )));
        }
        Ok(Self {
            paths,
            weights: blocks,
        })
    }

    /// `x1 [N, dim1]`, `x2 [N, dim2]` → `[N, dim_out]`.
    pub fn forward(&self, x1: Tensor<B, 2>, x2: Tensor<B, 2>) -> Tensor<B, 2> {
        let [n, _] = x1.dims();
        let mut outputs = vec![None; self.paths.irreps_out.len()];
        for (path, weight) in self.paths.paths.iter().zip(&self.weights) {
            let z = self.paths.couple(path, &x1, &x2);
            let [_, mul1, mul2, d3] = z.dims();
            let [_, mul_out] = weight.dims();
            let out = z
                .permute([0, 3, 1, 2])
                .reshape([n * d3, mul1 * mul2])
                .matmul(weight.clone())
                .reshape([n, d3, mul_out])
                .swap_dims(1, 2)
                .reshape([n, mul_out * d3]);
            accumulate(&mut outputs[path.instruction.output], out);
        }
        self.paths.assemble(n, outputs, &x1)
    }
}

/// The element-wise tensor product (mode "uuu"): `out_{u,k} = pw Σ_ij C_ijk x1_{ui} x2_{uj}` for
/// blocks of equal multiplicity paired in order; every coupled irrep is an output.
#[derive(Debug, Clone)]
pub struct ElementwiseTensorProduct<B: Backend> {
    paths: Paths<B>,
}

impl<B: Backend> ElementwiseTensorProduct<B> {
    /// Pairs block k of `irreps_in1` with block k of `irreps_in2` (equal multiplicities); with
    /// `filter`, keeps only those output irreps. pw = √(2l+1).
    pub fn new(
        irreps_in1: &Irreps,
        irreps_in2: &Irreps,
        filter: Option<&[Irrep]>,
        w3j: &W3jTable,
        device: &B::Device,
        float: FloatType,
    ) -> Result<Self, PotentialError> {
        if irreps_in1.len() != irreps_in2.len()
            || irreps_in1
                .0
                .iter()
                .zip(&irreps_in2.0)
                .any(|(a, b)| a.mul != b.mul)
        {
            return Err(PotentialError::Invalid(format!(
                "ElementwiseTensorProduct needs blocks of equal multiplicity: {irreps_in1} and {irreps_in2}"
            )));
        }
        let mut outputs = Vec::new();
        let mut instructions = Vec::new();
        for (k, (a, b)) in irreps_in1.0.iter().zip(&irreps_in2.0).enumerate() {
            for l in a.ir.l.abs_diff(b.ir.l)..=a.ir.l + b.ir.l {
                let ir = Irrep::new(l, a.ir.p * b.ir.p);
                if filter.is_none_or(|f| f.contains(&ir)) {
                    instructions.push(Instruction {
                        input1: k,
                        input2: k,
                        output: outputs.len(),
                        path_weight: ((2 * l + 1) as f64).sqrt(),
                    });
                    outputs.push(MulIrrep { mul: a.mul, ir });
                }
            }
        }
        let paths = Paths::new(
            irreps_in1,
            irreps_in2,
            &Irreps(outputs),
            &instructions,
            w3j,
            device,
            float,
        )?;
        Ok(Self { paths })
    }

    /// Output irreps.
    pub fn irreps_out(&self) -> &Irreps {
        &self.paths.irreps_out
    }

    /// `x1 [N, dim1]`, `x2 [N, dim2]` → `[N, dim_out]`.
    pub fn forward(&self, x1: Tensor<B, 2>, x2: Tensor<B, 2>) -> Tensor<B, 2> {
        let [n, _] = x1.dims();
        let mut outputs = vec![None; self.paths.irreps_out.len()];
        for path in &self.paths.paths {
            let i = path.instruction;
            let (a, b) = (
                self.paths.irreps_in1.0[i.input1],
                self.paths.irreps_in2.0[i.input2],
            );
            // Channels become rows: [N · mul, d], one channel each.
            let rows1 = x1
                .clone()
                .narrow(1, path.offsets[0], a.dim())
                .reshape([n * a.mul, a.ir.dim()]);
            let rows2 = x2
                .clone()
                .narrow(1, path.offsets[1], b.dim())
                .reshape([n * b.mul, b.ir.dim()]);
            let d3 = self.paths.irreps_out.0[i.output].ir.dim();
            let z = couple_blocks(rows1, rows2, [1, 1], d3, &path.w3j);
            accumulate(&mut outputs[i.output], z.reshape([n, a.mul * d3]));
        }
        self.paths.assemble(n, outputs, &x1)
    }
}
