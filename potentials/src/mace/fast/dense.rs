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
}

impl Real for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Real for f64 {
    fn of(x: f64) -> Self {
        x
    }
    fn to_f64(self) -> f64 {
        self
    }
}

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

/// `c ← β c + α a b` for matrices stored in slices as their layouts say (`matrixmultiply`'s
/// kernels, any strides).
pub fn gemm<T: Real>(
    alpha: T,
    a: (&[T], Layout),
    b: (&[T], Layout),
    beta: T,
    c: (&mut [T], Layout),
) {
    let ((a, la), (b, lb), (c, lc)) = (a, b, c);
    assert!(la.cols == lb.rows && la.rows == lc.rows && lb.cols == lc.cols);
    assert!(la.end() <= a.len() && lb.end() <= b.len() && lc.end() <= c.len());
    if lc.rows == 0 || lc.cols == 0 {
        return;
    }
    let (a, b, c) = (&a[la.offset..], &b[lb.offset..], &mut c[lc.offset..]);
    let stride = |s: usize| s as isize;
    let any = |x: &dyn std::any::Any| x.type_id();
    let (id, f32_id) = (any(&alpha), std::any::TypeId::of::<f32>());
    // SAFETY: the asserts above keep every element each layout addresses inside its slice,
    // `c` is borrowed mutably (no aliasing with `a` or `b`), and T is f32 or f64 as checked
    // by its TypeId before the pointers are cast.
    #[allow(unsafe_code)]
    unsafe {
        if id == f32_id {
            matrixmultiply::sgemm(
                lc.rows,
                la.cols,
                lc.cols,
                alpha.to_f64() as f32,
                a.as_ptr().cast(),
                stride(la.row_stride),
                stride(la.col_stride),
                b.as_ptr().cast(),
                stride(lb.row_stride),
                stride(lb.col_stride),
                beta.to_f64() as f32,
                c.as_mut_ptr().cast(),
                stride(lc.row_stride),
                stride(lc.col_stride),
            );
        } else {
            assert_eq!(id, std::any::TypeId::of::<f64>());
            matrixmultiply::dgemm(
                lc.rows,
                la.cols,
                lc.cols,
                alpha.to_f64(),
                a.as_ptr().cast(),
                stride(la.row_stride),
                stride(la.col_stride),
                b.as_ptr().cast(),
                stride(lb.row_stride),
                stride(lb.col_stride),
                beta.to_f64(),
                c.as_mut_ptr().cast(),
                stride(lc.row_stride),
                stride(lc.col_stride),
            );
        }
    }
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
