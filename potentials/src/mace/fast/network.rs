//! The MACE network of the fast path: blocks loaded from a model file into host layouts, the
//! forward pass over nodes and edges, and its hand-written backward pass.

use super::contraction::Contraction;
use super::readout::ReadoutMap;
use crate::equivariant::Irreps;
use crate::fast::convolution::Convolution;
use crate::fast::linear::LinearMap;
use crate::fast::mlp::RadialMlp;
use crate::fast::skip::ElementLinear;
use crate::fast::{EdgeStage, Real};
use crate::mace::blocks::{load_contraction, radial_mlp_layers, InteractionIrreps, ReadoutShape};
use crate::mace::model::Header;
use crate::mace::ModelFile;
use crate::PotentialError;

/// One interaction, its product and its readout.
#[derive(Debug, Clone)]
pub struct Layer<T> {
    /// Skip connection taken from the node features (residual) or applied to the message.
    pub residual: bool,
    /// Whether the product adds the skip connection.
    pub use_sc: bool,
    /// `skip_tp`.
    pub skip: ElementLinear<T>,
    /// `linear_up`.
    pub linear_up: LinearMap<T>,
    /// `linear`, followed by division by avg_num_neighbors.
    pub linear: LinearMap<T>,
    /// 1 / avg_num_neighbors.
    pub inverse_avg: T,
    /// `products.i.symmetric_contractions`.
    pub contraction: Contraction<T>,
    /// `products.i.linear`.
    pub product_linear: LinearMap<T>,
    /// `readouts.i`.
    pub readout: ReadoutMap<T>,
}

/// A whole MACE model in the fast path's layouts.
#[derive(Debug, Clone)]
pub struct Network<T> {
    /// Atomic numbers in one-hot order.
    pub atomic_numbers: Vec<u8>,
    /// E0 per element, eV.
    pub atomic_energies: Vec<f64>,
    /// `node_embedding.linear` (one-hot → scalars).
    pub embedding: LinearMap<T>,
    /// The layers' node work.
    pub layers: Vec<Layer<T>>,
    /// The layers' edge work: `conv_tp_weights` and `conv_tp`.
    pub edge: Vec<EdgeStage<T>>,
    /// ScaleShiftMACE's (scale, shift).
    pub scale_shift: Option<(f64, f64)>,
}

impl<T: Real> Network<T> {
    /// Builds the network of a model file, with the shared settings `header`.
    pub fn load(file: &ModelFile, header: &Header) -> Result<Self, PotentialError> {
        let config = &file.config;
        let linear = |name: &str, a: &Irreps, b: &Irreps| {
            LinearMap::new(a, b, file.values(&format!("{name}.weight"))?)
                .map_err(|e| file.error(format!("{name}: {e}")))
        };
        let n_elements = config.atomic_numbers.len();
        let mut layers = Vec::new();
        let mut edge = Vec::new();
        for (index, c) in config.interactions.iter().enumerate() {
            let name = format!("interactions.{index}");
            let irreps = InteractionIrreps::read(file, index, c, &header.sh_irreps)?;
            let conv = Convolution::new(
                &irreps.up,
                &header.sh_irreps,
                &irreps.mid,
                &irreps.instructions,
                &header.w3j,
            )
            .map_err(|e| file.error(format!("{name}.conv_tp: {e}")))?;
            let mlp = RadialMlp::new(
                &radial_mlp_layers(file, index, c, conv.weight_numel)?,
                c.radial_mlp.activation_constant,
            );
            let skip = ElementLinear::new(
                irreps.skip_in(c.residual),
                &header.node_attrs,
                &irreps.skip_out,
                file.values(&format!("{name}.skip_tp.weight"))?,
                &header.w3j,
            )
            .map_err(|e| file.error(format!("{name}.skip_tp: {e}")))?;
            let product = &config.products[index];
            let (folded, contraction_out, features) =
                load_contraction(file, index, product, n_elements)?;
            let readout = ReadoutMap::load(
                file,
                &format!("readouts.{index}"),
                ReadoutShape::read(file, index, &config.readouts[index])?,
            )?;
            edge.push(EdgeStage { mlp, conv });
            layers.push(Layer {
                residual: c.residual,
                use_sc: product.use_sc,
                skip,
                linear_up: linear(&format!("{name}.linear_up"), &irreps.node_feats, &irreps.up)?,
                linear: linear(&format!("{name}.linear"), &irreps.mid, &irreps.target)?,
                inverse_avg: T::of(1.0 / c.avg_num_neighbors),
                contraction: Contraction::new(&folded),
                product_linear: linear(
                    &format!("products.{index}.linear"),
                    &contraction_out,
                    &features,
                )?,
                readout,
            });
        }
        Ok(Self {
            atomic_numbers: config.atomic_numbers.clone(),
            atomic_energies: config.atomic_energies.clone(),
            embedding: linear(
                "node_embedding.linear",
                &header.node_attrs,
                &header.embedding_irreps,
            )?,
            layers,
            edge,
            scale_shift: header.scale_shift,
        })
    }
}
