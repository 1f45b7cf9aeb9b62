//! `skip_tp` with one-hot node attributes: a fully connected product with `n_elements x 0e` is,
//! for a node of element e, a linear map whose weights are the e-th slice of W. Nodes are
//! grouped by element and each group goes through its element's [`LinearMap`].

use super::dense::Real;
use super::linear::LinearMap;
use super::parallel::rows_in_parallel;
use crate::equivariant::{FullyConnectedTensorProduct, Irreps, ScaledPath, W3jTable};
use crate::PotentialError;

/// The nodes of each element, in index order.
#[derive(Debug, Clone, Default)]
pub struct ElementGroups {
    /// Per element, its nodes.
    pub nodes: Vec<Vec<u32>>,
}

impl ElementGroups {
    /// Groups nodes by their element index (< `n_elements`).
    pub fn new(elements: &[u32], n_elements: usize) -> Self {
        let mut nodes = vec![Vec::new(); n_elements];
        for (node, &e) in elements.iter().enumerate() {
            nodes[e as usize].push(node as u32);
        }
        Self { nodes }
    }
}

/// One [`LinearMap`] per element.
#[derive(Debug, Clone)]
pub struct ElementLinear<T> {
    maps: Vec<LinearMap<T>>,
}

impl<T: Real> ElementLinear<T> {
    /// `FullyConnectedTensorProduct(irreps_in, n_elements x 0e, irreps_out)` with flat weights.
    pub fn new(
        irreps_in: &Irreps,
        node_attrs: &Irreps,
        irreps_out: &Irreps,
        weights: &[f64],
        w3j: &W3jTable,
    ) -> Result<Self, PotentialError> {
        let n_elements = node_attrs.dim();
        let instructions = FullyConnectedTensorProduct::<burn::backend::Flex>::instructions(
            irreps_in, node_attrs, irreps_out,
        );
        let mut per_element: Vec<Vec<ScaledPath>> = vec![Vec::new(); n_elements];
        let mut offset = 0;
        for i in &instructions {
            let (mul_in, mul_out) = (irreps_in.0[i.input1].mul, irreps_out.0[i.output].mul);
            let l = irreps_in.0[i.input1].ir.l;
            let c = identity_coupling(w3j, l)?;
            let size = mul_in * n_elements * mul_out;
            let block = weights.get(offset..offset + size).ok_or_else(|| {
                PotentialError::Invalid(format!("skip_tp: too few weights ({})", weights.len()))
            })?;
            offset += size;
            for (e, paths) in per_element.iter_mut().enumerate() {
                let mut weight = Vec::with_capacity(mul_in * mul_out);
                for u in 0..mul_in {
                    let row = &block[(u * n_elements + e) * mul_out..][..mul_out];
                    weight.extend(row.iter().map(|w| w * i.path_weight * c));
                }
                paths.push(ScaledPath {
                    input: i.input1,
                    output: i.output,
                    mul_in,
                    mul_out,
                    weight,
                });
            }
        }
        if offset != weights.len() {
            return Err(PotentialError::Invalid(format!(
                "skip_tp needs {offset} weights, got {}",
                weights.len()
            )));
        }
        Ok(Self {
            maps: per_element
                .iter()
                .map(|paths| LinearMap::from_paths(irreps_in, irreps_out, paths))
                .collect(),
        })
    }

    /// `out [N, dim_out]` = each node's row through its element's map (out overwritten).
    pub fn forward(&self, x: &[T], groups: &ElementGroups, out: &mut [T]) {
        self.apply(x, groups, out, false);
    }

    /// `g_x [N, dim_in] +=` each node's gradient row through its element's map, transposed.
    pub fn backward(&self, g_out: &[T], groups: &ElementGroups, g_x: &mut [T]) {
        self.apply(g_out, groups, g_x, true);
    }

    fn apply(&self, x: &[T], groups: &ElementGroups, out: &mut [T], transpose: bool) {
        for (map, nodes) in self.maps.iter().zip(&groups.nodes) {
            if nodes.is_empty() {
                continue;
            }
            let (width_in, width_out) = if transpose {
                (map.dim_out(), map.dim_in())
            } else {
                (map.dim_in(), map.dim_out())
            };
            let mut rows = Vec::with_capacity(nodes.len() * width_in);
            for &n in nodes {
                rows.extend_from_slice(&x[n as usize * width_in..][..width_in]);
            }
            let mut result = vec![T::zero(); nodes.len() * width_out];
            rows_in_parallel(&rows, width_in, &mut result, width_out, |x, y| {
                if transpose {
                    map.backward(x, y);
                } else {
                    map.forward(x, y);
                }
            });
            for (&n, row) in nodes.iter().zip(result.chunks_exact(width_out)) {
                let target = &mut out[n as usize * width_out..][..width_out];
                if transpose {
                    target.iter_mut().zip(row).for_each(|(t, &v)| *t += v);
                } else {
                    target.copy_from_slice(row);
                }
            }
        }
    }
}

/// C(l, 0, l)[i, 0, k] = c δ_ik: returns c, or an error if the table says otherwise.
fn identity_coupling(w3j: &W3jTable, l: usize) -> Result<f64, PotentialError> {
    let d = 2 * l + 1;
    let block = w3j.get([l, 0, l]);
    let c = block[0];
    for i in 0..d {
        for k in 0..d {
            let expected = if i == k { c } else { 0.0 };
            if (block[i * d + k] - expected).abs() > 1e-12 {
                return Err(PotentialError::Invalid(format!(
                    "Wigner-3j ({l}, 0, {l}) is not a multiple of the identity"
                )));
            }
        }
    }
    Ok(c)
}
