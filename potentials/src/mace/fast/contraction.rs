//! The symmetric contraction on one node, forward and backward, from the per-element tables of
//! [`FoldedContraction`], vectorised over channels.
//!
//! With x `[D][C]` (m-major message) and the monomials P_j[c] = Π_s x[i_s(j)][c]:
//! `B[M][c] = Σ_j V_e[M][j][c] P_j[c]`, and the gradient
//! `∂/∂x[i][c] = Σ_j q_j[c] ∂P_j[c]/∂x[i][c]` with `q_j[c] = Σ_M g_B[M][c] V_e[M][j][c]`.

use crate::equivariant::FoldedContraction;
use crate::fast::Real;

/// The monomials of one degree: `indices[j · ν + s]` = i_s of monomial j.
#[derive(Debug, Clone)]
struct Degree {
    nu: usize,
    count: usize,
    indices: Vec<usize>,
}

/// A folded contraction in the fast path's layout.
#[derive(Debug, Clone)]
pub struct Contraction<T> {
    degrees: Vec<Degree>,
    /// Per element, per degree: `[ΣM][J][C]`.
    tables: Vec<Vec<Vec<T>>>,
    channels: usize,
    total_m: usize,
    d: usize,
}

impl<T: Real> Contraction<T> {
    /// From the host tables `[C][ΣM][J]`.
    pub fn new(folded: &FoldedContraction) -> Self {
        let (channels, total_m) = (folded.channels, folded.total_m());
        let degrees: Vec<Degree> = folded
            .monomials
            .iter()
            .enumerate()
            .map(|(k, slots)| {
                let count = slots.first().map_or(0, Vec::len);
                let indices = (0..count)
                    .flat_map(|j| slots.iter().map(move |s| s[j] as usize))
                    .collect();
                Degree {
                    nu: k + 1,
                    count,
                    indices,
                }
            })
            .collect();
        let tables = folded
            .tables
            .iter()
            .map(|per_degree| {
                per_degree
                    .iter()
                    .zip(&degrees)
                    .map(|(t, degree)| {
                        let j_count = degree.count;
                        let mut out = vec![T::zero(); total_m * j_count * channels];
                        for c in 0..channels {
                            for m in 0..total_m {
                                for j in 0..j_count {
                                    out[(m * j_count + j) * channels + c] =
                                        T::of(t[(c * total_m + m) * j_count + j]);
                                }
                            }
                        }
                        out
                    })
                    .collect()
            })
            .collect();
        Self {
            degrees,
            tables,
            channels,
            total_m,
            d: folded.d,
        }
    }

    /// Input width `D · C`.
    pub fn dim_in(&self) -> usize {
        self.d * self.channels
    }

    /// Output width `ΣM · C`.
    pub fn dim_out(&self) -> usize {
        self.total_m * self.channels
    }

    /// P_j = Π_s x[i_s] into `p [C]`, leaving out slot `skip` if given.
    fn monomial(&self, degree: &Degree, j: usize, x: &[T], skip: Option<usize>, p: &mut [T]) {
        let c = self.channels;
        p.fill(T::one());
        for (s, &i) in degree.indices[j * degree.nu..][..degree.nu]
            .iter()
            .enumerate()
        {
            if Some(s) != skip {
                let xi = &x[i * c..][..c];
                p.iter_mut().zip(xi).for_each(|(a, &b)| *a *= b);
            }
        }
    }

    /// `out [ΣM · C]` (overwritten) for a node of element `e` with message `x [D · C]`.
    pub fn forward(&self, e: usize, x: &[T], out: &mut [T], p: &mut Vec<T>) {
        let c = self.channels;
        p.resize(c, T::zero());
        out.fill(T::zero());
        for (degree, table) in self.degrees.iter().zip(&self.tables[e]) {
            for j in 0..degree.count {
                self.monomial(degree, j, x, None, p);
                for m in 0..self.total_m {
                    let v = &table[(m * degree.count + j) * c..][..c];
                    let o = &mut out[m * c..][..c];
                    for ((o, &v), &p) in o.iter_mut().zip(v).zip(p.iter()) {
                        *o += v * p;
                    }
                }
            }
        }
    }

    /// `g_x [D · C] +=` the gradient of `Σ g_out · out` for a node of element `e`.
    pub fn backward(&self, e: usize, x: &[T], g_out: &[T], g_x: &mut [T], scratch: &mut Vec<T>) {
        let c = self.channels;
        scratch.resize(2 * c, T::zero());
        let (q, p) = scratch.split_at_mut(c);
        for (degree, table) in self.degrees.iter().zip(&self.tables[e]) {
            for j in 0..degree.count {
                q.fill(T::zero());
                for m in 0..self.total_m {
                    let v = &table[(m * degree.count + j) * c..][..c];
                    let g = &g_out[m * c..][..c];
                    for ((q, &v), &g) in q.iter_mut().zip(v).zip(g) {
                        *q += v * g;
                    }
                }
                for (s, &i) in degree.indices[j * degree.nu..][..degree.nu]
                    .iter()
                    .enumerate()
                {
                    self.monomial(degree, j, x, Some(s), p);
                    let gx = &mut g_x[i * c..][..c];
                    for ((g, &q), &p) in gx.iter_mut().zip(q.iter()).zip(p.iter()) {
                        *g += q * p;
                    }
                }
            }
        }
    }
}
