//! The fast evaluation path shared by the equivariant models (MACE, NequIP): hand-written
//! kernels with hand-derived gradients, no autodiff tape.
//!
//! Node features are rows `[N, dim]` stored m-major (each irrep block `[2l+1][mul]`, channels
//! fastest). What every model shares lives here: the edges with their harmonics and radial
//! basis ([`edges`]), linear maps between irreps ([`linear`]), per-element linear maps
//! ([`skip`]), the radial MLP ([`mlp`]), the channel-wise tensor product ([`convolution`]) and
//! its streaming over the graph on the CPU or a GPU ([`convolve`], `gpu`). Each model assembles
//! them in its own folder.

pub mod convolution;
pub mod convolve;
pub mod dense;
pub mod edges;
pub mod forces;
#[cfg(any(feature = "cuda", feature = "wgpu"))]
pub mod gpu;
pub mod linear;
pub mod mlp;
pub mod model;
pub mod parallel;
pub mod skip;

pub use convolve::{CpuEdgeWork, EdgePasses, EdgeStage, EdgeWork};
pub use dense::Real;
pub use model::{FastModel, FastNetwork, Geometry};
