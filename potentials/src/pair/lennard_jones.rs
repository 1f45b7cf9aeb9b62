//! The 12-6 Lennard-Jones pair potential with per-pair parameters and Lorentz-Berthelot mixing.

use super::{PairBatch, PairPotential};
use crate::PotentialError;

/// ε and σ for one pair of elements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LennardJonesPair {
    /// Atomic numbers of the two elements (order does not matter).
    pub elements: [u8; 2],
    /// Well depth ε, eV.
    pub epsilon: f64,
    /// Zero-crossing distance σ, Å.
    pub sigma: f64,
}

/// Coefficients of one pair type: `V = c12/r¹² − c6/r⁶ − shift`.
#[derive(Debug, Clone, Copy)]
struct Coefficients {
    c12: f64,
    c6: f64,
    shift: f64,
}

/// `V = c12/r¹² − c6/r⁶ − shift` (eV) and `g = (1/r) dV/dr = (6 c6 − 12 c12/r⁶)/r⁸` (eV/Å²)
/// at squared distance `r2` (Å²).
#[inline(always)]
fn energy_and_gradient(c12: f64, c6: f64, shift: f64, r2: f64) -> (f64, f64) {
    let inv2 = 1.0 / r2;
    let inv6 = inv2 * inv2 * inv2;
    let energy = inv6 * (c12 * inv6 - c6) - shift;
    let gradient = inv6 * inv2 * (6.0 * c6 - 12.0 * c12 * inv6);
    (energy, gradient)
}

/// `V(r) = 4ε[(σ/r)¹² − (σ/r)⁶]` below a cutoff, optionally shifted so that `V(cutoff) = 0`
/// (forces are not shifted, as LAMMPS' `pair_modify shift yes` and ASE's `smooth=False`).
///
/// Pairs not listed take Lorentz-Berthelot parameters from the like pairs:
/// `ε_ab = √(ε_aa ε_bb)`, `σ_ab = (σ_aa + σ_bb)/2`.
#[derive(Debug, Clone)]
pub struct LennardJones {
    cutoff: f64,
    /// Atomic number to type index (`u8::MAX`: no parameters).
    type_index: [u8; 256],
    elements: Vec<u8>,
    /// `n_types × n_types` (zero where no parameters exist: see `known`).
    coefficients: Vec<Coefficients>,
    /// `n_types × n_types`: whether a listed pair or mixing gives parameters.
    known: Vec<bool>,
}

impl LennardJones {
    /// Builds the potential from listed pairs, a cutoff (Å) and whether to shift the energy.
    pub fn new(
        pairs: &[LennardJonesPair],
        cutoff: f64,
        shift: bool,
    ) -> Result<Self, PotentialError> {
        if !(cutoff.is_finite() && cutoff > 0.0) {
            return Err(PotentialError::Invalid(format!(
                "the Lennard-Jones cutoff must be a positive number of Å, got {cutoff}"
            )));
        }
        let mut elements: Vec<u8> = pairs.iter().flat_map(|p| p.elements).collect();
        elements.sort_unstable();
        elements.dedup();
        let mut type_index = [u8::MAX; 256];
        for (index, &z) in elements.iter().enumerate() {
            type_index[z as usize] = index as u8;
        }
        let n = elements.len();
        let mut parameters: Vec<Option<(f64, f64)>> = vec![None; n * n];
        for pair in pairs {
            if !(pair.epsilon.is_finite() && pair.epsilon >= 0.0) {
                return Err(PotentialError::Invalid(format!(
                    "Lennard-Jones epsilon must be a non-negative number of eV, got {}",
                    pair.epsilon
                )));
            }
            if !(pair.sigma.is_finite() && pair.sigma > 0.0) {
                return Err(PotentialError::Invalid(format!(
                    "Lennard-Jones sigma must be a positive number of Å, got {}",
                    pair.sigma
                )));
            }
            let a = type_index[pair.elements[0] as usize] as usize;
            let b = type_index[pair.elements[1] as usize] as usize;
            if parameters[a * n + b].is_some() {
                return Err(PotentialError::Invalid(format!(
                    "the Lennard-Jones pair of elements {} and {} is listed twice",
                    pair.elements[0], pair.elements[1]
                )));
            }
            parameters[a * n + b] = Some((pair.epsilon, pair.sigma));
            parameters[b * n + a] = Some((pair.epsilon, pair.sigma));
        }
        let mixed = (0..n * n)
            .map(|ab| {
                let (a, b) = (ab / n, ab % n);
                parameters[ab].or_else(|| {
                    let (ea, sa) = parameters[a * n + a]?;
                    let (eb, sb) = parameters[b * n + b]?;
                    Some(((ea * eb).sqrt(), 0.5 * (sa + sb)))
                })
            })
            .map(|p| {
                p.map(|(epsilon, sigma)| {
                    let c6 = 4.0 * epsilon * sigma.powi(6);
                    let c12 = 4.0 * epsilon * sigma.powi(12);
                    let inv6 = cutoff.powi(-6);
                    let at_cutoff = inv6 * (c12 * inv6 - c6);
                    Coefficients {
                        c12,
                        c6,
                        shift: if shift { at_cutoff } else { 0.0 },
                    }
                })
            })
            .collect::<Vec<Option<Coefficients>>>();
        Ok(Self {
            cutoff,
            type_index,
            elements,
            known: mixed.iter().map(Option::is_some).collect(),
            coefficients: mixed
                .into_iter()
                .map(|c| {
                    c.unwrap_or(Coefficients {
                        c12: 0.0,
                        c6: 0.0,
                        shift: 0.0,
                    })
                })
                .collect(),
        })
    }

    fn has_parameters(&self, a: usize, b: usize) -> bool {
        self.known[a * self.elements.len() + b]
    }
}

impl PairPotential for LennardJones {
    fn cutoff(&self) -> f64 {
        self.cutoff
    }

    fn type_of(&self, atomic_number: u8) -> Option<usize> {
        let index = self.type_index[atomic_number as usize];
        (index != u8::MAX).then_some(index as usize)
    }

    fn check_species(&self, species: &[u8]) -> Result<(), PotentialError> {
        let mut present: Vec<(u8, usize)> = Vec::new();
        for (atom, &z) in species.iter().enumerate() {
            if present.iter().any(|&(seen, _)| seen == z) {
                continue;
            }
            let t = self
                .type_of(z)
                .ok_or(PotentialError::UnknownSpecies { element: z, atom })?;
            for &(other, _) in &present {
                let u = self.type_of(other).expect("checked when first seen");
                if !self.has_parameters(t, u) {
                    return Err(PotentialError::Invalid(format!(
                        "no Lennard-Jones parameters for the pair of elements {z} and {other}: \
                         list the pair, or both like pairs for Lorentz-Berthelot mixing"
                    )));
                }
            }
            if !self.has_parameters(t, t) {
                return Err(PotentialError::Invalid(format!(
                    "no Lennard-Jones parameters for the like pair of element {z}"
                )));
            }
            present.push((z, atom));
        }
        Ok(())
    }

    #[inline]
    fn energy_and_gradient(&self, a: usize, b: usize, r2: f64) -> (f64, f64) {
        let Coefficients { c12, c6, shift } = self.coefficients[a * self.elements.len() + b];
        energy_and_gradient(c12, c6, shift, r2)
    }

    /// The lanes run as one loop of vector instructions: with one pair type the coefficients
    /// are constants; otherwise each lane's are loaded by its type.
    #[inline(always)]
    fn evaluate_batch(&self, a: usize, batch: &mut PairBatch) {
        let n = self.elements.len();
        let row = &self.coefficients[a * n..(a + 1) * n];
        let lanes = batch.lanes();
        let PairBatch {
            types,
            r2,
            energy,
            gradient,
            ..
        } = batch;
        let cutoff_squared = self.cutoff * self.cutoff;
        let out = (&mut energy[..lanes], &mut gradient[..lanes]);
        match row {
            [c] => batch_lanes(&r2[..lanes], cutoff_squared, |_| *c, out),
            _ => batch_lanes(
                &r2[..lanes],
                cutoff_squared,
                |l| row[types[l] as usize],
                out,
            ),
        }
    }
}

/// Energies and gradients of pairs at squared distances `r2` with coefficients `coefficients(l)`
/// for lane `l`; zero at or beyond the cutoff.
#[inline(always)]
fn batch_lanes(
    r2: &[f64],
    cutoff_squared: f64,
    coefficients: impl Fn(usize) -> Coefficients,
    (energy, gradient): (&mut [f64], &mut [f64]),
) {
    for (l, ((&r2, energy), gradient)) in r2.iter().zip(energy).zip(gradient).enumerate() {
        let c = coefficients(l);
        let (e, g) = energy_and_gradient(c.c12, c.c6, c.shift, r2);
        // A factor, not a branch or a select: the loop compiles to vector instructions.
        // Beyond the cutoff r2 > 0, so e and g are finite and become 0.
        let inside = if r2 < cutoff_squared { 1.0 } else { 0.0 };
        *energy = e * inside;
        *gradient = g * inside;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argon() -> LennardJones {
        let pair = LennardJonesPair {
            elements: [18, 18],
            epsilon: 0.0103236,
            sigma: 3.405,
        };
        LennardJones::new(&[pair], 8.5125, false).unwrap()
    }

    #[test]
    fn minimum_at_two_to_the_sixth_sigma() {
        let lj = argon();
        let r_min = 2f64.powf(1.0 / 6.0) * 3.405;
        let (energy, gradient) = lj.energy_and_gradient(0, 0, r_min * r_min);
        assert!((energy + 0.0103236).abs() < 1e-15);
        assert!(gradient.abs() < 1e-15);
        let (energy, _) = lj.energy_and_gradient(0, 0, 3.405 * 3.405);
        assert!(energy.abs() < 1e-15);
    }

    #[test]
    fn gradient_is_derivative_of_energy() {
        let lj = argon();
        let (r, h) = (3.7, 1e-6);
        let e = |r: f64| lj.energy_and_gradient(0, 0, r * r).0;
        let numeric = (e(r + h) - e(r - h)) / (2.0 * h);
        let (_, gradient) = lj.energy_and_gradient(0, 0, r * r);
        assert!((gradient * r - numeric).abs() < 1e-9 * numeric.abs());
    }

    #[test]
    fn lorentz_berthelot_mixing_and_missing_pairs() {
        let pairs = [
            LennardJonesPair {
                elements: [18, 18],
                epsilon: 0.01,
                sigma: 3.4,
            },
            LennardJonesPair {
                elements: [36, 36],
                epsilon: 0.0144,
                sigma: 3.6,
            },
        ];
        let lj = LennardJones::new(&pairs, 9.0, true).unwrap();
        let (a, b) = (lj.type_of(18).unwrap(), lj.type_of(36).unwrap());
        let sigma: f64 = 3.5;
        let (energy, _) = lj.energy_and_gradient(a, b, sigma * sigma);
        let epsilon = (0.01f64 * 0.0144).sqrt();
        let inv6 = 9f64.powi(-6);
        let shift = 4.0 * epsilon * (sigma.powi(12) * inv6 * inv6 - sigma.powi(6) * inv6);
        assert!((energy + shift).abs() < 1e-15);
        assert!(lj.check_species(&[18, 36, 18]).is_ok());
        let err = lj.check_species(&[18, 10]).unwrap_err();
        assert!(err.to_string().contains("element 10 (atom 1)"), "{err}");
        let only_cross = [LennardJonesPair {
            elements: [18, 36],
            epsilon: 0.01,
            sigma: 3.5,
        }];
        let lj = LennardJones::new(&only_cross, 9.0, true).unwrap();
        assert!(lj
            .check_species(&[18, 36])
            .unwrap_err()
            .to_string()
            .contains("like pair"));
    }
}
