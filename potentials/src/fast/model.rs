//! An equivariant model on the fast path as a [`Potential`]: what every architecture shares
//! (the edges with their harmonics and radial basis, the element table, where the edge work
//! runs, forces and virial) around the architecture's own network.

use super::convolve::{CpuEdgeWork, EdgeStage, EdgeWork};
use super::edges::{Edges, Harmonics, PairTerm};
use super::Real;
use crate::mace::radial::RadialParameters;
use crate::model_file::{require_full_list, ElementTable};
use crate::{AtomicGraph, Evaluation, Potential, PotentialError, Request};
use std::path::Path;
use std::sync::Arc;

/// The per-edge geometry a network reads and the elements it knows, from its model file.
#[derive(Debug, Clone)]
pub struct Geometry {
    /// Spherical harmonics up to the model's l_max.
    pub harmonics: Harmonics,
    /// The radial basis.
    pub radial: RadialParameters,
    /// Pair repulsion, if the model has it.
    pub pair: Option<Arc<dyn PairTerm>>,
    /// Cutoff, Å.
    pub r_max: f64,
    /// The elements, in the model's type order.
    pub elements: ElementTable,
}

/// An architecture's network on the fast path.
pub trait FastNetwork<T: Real>: std::fmt::Debug + Send + Sync + Sized + 'static {
    /// The architecture's name in messages (`MACE`).
    const NAME: &'static str;

    /// Reads the model file at `path`.
    fn read(path: &Path) -> Result<(Self, Geometry), PotentialError>;

    /// The layers' edge work, for a GPU to upload.
    fn edge_stages(&self) -> &[EdgeStage<T>];

    /// Energies, and forces and virial as `request` asks, of atoms of the given type indices on
    /// `edges`, the edge work done by `work`.
    fn evaluate(
        &self,
        types: &[u32],
        edges: &Edges<T>,
        harmonics: &Harmonics,
        request: Request,
        work: &dyn EdgeWork<T>,
    ) -> Evaluation;
}

/// The network `N` computing in `T`, as a [`Potential`].
#[derive(Debug, Clone)]
pub struct FastModel<N, T> {
    network: N,
    geometry: Geometry,
    /// Where the edge work runs.
    work: Arc<dyn EdgeWork<T>>,
}

impl<T: Real, N: FastNetwork<T>> FastModel<N, T> {
    /// Loads the model file at `path`, for the CPU.
    pub fn load(path: &Path) -> Result<Self, PotentialError> {
        let (network, geometry) = N::read(path)?;
        Ok(Self {
            network,
            geometry,
            work: Arc::new(CpuEdgeWork),
        })
    }
}

#[cfg(any(feature = "cuda", feature = "wgpu"))]
impl<T: super::gpu::GpuReal, N: FastNetwork<T>> FastModel<N, T> {
    /// Loads the model file at `path` with its edge work on `device` of the cubecl runtime `R`
    /// (CUDA, or wgpu for tests), in chunks of edges holding at most `chunk_bytes` of per-edge
    /// weights ([`super::gpu::CHUNK_BYTES`] by default).
    pub fn load_on<R: cubecl::Runtime>(
        path: &Path,
        device: &R::Device,
        chunk_bytes: usize,
    ) -> Result<Self, PotentialError> {
        let mut model = Self::load(path)?;
        let stages = model.network.edge_stages();
        model.work = Arc::new(super::gpu::GpuEdgeWork::<R, T>::new(
            device,
            stages,
            chunk_bytes,
        ));
        Ok(model)
    }
}

impl<T: Real, N: FastNetwork<T>> Potential for FastModel<N, T> {
    fn cutoff(&self) -> f64 {
        self.geometry.r_max
    }

    fn species(&self) -> Option<Vec<u8>> {
        Some(self.geometry.elements.0.clone())
    }

    fn check_species(&self, species: &[u8]) -> Result<(), PotentialError> {
        self.geometry.elements.check(species)
    }

    fn compute(
        &mut self,
        graph: &AtomicGraph<'_>,
        request: Request,
    ) -> Result<Evaluation, PotentialError> {
        require_full_list(graph, N::NAME)?;
        let types = self.geometry.elements.indices(graph.species)?;
        let g = &self.geometry;
        let edges = Edges::<T>::build(graph, g.r_max, &g.harmonics, &g.radial, g.pair.as_deref());
        Ok(self
            .network
            .evaluate(&types, &edges, &g.harmonics, request, self.work.as_ref()))
    }
}
