//! nequip's ZBL pair term (`nequip.nn.pair_potential.ZBL`): per directed edge from atom j to
//! centre i, `E = f Z_i Z_j / r · φ(x) · c_p(r / r_max)` with
//! `x = (Z_i^0.23 + Z_j^0.23) r / 0.46850`, the universal screening
//! `φ(x) = Σ_k c_k e^{d_k x}` and nequip's polynomial cutoff c_p; f is half of e²/(4πε₀)
//! (14.399645 eV Å in metal units), so the two directions of a pair add up to the whole energy.

use crate::equivariant::PolynomialCutoff;
use crate::fast::edges::PairTerm;

/// (c_k, d_k) of the universal screening function, as nequip writes them.
const SCREENING: [(f64, f64); 4] = [
    (0.02817, -0.20162),
    (0.28022, -0.40290),
    (0.50986, -0.94229),
    (0.18175, -3.19980),
];
/// The screening length's prefactor a₀, Å, and the exponent of Z.
const A0: f64 = 0.46850;
const PZBL: f64 = 0.23;

/// nequip's ZBL term of one model.
#[derive(Debug, Clone)]
pub struct NequipZbl {
    /// Half of e²/(4πε₀), eV Å.
    pub factor: f64,
    /// The cutoff envelope (the model's r_max).
    pub cutoff: PolynomialCutoff,
}

impl PairTerm for NequipZbl {
    fn energy(&self, r: f64, u: u8, v: u8) -> (f64, f64) {
        let (zi, zj) = (f64::from(v), f64::from(u));
        let k = (zi.powf(PZBL) + zj.powf(PZBL)) / A0;
        let x = k * r;
        let (mut phi, mut d_phi) = (0.0, 0.0);
        for (c, d) in SCREENING {
            let term = c * (d * x).exp();
            phi += term;
            d_phi += d * k * term;
        }
        let q = self.factor * zi * zj;
        let (e0, de0) = (q / r * phi, q * (d_phi / r - phi / (r * r)));
        let (f, df) = self.cutoff.value_and_derivative(r);
        (e0 * f, de0 * f + e0 * df)
    }
}
