//! MACE models exported from mace-torch by `scripts/export_mace.py`: the file format, the
//! network assembled from the equivariant blocks, and the [`Potential`] that runs it with
//! autodiff forces and virial on any burn backend.

mod blocks;
mod config;
mod fast;
mod model;
pub(crate) mod radial;

#[cfg(any(feature = "cuda", feature = "wgpu"))]
pub use crate::fast::gpu;
pub use crate::model_file::{read_safetensors, HostTensor};
pub use config::{MaceConfig, FORMAT_VERSION};
pub use fast::{FastMace, Real};

/// A MACE model file (`scripts/export_mace.py`).
pub type ModelFile = crate::model_file::ModelFile<MaceConfig>;
pub use model::{MaceGraph, MaceModel};

use crate::equivariant::tensor::FloatType;
use crate::equivariant::{evaluate_with_autodiff, GraphInputs};
use crate::model_file::ElementTable;
use crate::{AtomicGraph, Evaluation, Potential, PotentialError, Request};
use burn::tensor::backend::AutodiffBackend;
use std::path::Path;

/// A MACE model as an mlmd [`Potential`], evaluated by burn under autodiff (the reference path).
#[derive(Debug)]
pub struct Mace<B: AutodiffBackend> {
    model: MaceModel<B>,
    elements: ElementTable,
    device: B::Device,
    float: FloatType,
}

impl<B: AutodiffBackend> Mace<B> {
    /// Loads the model file at `path` onto `device`, computing in `float`.
    pub fn load(path: &Path, device: B::Device, float: FloatType) -> Result<Self, PotentialError> {
        let file = ModelFile::read(path)?;
        let model = MaceModel::load(&file, &device, float)?;
        Ok(Self {
            elements: ElementTable(model.atomic_numbers().to_vec()),
            model,
            device,
            float,
        })
    }
}

impl<B: AutodiffBackend> Potential for Mace<B> {
    fn cutoff(&self) -> f64 {
        self.model.r_max()
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
        crate::model_file::require_full_list(graph, "MACE")?;
        let elements = self.elements.indices(graph.species)?;
        let model = &self.model;
        evaluate_with_autodiff(
            graph,
            model.r_max(),
            request,
            &self.device,
            self.float,
            |inputs: &GraphInputs<B>| {
                let mace_graph = MaceGraph {
                    vectors: inputs.vectors.clone(),
                    senders: inputs.senders.clone(),
                    receivers: inputs.receivers.clone(),
                    edge_species: inputs
                        .edges
                        .iter()
                        .map(|&(s, r)| (graph.species[s as usize], graph.species[r as usize]))
                        .collect(),
                    elements,
                };
                Ok(model.forward(&mace_graph))
            },
        )
    }
}

/// Loads a MACE model file as a boxed reference-path [`Potential`] ([`Mace`]) on `device`,
/// computing in `float`.
pub(crate) fn load_reference(
    path: &Path,
    device: crate::ComputeDevice,
    float: FloatType,
) -> Result<Box<dyn Potential>, PotentialError> {
    match (device, float) {
        (crate::ComputeDevice::Cpu, _) => Ok(Box::new(Mace::<crate::CpuBackend>::load(
            path,
            Default::default(),
            float,
        )?)),
        (crate::ComputeDevice::Cuda, FloatType::F64) => Err(PotentialError::Invalid(
            "dtype \"float64\" on device \"cuda\" with mode \"reference\": burn 0.21's CUDA \
             matrix products have no float64 kernels; use mode = \"fast\" (float64 on the \
             GPU) or dtype = \"float32\""
                .into(),
        )),
        #[cfg(feature = "cuda")]
        (crate::ComputeDevice::Cuda, FloatType::F32) => {
            crate::device::check_cuda()?;
            Ok(Box::new(Mace::<crate::CudaBackend>::load(
                path,
                Default::default(),
                float,
            )?))
        }
        #[cfg(not(feature = "cuda"))]
        (crate::ComputeDevice::Cuda, FloatType::F32) => Err(crate::models::needs_cuda()),
    }
}
