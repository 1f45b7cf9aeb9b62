//! e3nn's `Linear` on the host, in the fast path's m-major layout: each block of multiplicity
//! `mul` and dimension `2l+1` is stored `[2l+1][mul]`, so channels run fastest.
//!
//! `out[o]_{m,w} = Σ_{paths i → o} Σ_u x[i]_{m,u} W_{u,w}` (α folded into W): one strided
//! matrix product per path and component m over all rows.

use super::dense::{gemm, Layout, Real};
use super::parallel::map_rows;
use crate::equivariant::{scaled_paths, Irreps, ScaledPath};
use crate::PotentialError;

/// One path: block offsets, multiplicities, 2l+1 and `W [mul_in, mul_out]`.
#[derive(Debug, Clone)]
struct Path<T> {
    offset_in: usize,
    offset_out: usize,
    mul_in: usize,
    mul_out: usize,
    d: usize,
    weight: Vec<T>,
}

/// A linear map between two irreps layouts (m-major), applied to rows of features.
#[derive(Debug, Clone)]
pub struct LinearMap<T> {
    dim_in: usize,
    dim_out: usize,
    paths: Vec<Path<T>>,
}

impl<T: Real> LinearMap<T> {
    /// e3nn's `Linear(irreps_in, irreps_out)` with its flat weights.
    pub fn new(
        irreps_in: &Irreps,
        irreps_out: &Irreps,
        weights: &[f64],
    ) -> Result<Self, PotentialError> {
        Ok(Self::from_paths(
            irreps_in,
            irreps_out,
            &scaled_paths(irreps_in, irreps_out, weights)?,
        ))
    }

    /// A map from already scaled paths.
    pub fn from_paths(irreps_in: &Irreps, irreps_out: &Irreps, paths: &[ScaledPath]) -> Self {
        let (slices_in, slices_out) = (irreps_in.slices(), irreps_out.slices());
        Self {
            dim_in: irreps_in.dim(),
            dim_out: irreps_out.dim(),
            paths: paths
                .iter()
                .map(|p| Path {
                    offset_in: slices_in[p.input].0,
                    offset_out: slices_out[p.output].0,
                    mul_in: p.mul_in,
                    mul_out: p.mul_out,
                    d: irreps_in.0[p.input].ir.dim(),
                    weight: p.weight.iter().map(|&w| T::of(w)).collect(),
                })
                .collect(),
        }
    }

    /// The map applied to each row of `x [rows, dim_in]`, in parallel.
    pub fn apply(&self, x: &[T]) -> Vec<T> {
        map_rows(x, self.dim_in, self.dim_out, |x, y| self.forward(x, y))
    }

    /// The transposed map applied to each row of `g [rows, dim_out]`, in parallel.
    pub fn apply_transposed(&self, g: &[T]) -> Vec<T> {
        map_rows(g, self.dim_out, self.dim_in, |g, y| self.backward(g, y))
    }

    /// Input width.
    pub fn dim_in(&self) -> usize {
        self.dim_in
    }

    /// Output width.
    pub fn dim_out(&self) -> usize {
        self.dim_out
    }

    /// `out [rows, dim_out] = x [rows, dim_in] · map` (out overwritten).
    pub fn forward(&self, x: &[T], out: &mut [T]) {
        let rows = x.len() / self.dim_in.max(1);
        out.fill(T::zero());
        for p in &self.paths {
            let weight = Layout::row_major(p.mul_in, p.mul_out);
            for m in 0..p.d {
                let input = rows_of(rows, p.mul_in, self.dim_in, p.offset_in + m * p.mul_in);
                let output = rows_of(rows, p.mul_out, self.dim_out, p.offset_out + m * p.mul_out);
                gemm(
                    T::one(),
                    (x, input),
                    (&p.weight, weight),
                    T::one(),
                    (&mut *out, output),
                );
            }
        }
    }

    /// `g_x [rows, dim_in] += g_out [rows, dim_out] · mapᵀ`.
    pub fn backward(&self, g_out: &[T], g_x: &mut [T]) {
        let rows = g_out.len() / self.dim_out.max(1);
        for p in &self.paths {
            let weight = Layout::row_major(p.mul_in, p.mul_out).t();
            for m in 0..p.d {
                let output = rows_of(rows, p.mul_out, self.dim_out, p.offset_out + m * p.mul_out);
                let input = rows_of(rows, p.mul_in, self.dim_in, p.offset_in + m * p.mul_in);
                gemm(
                    T::one(),
                    (g_out, output),
                    (&p.weight, weight),
                    T::one(),
                    (&mut *g_x, input),
                );
            }
        }
    }
}

/// `rows × cols` starting at column `offset` of a row-major matrix `width` wide.
fn rows_of(rows: usize, cols: usize, width: usize, offset: usize) -> Layout {
    Layout {
        rows,
        cols,
        row_stride: width,
        col_stride: 1,
        offset,
    }
}
