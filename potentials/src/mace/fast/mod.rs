//! The fast evaluation path of MACE: hand-written kernels with hand-derived gradients on the
//! CPU, in f32 or f64, with no autodiff tape.
//!
//! Forward, per layer: node work (linear maps, skip connection, symmetric contraction,
//! readout) as row-parallel matrix products on `[N, dim]` features stored m-major (each irrep
//! block `[2l+1][mul]`, channels fastest); edge work streamed per receiver: the radial MLP on
//! the receiver's edges, the channel-wise tensor product with the sender's features, summed
//! into the receiver. Only node-sized arrays are kept for the backward pass.
//!
//! Backward, layers in reverse: the transposed node maps and the contraction's analytic
//! gradient, then the edge work streamed per sender (MLP recomputed) giving the gradient of
//! the sender's features and, per edge, of the harmonics and radial basis; these become
//! dE/dr_ij through the harmonics recursion and dR/dr. Forces and virial follow from the
//! per-edge gradients: F_i = Σ_{i sends} g_e − Σ_{i receives} g_e, W = −sym(Σ_e r_e ⊗ g_e).
//!
//! Radial basis, harmonics, pair repulsion, forces and virial are computed in f64; the network
//! in the chosen float type. Each receiver and sender is one task, each sum has a fixed order,
//! so results do not depend on the number of threads.

mod contraction;
mod evaluate;
mod network;
mod readout;

pub use crate::fast::Real;

use super::model::Header;
use super::radial::{RadialParameters, ZblRepulsion};
use super::ModelFile;
use crate::fast::edges::{Edges, Harmonics, PairTerm};
use crate::fast::model::{FastModel, FastNetwork, Geometry};
use crate::fast::{EdgeStage, EdgeWork};
use crate::model_file::ElementTable;
use crate::{Evaluation, PotentialError, Request};
use network::Network;
use std::path::Path;
use std::sync::Arc;

/// A MACE model on the fast path, computing in `T`.
pub type FastMace<T> = FastModel<Network<T>, T>;

impl<T: Real> FastNetwork<T> for Network<T> {
    const NAME: &'static str = "MACE";

    fn read(path: &Path) -> Result<(Self, Geometry), PotentialError> {
        let file = ModelFile::read(path)?;
        let header = Header::read(&file)?;
        let geometry = Geometry {
            harmonics: Harmonics::new(header.sh_irreps.lmax()),
            radial: RadialParameters::load(&file)?,
            pair: ZblRepulsion::load(&file)?.map(|z| Arc::new(z) as Arc<dyn PairTerm>),
            r_max: file.config.r_max,
            elements: ElementTable(file.config.atomic_numbers.clone()),
        };
        Ok((Network::load(&file, &header)?, geometry))
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
