//! e3nn's `o3.Linear`: channel mixing within each irrep, with "element" path normalisation.

use super::irreps::Irreps;
use super::tensor::{tensor, FloatType};
use burn::tensor::{backend::Backend, Tensor};

/// One path of a [`Linear`]: input block → output block with its weight and normalisation.
#[derive(Debug, Clone)]
struct LinearPath<B: Backend> {
    input: usize,
    output: usize,
    /// `[mul_in, mul_out]`, already multiplied by the path weight.
    weight: Tensor<B, 2>,
}

/// `out[i_out]_{w,m} = Σ_{paths → i_out} α Σ_u W_{u,w} x[i_in]_{u,m}` with
/// `α = 1/√(Σ_{paths → i_out} mul_in)`. Paths are all pairs of blocks with the same irrep, input
/// block in the outer loop; the flat weight vector holds one `[mul_in, mul_out]` block per path
/// in that order (e3nn's layout). No biases.
#[derive(Debug, Clone)]
pub struct Linear<B: Backend> {
    irreps_in: Irreps,
    irreps_out: Irreps,
    paths: Vec<LinearPath<B>>,
}

impl<B: Backend> Linear<B> {
    /// Number of weights e3nn stores for these irreps.
    pub fn weight_numel(irreps_in: &Irreps, irreps_out: &Irreps) -> usize {
        path_list(irreps_in, irreps_out)
            .iter()
            .map(|&(i, o)| irreps_in.0[i].mul * irreps_out.0[o].mul)
            .sum::<usize>()
    }

    /// A linear map with e3nn's flat weight vector.
    pub fn new(
        irreps_in: &Irreps,
        irreps_out: &Irreps,
        weights: &[f64],
        device: &B::Device,
        float: FloatType,
    ) -> Result<Self, crate::PotentialError> {
        let paths = scaled_paths(irreps_in, irreps_out, weights)?
            .into_iter()
            .map(|p| LinearPath {
                input: p.input,
                output: p.output,
                weight: tensor(&p.weight, [p.mul_in, p.mul_out], device, float),
            })
            .collect();
        Ok(Self {
            irreps_in: irreps_in.clone(),
            irreps_out: irreps_out.clone(),
            paths,
        })
    }

    /// Input irreps.
    pub fn irreps_in(&self) -> &Irreps {
        &self.irreps_in
    }

    /// Output irreps.
    pub fn irreps_out(&self) -> &Irreps {
        &self.irreps_out
    }

    /// `[N, dim_in]` → `[N, dim_out]`.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let [n, _] = x.dims();
        let in_slices = self.irreps_in.slices();
        let mut outputs: Vec<Option<Tensor<B, 2>>> = vec![None; self.irreps_out.len()];
        for path in &self.paths {
            let (offset, width) = in_slices[path.input];
            let d = self.irreps_in.0[path.input].ir.dim();
            let (mul_in, mul_out) = (width / d, self.irreps_out.0[path.output].mul);
            let y = x
                .clone()
                .narrow(1, offset, width)
                .reshape([n, mul_in, d])
                .swap_dims(1, 2)
                .reshape([n * d, mul_in])
                .matmul(path.weight.clone())
                .reshape([n, d, mul_out])
                .swap_dims(1, 2)
                .reshape([n, mul_out * d]);
            let slot = &mut outputs[path.output];
            *slot = Some(match slot.take() {
                Some(sum) => sum + y,
                None => y,
            });
        }
        let blocks = outputs
            .into_iter()
            .zip(&self.irreps_out.0)
            .map(|(block, irrep)| {
                block.unwrap_or_else(|| Tensor::zeros([n, irrep.dim()], (&x.device(), x.dtype())))
            })
            .collect();
        Tensor::cat(blocks, 1)
    }
}

/// Pairs of (input block, output block) with the same irrep, input block in the outer loop.
fn path_list(irreps_in: &Irreps, irreps_out: &Irreps) -> Vec<(usize, usize)> {
    let mut paths = Vec::new();
    for (i, a) in irreps_in.0.iter().enumerate() {
        for (o, b) in irreps_out.0.iter().enumerate() {
            if a.ir == b.ir && a.mul > 0 && b.mul > 0 {
                paths.push((i, o));
            }
        }
    }
    paths
}

/// One path of an e3nn `Linear` on the host: its blocks and its weights `[mul_in, mul_out]`
/// (row-major), already multiplied by the normalisation α.
#[derive(Debug, Clone)]
pub struct ScaledPath {
    /// Input block.
    pub input: usize,
    /// Output block.
    pub output: usize,
    /// Multiplicity of the input block.
    pub mul_in: usize,
    /// Multiplicity of the output block.
    pub mul_out: usize,
    /// `[mul_in, mul_out]`, row-major, times α = 1/√(Σ_{paths → output} mul_in).
    pub weight: Vec<f64>,
}

/// The paths of an e3nn `Linear` from its flat weight vector, normalisation included.
pub fn scaled_paths(
    irreps_in: &Irreps,
    irreps_out: &Irreps,
    weights: &[f64],
) -> Result<Vec<ScaledPath>, crate::PotentialError> {
    let list = path_list(irreps_in, irreps_out);
    let expected: usize = list
        .iter()
        .map(|&(i, o)| irreps_in.0[i].mul * irreps_out.0[o].mul)
        .sum();
    if weights.len() != expected {
        return Err(crate::PotentialError::Invalid(format!(
            "Linear {irreps_in} -> {irreps_out} needs {expected} weights, got {}",
            weights.len()
        )));
    }
    let mut fan_in = vec![0usize; irreps_out.len()];
    for &(i, o) in &list {
        fan_in[o] += irreps_in.0[i].mul;
    }
    let mut offset = 0;
    Ok(list
        .iter()
        .map(|&(i, o)| {
            let (mul_in, mul_out) = (irreps_in.0[i].mul, irreps_out.0[o].mul);
            let alpha = 1.0 / (fan_in[o] as f64).sqrt();
            let weight = weights[offset..offset + mul_in * mul_out]
                .iter()
                .map(|w| w * alpha)
                .collect();
            offset += mul_in * mul_out;
            ScaledPath {
                input: i,
                output: o,
                mul_in,
                mul_out,
                weight,
            }
        })
        .collect())
}
