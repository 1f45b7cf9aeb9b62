//! The float type of the fast path and the one dense kernel it leans on: a strided matrix
//! product (`matrixmultiply`'s).

/// A float the fast path computes in: f32 (speed) or f64 (parity with references).
pub trait Real:
    nalgebra::RealField + Copy + Default + Send + Sync + std::iter::Sum + 'static
{
    /// The nearest value of this type to `x`.
    fn of(x: f64) -> Self;
    /// This value as f64.
    fn to_f64(self) -> f64;
    /// `c ← β c + α a b` on `matrixmultiply`'s kernel for this type; the layouts are checked to
    /// lie inside their slices.
    fn gemm(
        alpha: Self,
        a: (&[Self], Layout),
        b: (&[Self], Layout),
        beta: Self,
        c: (&mut [Self], Layout),
    );
}

/// Implements [`Real`] for a float type with its `matrixmultiply` kernel.
macro_rules! real {
    ($t:ty, $kernel:ident) => {
        impl Real for $t {
            fn of(x: f64) -> Self {
                x as $t
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn gemm(
                alpha: Self,
                (a, la): (&[Self], Layout),
                (b, lb): (&[Self], Layout),
                beta: Self,
                (c, lc): (&mut [Self], Layout),
            ) {
                assert!(la.cols == lb.rows && la.rows == lc.rows && lb.cols == lc.cols);
                assert!(la.end() <= a.len() && lb.end() <= b.len() && lc.end() <= c.len());
                if lc.rows == 0 || lc.cols == 0 {
                    return;
                }
                let s = |x: usize| x as isize;
                // SAFETY: the asserts keep every element each layout addresses inside its
                // slice, and `c` is borrowed mutably, so it aliases neither `a` nor `b`.
                #[allow(unsafe_code)]
                unsafe {
                    matrixmultiply::$kernel(
                        lc.rows,
                        la.cols,
                        lc.cols,
                        alpha,
                        a[la.offset..].as_ptr(),
                        s(la.row_stride),
                        s(la.col_stride),
                        b[lb.offset..].as_ptr(),
                        s(lb.row_stride),
                        s(lb.col_stride),
                        beta,
                        c[lc.offset..].as_mut_ptr(),
                        s(lc.row_stride),
                        s(lc.col_stride),
                    );
                }
            }
        }
    };
}

real!(f32, sgemm);
real!(f64, dgemm);

/// A matrix laid out in a slice: element (i, j) at `offset + i · row_stride + j · col_stride`.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Distance between rows.
    pub row_stride: usize,
    /// Distance between columns.
    pub col_stride: usize,
    /// Position of element (0, 0).
    pub offset: usize,
}

impl Layout {
    /// A dense row-major `rows × cols` matrix at the start of its slice.
    pub fn row_major(rows: usize, cols: usize) -> Self {
        Self {
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
            offset: 0,
        }
    }

    /// The transpose (same storage).
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            offset: self.offset,
        }
    }

    /// One past the last element addressed (0 for an empty matrix).
    fn end(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            return 0;
        }
        self.offset + (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride + 1
    }
}

/// `c ← β c + α a b` for matrices stored in slices as their layouts say (any strides).
pub fn gemm<T: Real>(
    alpha: T,
    a: (&[T], Layout),
    b: (&[T], Layout),
    beta: T,
    c: (&mut [T], Layout),
) {
    T::gemm(alpha, a, b, beta, c);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_products_equal_the_naive_sum() {
        // a: 3×4 read as the transpose of a row-major 4×3; b: every second column of 4×10.
        let a: Vec<f64> = (0..12).map(|v| f64::from(v) * 0.5 - 2.0).collect();
        let b: Vec<f64> = (0..40).map(|v| f64::from(v % 7) - 3.0).collect();
        let la = Layout::row_major(4, 3).t();
        let lb = Layout {
            rows: 4,
            cols: 5,
            row_stride: 10,
            col_stride: 2,
            offset: 1,
        };
        let mut c = vec![1.0; 15];
        gemm(
            2.0,
            (&a, la),
            (&b, lb),
            0.5,
            (&mut c, Layout::row_major(3, 5)),
        );
        for i in 0..3 {
            for j in 0..5 {
                let sum: f64 = (0..4).map(|k| a[k * 3 + i] * b[1 + k * 10 + 2 * j]).sum();
                assert!((c[i * 5 + j] - (0.5 + 2.0 * sum)).abs() < 1e-12);
            }
        }
    }
}
