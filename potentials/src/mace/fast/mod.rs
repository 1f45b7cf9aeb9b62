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
mod convolution;
mod convolve;
mod dense;
mod edges;
mod evaluate;
#[cfg(any(feature = "cuda", feature = "wgpu"))]
pub mod gpu;
mod linear;
mod mlp;
mod network;
mod parallel;
mod readout;
mod skip;

pub use dense::Real;

use super::file::ModelFile;
use super::model::Header;
use super::radial::{RadialParameters, ZblRepulsion};
use super::ElementTable;
use crate::{AtomicGraph, Evaluation, Potential, PotentialError, Request};
use convolve::{CpuEdgeWork, EdgeWork};
use edges::{Edges, Harmonics};
use network::Network;
use std::path::Path;
use std::sync::Arc;

/// A MACE model on the fast path, computing in `T`.
#[derive(Debug, Clone)]
pub struct FastMace<T> {
    network: Network<T>,
    harmonics: Harmonics,
    radial: RadialParameters,
    zbl: Option<ZblRepulsion>,
    r_max: f64,
    elements: ElementTable,
    /// Where the edge work runs.
    work: Arc<dyn EdgeWork<T>>,
}

impl<T: Real> FastMace<T> {
    /// Loads the model file at `path`, for the CPU.
    pub fn load(path: &Path) -> Result<Self, PotentialError> {
        let file = ModelFile::read(path)?;
        let header = Header::read(&file)?;
        Ok(Self {
            network: Network::load(&file, &header)?,
            harmonics: Harmonics::new(header.sh_irreps.lmax()),
            radial: RadialParameters::load(&file)?,
            zbl: ZblRepulsion::load(&file)?,
            r_max: file.config.r_max,
            elements: ElementTable(file.config.atomic_numbers.clone()),
            work: Arc::new(CpuEdgeWork),
        })
    }
}

#[cfg(any(feature = "cuda", feature = "wgpu"))]
impl<T: gpu::GpuReal> FastMace<T> {
    /// Loads the model file at `path` with its edge work on `device` of the cubecl runtime `R`
    /// (CUDA, or wgpu for tests), in chunks of edges holding at most `chunk_bytes` of per-edge
    /// weights ([`gpu::CHUNK_BYTES`] by default).
    pub fn load_on<R: cubecl::Runtime>(
        path: &Path,
        device: &R::Device,
        chunk_bytes: usize,
    ) -> Result<Self, PotentialError> {
        let mut model = Self::load(path)?;
        let work = gpu::GpuEdgeWork::<R, T>::new(device, &model.network.layers, chunk_bytes);
        model.work = Arc::new(work);
        Ok(model)
    }
}

impl<T: Real> Potential for FastMace<T> {
    fn cutoff(&self) -> f64 {
        self.r_max
    }

    fn species(&self) -> Option<Vec<u8>> {
        Some(self.elements.0.clone())
    }

    fn check_species(&self, species: &[u8]) -> Result<(), PotentialError> {
        self.elements.check(species)
    }

    fn compute(
        &mut self,
        graph: &AtomicGraph<'_>,
        request: Request,
    ) -> Result<Evaluation, PotentialError> {
        super::require_full_list(graph)?;
        let elements = self.elements.indices(graph.species)?;
        let edges = Edges::<T>::build(
            graph,
            self.r_max,
            &self.harmonics,
            &self.radial,
            self.zbl.as_ref(),
        );
        Ok(self.network.evaluate(
            &elements,
            &edges,
            &self.harmonics,
            request,
            self.work.as_ref(),
        ))
    }
}
