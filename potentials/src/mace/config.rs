//! The hyperparameters `scripts/export_mace.py` writes into a model file's metadata.

use crate::model_file::{Architecture, ModelConfig};
use serde::Deserialize;

/// The metadata layout this build reads (`format_version`).
pub const FORMAT_VERSION: u32 = 1;

impl ModelConfig for MaceConfig {
    const ARCHITECTURE: Architecture = Architecture::Mace;
    const FORMAT_VERSION: u32 = FORMAT_VERSION;
    fn declared(&self) -> (&str, u32) {
        (&self.format, self.format_version)
    }
}

/// Everything about a MACE model that is not a tensor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaceConfig {
    /// Always `mlmd-mace` ([`Architecture::Mace`]'s format).
    pub format: String,
    /// Always [`FORMAT_VERSION`].
    pub format_version: u32,
    /// `MACE` or `ScaleShiftMACE`.
    pub model_class: String,
    /// `float32` or `float64`: the dtype the model was trained in.
    pub dtype: String,
    /// Versions of the Python packages the file was exported with.
    pub versions: std::collections::BTreeMap<String, String>,
    /// `e3nn-0.4` or `e3nn-0.5`: the sign convention of the Wigner-3j blocks.
    pub w3j_convention: String,
    /// Atomic numbers, in the order of the one-hot node attributes.
    pub atomic_numbers: Vec<u8>,
    /// Isolated-atom energies E0, eV, one per element.
    pub atomic_energies: Vec<f64>,
    /// Cutoff radius, Å.
    pub r_max: f64,
    /// Irreps of the edge spherical harmonics, e.g. `1x0e+1x1o+1x2e+1x3o`.
    pub sh_irreps: String,
    /// Irreps of the node embedding (scalars).
    pub node_embedding_irreps: String,
    /// Radial embedding settings.
    pub radial: RadialConfig,
    /// ZBL pair repulsion, if the model has it.
    pub pair_repulsion: Option<PairRepulsionConfig>,
    /// One entry per interaction block.
    pub interactions: Vec<InteractionConfig>,
    /// One entry per product block.
    pub products: Vec<ProductConfig>,
    /// One entry per readout.
    pub readouts: Vec<ReadoutConfig>,
    /// ScaleShiftMACE's scale (absent for MACE).
    pub scale: Option<f64>,
    /// ScaleShiftMACE's shift, eV (absent for MACE).
    pub shift: Option<f64>,
}

/// `radial_embedding`: Bessel basis × polynomial cutoff, optionally on transformed distances.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RadialConfig {
    /// Number of Bessel functions.
    pub num_bessel: usize,
    /// Exponent p of the polynomial cutoff.
    pub polynomial_p: u32,
    /// `Agnesi` or none.
    pub distance_transform: Option<String>,
}

/// `pair_repulsion_fn`: ZBL screened nuclear repulsion.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairRepulsionConfig {
    /// Always `ZBL`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Exponent of the envelope that switches ZBL off at the sum of covalent radii.
    pub p: u32,
    /// Exponent in the screening length a = a_prefactor · 0.529 / (Z_u^a_exp + Z_v^a_exp).
    pub a_exp: f64,
    /// Prefactor of the screening length.
    pub a_prefactor: f64,
}

/// `interactions.i`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InteractionConfig {
    /// mace-torch's class name.
    pub class: String,
    /// Whether the skip connection is taken before the convolution (residual blocks) or applied
    /// to the message (the first block of some models).
    pub residual: bool,
    /// Irreps of the incoming node features.
    pub node_feats_irreps: String,
    /// Output irreps of `linear_up`.
    pub linear_up_irreps: String,
    /// Output irreps of `conv_tp` (unsimplified, in MACE's instruction order).
    pub conv_tp_irreps: String,
    /// Output irreps of `linear` (the block's target irreps).
    pub linear_irreps: String,
    /// Output irreps of `skip_tp`.
    pub skip_tp_irreps: String,
    /// Messages are divided by this.
    pub avg_num_neighbors: f64,
    /// The radial MLP `conv_tp_weights`.
    pub radial_mlp: MlpConfig,
}

/// An e3nn `FullyConnectedNet` without biases.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    /// Number of layers (`layer0` … `layer{n−1}` in the state dict).
    pub layers: usize,
    /// e3nn's normalize2mom constant of its SiLU.
    pub activation_constant: f64,
}

/// `products.i`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductConfig {
    /// Whether the interaction's skip connection is added after `linear`.
    pub use_sc: bool,
    /// Irreps of the contracted features (the interaction's target irreps).
    pub irreps_in: String,
    /// Output irreps of the symmetric contraction.
    pub irreps_out: String,
    /// Correlation order of each output irrep's contraction.
    pub correlations: Vec<usize>,
    /// Output irreps of `linear`: the node features of this layer.
    pub linear_irreps: String,
}

/// `readouts.i`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadoutConfig {
    /// `linear` (LinearReadoutBlock) or `nonlinear` (NonLinearReadoutBlock).
    pub class: String,
    /// Irreps of the node features it reads.
    pub irreps_in: String,
    /// Hidden irreps of a non-linear readout.
    pub hidden_irreps: Option<String>,
    /// normalize2mom constant of a non-linear readout's SiLU.
    pub activation_constant: Option<f64>,
}
