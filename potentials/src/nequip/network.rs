//! The NequIP network of the fast path: nequip's modules loaded from a model file into the
//! shared fast-path blocks.
//!
//! Per layer (`layer{k}_convnet`): `sc = FCTP(h, embedding)` (a per-type linear map, as the
//! embedding is fixed per type), `up = linear_1(h) · norm[type]`, the message
//! `A[i] = Σ_{j→i} TP(up[j], Y(r_j − r_i); MLP(R(r_ij)))` summed into the centre i,
//! `x = linear_2(A) + sc`, `h' = gate(x)` (+ h with resnet). Energy per atom:
//! `shift[t] + scale[t] · MLP_readout(h_last)`.
//!
//! mlmd's edges point from sender j to receiver i (`v = r_i − r_j`), nequip's from centre i to
//! neighbour j, so nequip sees `Y(−v̂) = (−1)^l Y(v̂)`: the sign of each odd-l harmonic path is
//! folded into the radial MLP's output columns of that path.

use super::config::{LayerConfig, LinearLayer, NequipConfig};
use super::gate::Gate;
use super::NequipFile;
use crate::equivariant::{ChannelwiseTensorProduct, Irreps, W3jConvention, W3jTable};
use crate::fast::convolution::Convolution;
use crate::fast::linear::LinearMap;
use crate::fast::mlp::RadialMlp;
use crate::fast::skip::ElementLinear;
use crate::fast::{EdgeStage, Real};
use crate::model_file::ModelFile;
use crate::PotentialError;

/// One convnet layer's node work.
#[derive(Debug, Clone)]
pub struct Layer<T> {
    /// `conv.linear_1`.
    pub linear_1: LinearMap<T>,
    /// Per type: 1/√avg_num_neighbors.
    pub norm: Vec<T>,
    /// `conv.linear_2` (from the tensor product's unsimplified irreps: the same map).
    pub linear_2: LinearMap<T>,
    /// `conv.sc`.
    pub sc: Option<ElementLinear<T>>,
    /// `equivariant_nonlin`.
    pub gate: Gate<T>,
    /// Whether the layer adds its input to its output.
    pub resnet: bool,
}

/// A whole NequIP model in the fast path's layouts.
#[derive(Debug, Clone)]
pub struct Network<T> {
    /// Per type: the embedding (initial features).
    pub embedding: Vec<Vec<T>>,
    /// The layers' node work.
    pub layers: Vec<Layer<T>>,
    /// The layers' edge work: `conv.edge_mlp` and `conv.tp_scatter`.
    pub edge: Vec<EdgeStage<T>>,
    /// `per_atom_energy_readout`.
    pub readout: RadialMlp<T>,
    /// Per type (scale, shift).
    pub scale_shift: Vec<(f64, f64)>,
}

/// Parses irreps of the file, naming the field.
fn irreps(file: &NequipFile, text: &str, field: &str) -> Result<Irreps, PotentialError> {
    Irreps::parse(text).map_err(|e| file.error(format!("{field}: {e}")))
}

/// A nequip `ScalarMLPFunction` as a [`RadialMlp`] (α·√h_in folded into the weights, plain
/// SiLU), the output columns multiplied by `signs` (one per column, or none).
pub(crate) fn scalar_mlp<T: Real, C>(
    file: &ModelFile<C>,
    layers: &[LinearLayer],
    width_in: usize,
    signs: Option<&[f64]>,
) -> Result<RadialMlp<T>, PotentialError> {
    let mut loaded = Vec::new();
    for (k, layer) in layers.iter().enumerate() {
        let t = file.tensor(&layer.weight)?;
        let [h_in, h_out] = t.shape[..] else {
            return Err(file.error(format!("{} should be a matrix", layer.weight)));
        };
        let expected_in = loaded.last().map_or(width_in, |&(_, _, o)| o);
        if h_in != expected_in {
            return Err(file.error(format!(
                "{}: {h_in} inputs, expected {expected_in}",
                layer.weight
            )));
        }
        let scale = layer.alpha * (h_in as f64).sqrt();
        let mut w: Vec<f64> = t.values.iter().map(|v| v * scale).collect();
        if let (Some(signs), true) = (signs, k + 1 == layers.len()) {
            if signs.len() != h_out {
                return Err(file.error(format!(
                    "{}: {h_out} outputs, the tensor product needs {}",
                    layer.weight,
                    signs.len()
                )));
            }
            w.chunks_mut(h_out)
                .for_each(|row| row.iter_mut().zip(signs).for_each(|(v, s)| *v *= s));
        }
        loaded.push((w, h_in, h_out));
    }
    if loaded.is_empty() {
        return Err(file.error("an MLP without layers"));
    }
    Ok(RadialMlp::new(&loaded, 1.0))
}

/// An empty bias tensor, or an error: mlmd's maps have no biases.
fn no_bias(file: &NequipFile, name: &str) -> Result<(), PotentialError> {
    match file.tensor(name) {
        Ok(t) if !t.values.is_empty() => {
            Err(file.error(format!("{name}: biases are not supported")))
        }
        _ => Ok(()),
    }
}

impl<T: Real> Network<T> {
    /// Builds the network of a model file.
    pub fn load(file: &NequipFile) -> Result<Self, PotentialError> {
        let c: &NequipConfig = &file.config;
        if c.w3j_convention != "e3nn-0.5" {
            return Err(file.error(format!(
                "unknown Wigner-3j convention '{}'",
                c.w3j_convention
            )));
        }
        let w3j = W3jTable::new(W3jConvention::E3nn06);
        let sh = irreps(file, &c.sh_irreps, "sh_irreps")?;
        let attrs = irreps(file, &c.embedding_irreps, "embedding_irreps")?;
        let n_types = c.atomic_numbers.len();
        let table = file.tensor("model.func.type_embed.embed_module.weight")?;
        if table.shape != [n_types, attrs.dim()] {
            return Err(file.error(format!(
                "type_embed.embed_module.weight has shape {:?}, expected [{n_types}, {}]",
                table.shape,
                attrs.dim()
            )));
        }
        let rows: Vec<Vec<f64>> = table
            .values
            .chunks(attrs.dim())
            .map(<[f64]>::to_vec)
            .collect();
        let mut layers = Vec::new();
        let mut edge = Vec::new();
        let mut width = attrs.dim();
        for layer in &c.layers {
            let (node, stage) = load_layer(file, layer, (&sh, &attrs, &rows), &w3j)?;
            if node.linear_1.dim_in() != width {
                return Err(file.error(format!(
                    "{}: takes {} features, the previous layer gives {width}",
                    layer.name,
                    node.linear_1.dim_in()
                )));
            }
            if node.resnet && node.gate.dim_out() != width {
                return Err(file.error(format!(
                    "{}: a resnet layer must keep its width ({width}), it gives {}",
                    layer.name,
                    node.gate.dim_out()
                )));
            }
            width = node.gate.dim_out();
            layers.push(node);
            edge.push(stage);
        }
        let readout = scalar_mlp(file, &c.readout, width, None)?;
        Ok(Self {
            embedding: rows
                .iter()
                .map(|r| r.iter().map(|&v| T::of(v)).collect())
                .collect(),
            layers,
            edge,
            readout,
            scale_shift: c
                .per_type_scales
                .iter()
                .zip(&c.per_type_shifts)
                .map(|(&a, &b)| (a, b))
                .collect(),
        })
    }
}

/// One layer: its node work and its edge work. `context` is (harmonics irreps, embedding
/// irreps, embedding rows per type).
fn load_layer<T: Real>(
    file: &NequipFile,
    layer: &LayerConfig,
    (sh, attrs, rows): (&Irreps, &Irreps, &[Vec<f64>]),
    w3j: &W3jTable,
) -> Result<(Layer<T>, EdgeStage<T>), PotentialError> {
    let name = format!("model.func.{}.conv", layer.name);
    let field = |f: &str| format!("{}.{f}", layer.name);
    let features = irreps(file, &layer.features_in, &field("features_in"))?;
    let conv_out = irreps(file, &layer.conv_out, &field("conv_out"))?;
    let (mid, instructions) =
        ChannelwiseTensorProduct::<burn::backend::Flex>::uvu_instructions(&features, sh, &conv_out);
    if mid.to_string() != irreps(file, &layer.tp_out, &field("tp_out"))?.to_string() {
        return Err(file.error(format!(
            "{name}.tp_scatter: the instruction rule gives {mid}, the file says {}",
            layer.tp_out
        )));
    }
    let conv = Convolution::new(&features, sh, &mid, &instructions, w3j)
        .map_err(|e| file.error(format!("{name}.tp_scatter: {e}")))?;
    let channels = conv.weight_numel / instructions.len().max(1);
    let signs: Vec<f64> = instructions
        .iter()
        .flat_map(|i| {
            let odd = sh.0[i.input2].ir.l % 2 == 1;
            std::iter::repeat_n(if odd { -1.0 } else { 1.0 }, channels)
        })
        .collect();
    let mlp = scalar_mlp(
        file,
        &layer.edge_mlp,
        file.config.radial.num_bessel,
        Some(&signs),
    )?;
    let linear = |map: &str, a: &Irreps, b: &Irreps| {
        no_bias(file, &format!("{name}.{map}.bias"))?;
        LinearMap::new(a, b, file.values(&format!("{name}.{map}.weight"))?)
            .map_err(|e| file.error(format!("{name}.{map}: {e}")))
    };
    let sc = if layer.use_sc {
        Some(
            ElementLinear::with_attributes(
                &features,
                attrs,
                &conv_out,
                file.values(&format!("{name}.sc.weight"))?,
                w3j,
                rows,
            )
            .map_err(|e| file.error(format!("{name}.sc: {e}")))?,
        )
    } else {
        None
    };
    let gate = Gate::new(&layer.gate)
        .map_err(|e| file.error(format!("model.func.{}.equivariant_nonlin: {e}", layer.name)))?;
    if gate.dim_in() != conv_out.dim() {
        return Err(file.error(format!(
            "{}: the gate takes {} features, linear_2 gives {}",
            layer.name,
            gate.dim_in(),
            conv_out.dim()
        )));
    }
    if layer.feature_norm.len() != rows.len() {
        return Err(file.error(format!(
            "{}: {} feature norms for {} types",
            layer.name,
            layer.feature_norm.len(),
            rows.len()
        )));
    }
    let node = Layer {
        linear_1: linear("linear_1", &features, &features)?,
        norm: layer.feature_norm.iter().map(|&v| T::of(v)).collect(),
        linear_2: linear("linear_2", &mid, &conv_out)?,
        sc,
        gate,
        resnet: layer.resnet,
    };
    Ok((node, EdgeStage { mlp, conv }))
}
