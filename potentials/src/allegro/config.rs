//! The hyperparameters `scripts/export_nequip.py` writes into an Allegro model file's metadata.

use crate::model_file::{Architecture, ModelConfig};
use crate::nequip::{LinearLayer, RadialConfig};
use serde::Deserialize;

/// The metadata layout this build reads (`format_version`).
pub const FORMAT_VERSION: u32 = 1;

/// Everything about an Allegro model (nequip-allegro 0.8, `AllegroModel` with the two-body
/// Bessel embedding) that is not a tensor. Tensors keep nequip's state-dict names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllegroConfig {
    /// Always `mlmd-allegro`.
    pub format: String,
    /// Always [`FORMAT_VERSION`].
    pub format_version: u32,
    /// `AllegroModel`.
    pub model_class: String,
    /// `float32` or `float64`: the dtype the model was trained in.
    pub dtype: String,
    /// Versions of the Python packages the file was exported with.
    pub versions: std::collections::BTreeMap<String, String>,
    /// `e3nn-0.5` (the Wigner-3j blocks come with the file, in `tps.{k}.w3j`).
    pub w3j_convention: String,
    /// nequip's type names, in type order.
    pub type_names: Vec<String>,
    /// The element of each type.
    pub atomic_numbers: Vec<u8>,
    /// Cutoff radius, Å.
    pub r_max: f64,
    /// Irreps of the edge spherical harmonics, e.g. `1x0e+1x1o+1x2e`.
    pub sh_irreps: String,
    /// Bessel radial basis (`radial_chemical_embed.bessel_encode`).
    pub radial: RadialConfig,
    /// Scalar features per edge and layer.
    pub num_scalar_features: usize,
    /// Channels of the tensor track.
    pub num_tensor_features: usize,
    /// `radial_chemical_embed.type_embed.basis_linear`.
    pub basis_linear: Vec<LinearLayer>,
    /// `scalar_embed_mlp`.
    pub scalar_embed_mlp: Vec<LinearLayer>,
    /// `tensor_embed.env_embed_linear`.
    pub tensor_embed_linear: Vec<LinearLayer>,
    /// `allegro.first_layer_env_embed_projection`.
    pub first_projection: Vec<LinearLayer>,
    /// Per centre type: 1/√avg_num_neighbors applied to the environment sums.
    pub env_norm: Vec<f64>,
    /// The Allegro layers.
    pub layers: Vec<LayerConfig>,
    /// `edge_readout`.
    pub readout: Vec<LinearLayer>,
    /// Per centre type: the factor of the edge-energy sum (1/√(2 avg_num_neighbors)).
    pub edge_sum_norm: Vec<f64>,
    /// Per-type energy scales.
    pub per_type_scales: Vec<f64>,
    /// Per-type energy shifts, eV.
    pub per_type_shifts: Vec<f64>,
}

impl ModelConfig for AllegroConfig {
    const ARCHITECTURE: Architecture = Architecture::Allegro;
    const FORMAT_VERSION: u32 = FORMAT_VERSION;
    fn declared(&self) -> (&str, u32) {
        (&self.format, self.format_version)
    }
}

/// `allegro.tps.{k}` and `allegro.latents.{k}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerConfig {
    /// Irreps of the tensor features it reads (multiplicity 1 per channel).
    pub irreps_in1: String,
    /// Irreps of the environment.
    pub irreps_in2: String,
    /// Irreps of the tensor features it writes; the first is `0e`.
    pub irreps_out: String,
    /// Whether its Wigner-3j table is stored `[paths][i][k]` (only i = j couple).
    pub diagonal: bool,
    /// `allegro.latents.{k}`.
    pub latent: Vec<LinearLayer>,
}
