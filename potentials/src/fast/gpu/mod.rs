//! The fast path's edge work on a GPU through cubecl (`#[cube]` kernels in `kernels.rs`): the
//! radial MLP, the channel-wise tensor product and the sum into receivers, and their backward
//! passes, run where the network's float type is f32 or f64; node work stays on the CPU.
//!
//! Per evaluation the graph (edge indices, harmonics) goes to the device once; per layer the node
//! features go up and the messages, the features' gradients and the per-edge harmonics and
//! radial-basis gradients come back. The edge work streams over chunks of receivers (forward)
//! or senders (backward) whose per-edge weights fit in `chunk_bytes`: the radial basis of a
//! chunk goes up, its weights live on the device only while the chunk is worked on, and are
//! recomputed for the backward pass, as on the CPU. The same kernels run
//! on CUDA (`cuda` feature) and on wgpu's Vulkan backend (`wgpu` feature, which the tests use
//! with Mesa's CPU driver lavapipe).

mod kernels;

use super::convolution::CouplingTables;
use super::convolve::EdgeStage;
use super::convolve::{EdgePasses, EdgeWork};
use super::dense::Real;
use super::edges::Edges;
use cubecl::prelude::*;
use cubecl::server::Handle;
use cubecl::{calculate_cube_count_elemwise, CubeElement};

/// A float the GPU kernels compute in (f32 or f64).
pub trait GpuReal: Real + Float + CubeElement {}
impl GpuReal for f32 {}
impl GpuReal for f64 {}

/// A device array of `len` values.
#[derive(Debug, Clone)]
struct Buffer {
    handle: Handle,
    len: usize,
}

impl Buffer {
    fn arg<R: Runtime>(&self) -> ArrayArg<R> {
        // SAFETY: `len` is the number of elements the handle was created with.
        #[allow(unsafe_code)]
        unsafe {
            ArrayArg::from_raw_parts(self.handle.clone(), self.len.max(1))
        }
    }
}

/// One layer's device tables: the product's coupling and the radial MLP.
#[derive(Debug)]
struct LayerTables {
    row_out: Buffer,
    row_w: Buffer,
    row_q: Buffer,
    q_x: Buffer,
    q_y: Buffer,
    q_v: Buffer,
    path_row: Buffer,
    rows: usize,
    channels: usize,
    numel: usize,
    /// (weights, h_in, h_out) per MLP layer, and `[c, log₂ e, ln 2]` (see `kernels`).
    mlp: Vec<(Buffer, usize, usize)>,
    constants: Buffer,
}

/// Device memory for one chunk's per-edge weights by default: 512 MiB.
pub const CHUNK_BYTES: usize = 512 << 20;

/// The edge work on a device of runtime `R`, computing in `T`.
pub struct GpuEdgeWork<R: Runtime, T> {
    client: ComputeClient<R>,
    layers: Vec<LayerTables>,
    /// Bytes of per-edge weights per chunk.
    chunk_bytes: usize,
    marker: std::marker::PhantomData<T>,
}

impl<R: Runtime, T> std::fmt::Debug for GpuEdgeWork<R, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuEdgeWork")
            .field("layers", &self.layers)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime, T: GpuReal> GpuEdgeWork<R, T> {
    /// Uploads the tables of `layers` to `device`; chunks of edges hold at most `chunk_bytes`
    /// of per-edge weights ([`CHUNK_BYTES`] is a good default).
    pub fn new(device: &R::Device, layers: &[EdgeStage<T>], chunk_bytes: usize) -> Self {
        let client = R::client(device);
        let layers = layers
            .iter()
            .map(|layer| {
                let t: CouplingTables<T> = layer.conv.tables();
                let mlp = layer
                    .mlp
                    .layers()
                    .iter()
                    .map(|(w, h_in, h_out)| (upload(&client, w), *h_in, *h_out))
                    .collect();
                LayerTables {
                    row_out: upload(&client, &t.row_out),
                    row_w: upload(&client, &t.row_w),
                    row_q: upload(&client, &t.row_q),
                    q_x: upload(&client, &t.q_x),
                    q_y: upload(&client, &t.q_y),
                    q_v: upload(&client, &t.q_v),
                    path_row: upload(&client, &t.path_row),
                    rows: t.row_out.len(),
                    channels: layer.conv.channels(),
                    numel: layer.conv.weight_numel,
                    mlp,
                    constants: upload(
                        &client,
                        &[
                            layer.mlp.constant(),
                            T::of(std::f64::consts::LOG2_E),
                            T::of(std::f64::consts::LN_2),
                        ],
                    ),
                }
            })
            .collect();
        Self {
            client,
            layers,
            chunk_bytes,
            marker: std::marker::PhantomData,
        }
    }
}

/// `values` on the device.
fn upload<R: Runtime, E: CubeElement>(client: &ComputeClient<R>, values: &[E]) -> Buffer {
    let bytes = E::as_bytes(if values.is_empty() { &[] } else { values });
    Buffer {
        handle: if bytes.is_empty() {
            client.empty(std::mem::size_of::<E>())
        } else {
            client.create_from_slice(bytes)
        },
        len: values.len(),
    }
}

/// A fresh device array of `len` values of `E`.
fn empty<R: Runtime, E>(client: &ComputeClient<R>, len: usize) -> Buffer {
    Buffer {
        handle: client.empty(len.max(1) * std::mem::size_of::<E>()),
        len,
    }
}

/// The graph of one evaluation on the device.
struct DeviceGraph {
    senders: Buffer,
    receivers: Buffer,
    receiver_start: Buffer,
    by_sender: Buffer,
    sender_start: Buffer,
    harmonics: Buffer,
    nodes: usize,
    edges: usize,
    nsh: usize,
}

/// [`GpuEdgeWork`] during one evaluation.
struct GpuPasses<'a, R: Runtime, T> {
    work: &'a GpuEdgeWork<R, T>,
    graph: DeviceGraph,
    edges: &'a Edges<T>,
    /// `[E][n_bessel]` radial basis in sender order.
    radial_by_sender: Vec<T>,
}

impl<R: Runtime, T: GpuReal> EdgeWork<T> for GpuEdgeWork<R, T> {
    fn start<'a>(
        &'a self,
        _layers: &'a [EdgeStage<T>],
        edges: &'a Edges<T>,
    ) -> Box<dyn EdgePasses<T> + 'a> {
        let nb = edges.radial.len() / edges.len().max(1);
        Box::new(GpuPasses {
            work: self,
            graph: GpuPasses::<R, T>::graph_for(self, edges),
            edges,
            radial_by_sender: edges
                .by_sender
                .iter()
                .flat_map(|&k| edges.radial[k as usize * nb..][..nb].iter().copied())
                .collect(),
        })
    }
}

impl<R: Runtime, T: GpuReal> GpuPasses<'_, R, T> {
    /// `edges` on the device of `work`.
    fn graph_for(work: &GpuEdgeWork<R, T>, edges: &Edges<T>) -> DeviceGraph {
        let c = &work.client;
        let index = |v: &[usize]| -> Vec<u32> {
            v.iter()
                .map(|&x| u32::try_from(x).expect("edge counts fit in u32"))
                .collect()
        };
        let (e, nodes) = (edges.len(), edges.receiver_start.len() - 1);
        DeviceGraph {
            senders: upload(c, &edges.senders),
            receivers: upload(c, &edges.receivers),
            receiver_start: upload(c, &index(&edges.receiver_start)),
            by_sender: upload(c, &edges.by_sender),
            sender_start: upload(c, &index(&edges.sender_start)),
            harmonics: upload(c, &edges.harmonics),
            nodes,
            edges: e,
            nsh: edges.harmonics.len() / e.max(1),
        }
    }
}

/// Launch geometry for one thread per element of `count`.
fn grid<R: Runtime>(client: &ComputeClient<R>, count: usize) -> (CubeCount, CubeDim) {
    let dim = CubeDim::new_1d(128);
    (calculate_cube_count_elemwise(client, count, dim), dim)
}

/// Hidden activations of one MLP evaluation: per hidden layer (c · silu(z), σ(z)).
type MlpTape = Vec<(Buffer, Buffer)>;

impl<R: Runtime, T: GpuReal> GpuPasses<'_, R, T> {
    fn client(&self) -> &ComputeClient<R> {
        &self.work.client
    }

    /// Reads a device array back.
    fn read(&self, buffer: &Buffer) -> Vec<T> {
        let bytes = self
            .client()
            .read_one(buffer.handle.clone())
            .expect("reading a device array back");
        T::from_bytes(&bytes)[..buffer.len].to_vec()
    }

    /// The radial MLP of layer `t` on `rows` rows of `x`: the per-edge weights and the tape.
    fn mlp_forward(&self, t: usize, x: &Buffer, rows: usize) -> (Buffer, MlpTape) {
        let (layer, c) = (&self.work.layers[t], self.client());
        let mut tape: MlpTape = Vec::new();
        let mut input = x.clone();
        let dummy = empty::<R, T>(c, 1);
        for (k, (w, h_in, h_out)) in layer.mlp.iter().enumerate() {
            let hidden = k + 1 < layer.mlp.len();
            let out = empty::<R, T>(c, rows * h_out);
            let sigma = if hidden {
                empty::<R, T>(c, rows * h_out)
            } else {
                dummy.clone()
            };
            let (count, dim) = grid(c, out.len);
            // SAFETY: every array's length is what the kernel indexes (rows × widths).
            #[allow(unsafe_code)]
            unsafe {
                kernels::dense_forward::launch_unchecked::<T, R>(
                    c,
                    count,
                    dim,
                    input.arg(),
                    w.arg(),
                    out.arg(),
                    sigma.arg(),
                    layer.constants.arg(),
                    *h_in,
                    *h_out,
                    hidden,
                    // Vulkan has no 64-bit exp; one formula for f64 on every device.
                    std::mem::size_of::<T>() == 8,
                );
            }
            if !hidden {
                return (out, tape);
            }
            tape.push((out.clone(), sigma));
            input = out;
        }
        unreachable!("an MLP has an output layer")
    }

    /// The backward of [`mlp_forward`](Self::mlp_forward): `∂/∂x` given `g_out` on the output.
    fn mlp_backward(&self, t: usize, tape: &MlpTape, g_out: Buffer, rows: usize) -> Buffer {
        let (layer, c) = (&self.work.layers[t], self.client());
        let mut g = g_out;
        for (k, (w, h_in, h_out)) in layer.mlp.iter().enumerate().rev() {
            let g_x = empty::<R, T>(c, rows * h_in);
            let (h, sigma) = match k {
                0 => (g.clone(), g.clone()),
                _ => tape[k - 1].clone(),
            };
            let (count, dim) = grid(c, g_x.len);
            // SAFETY: as in `mlp_forward`.
            #[allow(unsafe_code)]
            unsafe {
                kernels::dense_backward::launch_unchecked::<T, R>(
                    c,
                    count,
                    dim,
                    g.arg(),
                    w.arg(),
                    g_x.arg(),
                    sigma.arg(),
                    h.arg(),
                    layer.constants.arg(),
                    *h_in,
                    *h_out,
                    k > 0,
                );
            }
            g = g_x;
        }
        g
    }
}

impl<R: Runtime, T: GpuReal> GpuPasses<'_, R, T> {
    /// Layer `t`'s coupling as a kernel argument.
    fn coupling(&self, t: usize) -> kernels::CouplingLaunch<T, R> {
        let l = &self.work.layers[t];
        kernels::CouplingLaunch::new(
            l.row_out.arg(),
            l.row_w.arg(),
            l.row_q.arg(),
            l.q_x.arg(),
            l.q_y.arg(),
            l.q_v.arg(),
            l.path_row.arg(),
        )
    }

    /// The edges as a kernel argument.
    fn edge_list(&self) -> kernels::EdgeListLaunch<T, R> {
        let g = &self.graph;
        kernels::EdgeListLaunch::new(
            g.senders.arg(),
            g.receivers.arg(),
            g.by_sender.arg(),
            g.harmonics.arg(),
        )
    }
}

/// Consecutive nodes `(first, count)` whose edges (ranges `starts [n + 1]`) number at most
/// `max_edges`, or one node where a single node has more.
fn chunks(starts: &[usize], max_edges: usize) -> Vec<(usize, usize)> {
    let n = starts.len() - 1;
    let mut out = Vec::new();
    let mut first = 0;
    while first < n {
        let mut end = first + 1;
        while end < n && starts[end + 1] - starts[first] <= max_edges {
            end += 1;
        }
        out.push((first, end - first));
        first = end;
    }
    out
}

impl<R: Runtime, T: GpuReal> GpuPasses<'_, R, T> {
    /// Layer `t`'s node chunks over `starts`.
    fn chunks(&self, t: usize, starts: &[usize]) -> Vec<(usize, usize)> {
        let per_edge = self.work.layers[t].numel * std::mem::size_of::<T>();
        chunks(starts, (self.work.chunk_bytes / per_edge.max(1)).max(1))
    }

    /// Layer `t`'s per-edge weights and MLP tape for radial-basis rows `radial [rows][nb]`
    /// (a one-value placeholder when there are no rows).
    fn weights(&self, t: usize, radial: &[T]) -> (Buffer, MlpTape) {
        let rows = radial.len() / self.work.layers[t].mlp[0].1;
        if rows == 0 {
            return (empty::<R, T>(self.client(), 1), Vec::new());
        }
        self.mlp_forward(t, &upload(self.client(), radial), rows)
    }
}

impl<R: Runtime, T: GpuReal> EdgePasses<T> for GpuPasses<'_, R, T> {
    fn forward(&mut self, t: usize, up: &[T]) -> Vec<T> {
        let (l, g, c) = (&self.work.layers[t], &self.graph, self.client());
        let out = empty::<R, T>(c, g.nodes * l.rows * l.channels);
        if g.edges == 0 {
            return vec![T::zero(); out.len];
        }
        let x = upload(c, up);
        let (starts, nb) = (
            &self.edges.receiver_start,
            self.edges.radial.len() / g.edges,
        );
        for (first, count) in self.chunks(t, starts) {
            let (e0, e1) = (starts[first], starts[first + count]);
            let (w, _) = self.weights(t, &self.edges.radial[e0 * nb..e1 * nb]);
            let (cubes, dim) = grid(c, count * l.channels);
            // SAFETY: the tables index inside `x` (`[n][dim_up]`), `out` (`[n][dim_out]`) and
            // `w` (the chunk's edges × numel).
            #[allow(unsafe_code)]
            unsafe {
                kernels::conv_forward::launch_unchecked::<T, R>(
                    c,
                    cubes,
                    dim,
                    self.coupling(t),
                    self.edge_list(),
                    g.receiver_start.arg(),
                    x.arg(),
                    w.arg(),
                    out.arg(),
                    l.channels,
                    first,
                    count,
                );
            }
        }
        self.read(&out)
    }

    fn backward(
        &mut self,
        t: usize,
        up: &[T],
        g_summed: &[T],
        g_y: &mut [T],
        g_r: &mut [T],
    ) -> Vec<T> {
        let (l, g, c) = (&self.work.layers[t], &self.graph, self.client());
        if g.edges == 0 {
            return vec![T::zero(); up.len()];
        }
        let (dim_x, nb) = (up.len() / g.nodes, self.edges.radial.len() / g.edges);
        let (x, g_out) = (upload(c, up), upload(c, g_summed));
        let g_x = empty::<R, T>(c, up.len());
        let starts = &self.edges.sender_start;
        for (first, count) in self.chunks(t, starts) {
            let (p0, p1) = (starts[first], starts[first + count]);
            let (w, tape) = self.weights(t, &self.radial_by_sender[p0 * nb..p1 * nb]);
            let (cubes, dim) = grid(c, count * l.channels);
            // SAFETY: the tables index inside the node arrays `[n][dim]` and the chunk's
            // per-edge arrays `[p1 − p0][width]`.
            #[allow(unsafe_code)]
            unsafe {
                kernels::conv_backward_x::launch_unchecked::<T, R>(
                    c,
                    cubes,
                    dim,
                    self.coupling(t),
                    self.edge_list(),
                    g.sender_start.arg(),
                    w.arg(),
                    g_out.arg(),
                    g_x.arg(),
                    l.channels,
                    first,
                    count,
                );
            }
            if p1 == p0 {
                continue;
            }
            let g_w = empty::<R, T>(c, (p1 - p0) * l.numel);
            let gy = empty::<R, T>(c, (p1 - p0) * g.nsh);
            // SAFETY: as above.
            #[allow(unsafe_code)]
            unsafe {
                let (cubes, dim) = grid(c, (p1 - p0) * l.channels);
                kernels::conv_backward_w::launch_unchecked::<T, R>(
                    c,
                    cubes,
                    dim,
                    self.coupling(t),
                    self.edge_list(),
                    x.arg(),
                    g_out.arg(),
                    g_w.arg(),
                    l.channels,
                    dim_x,
                    p0,
                );
                let (cubes, dim) = grid(c, p1 - p0);
                kernels::conv_backward_y::launch_unchecked::<T, R>(
                    c,
                    cubes,
                    dim,
                    self.coupling(t),
                    self.edge_list(),
                    x.arg(),
                    w.arg(),
                    g_out.arg(),
                    gy.arg(),
                    l.channels,
                    dim_x,
                    p0,
                );
            }
            let gr = self.mlp_backward(t, &tape, g_w, p1 - p0);
            let add = |into: &mut [T], from: Vec<T>| {
                into.iter_mut().zip(from).for_each(|(a, b)| *a += b);
            };
            add(&mut g_y[p0 * g.nsh..p1 * g.nsh], self.read(&gy));
            add(&mut g_r[p0 * nb..p1 * nb], self.read(&gr));
        }
        self.read(&g_x)
    }
}
