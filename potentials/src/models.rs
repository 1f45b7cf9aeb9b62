//! Loading any ML model file as a [`Potential`]: the architecture (from the input's `type`),
//! the device, the float type and the evaluation path.

use crate::allegro::Allegro;
use crate::equivariant::FloatType;
use crate::fast::Real;
use crate::mace::FastMace;
use crate::model_file::Architecture;
use crate::nequip::Nequip;
use crate::{ComputeDevice, Potential, PotentialError};
use std::path::Path;

/// How an ML model is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Hand-written kernels with hand-derived gradients; on CUDA the edge work runs as
    /// `#[cube]` kernels, the node work on the CPU.
    #[default]
    Fast,
    /// The burn model under autodiff: the reference, on any backend (MACE only).
    Reference,
}

/// Loads the model file at `path`, of `architecture`, as a boxed [`Potential`] on `device`,
/// computing in `float`, on the evaluation path `mode`.
pub fn load_potential(
    architecture: Architecture,
    path: &Path,
    device: ComputeDevice,
    float: FloatType,
    mode: Mode,
) -> Result<Box<dyn Potential>, PotentialError> {
    match (mode, architecture, device) {
        (Mode::Reference, Architecture::Mace, _) => {
            crate::mace::load_reference(path, device, float)
        }
        (Mode::Reference, other, _) => Err(PotentialError::Invalid(format!(
            "mode \"reference\" exists for MACE only; {} runs on mode = \"fast\"",
            other.name()
        ))),
        (Mode::Fast, Architecture::Allegro, ComputeDevice::Cuda) => Err(PotentialError::Invalid(
            "Allegro runs on the CPU only in this mlmd; use device = \"cpu\"".into(),
        )),
        (Mode::Fast, _, ComputeDevice::Cpu) => match float {
            FloatType::F32 => on_cpu::<f32>(architecture, path),
            FloatType::F64 => on_cpu::<f64>(architecture, path),
        },
        #[cfg(feature = "cuda")]
        (Mode::Fast, _, ComputeDevice::Cuda) => {
            crate::device::check_cuda()?;
            match float {
                FloatType::F32 => on_cuda::<f32>(architecture, path),
                FloatType::F64 => on_cuda::<f64>(architecture, path),
            }
        }
        #[cfg(not(feature = "cuda"))]
        (Mode::Fast, _, ComputeDevice::Cuda) => Err(needs_cuda()),
    }
}

/// The fast path on the CPU.
fn on_cpu<T: Real>(
    architecture: Architecture,
    path: &Path,
) -> Result<Box<dyn Potential>, PotentialError> {
    Ok(match architecture {
        Architecture::Mace => Box::new(FastMace::<T>::load(path)?),
        Architecture::Nequip => Box::new(Nequip::<T>::load(path)?),
        Architecture::Allegro => Box::new(Allegro::<T>::load(path)?),
    })
}

/// The fast path with its edge work on the first CUDA device.
#[cfg(feature = "cuda")]
fn on_cuda<T: crate::fast::gpu::GpuReal>(
    architecture: Architecture,
    path: &Path,
) -> Result<Box<dyn Potential>, PotentialError> {
    use crate::fast::gpu::CHUNK_BYTES;
    use cubecl::cuda::{CudaDevice, CudaRuntime};
    let device = CudaDevice::new(0);
    Ok(match architecture {
        Architecture::Mace => Box::new(FastMace::<T>::load_on::<CudaRuntime>(
            path,
            &device,
            CHUNK_BYTES,
        )?),
        Architecture::Nequip => Box::new(Nequip::<T>::load_on::<CudaRuntime>(
            path,
            &device,
            CHUNK_BYTES,
        )?),
        Architecture::Allegro => unreachable!("refused in load_potential"),
    })
}

/// The error for `device = "cuda"` in a build without the `cuda` feature.
#[cfg(not(feature = "cuda"))]
pub(crate) fn needs_cuda() -> PotentialError {
    PotentialError::Invalid(
        "device \"cuda\" needs mlmd built with the cuda feature (cargo build --release \
         --features cuda)"
            .into(),
    )
}
