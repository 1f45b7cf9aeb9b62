//! The hand-written backward pass of one Allegro centre: from ∂E/∂ε_e = scale · edge_norm back
//! through the readout, the layers (latent MLP, channel-wise product, environment sum), the
//! tensor and scalar embeddings to ∂E/∂Y_e and ∂E/∂b_e, then to ∂E/∂(edge vector).

use super::evaluate::Tape;
use super::network::Network;
use crate::fast::edges::{Edges, Harmonics};
use crate::fast::Real;
use nalgebra::Vector3;

impl<T: Real> Network<T> {
    /// ∂E/∂(edge vector) of the edges of centre `i` (receiver order), from its forward tape.
    pub(super) fn backward(
        &self,
        i: usize,
        types: &[u32],
        (edges, harmonics): (&Edges<T>, &Harmonics),
        tape: &mut Tape<T>,
    ) -> Vec<Vector3<f64>> {
        let ti = types[i] as usize;
        let (start, end) = (edges.receiver_start[i], edges.receiver_start[i + 1]);
        let ne = end - start;
        if ne == 0 {
            return Vec::new();
        }
        let (nsh, s, c, nt) = (
            self.sign.len(),
            self.scalars,
            self.channels,
            self.layers.len(),
        );
        let width = self.tensor.width_out();
        let stride = (nt + 1) * s;
        let seed = T::of(self.scale_shift[ti].0 * self.edge_norm[ti]);
        let mut g_scalars = vec![T::zero(); ne * stride];
        self.readout
            .backward(&mut tape.mlps[4], &vec![seed; ne], ne, &mut g_scalars);
        let mut g_y = vec![T::zero(); ne * nsh];
        let last = self.layers[nt - 1].dim_out;
        let mut g_tensor = vec![T::zero(); ne * c * last];
        let mut g_weights: Vec<T> = Vec::new();
        for (t, layer) in self.layers.iter().enumerate().rev() {
            let w_out = layer.latent.width_out();
            let w_in = (t + 1) * s + c;
            let mut g_latent = vec![T::zero(); ne * w_out];
            for e in 0..ne {
                let row = &mut g_latent[e * w_out..][..w_out];
                row[..s].copy_from_slice(&g_scalars[e * stride + (t + 1) * s..][..s]);
                if t + 1 < nt {
                    row[s..].copy_from_slice(&g_weights[e * width..][..width]);
                }
            }
            let mut g_in = vec![T::zero(); ne * w_in];
            layer
                .latent
                .backward(&mut tape.mlps[5 + t], &g_latent, ne, &mut g_in);
            let (d_in, d_out) = (layer.dim_in, layer.dim_out);
            for e in 0..ne {
                let row = &g_in[e * w_in..][..w_in];
                g_scalars[e * stride..][..(t + 1) * s]
                    .iter_mut()
                    .zip(&row[..(t + 1) * s])
                    .for_each(|(a, b)| *a += *b);
                for u in 0..c {
                    g_tensor[(e * c + u) * d_out] += row[(t + 1) * s + u];
                }
            }
            // The channel-wise product V'[u][k] = Σ W_u[i][j][k] V[u][i] Ω[u][j].
            let (input, env) = (&tape.tensor[t], &tape.env[t]);
            let mut g_input = vec![T::zero(); ne * c * d_in];
            let mut g_env = vec![T::zero(); c * nsh];
            for e in 0..ne {
                for (u, coupling) in layer.coupling.iter().enumerate() {
                    let at = (e * c + u) * d_in;
                    let g_out = &g_tensor[(e * c + u) * d_out..][..d_out];
                    for &(i1, j, k, v) in coupling {
                        let g = v * g_out[k];
                        g_input[at + i1] += g * env[u * nsh + j];
                        g_env[u * nsh + j] += g * input[at + i1];
                    }
                }
            }
            // Ω = norm Σ_e w_e[u, l(m)] Y_e[m].
            let norm = self.env_norm[ti];
            let weights = &tape.weights[t];
            g_weights = vec![T::zero(); ne * width];
            for e in 0..ne {
                for u in 0..c {
                    for m in 0..nsh {
                        let g = norm * g_env[u * nsh + m];
                        let slot = e * width + self.slot(u, m);
                        g_weights[slot] += g * tape.y[e * nsh + m];
                        g_y[e * nsh + m] += g * weights[slot];
                    }
                }
            }
            g_tensor = g_input;
        }
        // The first layer's weights and scalars come from the projection of x₀.
        let mut g_projection = vec![T::zero(); ne * (s + width)];
        for e in 0..ne {
            let row = &mut g_projection[e * (s + width)..][..s + width];
            row[..s].copy_from_slice(&g_scalars[e * stride..][..s]);
            row[s..].copy_from_slice(&g_weights[e * width..][..width]);
        }
        let mut g_x0 = vec![T::zero(); ne * s];
        self.projection
            .backward(&mut tape.mlps[3], &g_projection, ne, &mut g_x0);
        // V₀[u][m] = w₀[u, l(m)] Y[m].
        let mut g_w0 = vec![T::zero(); ne * width];
        for e in 0..ne {
            for u in 0..c {
                for m in 0..nsh {
                    let g = g_tensor[(e * c + u) * nsh + m];
                    let slot = e * width + self.slot(u, m);
                    g_w0[slot] += g * tape.y[e * nsh + m];
                    g_y[e * nsh + m] += g * tape.w0[slot];
                }
            }
        }
        let mut g_x0_tensor = vec![T::zero(); ne * s];
        self.tensor
            .backward(&mut tape.mlps[2], &g_w0, ne, &mut g_x0_tensor);
        g_x0.iter_mut()
            .zip(&g_x0_tensor)
            .for_each(|(a, b)| *a += *b);
        let mut g_a = vec![T::zero(); tape.types.len()];
        self.embed.backward(&mut tape.mlps[1], &g_x0, ne, &mut g_a);
        g_a.iter_mut().zip(&tape.types).for_each(|(g, t)| *g *= *t);
        let nb = self.basis.width_in();
        let mut g_b = vec![T::zero(); ne * nb];
        self.basis.backward(&mut tape.mlps[0], &g_a, ne, &mut g_b);
        (0..ne)
            .map(|k| {
                let e = start + k;
                let v = edges.vectors[e];
                let length = v.norm();
                let unit = v / length;
                let mut gy: Vec<f64> = (0..nsh)
                    .map(|m| (g_y[k * nsh + m] * self.sign[m]).to_f64())
                    .collect();
                let g = harmonics.backward(
                    &unit,
                    length,
                    &edges.harmonics64[e * nsh..][..nsh],
                    &mut gy,
                );
                let slope: f64 = g_b[k * nb..][..nb]
                    .iter()
                    .zip(&edges.radial_slope[e * nb..][..nb])
                    .map(|(g, s)| g.to_f64() * s)
                    .sum();
                g + unit * slope
            })
            .collect()
    }
}
