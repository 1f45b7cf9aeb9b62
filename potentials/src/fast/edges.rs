//! The edges a fast MACE evaluation streams over: those shorter than r_max, grouped by receiver
//! (forward) and by sender (backward), with their harmonics, radial basis and pair repulsion,
//! computed in f64 with their derivatives.

use super::dense::Real;
use crate::equivariant::recursion_matrices;
use crate::mace::radial::{RadialParameters, ZblRepulsion};
use crate::AtomicGraph;
use nalgebra::Vector3;
use rayon::prelude::*;

/// e3nn's real spherical harmonics (component normalisation) by the recursion
/// `Y_{l+1} = M_l (Y_1 ⊗ Y_l)`, `Y_1 = √3 r̂`, with the backward pass of the recursion.
#[derive(Debug, Clone)]
pub struct Harmonics {
    /// `M_l` as `[3 (2l+1)][2l+3]` for l = 1..lmax−1.
    recursion: Vec<Vec<f64>>,
    /// (l_max + 1)².
    pub dim: usize,
}

impl Harmonics {
    /// Degrees 0..=lmax.
    pub fn new(lmax: usize) -> Self {
        Self {
            recursion: recursion_matrices(lmax),
            dim: (lmax + 1) * (lmax + 1),
        }
    }

    /// Y(r̂) into `y [dim]`.
    pub fn forward(&self, unit: &Vector3<f64>, y: &mut [f64]) {
        y[0] = 1.0;
        if self.dim == 1 {
            return;
        }
        let s3 = 3f64.sqrt();
        y[1..4].copy_from_slice(&[s3 * unit.x, s3 * unit.y, s3 * unit.z]);
        for (k, matrix) in self.recursion.iter().enumerate() {
            let l = k + 1;
            let (n, m) = (2 * l + 1, 2 * l + 3);
            let (lower, upper) = y.split_at_mut(l * l + n);
            let (y1, yl) = (&lower[1..4], &lower[l * l..]);
            let next = &mut upper[..m];
            next.fill(0.0);
            for i in 0..3 {
                for j in 0..n {
                    let a = y1[i] * yl[j];
                    for (o, &c) in next.iter_mut().zip(&matrix[(i * n + j) * m..][..m]) {
                        *o += c * a;
                    }
                }
            }
        }
    }

    /// ∂/∂v of `Σ g_y · Y(v/|v|)` for a vector of length `length` whose harmonics are `y`;
    /// `g_y` is consumed as scratch.
    pub fn backward(
        &self,
        unit: &Vector3<f64>,
        length: f64,
        y: &[f64],
        g_y: &mut [f64],
    ) -> Vector3<f64> {
        if self.dim == 1 {
            return Vector3::zeros();
        }
        for (k, matrix) in self.recursion.iter().enumerate().rev() {
            let l = k + 1;
            let (n, m) = (2 * l + 1, 2 * l + 3);
            let (lower, upper) = g_y.split_at_mut(l * l + n);
            let g_next = &upper[..m];
            for i in 0..3 {
                for j in 0..n {
                    let dot: f64 = matrix[(i * n + j) * m..][..m]
                        .iter()
                        .zip(g_next)
                        .map(|(c, g)| c * g)
                        .sum();
                    lower[1 + i] += dot * y[l * l + j];
                    lower[l * l + j] += dot * y[1 + i];
                }
            }
        }
        let g_unit = Vector3::new(g_y[1], g_y[2], g_y[3]) * 3f64.sqrt();
        (g_unit - unit * g_unit.dot(unit)) / length
    }
}

/// The radial basis R_n(r) = bessel_n(t(r)) · f(r) and its derivative dR_n/dr, for an edge
/// between atomic numbers `u` (sender) and `v` (receiver).
pub fn radial_basis(
    p: &RadialParameters,
    r: f64,
    u: u8,
    v: u8,
    out: &mut [f64],
    slope: &mut [f64],
) {
    let (t, dt) = match &p.transform {
        None => (r, 1.0),
        Some(a) => {
            let inverse_r0 = a.inverse_r0(u, v);
            let x = r * inverse_r0;
            let (xq, xqp) = (x.powf(a.q), x.powf(a.q - a.p));
            let ratio = a.a * xq / (1.0 + xqp);
            let d_ratio = a.a
                * (a.q * x.powf(a.q - 1.0) * (1.0 + xqp)
                    - xq * (a.q - a.p) * x.powf(a.q - a.p - 1.0))
                / ((1.0 + xqp) * (1.0 + xqp));
            let t = 1.0 / (1.0 + ratio);
            (t, -d_ratio * t * t * inverse_r0)
        }
    };
    let (f, df) = p.cutoff.value_and_derivative(r);
    for ((o, s), &w) in out.iter_mut().zip(slope.iter_mut()).zip(&p.frequencies) {
        let (sin, cos) = (w * t).sin_cos();
        let b = p.prefactor * sin / t;
        let db = p.prefactor * (w * cos / t - sin / (t * t));
        *o = b * f;
        *s = db * dt * f + b * df;
    }
}

/// A pair repulsion of the model, evaluated per directed edge (ZBL in MACE's or nequip's form).
pub trait PairTerm: std::fmt::Debug + Send + Sync {
    /// The energy (eV) this term gives a directed edge of length `r` (Å) from an atom of atomic
    /// number `u` to one of `v`, and its derivative with respect to r (eV/Å).
    fn energy(&self, r: f64, u: u8, v: u8) -> (f64, f64);
}

impl PairTerm for ZblRepulsion {
    fn energy(&self, r: f64, u: u8, v: u8) -> (f64, f64) {
        zbl_energy(self, r, u, v)
    }
}

/// MACE's ZBL energy of one directed edge and its derivative with respect to r.
pub fn zbl_energy(zbl: &ZblRepulsion, r: f64, u: u8, v: u8) -> (f64, f64) {
    let pair = zbl.pair(u, v);
    let x = r * pair.inverse_a;
    let (mut phi, mut d_phi) = (0.0, 0.0);
    for (c, b) in zbl.screening() {
        let term = c * (-b * x).exp();
        phi += term;
        d_phi -= b * term * pair.inverse_a;
    }
    let envelope = crate::equivariant::PolynomialCutoff {
        r_max: 1.0,
        p: zbl.envelope_p(),
    };
    let (g, dg) = envelope.value_and_derivative(r * pair.inverse_r_max);
    let dg = dg * pair.inverse_r_max;
    let energy = pair.charge / r * phi * g;
    let slope = pair.charge * (-phi * g / (r * r) + (d_phi * g + phi * dg) / r);
    (energy, slope)
}

/// The kept edges of one evaluation and everything per edge that does not depend on weights.
#[derive(Debug, Default)]
pub struct Edges<T> {
    /// Senders, in receiver order.
    pub senders: Vec<u32>,
    /// Receivers (sorted).
    pub receivers: Vec<u32>,
    /// Edges into node n: `receiver_start[n]..receiver_start[n + 1]`.
    pub receiver_start: Vec<usize>,
    /// Edge indices grouped by sender (ascending within a sender).
    pub by_sender: Vec<u32>,
    /// Edges out of node n: `by_sender[sender_start[n]..sender_start[n + 1]]`.
    pub sender_start: Vec<usize>,
    /// Edge vectors, Å.
    pub vectors: Vec<Vector3<f64>>,
    /// `[E][n_sh]` harmonics in f64 (kept for the backward pass) …
    pub harmonics64: Vec<f64>,
    /// … and in the network's float type.
    pub harmonics: Vec<T>,
    /// `[E][n_bessel]` radial basis.
    pub radial: Vec<T>,
    /// `[E][n_bessel]` dR/dr, 1/Å.
    pub radial_slope: Vec<f64>,
    /// Per edge (pair energy, dE/dr) when the model has a pair term.
    pub zbl: Vec<(f64, f64)>,
}

impl<T: Real> Edges<T> {
    /// Collects the graph's edges shorter than `r_max` and computes their features.
    pub fn build(
        graph: &AtomicGraph<'_>,
        r_max: f64,
        harmonics: &Harmonics,
        radial: &RadialParameters,
        pair: Option<&dyn PairTerm>,
    ) -> Self {
        let n = graph.len();
        let kept: Vec<(usize, Vector3<f64>)> = (0..graph.senders.len())
            .map(|e| (e, graph.edge_vector(e)))
            .filter(|(_, v)| v.norm() < r_max)
            .collect();
        let kept_receivers: Vec<u32> = kept.iter().map(|&(e, _)| graph.receivers[e]).collect();
        let (order, receiver_start) = group_by(&kept_receivers, n);
        let senders: Vec<u32> = order
            .iter()
            .map(|&k| graph.senders[kept[k as usize].0])
            .collect();
        let receivers: Vec<u32> = order.iter().map(|&k| kept_receivers[k as usize]).collect();
        let vectors: Vec<Vector3<f64>> = order.iter().map(|&k| kept[k as usize].1).collect();
        let (by_sender, sender_start) = group_by(&senders, n);
        let (nsh, nb) = (harmonics.dim, radial.frequencies.len());
        let mut edges = Self {
            harmonics64: vec![0.0; vectors.len() * nsh],
            radial: vec![T::zero(); vectors.len() * nb],
            radial_slope: vec![0.0; vectors.len() * nb],
            senders,
            receivers,
            receiver_start,
            by_sender,
            sender_start,
            vectors,
            ..Self::default()
        };
        let species = graph.species;
        let mut radial64 = vec![0.0; edges.vectors.len() * nb];
        edges
            .harmonics64
            .par_chunks_mut(nsh)
            .zip(radial64.par_chunks_mut(nb))
            .zip(edges.radial_slope.par_chunks_mut(nb))
            .enumerate()
            .for_each(|(e, ((y, r), s))| {
                let v = edges.vectors[e];
                let length = v.norm();
                harmonics.forward(&(v / length), y);
                let (u, w) = (
                    species[edges.senders[e] as usize],
                    species[edges.receivers[e] as usize],
                );
                radial_basis(radial, length, u, w, r, s);
            });
        edges.radial = radial64.iter().map(|&v| T::of(v)).collect();
        edges.harmonics = edges.harmonics64.iter().map(|&v| T::of(v)).collect();
        if let Some(pair) = pair {
            edges.zbl = (0..edges.vectors.len())
                .into_par_iter()
                .map(|e| {
                    let (u, w) = (
                        species[edges.senders[e] as usize],
                        species[edges.receivers[e] as usize],
                    );
                    pair.energy(edges.vectors[e].norm(), u, w)
                })
                .collect();
        }
        edges
    }

    /// Per atom (of `n`): the pair energies of the edges it receives, eV.
    pub fn pair_energies(&self, n: usize) -> Vec<f64> {
        let mut pair = vec![0.0; n];
        for (e, &(energy, _)) in self.zbl.iter().enumerate() {
            pair[self.receivers[e] as usize] += energy;
        }
        pair
    }

    /// Number of kept edges.
    pub fn len(&self) -> usize {
        self.senders.len()
    }

    /// Whether no edge is kept.
    pub fn is_empty(&self) -> bool {
        self.senders.is_empty()
    }
}

/// Edge indices grouped by `keys[e]` (< n), ascending within a group, and the group starts.
fn group_by(keys: &[u32], n: usize) -> (Vec<u32>, Vec<usize>) {
    let mut start = vec![0usize; n + 1];
    for &k in keys {
        start[k as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut next = start.clone();
    let mut grouped = vec![0u32; keys.len()];
    for (e, &k) in keys.iter().enumerate() {
        grouped[next[k as usize]] = e as u32;
        next[k as usize] += 1;
    }
    (grouped, start)
}
