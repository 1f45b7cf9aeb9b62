//! e3nn's irreducible representations of O(3): parsing, printing, dimensions, slices, sorting.

use crate::PotentialError;
use std::fmt;

/// An irrep of O(3): degree `l` and parity `p` (+1 "e", −1 "o").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Irrep {
    /// Degree.
    pub l: usize,
    /// Parity: +1 (even) or −1 (odd).
    pub p: i8,
}

impl Irrep {
    /// An irrep of degree `l` and parity `p` (±1).
    pub fn new(l: usize, p: i8) -> Self {
        Self { l, p }
    }

    /// Dimension 2l + 1.
    pub fn dim(&self) -> usize {
        2 * self.l + 1
    }

    /// The key e3nn sorts by: (l, p) with odd before even.
    fn sort_key(&self) -> (usize, i8) {
        (self.l, self.p)
    }
}

impl fmt::Display for Irrep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.l, if self.p > 0 { 'e' } else { 'o' })
    }
}

/// A multiplicity of an irrep, as in `16x1o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MulIrrep {
    /// Number of copies.
    pub mul: usize,
    /// The irrep.
    pub ir: Irrep,
}

impl MulIrrep {
    /// Dimension `mul · (2l + 1)`.
    pub fn dim(&self) -> usize {
        self.mul * self.ir.dim()
    }
}

/// An ordered list of multiplicities of irreps (e3nn's `Irreps`), laid out as blocks
/// `[mul, 2l+1]` with m fastest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Irreps(pub Vec<MulIrrep>);

impl Irreps {
    /// Parses e3nn notation: `"16x0e+16x1o+8x2e"`, `"0e + 1o"` (multiplicity 1), `""` (empty).
    pub fn parse(text: &str) -> Result<Self, PotentialError> {
        let error = |part: &str| {
            PotentialError::Invalid(format!("cannot parse irreps '{text}' at '{part}'"))
        };
        let mut blocks = Vec::new();
        for part in text.split('+').map(str::trim).filter(|p| !p.is_empty()) {
            let (mul, ir) = match part.split_once('x') {
                Some((mul, ir)) => (mul.trim().parse().map_err(|_| error(part))?, ir.trim()),
                None => (1, part),
            };
            let parity = match ir.chars().last() {
                Some('e') => 1,
                Some('o') => -1,
                _ => return Err(error(part)),
            };
            let l = ir[..ir.len() - 1].parse().map_err(|_| error(part))?;
            blocks.push(MulIrrep {
                mul,
                ir: Irrep::new(l, parity),
            });
        }
        Ok(Self(blocks))
    }

    /// The spherical-harmonics irreps `1x0e + 1x1o + … + 1x(lmax)` (parity (−1)^l).
    pub fn spherical_harmonics(lmax: usize) -> Self {
        Self(
            (0..=lmax)
                .map(|l| MulIrrep {
                    mul: 1,
                    ir: Irrep::new(l, if l % 2 == 0 { 1 } else { -1 }),
                })
                .collect(),
        )
    }

    /// Total dimension.
    pub fn dim(&self) -> usize {
        self.0.iter().map(MulIrrep::dim).sum()
    }

    /// Total multiplicity.
    pub fn num_irreps(&self) -> usize {
        self.0.iter().map(|b| b.mul).sum()
    }

    /// Number of blocks.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no block.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The offset and dimension of each block.
    pub fn slices(&self) -> Vec<(usize, usize)> {
        let mut offset = 0;
        self.0
            .iter()
            .map(|b| {
                let slice = (offset, b.dim());
                offset += b.dim();
                slice
            })
            .collect()
    }

    /// Stable sort by (l, p), odd before even, with the permutation: `sorted[i] = self[inv[i]]`,
    /// returned as (sorted, p) where `p[old] = new`.
    pub fn sort(&self) -> (Irreps, Vec<usize>) {
        let mut order: Vec<usize> = (0..self.0.len()).collect();
        order.sort_by_key(|&i| self.0[i].ir.sort_key());
        let mut permutation = vec![0; order.len()];
        for (new, &old) in order.iter().enumerate() {
            permutation[old] = new;
        }
        (
            Irreps(order.iter().map(|&i| self.0[i]).collect()),
            permutation,
        )
    }

    /// Merges consecutive blocks of the same irrep (as e3nn's `simplify`).
    pub fn simplify(&self) -> Irreps {
        let mut blocks: Vec<MulIrrep> = Vec::new();
        for block in &self.0 {
            match blocks.last_mut() {
                Some(last) if last.ir == block.ir => last.mul += block.mul,
                _ if block.mul > 0 => blocks.push(*block),
                _ => {}
            }
        }
        Irreps(blocks)
    }

    /// The largest degree.
    pub fn lmax(&self) -> usize {
        self.0.iter().map(|b| b.ir.l).max().unwrap_or(0)
    }
}

impl fmt::Display for Irreps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|b| format!("{}x{}", b.mul, b.ir))
            .collect();
        f.write_str(&parts.join("+"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_print_dimensions_and_slices() {
        let irreps = Irreps::parse("16x0e+16x1o+8x2e").unwrap();
        assert_eq!(irreps.to_string(), "16x0e+16x1o+8x2e");
        assert_eq!(irreps.dim(), 16 + 48 + 40);
        assert_eq!(irreps.slices(), vec![(0, 16), (16, 48), (64, 40)]);
        assert_eq!(Irreps::parse(" 0e + 1o ").unwrap().to_string(), "1x0e+1x1o");
        assert_eq!(Irreps::parse("").unwrap().dim(), 0);
        assert!(Irreps::parse("3x1q").is_err());
        assert!(Irreps::parse("ax1e").is_err());
        assert_eq!(
            Irreps::spherical_harmonics(3).to_string(),
            "1x0e+1x1o+1x2e+1x3o"
        );
    }

    #[test]
    fn sort_puts_odd_first_and_simplify_merges_neighbours() {
        let irreps = Irreps::parse("1x1e+2x0e+3x1o+4x0o+5x0e").unwrap();
        let (sorted, permutation) = irreps.sort();
        assert_eq!(sorted.to_string(), "4x0o+2x0e+5x0e+3x1o+1x1e");
        assert_eq!(permutation, vec![4, 1, 3, 0, 2]);
        assert_eq!(sorted.simplify().to_string(), "4x0o+7x0e+3x1o+1x1e");
        let unsorted = Irreps::parse("1x0e+1x1o+1x0e").unwrap();
        assert_eq!(unsorted.simplify().to_string(), "1x0e+1x1o+1x0e");
    }
}
