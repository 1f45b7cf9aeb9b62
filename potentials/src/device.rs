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
