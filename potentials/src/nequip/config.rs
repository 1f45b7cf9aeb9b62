//! The hyperparameters `scripts/export_nequip.py` writes into a NequIP model file's metadata.

use crate::model_file::{Architecture, ModelConfig};
use serde::Deserialize;

/// The metadata layout this build reads (`format_version`).
pub const FORMAT_VERSION: u32 = 1;

/// Everything about a NequIP model that is not a tensor. Tensors keep nequip's state-dict names
/// (`model.func.layer0_convnet.conv.linear_1.weight`, …).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NequipConfig {
    /// Always `mlmd-nequip`.
    pub format: String,
    /// Always [`FORMAT_VERSION`].
    pub format_version: u32,
    /// `NequIPGNNModel`.
    pub model_class: String,
    /// `float32` or `float64`: the dtype the model was trained in.
    pub dtype: String,
    /// Versions of the Python packages the file was exported with.
    pub versions: std::collections::BTreeMap<String, String>,
    /// `e3nn-0.5`: the sign convention of the Wigner-3j blocks (e3nn ≥ 0.5).
    pub w3j_convention: String,
    /// nequip's type names, one per type, in type order.
    pub type_names: Vec<String>,
    /// The element of each type.
    pub atomic_numbers: Vec<u8>,
    /// Cutoff radius, Å.
    pub r_max: f64,
    /// Irreps of the edge spherical harmonics, e.g. `1x0e+1x1o+1x2e`.
    pub sh_irreps: String,
    /// Bessel radial basis.
    pub radial: RadialConfig,
    /// Irreps of the type embedding (scalars), also the node attributes of `sc`.
    pub embedding_irreps: String,
    /// The convnet layers, in order.
    pub layers: Vec<LayerConfig>,
    /// `per_atom_energy_readout.mlp_module`.
    pub readout: Vec<LinearLayer>,
    /// Per-type energy scales.
    pub per_type_scales: Vec<f64>,
    /// Per-type energy shifts, eV.
    pub per_type_shifts: Vec<f64>,
    /// nequip's ZBL pair term, added after the scales and shifts.
    pub zbl: Option<ZblConfig>,
}

/// `pair_potential` (nequip's ZBL).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZblConfig {
    /// Exponent p of its polynomial cutoff (argument r / r_max).
    pub polynomial_p: f64,
    /// Half of e²/(4πε₀) in the model's units (eV Å).
    pub energy_factor: f64,
}

impl ModelConfig for NequipConfig {
    const ARCHITECTURE: Architecture = Architecture::Nequip;
    const FORMAT_VERSION: u32 = FORMAT_VERSION;
    fn declared(&self) -> (&str, u32) {
        (&self.format, self.format_version)
    }
}

/// `bessel_encode` and `factor`: R_n(r) = prefactor · sin(ω_n r)/r · f_p(r/r_max), with
/// ω_n = π w_n / r_max from the tensor `model.func.bessel_encode.bessel_weights` (w_n).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RadialConfig {
    /// Number of Bessel functions.
    pub num_bessel: usize,
    /// Exponent p of the polynomial cutoff.
    pub polynomial_p: f64,
    /// `factor · r_max / π` (2/r_max for nequip's default factor 2π/r_max²).
    pub prefactor: f64,
}

/// `layer{k}_convnet`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerConfig {
    /// Module name, `layer{k}_convnet`.
    pub name: String,
    /// Irreps of the incoming node features (also of `linear_1`'s output).
    pub features_in: String,
    /// Output irreps of `linear_2` and `sc`: the gate's input, sorted and simplified.
    pub conv_out: String,
    /// Output irreps of the tensor product (sorted, not simplified).
    pub tp_out: String,
    /// Whether the block has the self-connection `sc`.
    pub use_sc: bool,
    /// Whether the layer adds its input to its output.
    pub resnet: bool,
    /// Per type of the sending node: the factor 1/√avg_num_neighbors applied to `linear_1`'s
    /// output.
    pub feature_norm: Vec<f64>,
    /// `conv.edge_mlp`.
    pub edge_mlp: Vec<LinearLayer>,
    /// `equivariant_nonlin`.
    pub gate: GateConfig,
}

/// A `ScalarLinearLayer` without bias: y = x · (W α), W `[in, out]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearLayer {
    /// The weight tensor's name.
    pub weight: String,
    /// α (a non-persistent buffer in nequip).
    pub alpha: f64,
}

/// e3nn's `Gate`: the blocks of `irreps_in` each part takes, and the activations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateConfig {
    /// The input blocks (e3nn's `Extract` input: sorted, not simplified).
    pub irreps_in: String,
    /// Blocks of `irreps_in` forming the scalars, the gates and the gated irreps.
    pub extract: [Vec<usize>; 3],
    /// Activation of each scalar block.
    pub scalars: Vec<BlockActivation>,
    /// Activation of each gate block.
    pub gates: Vec<BlockActivation>,
    /// Output irreps: activated scalars, then the gated irreps.
    pub irreps_out: String,
}

/// The activation of one block of scalars.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockActivation {
    /// The block, e.g. `8x0e`.
    pub irreps: String,
    /// `silu` or `tanh`.
    pub function: String,
    /// e3nn's normalize2mom constant.
    pub constant: f64,
}
