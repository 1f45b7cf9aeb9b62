//! Interatomic potentials for mlmd.
//!
//! A potential sees an [`AtomicGraph`] (positions, species, cell and a directed edge list with
//! integer cell shifts) and answers a [`Request`] for energy, forces and virial with an
//! [`Evaluation`]. The engine owns the simulation; a potential only computes, as a LAMMPS pair
//! style does.

pub mod allegro;
mod device;
pub mod equivariant;
pub mod fast;
mod graph;
pub mod mace;
pub mod model_file;
pub mod models;
pub mod nequip;
pub mod pair;
mod pair_list;
mod potential;

/// cubecl, the GPU kernel language of the fast MACE path's edge work (its runtimes and devices).
#[cfg(any(feature = "cuda", feature = "wgpu"))]
pub use cubecl;
#[cfg(feature = "cuda")]
pub use device::CudaBackend;
pub use device::{ComputeDevice, CpuBackend};
pub use equivariant::FloatType;
pub use graph::AtomicGraph;
pub use mace::Mace;
pub use pair::{LennardJones, LennardJonesPair, PairPotential, Pairwise};
pub use pair_list::{EntryCodec, PairBlock, PairList};
pub use potential::{Evaluation, Potential, PotentialError, Request};
