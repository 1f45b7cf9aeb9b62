//! e3nn's `Gate` on rows of node features (m-major), forward and backward:
//! `y = act_s(scalars) ⊕ (gated ⊙ act_g(gates))`, gate channel k multiplying the k-th gated
//! irrep (counted across the gated blocks), so `y[m][u] = x_gated[m][u] · act_g(x_gate[k₀ + u])`.

use super::config::{BlockActivation, GateConfig};
use crate::equivariant::Irreps;
use crate::fast::mlp::silu_and_slope;
use crate::fast::Real;

/// The activations a gate applies (each times its normalize2mom constant).
#[derive(Debug, Clone, Copy)]
enum Function {
    Silu,
    Tanh,
}

/// One scalar of the gate's input and its activation `c · f`.
#[derive(Debug, Clone, Copy)]
struct Scalar<T> {
    input: usize,
    function: Function,
    constant: T,
}

/// A gated block: input offset, multiplicity, 2l+1.
#[derive(Debug, Clone)]
struct Gated {
    offset: usize,
    mul: usize,
    d: usize,
}

/// The gate of one layer.
#[derive(Debug, Clone)]
pub struct Gate<T> {
    dim_in: usize,
    dim_out: usize,
    scalars: Vec<Scalar<T>>,
    gates: Vec<Scalar<T>>,
    gated: Vec<Gated>,
}

impl<T: Real> Gate<T> {
    /// From the exported configuration; `irreps_in` must have the dimension of the layer's
    /// `conv_out`.
    pub fn new(config: &GateConfig) -> Result<Self, String> {
        let irreps = Irreps::parse(&config.irreps_in).map_err(|e| e.to_string())?;
        let slices = irreps.slices();
        let block = |b: usize| {
            irreps
                .0
                .get(b)
                .map(|m| (slices[b].0, *m))
                .ok_or_else(|| format!("gate block {b} is not in {irreps}"))
        };
        // The extracted blocks in order, then the activations along them.
        let scalars_of = |blocks: &[usize], acts: &[BlockActivation], part: &str| {
            let mut inputs = Vec::new();
            for &b in blocks {
                let (offset, m) = block(b)?;
                inputs.extend(offset..offset + m.dim());
            }
            let mut out = Vec::new();
            for act in acts {
                let len = Irreps::parse(&act.irreps).map_err(|e| e.to_string())?.dim();
                let function = match act.function.as_str() {
                    "silu" => Function::Silu,
                    "tanh" => Function::Tanh,
                    other => return Err(format!("{part} activation '{other}' (silu or tanh)")),
                };
                for _ in 0..len {
                    let input = *inputs.get(out.len()).ok_or_else(|| {
                        format!("the {part} activations cover more than the {part} blocks")
                    })?;
                    out.push(Scalar {
                        input,
                        function,
                        constant: T::of(act.constant),
                    });
                }
            }
            if out.len() != inputs.len() {
                return Err(format!(
                    "the {part} activations do not cover the {part} blocks"
                ));
            }
            Ok(out)
        };
        let [scalar_blocks, gate_blocks, gated_blocks] = &config.extract;
        let scalars = scalars_of(scalar_blocks, &config.scalars, "scalar")?;
        let gates = scalars_of(gate_blocks, &config.gates, "gate")?;
        let gated = gated_blocks
            .iter()
            .map(|&b| {
                block(b).map(|(offset, m)| Gated {
                    offset,
                    mul: m.mul,
                    d: m.ir.dim(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let n_gates = gates.len();
        if n_gates != gated.iter().map(|g| g.mul).sum::<usize>() {
            return Err(format!(
                "{n_gates} gates for a different number of gated irreps"
            ));
        }
        let dim_out = scalars.len() + gated.iter().map(|g| g.mul * g.d).sum::<usize>();
        Ok(Self {
            dim_in: irreps.dim(),
            dim_out,
            scalars,
            gates,
            gated,
        })
    }

    /// Input width.
    pub fn dim_in(&self) -> usize {
        self.dim_in
    }

    /// Output width.
    pub fn dim_out(&self) -> usize {
        self.dim_out
    }

    /// `y [dim_out] = gate(x [dim_in])`; `gates` is scratch.
    pub fn forward(&self, x: &[T], y: &mut [T], gates: &mut Vec<T>) {
        for (y, s) in y.iter_mut().zip(&self.scalars) {
            *y = value_and_slope(s, x[s.input]).0;
        }
        gates.clear();
        gates.extend(self.gates.iter().map(|g| value_and_slope(g, x[g.input]).0));
        let (mut o, mut k) = (self.scalars.len(), 0);
        for b in &self.gated {
            for m in 0..b.d {
                let (src, dst) = (&x[b.offset + m * b.mul..][..b.mul], &mut y[o..o + b.mul]);
                for ((y, &x), &g) in dst.iter_mut().zip(src).zip(&gates[k..k + b.mul]) {
                    *y = x * g;
                }
                o += b.mul;
            }
            k += b.mul;
        }
    }

    /// `g_x [dim_in] = ∂(g_y · gate(x))/∂x` (overwritten); `scratch` holds the gates and their
    /// gradients.
    pub fn backward(&self, x: &[T], g_y: &[T], g_x: &mut [T], scratch: &mut Vec<T>) {
        g_x.fill(T::zero());
        for (&gy, s) in g_y.iter().zip(&self.scalars) {
            g_x[s.input] = gy * value_and_slope(s, x[s.input]).1;
        }
        let n_gates = self.gates.len();
        scratch.clear();
        scratch.resize(2 * n_gates, T::zero());
        let (gates, g_gates) = scratch.split_at_mut(n_gates);
        for (v, g) in gates.iter_mut().zip(&self.gates) {
            *v = value_and_slope(g, x[g.input]).0;
        }
        let (mut o, mut k) = (self.scalars.len(), 0);
        for b in &self.gated {
            for m in 0..b.d {
                let at = b.offset + m * b.mul;
                for u in 0..b.mul {
                    let gy = g_y[o + u];
                    g_x[at + u] = gy * gates[k + u];
                    g_gates[k + u] += gy * x[at + u];
                }
                o += b.mul;
            }
            k += b.mul;
        }
        for (&gg, g) in g_gates.iter().zip(&self.gates) {
            g_x[g.input] = gg * value_and_slope(g, x[g.input]).1;
        }
    }
}

/// `c · f(x)` and its derivative.
fn value_and_slope<T: Real>(s: &Scalar<T>, x: T) -> (T, T) {
    let (f, df) = match s.function {
        Function::Silu => silu_and_slope(x),
        Function::Tanh => {
            let t = x.tanh();
            (t, T::one() - t * t)
        }
    };
    (s.constant * f, s.constant * df)
}
