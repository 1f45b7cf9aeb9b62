//! The `#[cube]` kernels of the edge work, one thread per output element it owns (no atomics,
//! every sum in a fixed order, so results do not depend on scheduling).
//!
//! Layouts as on the CPU path: node features m-major (`[n][dim]`, channels fastest), per-edge
//! rows `[E][width]`. A tensor product is a list of output rows (path p, component k), each
//! `out[k][u] = w[p,u] Σ_q v_q Y[j_q] x[i_q][u]` over its non-zero coupling coefficients q
//! ([`Coupling`]). Edges are in receiver order; `by_sender[p]` is the p-th edge in sender
//! order (the backward pass's order).

use cubecl::prelude::*;

/// e^x from `constants = [c, log₂ e, ln 2]` (in the kernel's float type): x = k ln 2 + r with
/// |r| ≤ ln 2 / 2, e^r by a degree-13 Taylor polynomial (Horner, exact integer divisors), 2^k
/// from exact powers of two; x is clamped to [−40, 40] first (the sigmoid it serves is 1 or
/// e^x to 1e−17 beyond). A few ulp in f64, where Vulkan has no 64-bit `Exp`.
#[cube]
fn exp_exact<F: Float>(x: F, constants: &Array<F>) -> F {
    let x = F::clamp(x, F::new(-40.0), F::new(40.0));
    let k = F::floor(x * constants[1] + F::new(0.5));
    let r = x - k * constants[2];
    let mut p = F::new(1.0);
    #[unroll]
    for n in 0..13u32 {
        p = F::new(1.0) + r * p / F::new(comptime!((13 - n) as f32));
    }
    let mut m = u32::cast_from(F::abs(k));
    let mut base = F::new(2.0);
    let mut scale = F::new(1.0);
    #[unroll]
    for _ in 0..6u32 {
        if m % 2 == 1 {
            scale *= base;
        }
        base *= base;
        m /= 2;
    }
    if k < F::new(0.0) {
        scale = F::new(1.0) / scale;
    }
    p * scale
}

/// `z = x W` for `rows` rows (`x [rows, h_in]`, `W [h_in, h_out]`), then with `activation`:
/// `σ = 1/(1 + e^{−z})` into `sigma` and `c z σ` into `z`, c = `constants[0]`
/// (`constants` as in `exp_exact`, used for e^x when `exact`, else the native `exp`).
/// One thread per output element.
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn dense_forward<F: Float>(
    x: &Array<F>,
    w: &Array<F>,
    z: &mut Array<F>,
    sigma: &mut Array<F>,
    constants: &Array<F>,
    h_in: usize,
    h_out: usize,
    #[comptime] activation: bool,
    #[comptime] exact: bool,
) {
    if ABSOLUTE_POS >= z.len() {
        terminate!();
    }
    let (row, o) = (ABSOLUTE_POS / h_out, ABSOLUTE_POS % h_out);
    let mut acc = F::new(0.0);
    for i in 0..h_in {
        acc += x[row * h_in + i] * w[i * h_out + o];
    }
    if activation {
        let e = if exact {
            exp_exact::<F>(-acc, constants)
        } else {
            F::exp(-acc)
        };
        let s = F::new(1.0) / (F::new(1.0) + e);
        sigma[ABSOLUTE_POS] = s;
        z[ABSOLUTE_POS] = constants[0] * acc * s;
    } else {
        z[ABSOLUTE_POS] = acc;
    }
}

/// `g_x = g Wᵀ` (`g [rows, h_out]`), then with `activation` times `c σ + h (1 − σ)`, the
/// slope of `c · silu` at the layer's input, from the previous layer's `sigma` and output `h`
/// (c = `constants[0]`).
/// One thread per element of `g_x`.
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn dense_backward<F: Float>(
    g: &Array<F>,
    w: &Array<F>,
    g_x: &mut Array<F>,
    sigma: &Array<F>,
    h: &Array<F>,
    constants: &Array<F>,
    h_in: usize,
    h_out: usize,
    #[comptime] activation: bool,
) {
    if ABSOLUTE_POS >= g_x.len() {
        terminate!();
    }
    let (row, i) = (ABSOLUTE_POS / h_in, ABSOLUTE_POS % h_in);
    let mut acc = F::new(0.0);
    for o in 0..h_out {
        acc += g[row * h_out + o] * w[i * h_out + o];
    }
    if activation {
        let s = sigma[ABSOLUTE_POS];
        acc *= constants[0] * s + h[ABSOLUTE_POS] * (F::new(1.0) - s);
    }
    g_x[ABSOLUTE_POS] = acc;
}

/// A tensor product's coupling (`CouplingTables`): per output row (path p, component k)
/// `row_out` (`offset3 + k · C`), `row_w` (`p · C`) and its coefficients
/// `row_q[row]..row_q[row + 1]`; per coefficient `q_x` (`offset1 + i · C`), `q_y` (j) and `q_v`
/// (`pw · C_ijk`); per path its rows `path_row[p]..path_row[p + 1]`.
#[derive(CubeLaunch, CubeType)]
pub struct Coupling<F: Float> {
    pub row_out: Array<u32>,
    pub row_w: Array<u32>,
    pub row_q: Array<u32>,
    pub q_x: Array<u32>,
    pub q_y: Array<u32>,
    pub q_v: Array<F>,
    pub path_row: Array<u32>,
}

/// The edges: receiver-order `senders` and `receivers`, `by_sender[p]` (the p-th edge in sender
/// order) and the harmonics `[E][n_sh]` (receiver order).
#[derive(CubeLaunch, CubeType)]
pub struct EdgeList<F: Float> {
    pub senders: Array<u32>,
    pub receivers: Array<u32>,
    pub by_sender: Array<u32>,
    pub harmonics: Array<F>,
}

/// `Σ_{q ∈ row} v_q Y_e[j_q] x[x_base + x_q]` for edge `e`.
#[cube]
fn couple<F: Float>(
    t: &Coupling<F>,
    g: &EdgeList<F>,
    row: usize,
    e: usize,
    x: &Array<F>,
    x_base: usize,
) -> F {
    let nsh = g.harmonics.len() / g.senders.len();
    let mut part = F::new(0.0);
    for q in usize::cast_from(t.row_q[row])..usize::cast_from(t.row_q[row + 1]) {
        let y = g.harmonics[e * nsh + usize::cast_from(t.q_y[q])];
        part += t.q_v[q] * y * x[x_base + usize::cast_from(t.q_x[q])];
    }
    part
}

/// `out[r] = Σ_{e into r} TP(x[sender], Y_e; w_e)` for the `count` receivers from `first`,
/// with the receivers' edge ranges `starts [n + 1]`: one thread per (receiver, channel);
/// `w [edges of the chunk][numel]` in receiver order.
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn conv_forward<F: Float>(
    t: &Coupling<F>,
    g: &EdgeList<F>,
    starts: &Array<u32>,
    x: &Array<F>,
    w: &Array<F>,
    out: &mut Array<F>,
    channels: usize,
    first: usize,
    count: usize,
) {
    let n = starts.len() - 1;
    let (dim_x, dim_out) = (x.len() / n, out.len() / n);
    let numel = (t.path_row.len() - 1) * channels;
    if ABSOLUTE_POS >= count * channels {
        terminate!();
    }
    let (r, u) = (first + ABSOLUTE_POS / channels, ABSOLUTE_POS % channels);
    let e0 = usize::cast_from(starts[first]);
    let (start, end) = (usize::cast_from(starts[r]), usize::cast_from(starts[r + 1]));
    for row in 0..t.row_out.len() {
        let w_off = usize::cast_from(t.row_w[row]) + u;
        let mut acc = F::new(0.0);
        for e in start..end {
            let s = usize::cast_from(g.senders[e]);
            acc += w[(e - e0) * numel + w_off] * couple::<F>(t, g, row, e, x, s * dim_x + u);
        }
        let o = r * dim_out + usize::cast_from(t.row_out[row]) + u;
        out[o] = acc;
    }
}

/// `g_x[s] = ∂/∂x[s]` of `Σ g_out · out` for the `count` senders from `first`, with the
/// senders' ranges `starts [n + 1]` (of `by_sender`): one thread per (sender, channel);
/// `w [edges of the chunk][numel]` in sender order.
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn conv_backward_x<F: Float>(
    t: &Coupling<F>,
    g: &EdgeList<F>,
    starts: &Array<u32>,
    w: &Array<F>,
    g_out: &Array<F>,
    g_x: &mut Array<F>,
    channels: usize,
    first: usize,
    count: usize,
) {
    let n = starts.len() - 1;
    let (dim_x, dim_out) = (g_x.len() / n, g_out.len() / n);
    let numel = (t.path_row.len() - 1) * channels;
    let nsh = g.harmonics.len() / g.senders.len();
    if ABSOLUTE_POS >= count * channels {
        terminate!();
    }
    let (s, u) = (first + ABSOLUTE_POS / channels, ABSOLUTE_POS % channels);
    let p0 = usize::cast_from(starts[first]);
    let base = s * dim_x + u;
    for m in 0..dim_x / channels {
        g_x[base + m * channels] = F::new(0.0);
    }
    for p in usize::cast_from(starts[s])..usize::cast_from(starts[s + 1]) {
        let e = usize::cast_from(g.by_sender[p]);
        let r = usize::cast_from(g.receivers[e]);
        for row in 0..t.row_out.len() {
            let go = g_out[r * dim_out + usize::cast_from(t.row_out[row]) + u]
                * w[(p - p0) * numel + usize::cast_from(t.row_w[row]) + u];
            for q in usize::cast_from(t.row_q[row])..usize::cast_from(t.row_q[row + 1]) {
                let y = g.harmonics[e * nsh + usize::cast_from(t.q_y[q])];
                let i = base + usize::cast_from(t.q_x[q]);
                g_x[i] += t.q_v[q] * y * go;
            }
        }
    }
}

/// `g_w = ∂/∂w` for the edges of sender-order positions `p0..` (as many as `g_w` holds), for
/// node features `x [n][dim_x]`: one thread per (edge, channel).
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn conv_backward_w<F: Float>(
    t: &Coupling<F>,
    g: &EdgeList<F>,
    x: &Array<F>,
    g_out: &Array<F>,
    g_w: &mut Array<F>,
    channels: usize,
    dim_x: usize,
    p0: usize,
) {
    let n = x.len() / dim_x;
    let dim_out = g_out.len() / n;
    let numel = (t.path_row.len() - 1) * channels;
    if ABSOLUTE_POS >= g_w.len() / numel * channels {
        terminate!();
    }
    let (k, u) = (ABSOLUTE_POS / channels, ABSOLUTE_POS % channels);
    let e = usize::cast_from(g.by_sender[p0 + k]);
    let (s, r) = (
        usize::cast_from(g.senders[e]),
        usize::cast_from(g.receivers[e]),
    );
    for path in 0..t.path_row.len() - 1 {
        let mut acc = F::new(0.0);
        let rows = usize::cast_from(t.path_row[path])..usize::cast_from(t.path_row[path + 1]);
        for row in rows {
            let go = g_out[r * dim_out + usize::cast_from(t.row_out[row]) + u];
            acc += go * couple::<F>(t, g, row, e, x, s * dim_x + u);
        }
        g_w[k * numel + path * channels + u] = acc;
    }
}

/// `g_y = ∂/∂Y`, summed over channels, for the edges of sender-order positions `p0..` (as many
/// as `g_y` holds), node features `x [n][dim_x]` and their `w` rows: one thread per edge.
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn conv_backward_y<F: Float>(
    t: &Coupling<F>,
    g: &EdgeList<F>,
    x: &Array<F>,
    w: &Array<F>,
    g_out: &Array<F>,
    g_y: &mut Array<F>,
    channels: usize,
    dim_x: usize,
    p0: usize,
) {
    let n = x.len() / dim_x;
    let dim_out = g_out.len() / n;
    let numel = (t.path_row.len() - 1) * channels;
    let nsh = g.harmonics.len() / g.senders.len();
    if ABSOLUTE_POS >= g_y.len() / nsh {
        terminate!();
    }
    let k = ABSOLUTE_POS;
    let e = usize::cast_from(g.by_sender[p0 + k]);
    let (s, r) = (
        usize::cast_from(g.senders[e]),
        usize::cast_from(g.receivers[e]),
    );
    for j in 0..nsh {
        g_y[k * nsh + j] = F::new(0.0);
    }
    for row in 0..t.row_out.len() {
        let (o, w_off) = (
            r * dim_out + usize::cast_from(t.row_out[row]),
            k * numel + usize::cast_from(t.row_w[row]),
        );
        for q in usize::cast_from(t.row_q[row])..usize::cast_from(t.row_q[row + 1]) {
            let xq = s * dim_x + usize::cast_from(t.q_x[q]);
            let mut acc = F::new(0.0);
            for u in 0..channels {
                acc += g_out[o + u] * w[w_off + u] * x[xq + u];
            }
            let j = k * nsh + usize::cast_from(t.q_y[q]);
            g_y[j] += t.q_v[q] * acc;
        }
    }
}
