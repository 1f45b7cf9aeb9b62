//! The Allegro network (nequip-allegro 0.8) loaded from a model file.
//!
//! Per edge e from centre i to neighbour j (nequip's orientation: Y(r_j − r_i), so mlmd's
//! harmonics of r_i − r_j with the sign (−1)^l): Bessel basis b(r), the two-body embedding
//! `x₀ = MLP((center[t_i] ⊕ neighbor[t_j]) ⊙ L_b(b))`, tensor features
//! `V₀[u][m] = L_t(x₀)[u, l(m)] · Y_m` and, from `P(x₀) = s₀ ⊕ w`, per layer the environment
//! `Ω_i[u][m] = norm(t_i) Σ_{e ∈ i} w_e[u, l(m)] Y_e,m`, the channel-wise product
//! `V'[u][k] = Σ_ij W_u[i][j][k] V[u][i] Ω_i[u][j]` (W_u = Σ_p w[u, p] C_p, C_p the file's
//! Wigner-3j tables), and `s_{t+1} ⊕ w = latent_t(s₀ ⊕ … ⊕ s_t ⊕ V'[·][0])`. Edge energy
//! `ε_e = readout(s₀ ⊕ … ⊕ s_T)`, atom energy `shift + scale · edge_norm(t_i) Σ_{e ∈ i} ε_e`.
//! Every quantity of an edge depends only on the edges of its centre.

use super::config::{AllegroConfig, LayerConfig};
use super::AllegroFile;
use crate::equivariant::Irreps;
use crate::fast::mlp::RadialMlp;
use crate::fast::Real;
use crate::nequip::scalar_mlp;
use crate::PotentialError;

/// One Allegro layer: the channel-wise product and the latent MLP.
#[derive(Debug, Clone)]
pub struct Layer<T> {
    /// Width of the tensor features it reads (per channel).
    pub dim_in: usize,
    /// Width of the tensor features it writes (per channel).
    pub dim_out: usize,
    /// Per channel u: the non-zero `W_u[i][j][k]` as (i, j, k, value).
    pub coupling: Vec<Vec<(usize, usize, usize, T)>>,
    /// `allegro.latents.{k}`.
    pub latent: RadialMlp<T>,
}

/// A whole Allegro model.
#[derive(Debug, Clone)]
pub struct Network<T> {
    /// Scalar features per edge and layer (S).
    pub scalars: usize,
    /// Channels of the tensor track (C).
    pub channels: usize,
    /// Per harmonic component m: its degree l, the weight index within a channel.
    pub degree: Vec<usize>,
    /// Per harmonic component m: (−1)^l, from mlmd's edge orientation to nequip's.
    pub sign: Vec<T>,
    /// Per type: `center_embed` row.
    pub center: Vec<Vec<T>>,
    /// Per type: `neighbor_embed` row.
    pub neighbor: Vec<Vec<T>>,
    /// `radial_chemical_embed.type_embed.basis_linear`.
    pub basis: RadialMlp<T>,
    /// `scalar_embed_mlp`.
    pub embed: RadialMlp<T>,
    /// `tensor_embed.env_embed_linear`.
    pub tensor: RadialMlp<T>,
    /// `allegro.first_layer_env_embed_projection`.
    pub projection: RadialMlp<T>,
    /// The layers.
    pub layers: Vec<Layer<T>>,
    /// `edge_readout`.
    pub readout: RadialMlp<T>,
    /// Per type: 1/√avg_num_neighbors of the environment sum.
    pub env_norm: Vec<T>,
    /// Per type: the factor of the edge-energy sum, 1/√(2 avg_num_neighbors).
    pub edge_norm: Vec<f64>,
    /// Per type: (scale, shift eV) of the atom energy.
    pub scale_shift: Vec<(f64, f64)>,
}

/// The rows `[n, width]` of tensor `name`.
fn table<T: Real>(
    file: &AllegroFile,
    name: &str,
    n: usize,
    width: usize,
) -> Result<Vec<Vec<T>>, PotentialError> {
    let t = file.tensor(name)?;
    if t.shape != [n, width] {
        return Err(file.error(format!(
            "{name} has shape {:?}, expected [{n}, {width}]",
            t.shape
        )));
    }
    Ok(t.values
        .chunks(width)
        .map(|r| r.iter().map(|&v| T::of(v)).collect())
        .collect())
}

impl<T: Real> Network<T> {
    /// Builds the network of a model file.
    pub fn load(file: &AllegroFile) -> Result<Self, PotentialError> {
        let c: &AllegroConfig = &file.config;
        let n = c.atomic_numbers.len();
        let lengths = [
            c.env_norm.len(),
            c.edge_sum_norm.len(),
            c.per_type_scales.len(),
            c.per_type_shifts.len(),
        ];
        if lengths != [n; 4] {
            return Err(file.error(format!("{n} types, but per-type lists of {lengths:?}")));
        }
        let sh = Irreps::parse(&c.sh_irreps).map_err(|e| file.error(format!("sh_irreps: {e}")))?;
        let degree: Vec<usize> = (0..sh.dim()).map(|m| (m as f64).sqrt() as usize).collect();
        let (s, ch, nl) = (c.num_scalar_features, c.num_tensor_features, sh.len());
        let prefix = "model.func.radial_chemical_embed.type_embed";
        let half = file
            .tensor(&format!("{prefix}.center_embed.weight"))?
            .shape
            .get(1)
            .copied();
        let half = half.unwrap_or(0);
        let mlp = |layers, width| scalar_mlp::<T, AllegroConfig>(file, layers, width, None);
        let basis = mlp(&c.basis_linear, c.radial.num_bessel)?;
        let embed = mlp(&c.scalar_embed_mlp, 2 * half)?;
        let mut layers = Vec::new();
        let mut width = sh.dim();
        for (k, layer) in c.layers.iter().enumerate() {
            let loaded = load_layer(file, k, layer, (s, ch, sh.dim()))?;
            if loaded.dim_in != width {
                return Err(file.error(format!(
                    "allegro.tps.{k} reads {} components, the previous layer writes {width}",
                    loaded.dim_in
                )));
            }
            width = loaded.dim_out;
            layers.push(loaded);
        }
        Ok(Self {
            scalars: s,
            channels: ch,
            sign: degree
                .iter()
                .map(|l| T::of(if l % 2 == 1 { -1.0 } else { 1.0 }))
                .collect(),
            degree,
            center: table(file, &format!("{prefix}.center_embed.weight"), n, half)?,
            neighbor: table(file, &format!("{prefix}.neighbor_embed.weight"), n, half)?,
            basis,
            embed,
            tensor: mlp(&c.tensor_embed_linear, s)?,
            projection: mlp(&c.first_projection, s)?,
            readout: mlp(&c.readout, s * (c.layers.len() + 1))?,
            layers,
            env_norm: c.env_norm.iter().map(|&v| T::of(v)).collect(),
            edge_norm: c.edge_sum_norm.clone(),
            scale_shift: c
                .per_type_scales
                .iter()
                .zip(&c.per_type_shifts)
                .map(|(&a, &b)| (a, b))
                .collect(),
        })
        .and_then(|network| network.check_widths(file, nl))
    }

    /// Checks that the MLPs' widths chain as the forward pass needs.
    fn check_widths(self, file: &AllegroFile, blocks: usize) -> Result<Self, PotentialError> {
        let (s, weights) = (self.scalars, self.channels * blocks);
        let mut expected = vec![
            (
                "basis_linear",
                self.basis.width_out(),
                2 * self.center[0].len(),
            ),
            ("scalar_embed_mlp", self.embed.width_out(), s),
            ("tensor_embed", self.tensor.width_out(), weights),
            ("first projection", self.projection.width_out(), s + weights),
            ("edge_readout", self.readout.width_out(), 1),
        ];
        for (t, layer) in self.layers.iter().enumerate() {
            let last = t + 1 == self.layers.len();
            let out = s + if last { 0 } else { weights };
            expected.push(("latent", layer.latent.width_out(), out));
            expected.push((
                "latent input",
                layer.latent.width_in(),
                (t + 1) * s + self.channels,
            ));
        }
        match expected.iter().find(|(_, got, want)| got != want) {
            Some((name, got, want)) => {
                Err(file.error(format!("{name} has width {got}, the network needs {want}")))
            }
            None => Ok(self),
        }
    }
}

/// `allegro.tps.{k}` folded per channel with its weights, and `allegro.latents.{k}`.
fn load_layer<T: Real>(
    file: &AllegroFile,
    k: usize,
    config: &LayerConfig,
    (s, channels, dim_env): (usize, usize, usize),
) -> Result<Layer<T>, PotentialError> {
    let name = format!("model.func.allegro.tps.{k}");
    let dim = |text: &str| {
        Irreps::parse(text)
            .map(|i| i.dim())
            .map_err(|e| file.error(format!("{name}: {e}")))
    };
    let (d1, d2, d3) = (
        dim(&config.irreps_in1)?,
        dim(&config.irreps_in2)?,
        dim(&config.irreps_out)?,
    );
    if d2 != dim_env {
        return Err(file.error(format!(
            "{name}: environment of {d2} components, not {dim_env}"
        )));
    }
    let w3j = file.tensor(&format!("{name}.w3j"))?;
    let weights = file.tensor(&format!("{name}.weights"))?;
    let paths = weights.shape.get(1).copied().unwrap_or(0);
    let expected: Vec<usize> = if config.diagonal {
        vec![paths, d1, d3]
    } else {
        vec![paths, d1, d2, d3]
    };
    if weights.shape != [channels, paths] || w3j.shape != expected {
        return Err(file.error(format!(
            "{name}: weights {:?} and w3j {:?} do not fit {channels} channels and {:?}",
            weights.shape, w3j.shape, expected
        )));
    }
    let coupling = (0..channels)
        .map(|u| {
            let mut out = Vec::new();
            for i in 0..d1 {
                let js: Vec<usize> = if config.diagonal {
                    vec![i]
                } else {
                    (0..d2).collect()
                };
                for j in js {
                    for kk in 0..d3 {
                        let value: f64 = (0..paths)
                            .map(|p| {
                                let at = if config.diagonal {
                                    (p * d1 + i) * d3 + kk
                                } else {
                                    ((p * d1 + i) * d2 + j) * d3 + kk
                                };
                                weights.values[u * paths + p] * w3j.values[at]
                            })
                            .sum();
                        if value != 0.0 {
                            out.push((i, j, kk, T::of(value)));
                        }
                    }
                }
            }
            out
        })
        .collect();
    let latent = scalar_mlp::<T, _>(file, &config.latent, (k + 1) * s + channels, None)?;
    Ok(Layer {
        dim_in: d1,
        dim_out: d3,
        coupling,
        latent,
    })
}
