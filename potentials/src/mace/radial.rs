//! MACE's edge embeddings: the radial basis (with the optional Agnesi distance transform) and
//! the ZBL pair repulsion.

use super::ModelFile;
use crate::equivariant::tensor::{tensor, FloatType};
use crate::equivariant::{BesselBasis, PolynomialCutoff};
use crate::PotentialError;
use burn::tensor::{backend::Backend, IndexingUpdateOp, Int, Tensor};

/// Per-edge host data: the atomic numbers of each edge's sender and receiver.
pub type EdgeSpecies = [(u8, u8)];

/// A per-edge `[E, 1]` column computed on the host from the edge's two atomic numbers.
fn edge_column<B: Backend>(
    edges: &EdgeSpecies,
    value: impl Fn(u8, u8) -> f64,
    device: &B::Device,
    float: FloatType,
) -> Tensor<B, 2> {
    let values: Vec<f64> = edges.iter().map(|&(u, v)| value(u, v)).collect();
    tensor(&values, [edges.len(), 1], device, float)
}

/// Covalent radii indexed by atomic number (ASE's table, stored in the model).
fn covalent_radii(file: &ModelFile, name: &str) -> Result<Vec<f64>, PotentialError> {
    let radii = file.values(name)?.to_vec();
    if radii.len() < 119 {
        return Err(file.error(format!(
            "'{name}' has {} entries, expected 119",
            radii.len()
        )));
    }
    Ok(radii)
}

/// `radial_embedding.distance_transform` (AgnesiTransform): with x = r / r₀ and r₀ the mean
/// covalent radius of the pair, `r ↦ 1 / (1 + a x^q / (1 + x^(q−p)))`.
#[derive(Debug, Clone)]
pub struct AgnesiTransform {
    /// Exponent q.
    pub q: f64,
    /// Exponent p.
    pub p: f64,
    /// Prefactor a.
    pub a: f64,
    /// Covalent radii indexed by atomic number, Å.
    pub covalent_radii: Vec<f64>,
}

impl AgnesiTransform {
    /// 1/r₀ = 2 / (R_u + R_v) for atomic numbers u, v, 1/Å.
    pub fn inverse_r0(&self, u: u8, v: u8) -> f64 {
        2.0 / (self.covalent_radii[usize::from(u)] + self.covalent_radii[usize::from(v)])
    }
}

/// The radial embedding's parameters on the host: Bessel frequencies and prefactor, cutoff
/// envelope, optional distance transform.
#[derive(Debug, Clone)]
pub struct RadialParameters {
    /// Bessel frequencies w_n, 1/Å.
    pub frequencies: Vec<f64>,
    /// Bessel prefactor.
    pub prefactor: f64,
    /// The polynomial cutoff envelope.
    pub cutoff: PolynomialCutoff,
    /// The Agnesi transform, if the model has one.
    pub transform: Option<AgnesiTransform>,
}

impl RadialParameters {
    /// From the model file's `radial_embedding.*` tensors.
    pub fn load(file: &ModelFile) -> Result<Self, PotentialError> {
        let config = &file.config.radial;
        let frequencies = file
            .values("radial_embedding.bessel_fn.bessel_weights")?
            .to_vec();
        if frequencies.len() != config.num_bessel {
            return Err(file.error(format!(
                "radial_embedding.bessel_fn.bessel_weights has {} values, num_bessel is {}",
                frequencies.len(),
                config.num_bessel
            )));
        }
        let transform = match config.distance_transform.as_deref() {
            None => None,
            Some("Agnesi") => {
                let prefix = "radial_embedding.distance_transform";
                Some(AgnesiTransform {
                    q: file.scalar(&format!("{prefix}.q"))?,
                    p: file.scalar(&format!("{prefix}.p"))?,
                    a: file.scalar(&format!("{prefix}.a"))?,
                    covalent_radii: covalent_radii(file, &format!("{prefix}.covalent_radii"))?,
                })
            }
            Some(other) => {
                return Err(file.error(format!("unsupported distance transform '{other}'")))
            }
        };
        Ok(Self {
            frequencies,
            prefactor: file.scalar("radial_embedding.bessel_fn.prefactor")?,
            cutoff: PolynomialCutoff {
                r_max: file.config.r_max,
                p: f64::from(config.polynomial_p),
            },
            transform,
        })
    }
}

/// `radial_embedding`: `bessel(transform(r)) · cutoff(r)`, `[E, num_bessel]`.
#[derive(Debug, Clone)]
pub struct RadialEmbedding<B: Backend> {
    bessel: BesselBasis<B>,
    cutoff: PolynomialCutoff,
    transform: Option<AgnesiTransform>,
}

impl<B: Backend> RadialEmbedding<B> {
    /// From the model file's `radial_embedding.*` tensors.
    pub fn load(
        file: &ModelFile,
        device: &B::Device,
        float: FloatType,
    ) -> Result<Self, PotentialError> {
        let parameters = RadialParameters::load(file)?;
        Ok(Self {
            bessel: BesselBasis::from_parts(
                &parameters.frequencies,
                parameters.prefactor,
                device,
                float,
            ),
            cutoff: parameters.cutoff,
            transform: parameters.transform,
        })
    }

    /// `lengths [E, 1]` → `[E, num_bessel]`.
    pub fn forward(
        &self,
        lengths: Tensor<B, 2>,
        edges: &EdgeSpecies,
        float: FloatType,
    ) -> Tensor<B, 2> {
        let envelope = self.cutoff.forward(lengths.clone());
        let argument = match &self.transform {
            None => lengths,
            Some(t) => {
                let inverse_r0 =
                    edge_column::<B>(edges, |u, v| t.inverse_r0(u, v), &lengths.device(), float);
                let x = lengths * inverse_r0;
                let ratio = x.clone().powf_scalar(t.q).mul_scalar(t.a)
                    / x.powf_scalar(t.q - t.p).add_scalar(1.0);
                ratio.add_scalar(1.0).recip()
            }
        };
        self.bessel.forward(argument) * envelope
    }
}

/// The ZBL coefficients of φ(x) = Σ c_k exp(−b_k x): the b_k (the c_k are in the model).
const ZBL_EXPONENTS: [f64; 4] = [3.2, 0.9423, 0.4028, 0.2016];
/// e²/(4πε₀) in eV·Å as mace-torch writes it.
const ZBL_COULOMB: f64 = 14.3996;
/// The Bohr radius in Å as mace-torch writes it.
const ZBL_BOHR: f64 = 0.529;

/// `pair_repulsion_fn` (ZBLBasis): per edge `½ · 14.3996 Z_u Z_v / r · φ(r/a) · f_p(r / (R_u + R_v))`
/// summed at the receiver, with the screening length a = a₀ · 0.529 / (Z_u^α + Z_v^α).
#[derive(Debug, Clone)]
pub struct ZblRepulsion {
    coefficients: Vec<f64>,
    covalent_radii: Vec<f64>,
    p: f64,
    a_exp: f64,
    a_prefactor: f64,
}

/// The per-pair constants of [`ZblRepulsion`] for one (sender, receiver) element pair.
#[derive(Debug, Clone, Copy)]
pub struct ZblPair {
    /// ½ · 14.3996 · Z_u Z_v, eV·Å.
    pub charge: f64,
    /// 1/a, 1/Å.
    pub inverse_a: f64,
    /// 1/(R_u + R_v), 1/Å.
    pub inverse_r_max: f64,
}

impl ZblRepulsion {
    /// From the model file, if the model has pair repulsion.
    pub fn load(file: &ModelFile) -> Result<Option<Self>, PotentialError> {
        let Some(config) = &file.config.pair_repulsion else {
            return Ok(None);
        };
        if config.kind != "ZBL" {
            return Err(file.error(format!("unsupported pair repulsion '{}'", config.kind)));
        }
        let coefficients = file.values("pair_repulsion_fn.c")?.to_vec();
        if coefficients.len() != ZBL_EXPONENTS.len() {
            return Err(file.error("pair_repulsion_fn.c should hold 4 coefficients"));
        }
        Ok(Some(Self {
            coefficients,
            covalent_radii: covalent_radii(file, "pair_repulsion_fn.covalent_radii")?,
            p: f64::from(config.p),
            a_exp: config.a_exp,
            a_prefactor: config.a_prefactor,
        }))
    }

    /// The constants of the pair of atomic numbers (u, v).
    pub fn pair(&self, u: u8, v: u8) -> ZblPair {
        let (zu, zv) = (f64::from(u), f64::from(v));
        ZblPair {
            charge: 0.5 * ZBL_COULOMB * zu * zv,
            inverse_a: (zu.powf(self.a_exp) + zv.powf(self.a_exp)) / (self.a_prefactor * ZBL_BOHR),
            inverse_r_max: 1.0
                / (self.covalent_radii[usize::from(u)] + self.covalent_radii[usize::from(v)]),
        }
    }

    /// The coefficients c_k and exponents b_k of φ(x) = Σ c_k exp(−b_k x).
    pub fn screening(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.coefficients.iter().copied().zip(ZBL_EXPONENTS)
    }

    /// The exponent p of the envelope.
    pub fn envelope_p(&self) -> f64 {
        self.p
    }

    /// Per-atom repulsion `[N]` from `lengths [E, 1]`.
    pub fn forward<B: Backend>(
        &self,
        lengths: Tensor<B, 2>,
        edges: &EdgeSpecies,
        receivers: Tensor<B, 1, Int>,
        n_atoms: usize,
        float: FloatType,
    ) -> Tensor<B, 1> {
        let device = lengths.device();
        let column = |f: &dyn Fn(ZblPair) -> f64| {
            edge_column::<B>(edges, |u, v| f(self.pair(u, v)), &device, float)
        };
        let r_over_a = lengths.clone() * column(&|pair| pair.inverse_a);
        let phi = self
            .screening()
            .map(|(c, b)| r_over_a.clone().mul_scalar(-b).exp().mul_scalar(c))
            .reduce(|a, b| a + b)
            .expect("four terms");
        let envelope = PolynomialCutoff {
            r_max: 1.0,
            p: self.p,
        }
        .forward(lengths.clone() * column(&|pair| pair.inverse_r_max));
        let charges = column(&|pair| pair.charge);
        let per_edge = charges * lengths.recip() * phi * envelope;
        let n_edges = edges.len();
        Tensor::<B, 1>::zeros([n_atoms], (&device, float.dtype())).select_assign(
            0,
            receivers,
            per_edge.reshape([n_edges]),
            IndexingUpdateOp::Add,
        )
    }
}
