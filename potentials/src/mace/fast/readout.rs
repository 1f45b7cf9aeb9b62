//! MACE's readouts on the host: per-node energies from scalar features, and their gradient.

use crate::equivariant::Irreps;
use crate::fast::linear::LinearMap;
use crate::fast::mlp::silu_and_slope;
use crate::fast::Real;
use crate::mace::blocks::ReadoutShape;
use crate::mace::ModelFile;
use crate::PotentialError;

/// `linear` or `linear_2(c · silu(linear_1(h)))`.
#[derive(Debug, Clone)]
pub enum ReadoutMap<T> {
    /// `LinearReadoutBlock`.
    Linear(LinearMap<T>),
    /// `NonLinearReadoutBlock`.
    NonLinear {
        /// `linear_1`.
        hidden: LinearMap<T>,
        /// normalize2mom constant c.
        constant: T,
        /// `linear_2`.
        output: LinearMap<T>,
    },
}

impl<T: Real> ReadoutMap<T> {
    /// `name` (`readouts.i`) of the file, of the given shape.
    pub fn load(file: &ModelFile, name: &str, shape: ReadoutShape) -> Result<Self, PotentialError> {
        let scalar = Irreps::parse("1x0e").expect("valid irreps");
        let linear = |suffix: &str, a: &Irreps, b: &Irreps| {
            LinearMap::new(a, b, file.values(&format!("{name}.{suffix}.weight"))?)
                .map_err(|e| file.error(format!("{name}.{suffix}: {e}")))
        };
        Ok(match shape {
            ReadoutShape::Linear { irreps_in } => {
                Self::Linear(linear("linear", &irreps_in, &scalar)?)
            }
            ReadoutShape::NonLinear {
                irreps_in,
                hidden,
                constant,
            } => Self::NonLinear {
                hidden: linear("linear_1", &irreps_in, &hidden)?,
                constant: T::of(constant),
                output: linear("linear_2", &hidden, &scalar)?,
            },
        })
    }

    /// Per-row energies of `h` (rows of features) into `out [rows]`.
    pub fn forward(&self, h: &[T], out: &mut [T]) {
        match self {
            Self::Linear(map) => map.forward(h, out),
            Self::NonLinear {
                hidden,
                constant,
                output,
            } => {
                let mut z = vec![T::zero(); out.len() * hidden.dim_out()];
                hidden.forward(h, &mut z);
                z.iter_mut()
                    .for_each(|v| *v = silu_and_slope(*v).0 * *constant);
                output.forward(&z, out);
            }
        }
    }

    /// `g_h +=` the gradient of `scale · Σ energies` with respect to `h`.
    pub fn backward(&self, h: &[T], scale: T, g_h: &mut [T]) {
        match self {
            Self::Linear(map) => {
                let ones = vec![scale; h.len() / map.dim_in()];
                map.backward(&ones, g_h);
            }
            Self::NonLinear {
                hidden,
                constant,
                output,
            } => {
                let rows = h.len() / hidden.dim_in();
                let mut z = vec![T::zero(); rows * hidden.dim_out()];
                hidden.forward(h, &mut z);
                let mut g_z = vec![T::zero(); z.len()];
                output.backward(&vec![scale; rows], &mut g_z);
                for (g, &v) in g_z.iter_mut().zip(&z) {
                    *g *= silu_and_slope(v).1 * *constant;
                }
                hidden.backward(&g_z, g_h);
            }
        }
    }
}
