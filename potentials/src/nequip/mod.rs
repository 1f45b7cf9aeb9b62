//! NequIP models (nequip ≥ 0.7, `NequIPGNNModel`) exported by `scripts/export_nequip.py`, on the
//! fast path shared with MACE: node work on the CPU, edge work on the CPU or a GPU, hand-derived
//! gradients. Convention details (edge orientation, normalisations) are in `nequip/network.rs`.

mod config;
mod evaluate;
mod gate;
mod network;
mod zbl;

pub use config::{LinearLayer, NequipConfig, RadialConfig, FORMAT_VERSION};
pub(crate) use network::scalar_mlp;

use crate::equivariant::{Irreps, PolynomialCutoff};
use crate::fast::edges::{Edges, Harmonics, PairTerm};
use crate::fast::{EdgeStage, EdgeWork, FastModel, FastNetwork, Geometry, Real};
use crate::mace::radial::RadialParameters;
use crate::model_file::{ElementTable, ModelFile};
use crate::{Evaluation, PotentialError, Request};
use network::Network;
use std::path::Path;
use std::sync::Arc;

/// A NequIP model file.
pub type NequipFile = ModelFile<NequipConfig>;

/// A NequIP model as an mlmd [`Potential`](crate::Potential), computing in `T`.
pub type Nequip<T> = FastModel<Network<T>, T>;

impl<T: Real> FastNetwork<T> for Network<T> {
    const NAME: &'static str = "NequIP";

    fn read(path: &Path) -> Result<(Self, Geometry), PotentialError> {
        let file = NequipFile::read(path)?;
        let geometry = geometry(&file)?;
        Ok((Network::load(&file)?, geometry))
    }

    fn edge_stages(&self) -> &[EdgeStage<T>] {
        &self.edge
    }

    fn evaluate(
        &self,
        types: &[u32],
        edges: &Edges<T>,
        harmonics: &Harmonics,
        request: Request,
        work: &dyn EdgeWork<T>,
    ) -> Evaluation {
        Network::evaluate(self, types, edges, harmonics, request, work)
    }
}

/// The checked settings of a file and its edge geometry.
fn geometry(file: &NequipFile) -> Result<Geometry, PotentialError> {
    let c = &file.config;
    if c.model_class != "NequIPGNNModel" {
        return Err(file.error(format!("unsupported model class '{}'", c.model_class)));
    }
    let n = c.atomic_numbers.len();
    if [
        c.type_names.len(),
        c.per_type_scales.len(),
        c.per_type_shifts.len(),
    ] != [n; 3]
    {
        return Err(file.error(format!(
            "{n} types, but {} names, {} scales and {} shifts",
            c.type_names.len(),
            c.per_type_scales.len(),
            c.per_type_shifts.len()
        )));
    }
    let mut geometry = bessel_geometry(
        file,
        "model.func.bessel_encode.bessel_weights",
        (c.r_max, &c.radial, &c.sh_irreps),
        &c.atomic_numbers,
    )?;
    geometry.pair = c.zbl.as_ref().map(|z| {
        Arc::new(zbl::NequipZbl {
            factor: z.energy_factor,
            cutoff: PolynomialCutoff {
                r_max: c.r_max,
                p: z.polynomial_p,
            },
        }) as Arc<dyn PairTerm>
    });
    Ok(geometry)
}

/// The edge geometry of a nequip-framework model: harmonics of `sh_irreps` and
/// R_n(r) = prefactor · sin(ω_n r)/r · f_p(r/r_max) with ω_n = π w_n / r_max, w_n the tensor
/// `weights`; no pair term.
pub(crate) fn bessel_geometry<C>(
    file: &ModelFile<C>,
    weights: &str,
    (r_max, radial, sh_irreps): (f64, &RadialConfig, &str),
    atomic_numbers: &[u8],
) -> Result<Geometry, PotentialError> {
    if !(r_max.is_finite() && r_max > 0.0) {
        return Err(file.error(format!("r_max = {r_max} Å: must be positive")));
    }
    let w = file.values(weights)?;
    if w.len() != radial.num_bessel {
        return Err(file.error(format!(
            "{weights} has {} values, num_bessel is {}",
            w.len(),
            radial.num_bessel
        )));
    }
    let sh = Irreps::parse(sh_irreps).map_err(|e| file.error(format!("sh_irreps: {e}")))?;
    if sh.to_string() != Irreps::spherical_harmonics(sh.lmax()).to_string() {
        return Err(file.error(format!("sh_irreps {sh} are not 0..l_max harmonics")));
    }
    Ok(Geometry {
        harmonics: Harmonics::new(sh.lmax()),
        radial: RadialParameters {
            frequencies: w.iter().map(|w| std::f64::consts::PI * w / r_max).collect(),
            prefactor: radial.prefactor,
            cutoff: PolynomialCutoff {
                r_max,
                p: radial.polynomial_p,
            },
            transform: None,
        },
        pair: None,
        r_max,
        elements: ElementTable(atomic_numbers.to_vec()),
    })
}
