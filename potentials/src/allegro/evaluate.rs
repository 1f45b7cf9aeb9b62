//! One evaluation of an Allegro [`Network`]: every centre is one task that runs the forward
//! pass over its edges (the MLPs batched over them) and, at once, the hand-written backward
//! pass, since an edge's features depend only on the edges of its centre. Forces and virial
//! follow from the per-edge gradients; results do not depend on the number of threads.

use super::network::Network;
use crate::fast::edges::{Edges, Harmonics};
use crate::fast::forces::{forces, virial};
use crate::fast::mlp::MlpTape;
use crate::fast::Real;
use crate::{Evaluation, Request};
use nalgebra::Vector3;
use rayon::prelude::*;

/// What the backward pass of one centre reads from its forward pass.
#[derive(Default)]
pub(super) struct Tape<T> {
    /// Harmonics with nequip's sign, `[ne][n_sh]`.
    pub(super) y: Vec<T>,
    /// Type embeddings `[ne][D]` and `tensor_embed` weights `[ne][C·L]`.
    pub(super) types: Vec<T>,
    pub(super) w0: Vec<T>,
    /// Per layer: its input tensor features `[ne][C][d_in]`, environment weights `[ne][C·L]`
    /// and the centre's environment `[C][n_sh]`.
    pub(super) tensor: Vec<Vec<T>>,
    pub(super) weights: Vec<Vec<T>>,
    pub(super) env: Vec<Vec<T>>,
    /// Scalar features `[ne][(T+1)·S]`, layer by layer.
    pub(super) scalars: Vec<T>,
    /// The MLPs' tapes: basis, embed, tensor, projection, readout, then one per layer.
    pub(super) mlps: Vec<MlpTape<T>>,
}

impl<T: Real> Network<T> {
    /// Energies, and forces and virial as `request` asks, of atoms of the given type indices on
    /// `edges`.
    pub fn evaluate(
        &self,
        types: &[u32],
        edges: &Edges<T>,
        harmonics: &Harmonics,
        request: Request,
    ) -> Evaluation {
        let n = types.len();
        let backward = request.forces || request.virial;
        let per_centre: Vec<(f64, Vec<Vector3<f64>>)> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut tape = Tape::default();
                let energy = self.forward(i, types, edges, &mut tape);
                let gradients = if backward {
                    self.backward(i, types, (edges, harmonics), &mut tape)
                } else {
                    Vec::new()
                };
                (energy, gradients)
            })
            .collect();
        let energies: Vec<f64> = per_centre.iter().map(|(e, _)| *e).collect();
        let mut evaluation = Evaluation {
            energy: energies.iter().sum(),
            forces: Vec::new(),
            virial: None,
            energies: Some(energies),
        };
        if backward {
            let gradients: Vec<Vector3<f64>> =
                per_centre.into_iter().flat_map(|(_, g)| g).collect();
            if request.forces {
                evaluation.forces = forces(edges, &gradients, n);
            }
            if request.virial {
                evaluation.virial = Some(virial(edges, &gradients, n));
            }
        }
        evaluation
    }

    /// Weight index of channel u and harmonic component m.
    pub(super) fn slot(&self, u: usize, m: usize) -> usize {
        u * (self.degree[self.sign.len() - 1] + 1) + self.degree[m]
    }

    /// The forward pass over the edges of centre `i`: its energy (eV).
    fn forward(&self, i: usize, types: &[u32], edges: &Edges<T>, tape: &mut Tape<T>) -> f64 {
        let ti = types[i] as usize;
        let (scale, shift) = self.scale_shift[ti];
        let (start, end) = (edges.receiver_start[i], edges.receiver_start[i + 1]);
        let ne = end - start;
        if ne == 0 {
            return shift;
        }
        let (nsh, nb) = (self.sign.len(), self.basis.width_in());
        let (s, c, nt) = (self.scalars, self.channels, self.layers.len());
        let width = self.tensor.width_out();
        tape.mlps = (0..5 + nt).map(|_| MlpTape::default()).collect();
        tape.y = (start..end)
            .flat_map(|e| (0..nsh).map(move |m| edges.harmonics[e * nsh + m] * self.sign[m]))
            .collect();
        tape.types = (start..end)
            .flat_map(|e| {
                let tj = types[edges.senders[e] as usize] as usize;
                self.center[ti].iter().chain(&self.neighbor[tj]).copied()
            })
            .collect();
        let mut a = vec![T::zero(); tape.types.len()];
        let radial = &edges.radial[start * nb..end * nb];
        self.basis.forward(radial, ne, &mut tape.mlps[0], &mut a);
        a.iter_mut().zip(&tape.types).for_each(|(a, t)| *a *= *t);
        let mut x0 = vec![T::zero(); ne * s];
        self.embed.forward(&a, ne, &mut tape.mlps[1], &mut x0);
        tape.w0 = vec![T::zero(); ne * width];
        self.tensor
            .forward(&x0, ne, &mut tape.mlps[2], &mut tape.w0);
        let tensor = self.weighted(&tape.w0, &tape.y, ne);
        let mut projection = vec![T::zero(); ne * (s + width)];
        self.projection
            .forward(&x0, ne, &mut tape.mlps[3], &mut projection);
        let stride = (nt + 1) * s;
        tape.scalars = vec![T::zero(); ne * stride];
        let mut weights = vec![T::zero(); ne * width];
        for e in 0..ne {
            tape.scalars[e * stride..][..s].copy_from_slice(&projection[e * (s + width)..][..s]);
            weights[e * width..][..width]
                .copy_from_slice(&projection[e * (s + width) + s..][..width]);
        }
        tape.tensor = vec![tensor];
        for (t, layer) in self.layers.iter().enumerate() {
            let env = self.environment(&weights, &tape.y, ne, self.env_norm[ti]);
            let (d_in, d_out) = (layer.dim_in, layer.dim_out);
            let input = &tape.tensor[t];
            let mut output = vec![T::zero(); ne * c * d_out];
            for e in 0..ne {
                for (u, coupling) in layer.coupling.iter().enumerate() {
                    let x = &input[(e * c + u) * d_in..][..d_in];
                    let o = &mut output[(e * c + u) * d_out..][..d_out];
                    for &(i1, j, k, v) in coupling {
                        o[k] += v * x[i1] * env[u * nsh + j];
                    }
                }
            }
            let w_in = (t + 1) * s + c;
            let mut latent_in = vec![T::zero(); ne * w_in];
            for e in 0..ne {
                let row = &mut latent_in[e * w_in..][..w_in];
                row[..(t + 1) * s].copy_from_slice(&tape.scalars[e * stride..][..(t + 1) * s]);
                for u in 0..c {
                    row[(t + 1) * s + u] = output[(e * c + u) * d_out];
                }
            }
            let w_out = layer.latent.width_out();
            let mut latent = vec![T::zero(); ne * w_out];
            layer
                .latent
                .forward(&latent_in, ne, &mut tape.mlps[5 + t], &mut latent);
            for e in 0..ne {
                tape.scalars[e * stride + (t + 1) * s..][..s]
                    .copy_from_slice(&latent[e * w_out..][..s]);
            }
            tape.weights.push(weights);
            tape.env.push(env);
            tape.tensor.push(output);
            weights = if t + 1 < nt {
                (0..ne)
                    .flat_map(|e| latent[e * w_out + s..][..width].iter().copied())
                    .collect()
            } else {
                Vec::new()
            };
        }
        let mut energies = vec![T::zero(); ne];
        self.readout
            .forward(&tape.scalars, ne, &mut tape.mlps[4], &mut energies);
        let sum: f64 = energies.iter().map(|v| v.to_f64()).sum();
        shift + scale * self.edge_norm[ti] * sum
    }

    /// `V[e][u][m] = w[e][u, l(m)] · Y[e][m]`, `[ne][C][n_sh]`.
    fn weighted(&self, w: &[T], y: &[T], ne: usize) -> Vec<T> {
        let (nsh, c, width) = (self.sign.len(), self.channels, self.tensor.width_out());
        let mut out = vec![T::zero(); ne * c * nsh];
        for e in 0..ne {
            for u in 0..c {
                for m in 0..nsh {
                    out[(e * c + u) * nsh + m] = w[e * width + self.slot(u, m)] * y[e * nsh + m];
                }
            }
        }
        out
    }

    /// The centre's environment `norm · Σ_e V_e` of weights `w`, `[C][n_sh]`.
    fn environment(&self, w: &[T], y: &[T], ne: usize, norm: T) -> Vec<T> {
        let (nsh, c) = (self.sign.len(), self.channels);
        let weighted = self.weighted(w, y, ne);
        let mut env = vec![T::zero(); c * nsh];
        for row in weighted.chunks_exact(c * nsh) {
            env.iter_mut().zip(row).for_each(|(a, b)| *a += *b);
        }
        env.iter_mut().for_each(|v| *v *= norm);
        env
    }
}
