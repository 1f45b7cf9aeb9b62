//! NequIP models (nequip ≥ 0.7, `NequIPGNNModel`) exported by `scripts/export_nequip.py`, on the
//! fast path shared with MACE: node work on the CPU, edge work on the CPU or a GPU, hand-derived
//! gradients. Convention details (edge orientation, normalisations) are in `nequip/network.rs`.

mod config;
mod evaluate;
mod gate;
mod network;
mod zbl;

pub use config::{NequipConfig, FORMAT_VERSION};

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

/// The checked settings of a file and its edge geometry: R_n(r) = prefactor · sin(ω_n r)/r ·
/// f_p(r/r_max) with ω_n = π w_n / r_max.
fn geometry(file: &NequipFile) -> Result<Geometry, PotentialError> {
    let c = &file.config;
    if c.model_class != "NequIPGNNModel" {
        return Err(file.error(format!("unsupported model class '{}'", c.model_class)));
    }
    if !(c.r_max.is_finite() && c.r_max > 0.0) {
        return Err(file.error(format!("r_max = {} Å: must be positive", c.r_max)));
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
    let weights = file.values("model.func.bessel_encode.bessel_weights")?;
    if weights.len() != c.radial.num_bessel {
        return Err(file.error(format!(
            "bessel_weights has {} values, num_bessel is {}",
            weights.len(),
            c.radial.num_bessel
        )));
    }
    let sh = Irreps::parse(&c.sh_irreps).map_err(|e| file.error(format!("sh_irreps: {e}")))?;
    Ok(Geometry {
        harmonics: Harmonics::new(sh.lmax()),
        radial: RadialParameters {
            frequencies: weights
                .iter()
                .map(|w| std::f64::consts::PI * w / c.r_max)
                .collect(),
            prefactor: c.radial.prefactor,
            cutoff: PolynomialCutoff {
                r_max: c.r_max,
                p: c.radial.polynomial_p,
            },
            transform: None,
        },
        pair: c.zbl.as_ref().map(|z| {
            Arc::new(zbl::NequipZbl {
                factor: z.energy_factor,
                cutoff: PolynomialCutoff {
                    r_max: c.r_max,
                    p: z.polynomial_p,
                },
            }) as Arc<dyn PairTerm>
        }),
        r_max: c.r_max,
        elements: ElementTable(c.atomic_numbers.clone()),
    })
}
