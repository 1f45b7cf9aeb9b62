//! The MACE network: embeddings, interaction/product layers, readouts, scale/shift and E0s.

use super::blocks::{load_linear, parse_irreps, EdgeFeatures, Interaction, Product, Readout};
use super::radial::{EdgeSpecies, RadialEmbedding, ZblRepulsion};
use super::ModelFile;
use crate::equivariant::tensor::{tensor, FloatType};
use crate::equivariant::{
    Irreps, Linear, Normalization, SphericalHarmonics, W3jConvention, W3jTable,
};
use crate::PotentialError;
use burn::tensor::{backend::Backend, Int, Tensor};

/// The graph a MACE evaluation consumes, on the device.
#[derive(Debug, Clone)]
pub struct MaceGraph<B: Backend> {
    /// `[E, 3]` edge vectors `x[receiver] − x[sender] + shift`.
    pub vectors: Tensor<B, 2>,
    /// `[E]` senders.
    pub senders: Tensor<B, 1, Int>,
    /// `[E]` receivers.
    pub receivers: Tensor<B, 1, Int>,
    /// Atomic numbers of each edge's (sender, receiver).
    pub edge_species: Vec<(u8, u8)>,
    /// Per node, the index of its element in the model's `atomic_numbers`.
    pub elements: Vec<u32>,
}

/// What every MACE evaluation path reads from a file besides the blocks, checked.
#[derive(Debug, Clone)]
pub struct Header {
    /// The Wigner-3j blocks in the file's convention.
    pub w3j: W3jTable,
    /// Irreps of the edge spherical harmonics (0..l_max).
    pub sh_irreps: Irreps,
    /// The one-hot node attributes, `n_elements x 0e`.
    pub node_attrs: Irreps,
    /// Output irreps of the node embedding.
    pub embedding_irreps: Irreps,
    /// ScaleShiftMACE's (scale, shift).
    pub scale_shift: Option<(f64, f64)>,
}

impl Header {
    /// Checks the model class and layer counts and reads the shared settings.
    pub fn read(file: &ModelFile) -> Result<Self, PotentialError> {
        let config = &file.config;
        if !matches!(config.model_class.as_str(), "MACE" | "ScaleShiftMACE") {
            return Err(file.error(format!("unsupported model class '{}'", config.model_class)));
        }
        let n_elements = config.atomic_numbers.len();
        if config.atomic_energies.len() != n_elements {
            return Err(file.error(format!(
                "{} atomic energies for {n_elements} elements",
                config.atomic_energies.len()
            )));
        }
        let layers = config.interactions.len();
        if layers == 0 || config.products.len() != layers || config.readouts.len() != layers {
            return Err(file.error(format!(
                "{layers} interactions, {} products and {} readouts: expected as many of each",
                config.products.len(),
                config.readouts.len()
            )));
        }
        if !(config.r_max.is_finite() && config.r_max > 0.0) {
            return Err(file.error(format!("r_max = {} Å: must be positive", config.r_max)));
        }
        if let Some(bad) = config
            .interactions
            .iter()
            .position(|i| !(i.avg_num_neighbors.is_finite() && i.avg_num_neighbors > 0.0))
        {
            return Err(file.error(format!(
                "interactions.{bad}.avg_num_neighbors = {}: must be positive",
                config.interactions[bad].avg_num_neighbors
            )));
        }
        let w3j = W3jTable::new(match config.w3j_convention.as_str() {
            "e3nn-0.4" => W3jConvention::E3nn04,
            "e3nn-0.5" => W3jConvention::E3nn06,
            other => return Err(file.error(format!("unknown Wigner-3j convention '{other}'"))),
        });
        let sh_irreps = parse_irreps(file, &config.sh_irreps, "sh_irreps")?;
        if sh_irreps.to_string() != Irreps::spherical_harmonics(sh_irreps.lmax()).to_string() {
            return Err(file.error(format!("sh_irreps {sh_irreps} are not 0..l_max harmonics")));
        }
        let scale_shift = match (config.model_class.as_str(), config.scale, config.shift) {
            ("ScaleShiftMACE", Some(scale), Some(shift)) => Some((scale, shift)),
            ("ScaleShiftMACE", _, _) => {
                return Err(file.error("ScaleShiftMACE without scale and shift"))
            }
            _ => None,
        };
        Ok(Self {
            w3j,
            node_attrs: Irreps::parse(&format!("{n_elements}x0e")).expect("valid irreps"),
            embedding_irreps: parse_irreps(
                file,
                &config.node_embedding_irreps,
                "node_embedding_irreps",
            )?,
            sh_irreps,
            scale_shift,
        })
    }
}

/// `MACE` / `ScaleShiftMACE` with mace-torch's module names.
#[derive(Debug, Clone)]
pub struct MaceModel<B: Backend> {
    atomic_numbers: Vec<u8>,
    atomic_energies: Vec<f64>,
    r_max: f64,
    spherical_harmonics: SphericalHarmonics<B>,
    radial_embedding: RadialEmbedding<B>,
    pair_repulsion_fn: Option<ZblRepulsion>,
    node_embedding: Linear<B>,
    interactions: Vec<Interaction<B>>,
    products: Vec<Product<B>>,
    readouts: Vec<Readout<B>>,
    scale_shift: Option<(f64, f64)>,
    float: FloatType,
}

impl<B: Backend> MaceModel<B> {
    /// Builds the model of `file` on `device` in `float` precision.
    pub fn load(
        file: &ModelFile,
        device: &B::Device,
        float: FloatType,
    ) -> Result<Self, PotentialError> {
        let config = &file.config;
        let Header {
            w3j,
            sh_irreps,
            node_attrs,
            embedding_irreps,
            scale_shift,
        } = Header::read(file)?;
        let n_elements = config.atomic_numbers.len();
        let interactions = config
            .interactions
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Interaction::load(file, i, c, &sh_irreps, &node_attrs, &w3j, device, float)
            })
            .collect::<Result<_, _>>()?;
        let products = config
            .products
            .iter()
            .enumerate()
            .map(|(i, c)| Product::load(file, i, c, n_elements, device, float))
            .collect::<Result<_, _>>()?;
        let readouts = config
            .readouts
            .iter()
            .enumerate()
            .map(|(i, c)| Readout::load(file, i, c, device, float))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            atomic_numbers: config.atomic_numbers.clone(),
            atomic_energies: config.atomic_energies.clone(),
            r_max: config.r_max,
            spherical_harmonics: SphericalHarmonics::new(
                sh_irreps.lmax(),
                Normalization::Component,
                device,
                float,
            ),
            radial_embedding: RadialEmbedding::load(file, device, float)?,
            pair_repulsion_fn: ZblRepulsion::load(file)?,
            node_embedding: load_linear(
                file,
                "node_embedding.linear",
                &node_attrs,
                &embedding_irreps,
                device,
                float,
            )?,
            interactions,
            products,
            readouts,
            scale_shift,
            float,
        })
    }

    /// Cutoff radius, Å.
    pub fn r_max(&self) -> f64 {
        self.r_max
    }

    /// The elements the model knows, in one-hot order.
    pub fn atomic_numbers(&self) -> &[u8] {
        &self.atomic_numbers
    }

    /// Per-atom energies `[N]`, eV: E0 + scale · (pair repulsion + Σ readouts) + shift.
    pub fn forward(&self, graph: &MaceGraph<B>) -> Tensor<B, 1> {
        let device = graph.vectors.device();
        let n = graph.elements.len();
        let n_elements = self.atomic_numbers.len();
        let mut one_hot = vec![0.0; n * n_elements];
        for (node, &e) in graph.elements.iter().enumerate() {
            one_hot[node * n_elements + e as usize] = 1.0;
        }
        let node_attrs = tensor::<B, 2>(&one_hot, [n, n_elements], &device, self.float);
        let e0: Vec<f64> = graph
            .elements
            .iter()
            .map(|&e| self.atomic_energies[e as usize])
            .collect();
        let e0 = tensor::<B, 1>(&e0, [n], &device, self.float);

        let n_edges = graph.edge_species.len();
        let (edges, pair) = if n_edges == 0 {
            (None, None)
        } else {
            let lengths = (graph.vectors.clone() * graph.vectors.clone())
                .sum_dim(1)
                .sqrt();
            let species: &EdgeSpecies = &graph.edge_species;
            let pair = self.pair_repulsion_fn.as_ref().map(|zbl| {
                zbl.forward(
                    lengths.clone(),
                    species,
                    graph.receivers.clone(),
                    n,
                    self.float,
                )
            });
            let edges = EdgeFeatures {
                harmonics: self.spherical_harmonics.forward(graph.vectors.clone()),
                radial: self.radial_embedding.forward(lengths, species, self.float),
                senders: graph.senders.clone(),
                receivers: graph.receivers.clone(),
            };
            (Some(edges), pair)
        };

        let mut node_feats = self.node_embedding.forward(node_attrs.clone());
        let mut interaction_energy = pair;
        for ((interaction, product), readout) in self
            .interactions
            .iter()
            .zip(&self.products)
            .zip(&self.readouts)
        {
            let (message, sc) = interaction.forward(node_feats, node_attrs.clone(), edges.as_ref());
            node_feats = product.forward(message, &graph.elements, sc);
            let energy = readout.forward(node_feats.clone()).reshape([n]);
            interaction_energy = Some(match interaction_energy {
                Some(total) => total + energy,
                None => energy,
            });
        }
        let interaction_energy = interaction_energy.expect("at least one layer");
        let interaction_energy = match self.scale_shift {
            Some((scale, shift)) => interaction_energy.mul_scalar(scale).add_scalar(shift),
            None => interaction_energy,
        };
        e0 + interaction_energy
    }
}
