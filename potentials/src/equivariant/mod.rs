//! e3nn-compatible equivariant building blocks on burn, generic over the backend: irreps,
//! spherical harmonics, Wigner 3j, linear maps, tensor products, gates, radial bases and MACE's
//! symmetric contraction. MACE and NequIP are assembled from these.

mod forces;
mod gate;
mod irreps;
mod linear;
mod radial;
mod spherical_harmonics;
mod symmetric_contraction;
pub mod tensor;
mod tensor_product;
mod uvu_grouped;
mod wigner;

pub use forces::{evaluate_with_autodiff, GraphInputs};
pub use gate::{Activation, Gate};
pub use irreps::{Irrep, Irreps, MulIrrep};
pub use linear::{scaled_paths, Linear, ScaledPath};
pub use radial::{silu, BesselBasis, PolynomialCutoff, RadialMlp, SILU_NORMALIZE2MOM};
pub(crate) use spherical_harmonics::recursion_matrices;
pub use spherical_harmonics::{Normalization, SphericalHarmonics};
pub use symmetric_contraction::{
    ContractionIrrep, ContractionOrder, FoldedContraction, SymmetricContraction,
};
pub use tensor::FloatType;
pub use tensor_product::{
    couples, ChannelwiseTensorProduct, ElementwiseTensorProduct, FullyConnectedTensorProduct,
    Instruction,
};
pub use wigner::{wigner_3j, W3jConvention, W3jTable};
