//! e3nn's `Gate`: activated scalars, and gated irreps multiplied by activated gate scalars.

use super::irreps::Irreps;
use burn::tensor::{backend::Backend, Tensor};

/// A scalar activation with its normalize2mom constant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// `cst · silu(x)`.
    Silu(f64),
    /// `cst · tanh(x)`.
    Tanh(f64),
}

impl Activation {
    /// Applies the activation element-wise.
    pub fn apply<B: Backend, const D: usize>(self, x: Tensor<B, D>) -> Tensor<B, D> {
        match self {
            Activation::Silu(c) => super::radial::silu(x).mul_scalar(c),
            Activation::Tanh(c) => x.tanh().mul_scalar(c),
        }
    }
}

/// Input = scalars ⊕ gates ⊕ gated (blocks in that order); output = act(scalars) ⊕
/// (gated ⊙ act(gates)), each gate scalar multiplying one gated irrep (e3nn's
/// `ElementwiseTensorProduct` with 0e gates, which is exactly this product).
#[derive(Debug, Clone)]
pub struct Gate {
    /// Scalar blocks and the activation of each.
    pub scalars: Vec<(Irreps, Activation)>,
    /// Gate scalars and the activation of each block.
    pub gates: Vec<(Irreps, Activation)>,
    /// The gated irreps; their multiplicity total equals the number of gates.
    pub gated: Irreps,
}

impl Gate {
    /// Input dimension.
    pub fn dim_in(&self) -> usize {
        self.scalars
            .iter()
            .chain(&self.gates)
            .map(|(i, _)| i.dim())
            .sum::<usize>()
            + self.gated.dim()
    }

    /// `[N, dim_in]` → `[N, dim_scalars + dim_gated]`.
    pub fn forward<B: Backend>(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let [n, _] = x.dims();
        let mut offset = 0;
        let mut outputs = Vec::new();
        for (irreps, activation) in &self.scalars {
            outputs.push(activation.apply(x.clone().narrow(1, offset, irreps.dim())));
            offset += irreps.dim();
        }
        let mut gate_values = Vec::new();
        for (irreps, activation) in &self.gates {
            gate_values.push(activation.apply(x.clone().narrow(1, offset, irreps.dim())));
            offset += irreps.dim();
        }
        let gates = Tensor::cat(gate_values, 1);
        let mut gate_offset = 0;
        for block in &self.gated.0 {
            let d = block.ir.dim();
            let values = x
                .clone()
                .narrow(1, offset, block.dim())
                .reshape([n, block.mul, d]);
            let g = gates
                .clone()
                .narrow(1, gate_offset, block.mul)
                .reshape([n, block.mul, 1]);
            outputs.push((values * g).reshape([n, block.dim()]));
            offset += block.dim();
            gate_offset += block.mul;
        }
        Tensor::cat(outputs, 1)
    }
}
