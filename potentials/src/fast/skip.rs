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
    /// `FullyConnectedTensorProduct(irreps_in, n_elements x 0e, irreps_out)` with flat weights,
    /// on one-hot node attributes.
    pub fn new(
        irreps_in: &Irreps,
        node_attrs: &Irreps,
        irreps_out: &Irreps,
        weights: &[f64],
        w3j: &W3jTable,
    ) -> Result<Self, PotentialError> {
        let n = node_attrs.dim();
        let one_hot: Vec<Vec<f64>> = (0..n)
            .map(|e| (0..n).map(|v| if v == e { 1.0 } else { 0.0 }).collect())
            .collect();
        Self::with_attributes(irreps_in, node_attrs, irreps_out, weights, w3j, &one_hot)
    }

    /// `FullyConnectedTensorProduct(irreps_in, node_attrs, irreps_out)` (node_attrs scalars)
    /// where every node of element e has the attributes `attributes[e]`: for element e the
    /// path u → w has the weight `Σ_v W[u][v][w] a_e[v]`.
    pub fn with_attributes(
        irreps_in: &Irreps,
        node_attrs: &Irreps,
        irreps_out: &Irreps,
        weights: &[f64],
        w3j: &W3jTable,
        attributes: &[Vec<f64>],
    ) -> Result<Self, PotentialError> {
        let n_attrs = node_attrs.dim();
        let instructions = FullyConnectedTensorProduct::<burn::backend::Flex>::instructions(
            irreps_in, node_attrs, irreps_out,
        );
        let mut per_element: Vec<Vec<ScaledPath>> = vec![Vec::new(); attributes.len()];
        let mut offset = 0;
        for i in &instructions {
            let (mul_in, mul_out) = (irreps_in.0[i.input1].mul, irreps_out.0[i.output].mul);
            let l = irreps_in.0[i.input1].ir.l;
            let c = identity_coupling(w3j, l)?;
            let size = mul_in * n_attrs * mul_out;
            let block = weights.get(offset..offset + size).ok_or_else(|| {
                PotentialError::Invalid(format!("skip_tp: too few weights ({})", weights.len()))
            })?;
            offset += size;
            for (a, paths) in attributes.iter().zip(per_element.iter_mut()) {
                let mut weight = vec![0.0; mul_in * mul_out];
                for u in 0..mul_in {
                    let row = &mut weight[u * mul_out..][..mul_out];
                    for (v, &av) in a.iter().enumerate().filter(|(_, &av)| av != 0.0) {
                        let w = &block[(u * n_attrs + v) * mul_out..][..mul_out];
                        row.iter_mut()
                            .zip(w)
                            .for_each(|(r, w)| *r += w * av * i.path_weight * c);
                    }
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
