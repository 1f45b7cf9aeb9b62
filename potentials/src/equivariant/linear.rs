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
        Self::path_list(irreps_in, irreps_out)
            .iter()
            .map(|&(i, o)| irreps_in.0[i].mul * irreps_out.0[o].mul)
            .sum()
    }

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

    /// A linear map with e3nn's flat weight vector.
    pub fn new(
        irreps_in: &Irreps,
        irreps_out: &Irreps,
        weights: &[f64],
        device: &B::Device,
        float: FloatType,
    ) -> Result<Self, crate::PotentialError> {
        let list = Self::path_list(irreps_in, irreps_out);
        let expected = Self::weight_numel(irreps_in, irreps_out);
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
        let paths = list
            .iter()
            .map(|&(i, o)| {
                let (mul_in, mul_out) = (irreps_in.0[i].mul, irreps_out.0[o].mul);
                let alpha = 1.0 / (fan_in[o] as f64).sqrt();
                let block: Vec<f64> = weights[offset..offset + mul_in * mul_out]
                    .iter()
                    .map(|w| w * alpha)
                    .collect();
                offset += mul_in * mul_out;
                LinearPath {
                    input: i,
                    output: o,
                    weight: tensor(&block, [mul_in, mul_out], device, float),
                }
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
