//! Wigner-3j blocks in e3nn's real basis, computed exactly (Racah's formula and e3nn's change of
//! basis), in the sign convention of either e3nn version.

use std::collections::HashMap;

/// Which e3nn's signs to reproduce: they differ for some blocks with odd l1 + l2 + l3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum W3jConvention {
    /// e3nn ≥ 0.5 (computed blocks), used by nequip ≥ 0.7.
    E3nn06,
    /// e3nn 0.4.x (tabulated for l1 ≤ l2 ≤ l3, permuted with (−1)^(l1+l2+l3) for odd
    /// permutations), used by mace-torch.
    E3nn04,
}

/// A complex number, enough for the change of basis.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Complex {
    re: f64,
    im: f64,
}

impl Complex {
    const ZERO: Complex = Complex { re: 0.0, im: 0.0 };

    fn new(re: f64, im: f64) -> Self {
        Self { re, im }
    }

    fn mul(self, other: Complex) -> Complex {
        Complex::new(
            self.re * other.re - self.im * other.im,
            self.re * other.im + self.im * other.re,
        )
    }

    fn conj(self) -> Complex {
        Complex::new(self.re, -self.im)
    }

    fn scale(self, s: f64) -> Complex {
        Complex::new(self.re * s, self.im * s)
    }
}

fn factorial(n: i64) -> f64 {
    (1..=n).map(|k| k as f64).product()
}

/// ⟨j1 m1 j2 m2 | j3 m3⟩ by Racah's formula, as e3nn's `_su2_clebsch_gordan_coeff`.
fn su2_clebsch_gordan(j1: i64, m1: i64, j2: i64, m2: i64, j3: i64, m3: i64) -> f64 {
    if m3 != m1 + m2 {
        return 0.0;
    }
    let vmin = (-j1 + j2 + m3).max(-j1 + m1).max(0);
    let vmax = (j2 + j3 + m1).min(j3 - j1 + j2).min(j3 + m3);
    let f = factorial;
    let prefactor = ((2 * j3 + 1) as f64
        * (f(j3 + j1 - j2) * f(j3 - j1 + j2) * f(j1 + j2 - j3) * f(j3 + m3) * f(j3 - m3))
        / (f(j1 + j2 + j3 + 1) * f(j1 - m1) * f(j1 + m1) * f(j2 - m2) * f(j2 + m2)))
    .sqrt();
    let sum: f64 = (vmin..=vmax)
        .map(|v| {
            let sign = if (v + j2 + m2).rem_euclid(2) == 0 {
                1.0
            } else {
                -1.0
            };
            sign * f(j2 + j3 + m1 - v) * f(j1 - m1 + v)
                / (f(v) * f(j3 - j1 + j2 - v) * f(j3 + m3 - v) * f(v + j1 - j2 - m3))
        })
        .sum();
    prefactor * sum
}

/// e3nn's `change_basis_real_to_complex(l)`, `[2l+1, 2l+1]` row-major.
fn real_to_complex(l: usize) -> Vec<Complex> {
    let n = 2 * l + 1;
    let li = l as i64;
    let mut q = vec![Complex::ZERO; n * n];
    let h = std::f64::consts::FRAC_1_SQRT_2;
    for m in -li..=li {
        let row = (li + m) as usize;
        let plus = (li + m.abs()) as usize;
        let minus = (li - m.abs()) as usize;
        if m < 0 {
            q[row * n + plus] = Complex::new(h, 0.0);
            q[row * n + minus] = Complex::new(0.0, -h);
        } else if m == 0 {
            q[row * n + row] = Complex::new(1.0, 0.0);
        } else {
            let sign = if m % 2 == 0 { 1.0 } else { -1.0 };
            q[row * n + plus] = Complex::new(sign * h, 0.0);
            q[row * n + minus] = Complex::new(0.0, sign * h);
        }
    }
    // Multiply by (−i)^l.
    let phase = (0..l).fold(Complex::new(1.0, 0.0), |acc, _| {
        acc.mul(Complex::new(0.0, -1.0))
    });
    q.iter().map(|&x| x.mul(phase)).collect()
}

/// The e3nn ≥ 0.5 block `C[i, j, k]`, shape `[2l1+1, 2l2+1, 2l3+1]`, row-major, Frobenius norm 1.
fn wigner_3j_e3nn06(l1: usize, l2: usize, l3: usize) -> Vec<f64> {
    let (n1, n2, n3) = (2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1);
    let (q1, q2, q3) = (
        real_to_complex(l1),
        real_to_complex(l2),
        real_to_complex(l3),
    );
    let (j1, j2, j3) = (l1 as i64, l2 as i64, l3 as i64);
    let mut su2 = vec![0.0; n1 * n2 * n3];
    for a in 0..n1 {
        for b in 0..n2 {
            for c in 0..n3 {
                su2[(a * n2 + b) * n3 + c] =
                    su2_clebsch_gordan(j1, a as i64 - j1, j2, b as i64 - j2, j3, c as i64 - j3);
            }
        }
    }
    // C[j, l, m] = Σ_{i,k,n} Q1[i, j] Q2[k, l] conj(Q3[n, m]) CG[i, k, n]
    let mut c = vec![0.0; n1 * n2 * n3];
    for j in 0..n1 {
        for l in 0..n2 {
            for m in 0..n3 {
                let mut sum = Complex::ZERO;
                for i in 0..n1 {
                    let a = q1[i * n1 + j];
                    if a == Complex::ZERO {
                        continue;
                    }
                    for k in 0..n2 {
                        let b = q2[k * n2 + l];
                        if b == Complex::ZERO {
                            continue;
                        }
                        for n in 0..n3 {
                            let cg = su2[(i * n2 + k) * n3 + n];
                            if cg != 0.0 {
                                let term = a.mul(b).mul(q3[n * n3 + m].conj()).scale(cg);
                                sum = Complex::new(sum.re + term.re, sum.im + term.im);
                            }
                        }
                    }
                }
                debug_assert!(sum.im.abs() < 1e-10, "w3j not real");
                c[(j * n2 + l) * n3 + m] = sum.re;
            }
        }
    }
    let norm = c.iter().map(|x| x * x).sum::<f64>().sqrt();
    c.iter().map(|x| x / norm).collect()
}

/// Permutes block axes: `out[idx[order[0]], idx[order[1]], idx[order[2]]] = block[idx]`
/// where `block` has degrees `ls`.
fn permute_block(block: &[f64], ls: [usize; 3], order: [usize; 3]) -> Vec<f64> {
    let n = ls.map(|l| 2 * l + 1);
    let out_n = order.map(|axis| n[axis]);
    let mut out = vec![0.0; block.len()];
    for a in 0..n[0] {
        for b in 0..n[1] {
            for c in 0..n[2] {
                let idx = [a, b, c];
                let o = order.map(|axis| idx[axis]);
                out[(o[0] * out_n[1] + o[1]) * out_n[2] + o[2]] = block[(a * n[1] + b) * n[2] + c];
            }
        }
    }
    out
}

/// The e3nn 0.4.x block: the sorted-order block with the sign that makes its first non-zero
/// entry positive when l1 + l2 + l3 is odd, permuted with (−1)^(l1+l2+l3) for odd permutations.
fn wigner_3j_e3nn04(l1: usize, l2: usize, l3: usize) -> Vec<f64> {
    let ls = [l1, l2, l3];
    let mut order = [0usize, 1, 2];
    order.sort_by_key(|&axis| ls[axis]);
    let sorted = order.map(|axis| ls[axis]);
    let mut block = wigner_3j_e3nn06(sorted[0], sorted[1], sorted[2]);
    let odd = (l1 + l2 + l3) % 2 == 1;
    if odd {
        let first = block
            .iter()
            .find(|x| x.abs() > 1e-10)
            .copied()
            .unwrap_or(1.0);
        if first < 0.0 {
            block.iter_mut().for_each(|x| *x = -*x);
        }
    }
    // `order[k]` is the requested axis that sits at sorted position k; go back.
    let mut inverse = [0usize; 3];
    for (k, &axis) in order.iter().enumerate() {
        inverse[axis] = k;
    }
    let mut out = permute_block(&block, sorted, inverse);
    if odd && permutation_parity(inverse) {
        out.iter_mut().for_each(|x| *x = -*x);
    }
    out
}

/// Whether a permutation of three elements is odd.
fn permutation_parity(p: [usize; 3]) -> bool {
    let inversions = (0..3)
        .flat_map(|i| (i + 1..3).map(move |j| (i, j)))
        .filter(|&(i, j)| p[i] > p[j])
        .count();
    inversions % 2 == 1
}

/// The Wigner-3j block `C[i, j, k]` of degrees (l1, l2, l3) in e3nn's real basis, row-major
/// `[2l1+1, 2l2+1, 2l3+1]`, Frobenius norm 1; empty unless |l1 − l2| ≤ l3 ≤ l1 + l2.
pub fn wigner_3j(l1: usize, l2: usize, l3: usize, convention: W3jConvention) -> Vec<f64> {
    if l3 < l1.abs_diff(l2) || l3 > l1 + l2 {
        return Vec::new();
    }
    match convention {
        W3jConvention::E3nn06 => wigner_3j_e3nn06(l1, l2, l3),
        W3jConvention::E3nn04 => wigner_3j_e3nn04(l1, l2, l3),
    }
}

/// Wigner-3j blocks for a model: computed in a convention, or given by the model file (which
/// then take precedence).
#[derive(Debug, Clone)]
pub struct W3jTable {
    convention: W3jConvention,
    given: HashMap<[usize; 3], Vec<f64>>,
}

impl W3jTable {
    /// Blocks computed in `convention`.
    pub fn new(convention: W3jConvention) -> Self {
        Self {
            convention,
            given: HashMap::new(),
        }
    }

    /// Uses `block` for degrees `ls` instead of computing it.
    pub fn insert(&mut self, ls: [usize; 3], block: Vec<f64>) {
        self.given.insert(ls, block);
    }

    /// The block for degrees `ls`.
    pub fn get(&self, ls: [usize; 3]) -> Vec<f64> {
        self.given
            .get(&ls)
            .cloned()
            .unwrap_or_else(|| wigner_3j(ls[0], ls[1], ls[2], self.convention))
    }
}
