//! Where ML potentials run: the burn backends mlmd is built with.

use burn::backend::{Autodiff, Flex};

/// The CPU backend (burn's `flex`, with autodiff for forces).
pub type CpuBackend = Autodiff<Flex>;

/// The CUDA backend (with autodiff), with the `cuda` feature.
#[cfg(feature = "cuda")]
pub type CudaBackend = Autodiff<burn::backend::Cuda>;

/// A compute device named in an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComputeDevice {
    /// The CPU (all threads of the rayon pool).
    Cpu,
    /// The first CUDA GPU (needs the `cuda` feature).
    Cuda,
}

/// Checks that the CUDA driver library, NVRTC (which compiles burn's kernels) and at least one
/// GPU are there, so that a missing one is a clear error instead of a panic inside the backend
/// (cudarc panics when it cannot open a library it needs).
#[cfg(feature = "cuda")]
pub fn check_cuda() -> Result<(), crate::PotentialError> {
    let missing = |what: &str| {
        crate::PotentialError::Invalid(format!(
            "device \"cuda\": {what}; is this a machine with an NVIDIA GPU and driver? \
             (LD_LIBRARY_PATH must name the folders of libcuda.so and libnvrtc.so)"
        ))
    };
    // SAFETY: both only try to open the shared libraries by name (libloading) and drop them.
    #[allow(unsafe_code)]
    let (driver, nvrtc) = unsafe {
        (
            cudarc::driver::sys::is_culib_present(),
            cudarc::nvrtc::sys::is_culib_present(),
        )
    };
    if !driver {
        return Err(missing(
            "the CUDA driver library (libcuda.so) was not found",
        ));
    }
    if !nvrtc {
        return Err(missing("NVRTC (libnvrtc.so) was not found"));
    }
    match cudarc::driver::CudaContext::device_count() {
        Ok(n) if n > 0 => Ok(()),
        Ok(_) => Err(missing("no GPU found")),
        Err(e) => Err(missing(&format!("the CUDA driver failed to start ({e})"))),
    }
}
