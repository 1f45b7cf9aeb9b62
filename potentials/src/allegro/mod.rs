//! Allegro models (nequip-allegro 0.8, `AllegroModel` with the two-body Bessel embedding)
//! exported by `scripts/export_nequip.py`, evaluated on the CPU with a hand-written backward
//! pass, one task per centre (see `allegro/network.rs` for the model's equations).

mod backward;
mod config;
mod evaluate;
mod network;

pub use config::{AllegroConfig, FORMAT_VERSION};

use crate::fast::edges::{Edges, Harmonics};
use crate::fast::{EdgeStage, EdgeWork, FastModel, FastNetwork, Geometry, Real};
use crate::model_file::ModelFile;
use crate::nequip::bessel_geometry;
use crate::{Evaluation, PotentialError, Request};
use network::Network;
use std::path::Path;

/// An Allegro model file.
pub type AllegroFile = ModelFile<AllegroConfig>;

/// An Allegro model as an mlmd [`Potential`](crate::Potential), computing in `T`.
pub type Allegro<T> = FastModel<Network<T>, T>;

impl<T: Real> FastNetwork<T> for Network<T> {
    const NAME: &'static str = "Allegro";

    fn read(path: &Path) -> Result<(Self, Geometry), PotentialError> {
        let file = AllegroFile::read(path)?;
        let c = &file.config;
        if c.model_class != "AllegroModel" {
            return Err(file.error(format!("unsupported model class '{}'", c.model_class)));
        }
        let geometry = bessel_geometry(
            &file,
            "model.func.radial_chemical_embed.bessel_encode.bessel_weights",
            (c.r_max, &c.radial, &c.sh_irreps),
            &c.atomic_numbers,
        )?;
        Ok((Network::load(&file)?, geometry))
    }

    /// None: Allegro's edge work runs in its own per-centre tasks on the CPU.
    fn edge_stages(&self) -> &[EdgeStage<T>] {
        &[]
    }

    fn evaluate(
        &self,
        types: &[u32],
        edges: &Edges<T>,
        harmonics: &Harmonics,
        request: Request,
        _work: &dyn EdgeWork<T>,
    ) -> Evaluation {
        Network::evaluate(self, types, edges, harmonics, request)
    }
}
