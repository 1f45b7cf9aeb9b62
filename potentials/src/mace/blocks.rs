//! MACE's interaction, product and readout blocks, loaded from a model file under mace-torch's
//! module names (`interactions.i`, `products.i`, `readouts.i`).

use super::config::{InteractionConfig, ProductConfig, ReadoutConfig};
use super::ModelFile;
use crate::equivariant::tensor::FloatType;
use crate::equivariant::{
    silu, ChannelwiseTensorProduct, ContractionIrrep, ContractionOrder, FoldedContraction,
    FullyConnectedTensorProduct, Instruction, Irreps, Linear, RadialMlp, SymmetricContraction,
    W3jTable,
};
use crate::PotentialError;
use burn::tensor::{backend::Backend, Int, Tensor};

/// Irreps from the metadata, or an error naming the field.
pub fn parse_irreps(file: &ModelFile, text: &str, field: &str) -> Result<Irreps, PotentialError> {
    Irreps::parse(text).map_err(|e| file.error(format!("{field}: {e}")))
}

/// An e3nn `Linear` from tensor `{name}.weight`.
pub fn load_linear<B: Backend>(
    file: &ModelFile,
    name: &str,
    irreps_in: &Irreps,
    irreps_out: &Irreps,
    device: &B::Device,
    float: FloatType,
) -> Result<Linear<B>, PotentialError> {
    Linear::new(
        irreps_in,
        irreps_out,
        file.values(&format!("{name}.weight"))?,
        device,
        float,
    )
    .map_err(|e| file.error(format!("{name}: {e}")))
}

/// The irreps of `interactions.{index}` and its convolution's instructions (MACE's rule,
/// checked against the file).
#[derive(Debug, Clone)]
pub struct InteractionIrreps {
    /// Incoming node features.
    pub node_feats: Irreps,
    /// Output of `linear_up`.
    pub up: Irreps,
    /// Output of `linear` (the block's target irreps).
    pub target: Irreps,
    /// Output of `skip_tp`.
    pub skip_out: Irreps,
    /// Output of `conv_tp`.
    pub mid: Irreps,
    /// `conv_tp`'s paths.
    pub instructions: Vec<Instruction>,
}

impl InteractionIrreps {
    /// Parses the irreps of `config` and derives the convolution's paths.
    pub fn read(
        file: &ModelFile,
        index: usize,
        config: &InteractionConfig,
        sh_irreps: &Irreps,
    ) -> Result<Self, PotentialError> {
        let name = format!("interactions.{index}");
        let irreps = |text: &str, field: &str| parse_irreps(file, text, &format!("{name}.{field}"));
        let up = irreps(&config.linear_up_irreps, "linear_up_irreps")?;
        let target = irreps(&config.linear_irreps, "linear_irreps")?;
        let (mid, instructions) =
            ChannelwiseTensorProduct::<burn::backend::Flex>::mace_instructions(
                &up, sh_irreps, &target,
            );
        if mid.to_string() != irreps(&config.conv_tp_irreps, "conv_tp_irreps")?.to_string() {
            return Err(file.error(format!(
                "{name}.conv_tp: MACE's instruction rule gives {mid}, the file says {}",
                config.conv_tp_irreps
            )));
        }
        Ok(Self {
            node_feats: irreps(&config.node_feats_irreps, "node_feats_irreps")?,
            up,
            target,
            skip_out: irreps(&config.skip_tp_irreps, "skip_tp_irreps")?,
            mid,
            instructions,
        })
    }

    /// The first input of `skip_tp`: the node features (residual) or the message.
    pub fn skip_in(&self, residual: bool) -> &Irreps {
        if residual {
            &self.node_feats
        } else {
            &self.target
        }
    }
}

/// The layers `(weights [h_in, h_out] row-major, h_in, h_out)` of `interactions.{index}`'s
/// radial MLP, checked to end in `weight_numel` outputs.
pub fn radial_mlp_layers(
    file: &ModelFile,
    index: usize,
    config: &InteractionConfig,
    weight_numel: usize,
) -> Result<Vec<(Vec<f64>, usize, usize)>, PotentialError> {
    let name = format!("interactions.{index}.conv_tp_weights");
    let layers = (0..config.radial_mlp.layers)
        .map(|k| {
            let key = format!("{name}.layer{k}.weight");
            let t = file.tensor(&key)?;
            match t.shape[..] {
                [h_in, h_out] => Ok((t.values.clone(), h_in, h_out)),
                _ => Err(file.error(format!("{key} should be a matrix, has shape {:?}", t.shape))),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let chained = layers.windows(2).all(|w| w[0].2 == w[1].1);
    let num_bessel = file.config.radial.num_bessel;
    if !chained
        || layers.first().map(|l| l.1) != Some(num_bessel)
        || layers.last().map(|l| l.2) != Some(weight_numel)
    {
        return Err(file.error(format!(
            "{name} does not map the {num_bessel} radial features to the {weight_numel} weights \
             conv_tp needs"
        )));
    }
    Ok(layers)
}

/// The graph data every interaction reads: edge harmonics and radial features, and the edges.
#[derive(Debug, Clone)]
pub struct EdgeFeatures<B: Backend> {
    /// `[E, sh dim]` spherical harmonics of the edge vectors.
    pub harmonics: Tensor<B, 2>,
    /// `[E, num_bessel]` radial embedding.
    pub radial: Tensor<B, 2>,
    /// `[E]` senders.
    pub senders: Tensor<B, 1, Int>,
    /// `[E]` receivers.
    pub receivers: Tensor<B, 1, Int>,
}

/// `RealAgnosticResidualInteractionBlock` (residual) or `RealAgnosticInteractionBlock`.
#[derive(Debug, Clone)]
pub struct Interaction<B: Backend> {
    residual: bool,
    linear_up: Linear<B>,
    conv_tp_weights: RadialMlp<B>,
    conv_tp: ChannelwiseTensorProduct<B>,
    linear: Linear<B>,
    skip_tp: FullyConnectedTensorProduct<B>,
    avg_num_neighbors: f64,
    /// Irreps of the message handed to the product block.
    message_irreps: Irreps,
}

impl<B: Backend> Interaction<B> {
    /// `interactions.{index}` of the file.
    #[allow(clippy::too_many_arguments)]
    pub fn load(
        file: &ModelFile,
        index: usize,
        config: &InteractionConfig,
        sh_irreps: &Irreps,
        node_attrs_irreps: &Irreps,
        w3j: &W3jTable,
        device: &B::Device,
        float: FloatType,
    ) -> Result<Self, PotentialError> {
        let name = format!("interactions.{index}");
        let irreps = InteractionIrreps::read(file, index, config, sh_irreps)?;
        let InteractionIrreps {
            node_feats,
            up,
            target,
            skip_out,
            mid,
            instructions,
        } = irreps.clone();
        let linear_up = load_linear(
            file,
            &format!("{name}.linear_up"),
            &node_feats,
            &up,
            device,
            float,
        )?;
        let conv_tp =
            ChannelwiseTensorProduct::new(&up, sh_irreps, &mid, &instructions, w3j, device, float)
                .map_err(|e| file.error(format!("{name}.conv_tp: {e}")))?;
        let layers = radial_mlp_layers(file, index, config, conv_tp.weight_numel())?;
        let conv_tp_weights = RadialMlp::new(
            &layers,
            config.radial_mlp.activation_constant,
            device,
            float,
        );
        let linear = load_linear(
            file,
            &format!("{name}.linear"),
            &mid,
            &target,
            device,
            float,
        )?;
        let skip_tp = FullyConnectedTensorProduct::new(
            irreps.skip_in(config.residual),
            node_attrs_irreps,
            &skip_out,
            file.values(&format!("{name}.skip_tp.weight"))?,
            w3j,
            device,
            float,
        )
        .map_err(|e| file.error(format!("{name}.skip_tp: {e}")))?;
        Ok(Self {
            residual: config.residual,
            linear_up,
            conv_tp_weights,
            conv_tp,
            linear,
            skip_tp,
            avg_num_neighbors: config.avg_num_neighbors,
            message_irreps: if config.residual { target } else { skip_out },
        })
    }

    /// Node features `[N, in]` → (message reshaped to `[N, C, Σ(2l+1)]`, skip connection of a
    /// residual block).
    pub fn forward(
        &self,
        node_feats: Tensor<B, 2>,
        node_attrs: Tensor<B, 2>,
        edges: Option<&EdgeFeatures<B>>,
    ) -> (Tensor<B, 3>, Option<Tensor<B, 2>>) {
        let [n, _] = node_feats.dims();
        let sc = self
            .residual
            .then(|| self.skip_tp.forward(node_feats.clone(), node_attrs.clone()));
        let up = self.linear_up.forward(node_feats);
        let summed = match edges {
            Some(edges) => self.conv_tp.convolve(
                up,
                edges.senders.clone(),
                edges.receivers.clone(),
                edges.harmonics.clone(),
                self.conv_tp_weights.forward(edges.radial.clone()),
            ),
            None => {
                let width = self.conv_tp.irreps_out().dim();
                Tensor::<B, 2>::zeros([n, width], (&up.device(), up.dtype()))
            }
        };
        let mut message = self
            .linear
            .forward(summed)
            // Not div_scalar: burn 0.21's backward of div_scalar uses an f32 reciprocal.
            .mul_scalar(1.0 / self.avg_num_neighbors);
        if !self.residual {
            message = self.skip_tp.forward(message, node_attrs);
        }
        (reshape_irreps(message, &self.message_irreps), sc)
    }
}

/// mace-torch's `reshape_irreps`: `[N, Σ mul (2l+1)]` (e3nn's mul-major layout, every block
/// of multiplicity C) → `[N, C, Σ (2l+1)]`.
fn reshape_irreps<B: Backend>(x: Tensor<B, 2>, irreps: &Irreps) -> Tensor<B, 3> {
    let [n, _] = x.dims();
    let blocks = irreps
        .0
        .iter()
        .zip(irreps.slices())
        .map(|(block, (start, len))| {
            x.clone()
                .narrow(1, start, len)
                .reshape([n, block.mul, block.ir.dim()])
        })
        .collect();
    Tensor::cat(blocks, 2)
}

/// `EquivariantProductBasisBlock`: symmetric contraction, linear, and the skip connection.
#[derive(Debug, Clone)]
pub struct Product<B: Backend> {
    contraction: SymmetricContraction<B>,
    linear: Linear<B>,
    use_sc: bool,
}

impl<B: Backend> Product<B> {
    /// `products.{index}` of the file.
    pub fn load(
        file: &ModelFile,
        index: usize,
        config: &ProductConfig,
        n_elements: usize,
        device: &B::Device,
        float: FloatType,
    ) -> Result<Self, PotentialError> {
        let name = format!("products.{index}");
        let (folded, irreps_out, features) = load_contraction(file, index, config, n_elements)?;
        let contraction = SymmetricContraction::from_folded(&folded, device, float);
        Ok(Self {
            contraction,
            linear: load_linear(
                file,
                &format!("{name}.linear"),
                &irreps_out,
                &features,
                device,
                float,
            )?,
            use_sc: config.use_sc,
        })
    }

    /// `[N, C, D]` message, each node's element index, skip connection → node features.
    pub fn forward(
        &self,
        message: Tensor<B, 3>,
        elements: &[u32],
        sc: Option<Tensor<B, 2>>,
    ) -> Tensor<B, 2> {
        let out = self
            .linear
            .forward(self.contraction.forward(message, elements));
        match sc {
            Some(sc) if self.use_sc => out + sc,
            _ => out,
        }
    }
}

/// The symmetric contraction of `products.{index}` folded per element, with its output irreps
/// and the output irreps of the product's `linear`.
pub fn load_contraction(
    file: &ModelFile,
    index: usize,
    config: &ProductConfig,
    n_elements: usize,
) -> Result<(FoldedContraction, Irreps, Irreps), PotentialError> {
    let name = format!("products.{index}");
    let irreps = |text: &str, field: &str| parse_irreps(file, text, &format!("{name}.{field}"));
    let irreps_in = irreps(&config.irreps_in, "irreps_in")?;
    let irreps_out = irreps(&config.irreps_out, "irreps_out")?;
    let features = irreps(&config.linear_irreps, "linear_irreps")?;
    let channels = irreps_in.0.first().map_or(0, |b| b.mul);
    if irreps_in.0.iter().any(|b| b.mul != channels)
        || irreps_out.0.iter().any(|b| b.mul != channels)
    {
        return Err(file.error(format!(
            "{name}: the symmetric contraction needs one multiplicity, got {irreps_in} -> \
             {irreps_out}"
        )));
    }
    if config.correlations.len() != irreps_out.len() {
        return Err(file.error(format!(
            "{name}: {} correlations for {} output irreps",
            config.correlations.len(),
            irreps_out.len()
        )));
    }
    let d: usize = irreps_in.0.iter().map(|b| b.ir.dim()).sum();
    let prefix = format!("{name}.symmetric_contractions");
    let contraction_irreps = irreps_out
        .0
        .iter()
        .zip(&config.correlations)
        .enumerate()
        .map(|(c, (block, &correlation))| {
            let prefix = format!("{prefix}.contractions.{c}");
            let orders = (1..=correlation)
                .map(|nu| {
                    // mace-torch: weights_max ↔ ν = correlation, weights.j ↔ ν = correlation − 1 − j.
                    let weights = if nu == correlation {
                        "weights_max".to_string()
                    } else {
                        format!("weights.{}", correlation - 1 - nu)
                    };
                    let u = file.tensor(&format!("{prefix}.U_matrix_{nu}"))?;
                    Ok(ContractionOrder {
                        nu,
                        u_shape: u.shape.clone(),
                        u: u.values.clone(),
                        weights: file.values(&format!("{prefix}.{weights}"))?.to_vec(),
                    })
                })
                .collect::<Result<Vec<_>, PotentialError>>()?;
            Ok(ContractionIrrep {
                m: block.ir.dim(),
                orders,
            })
        })
        .collect::<Result<Vec<_>, PotentialError>>()?;
    let folded = FoldedContraction::new(d, channels, n_elements, &contraction_irreps)
        .map_err(|e| file.error(format!("{prefix}: {e}")))?;
    Ok((folded, irreps_out, features))
}

/// The irreps of `readouts.{index}`: `linear` (in → 1x0e) or `linear_2(c · silu(linear_1))`
/// (in → scalar hidden → 1x0e).
#[derive(Debug, Clone)]
pub enum ReadoutShape {
    /// `LinearReadoutBlock`.
    Linear {
        /// Irreps of the node features it reads.
        irreps_in: Irreps,
    },
    /// `NonLinearReadoutBlock`.
    NonLinear {
        /// Irreps of the node features it reads.
        irreps_in: Irreps,
        /// Scalar hidden irreps.
        hidden: Irreps,
        /// normalize2mom constant c of the SiLU.
        constant: f64,
    },
}

impl ReadoutShape {
    /// Reads and checks `readouts.{index}`'s settings.
    pub fn read(
        file: &ModelFile,
        index: usize,
        config: &ReadoutConfig,
    ) -> Result<Self, PotentialError> {
        let name = format!("readouts.{index}");
        let irreps_in = parse_irreps(file, &config.irreps_in, &format!("{name}.irreps_in"))?;
        match config.class.as_str() {
            "linear" => Ok(Self::Linear { irreps_in }),
            "nonlinear" => {
                let missing = |field: &str| file.error(format!("{name}: no {field}"));
                let hidden = config
                    .hidden_irreps
                    .as_deref()
                    .ok_or_else(|| missing("hidden_irreps"))?;
                let hidden = parse_irreps(file, hidden, &format!("{name}.hidden_irreps"))?;
                if hidden.0.iter().any(|b| b.ir.l != 0 || b.ir.p != 1) {
                    return Err(file.error(format!(
                        "{name}: only scalar hidden irreps are supported, got {hidden}"
                    )));
                }
                Ok(Self::NonLinear {
                    irreps_in,
                    hidden,
                    constant: config
                        .activation_constant
                        .ok_or_else(|| missing("activation_constant"))?,
                })
            }
            other => Err(file.error(format!("{name}: unsupported readout class '{other}'"))),
        }
    }
}

/// `LinearReadoutBlock` or `NonLinearReadoutBlock`: node features → `[N, 1]` energies.
#[derive(Debug, Clone)]
pub enum Readout<B: Backend> {
    /// `linear`.
    Linear(Linear<B>),
    /// `linear_2(c · silu(linear_1(x)))`.
    NonLinear {
        /// `linear_1`.
        hidden: Linear<B>,
        /// normalize2mom constant c.
        constant: f64,
        /// `linear_2`.
        output: Linear<B>,
    },
}

impl<B: Backend> Readout<B> {
    /// `readouts.{index}` of the file.
    pub fn load(
        file: &ModelFile,
        index: usize,
        config: &ReadoutConfig,
        device: &B::Device,
        float: FloatType,
    ) -> Result<Self, PotentialError> {
        let name = format!("readouts.{index}");
        let scalar = Irreps::parse("1x0e").expect("valid irreps");
        let linear = |suffix: &str, irreps_in: &Irreps, irreps_out: &Irreps| {
            load_linear(
                file,
                &format!("{name}.{suffix}"),
                irreps_in,
                irreps_out,
                device,
                float,
            )
        };
        Ok(match ReadoutShape::read(file, index, config)? {
            ReadoutShape::Linear { irreps_in } => {
                Readout::Linear(linear("linear", &irreps_in, &scalar)?)
            }
            ReadoutShape::NonLinear {
                irreps_in,
                hidden,
                constant,
            } => Readout::NonLinear {
                hidden: linear("linear_1", &irreps_in, &hidden)?,
                constant,
                output: linear("linear_2", &hidden, &scalar)?,
            },
        })
    }

    /// Node features → `[N, 1]`.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        match self {
            Readout::Linear(linear) => linear.forward(x),
            Readout::NonLinear {
                hidden,
                constant,
                output,
            } => output.forward(silu(hidden.forward(x)).mul_scalar(*constant)),
        }
    }
}
