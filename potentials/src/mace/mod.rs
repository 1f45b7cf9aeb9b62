//! MACE models exported from mace-torch by `scripts/export_mace.py`: the file format, the
//! network assembled from the equivariant blocks, and the [`Potential`] that runs it with
//! autodiff forces and virial on any burn backend.

mod blocks;
mod config;
mod fast;
mod file;
mod model;
mod radial;

pub use config::{MaceConfig, FORMAT, FORMAT_VERSION};
#[cfg(any(feature = "cuda", feature = "wgpu"))]
pub use fast::gpu;
pub use fast::{FastMace, Real};
pub use file::{read_safetensors, HostTensor, ModelFile};
pub use model::{MaceGraph, MaceModel};

use crate::equivariant::tensor::FloatType;
use crate::equivariant::{evaluate_with_autodiff, GraphInputs};
use crate::{AtomicGraph, Evaluation, Potential, PotentialError, Request};
use burn::tensor::backend::AutodiffBackend;
use std::path::Path;

/// The elements a model knows, in one-hot order.
#[derive(Debug, Clone)]
pub(crate) struct ElementTable(pub Vec<u8>);

impl ElementTable {
    fn index(&self, z: u8) -> Option<u32> {
        self.0
            .iter()
            .position(|&known| known == z)
            .map(|i| i as u32)
    }

    /// An error naming the first atom whose element the model does not know.
    pub fn check(&self, species: &[u8]) -> Result<(), PotentialError> {
        match species.iter().position(|&z| self.index(z).is_none()) {
            Some(atom) => Err(PotentialError::UnknownSpecies {
                element: species[atom],
                atom,
            }),
            None => Ok(()),
        }
    }

    /// Each atom's element index, or the error of [`check`](Self::check).
    pub fn indices(&self, species: &[u8]) -> Result<Vec<u32>, PotentialError> {
        self.check(species)?;
        Ok(species
            .iter()
            .map(|&z| self.index(z).expect("checked"))
            .collect())
    }
}

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
        require_full_list(graph)?;
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

/// How a MACE model is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Hand-written kernels with hand-derived gradients ([`FastMace`]); on CUDA its edge work
    /// runs as `#[cube]` kernels, the node work on the CPU.
    #[default]
    Fast,
    /// The burn model under autodiff ([`Mace`]): the reference, on any backend.
    Reference,
}

/// Loads a MACE model file as a boxed [`Potential`] on `device`, computing in `float`, on the
/// evaluation path `mode`.
pub fn load_potential(
    path: &Path,
    device: crate::ComputeDevice,
    float: FloatType,
    mode: Mode,
) -> Result<Box<dyn Potential>, PotentialError> {
    match (mode, device, float) {
        (Mode::Fast, crate::ComputeDevice::Cpu, FloatType::F32) => {
            Ok(Box::new(FastMace::<f32>::load(path)?))
        }
        (Mode::Fast, crate::ComputeDevice::Cpu, FloatType::F64) => {
            Ok(Box::new(FastMace::<f64>::load(path)?))
        }
        #[cfg(feature = "cuda")]
        (Mode::Fast, crate::ComputeDevice::Cuda, float) => {
            crate::device::check_cuda()?;
            use cubecl::cuda::{CudaDevice, CudaRuntime};
            use fast::gpu::CHUNK_BYTES;
            let device = CudaDevice::new(0);
            Ok(match float {
                FloatType::F32 => Box::new(FastMace::<f32>::load_on::<CudaRuntime>(
                    path,
                    &device,
                    CHUNK_BYTES,
                )?),
                FloatType::F64 => Box::new(FastMace::<f64>::load_on::<CudaRuntime>(
                    path,
                    &device,
                    CHUNK_BYTES,
                )?),
            })
        }
        (Mode::Reference, crate::ComputeDevice::Cpu, _) => Ok(Box::new(
            Mace::<crate::CpuBackend>::load(path, Default::default(), float)?,
        )),
        (Mode::Reference, crate::ComputeDevice::Cuda, FloatType::F64) => {
            Err(PotentialError::Invalid(
                "dtype \"float64\" on device \"cuda\" with mode \"reference\": burn 0.21's CUDA \
                 matrix products have no float64 kernels; use mode = \"fast\" (float64 on the \
                 GPU) or dtype = \"float32\""
                    .into(),
            ))
        }
        #[cfg(feature = "cuda")]
        (Mode::Reference, crate::ComputeDevice::Cuda, FloatType::F32) => {
            crate::device::check_cuda()?;
            Ok(Box::new(Mace::<crate::CudaBackend>::load(
                path,
                Default::default(),
                float,
            )?))
        }
        #[cfg(not(feature = "cuda"))]
        (_, crate::ComputeDevice::Cuda, _) => Err(PotentialError::Invalid(
            "device \"cuda\" needs mlmd built with the cuda feature (cargo build --release \
             --features cuda)"
                .into(),
        )),
    }
}

/// MACE passes messages along directed edges: it needs both directions of every pair.
fn require_full_list(graph: &AtomicGraph<'_>) -> Result<(), PotentialError> {
    if graph.half_list {
        return Err(PotentialError::Invalid(
            "MACE needs the full (directed) neighbor list, not a half list".into(),
        ));
    }
    Ok(())
}
