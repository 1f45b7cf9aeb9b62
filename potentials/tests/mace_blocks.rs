//! Each building block against mace-torch's recorded intermediates of `mace_small_a` on
//! `pbc_bulk8` (e3nn 0.4.4), in f64: spherical harmonics, radial embedding, node embedding,
//! the first interaction block (linear_up, radial MLP, convolution tensor product, linear,
//! skip tensor product) and the first symmetric contraction.

mod common;

use burn::backend::Flex;
use burn::tensor::Tensor;
use common::{max_difference, read_tensors};
use mlmd_potentials::equivariant::tensor::{indices, tensor, to_host};
use mlmd_potentials::equivariant::{
    BesselBasis, ChannelwiseTensorProduct, ContractionIrrep, ContractionOrder, FloatType,
    FullyConnectedTensorProduct, Irreps, Linear, Normalization, PolynomialCutoff, RadialMlp,
    SphericalHarmonics, SymmetricContraction, W3jConvention, W3jTable, SILU_NORMALIZE2MOM,
};
use std::collections::HashMap;

type B = Flex;
const F64: FloatType = FloatType::F64;

struct Fixture {
    weights: HashMap<String, (Vec<usize>, Vec<f64>)>,
    hooks: HashMap<String, (Vec<usize>, Vec<f64>)>,
}

impl Fixture {
    fn load() -> Self {
        Self {
            weights: read_tensors("mace_small_a.compact.safetensors"),
            hooks: read_tensors("mace_small_a__pbc_bulk8__intermediates.safetensors"),
        }
    }

    fn weight(&self, key: &str) -> &[f64] {
        &self
            .weights
            .get(key)
            .unwrap_or_else(|| panic!("no weight {key}"))
            .1
    }

    fn hook(&self, key: &str) -> &(Vec<usize>, Vec<f64>) {
        self.hooks
            .get(key)
            .unwrap_or_else(|| panic!("no intermediate {key}"))
    }

    fn tensor2(&self, key: &str) -> Tensor<B, 2> {
        let (shape, values) = self.hook(key);
        let cols = shape.get(1).copied().unwrap_or(1);
        tensor(values, [shape[0], cols], &Default::default(), F64)
    }

    /// U_ν densified from the compact COO storage.
    fn dense_u(&self, prefix: &str) -> (Vec<usize>, Vec<f64>) {
        let shape: Vec<usize> = self
            .weight(&format!("{prefix}.coo_shape"))
            .iter()
            .map(|&v| v as usize)
            .collect();
        let idx = self.weight(&format!("{prefix}.coo_idx"));
        let val = self.weight(&format!("{prefix}.coo_val"));
        let mut dense = vec![0.0; shape.iter().product()];
        for (n, &v) in val.iter().enumerate() {
            let flat = (0..shape.len()).fold(0, |acc, a| {
                acc * shape[a] + idx[n * shape.len() + a] as usize
            });
            dense[flat] = v;
        }
        (shape, dense)
    }
}

fn assert_close(
    name: &str,
    ours: Tensor<B, 2>,
    reference: &(Vec<usize>, Vec<f64>),
    tolerance: f64,
) {
    let ours = to_host(ours);
    let scale = reference.1.iter().map(|v| v.abs()).fold(1.0, f64::max);
    let difference = max_difference(&ours, &reference.1);
    assert!(
        difference < tolerance * scale,
        "{name}: max difference {difference:e} (scale {scale:e})"
    );
}

fn irreps(text: &str) -> Irreps {
    Irreps::parse(text).unwrap()
}

#[test]
fn first_interaction_and_product_equal_mace_torch() {
    let f = Fixture::load();
    let device = Default::default();
    let w3j = W3jTable::new(W3jConvention::E3nn04);
    let vectors = f.tensor2("derived/edge_vectors");
    let lengths = f.tensor2("derived/edge_lengths");
    let [edges, _] = vectors.dims();

    // Spherical harmonics and radial embedding.
    let sh =
        SphericalHarmonics::<B>::new(3, Normalization::Component, &device, F64).forward(vectors);
    assert_close(
        "spherical_harmonics",
        sh.clone(),
        f.hook("hook/spherical_harmonics"),
        1e-12,
    );
    let bessel = BesselBasis::<B>::from_parts(
        f.weight("radial_embedding.bessel_fn.bessel_weights"),
        f.weight("radial_embedding.bessel_fn.prefactor")[0],
        &device,
        F64,
    );
    let cutoff = PolynomialCutoff {
        r_max: 5.0,
        p: f.weight("radial_embedding.cutoff_fn.p")[0],
    };
    let radial = bessel.forward(lengths.clone()) * cutoff.forward(lengths);
    assert_close(
        "radial_embedding",
        radial.clone(),
        f.hook("hook/radial_embedding[0]"),
        1e-12,
    );

    // Node embedding.
    let embedding = Linear::<B>::new(
        &irreps("3x0e"),
        &irreps("16x0e"),
        f.weight("node_embedding.linear.weight"),
        &device,
        F64,
    )
    .unwrap();
    let node_attrs = f.tensor2("input/node_attrs");
    let h = embedding.forward(node_attrs.clone());
    assert_close(
        "node_embedding",
        h.clone(),
        f.hook("hook/node_embedding"),
        1e-12,
    );

    // interactions.0
    let hidden = irreps("16x0e");
    let linear_up = Linear::<B>::new(
        &hidden,
        &hidden,
        f.weight("interactions.0.linear_up.weight"),
        &device,
        F64,
    )
    .unwrap();
    let up = linear_up.forward(h.clone());
    assert_close(
        "linear_up",
        up.clone(),
        f.hook("hook/interactions.0.linear_up"),
        1e-12,
    );
    let layers: Vec<(Vec<f64>, usize, usize)> = (0..4)
        .map(|k| {
            let (shape, w) = &f.weights[&format!("interactions.0.conv_tp_weights.layer{k}.weight")];
            (w.clone(), shape[0], shape[1])
        })
        .collect();
    let mlp = RadialMlp::<B>::new(&layers, SILU_NORMALIZE2MOM, &device, F64);
    let tp_weights = mlp.forward(radial);
    assert_close(
        "conv_tp_weights",
        tp_weights.clone(),
        f.hook("hook/interactions.0.conv_tp_weights"),
        1e-12,
    );
    let sh_irreps = Irreps::spherical_harmonics(3);
    let target = irreps("16x0e+16x1o+16x2e+16x3o");
    let (mid, instructions) =
        ChannelwiseTensorProduct::<B>::mace_instructions(&hidden, &sh_irreps, &target);
    assert_eq!(mid.to_string(), "16x0e+16x1o+16x2e+16x3o");
    let conv = ChannelwiseTensorProduct::<B>::new(
        &hidden,
        &sh_irreps,
        &mid,
        &instructions,
        &w3j,
        &device,
        F64,
    )
    .unwrap();
    assert_eq!(conv.weight_numel(), 64);
    let (_, edge_index) = f.hook("input/edge_index");
    let senders: Vec<u32> = edge_index[..edges].iter().map(|&v| v as u32).collect();
    let receivers: Vec<u32> = edge_index[edges..].iter().map(|&v| v as u32).collect();
    // The grouped convolution (gather, product, scatter in one) against the plain product
    // followed by a scatter-sum below.
    let convolved = conv.convolve(
        up.clone(),
        indices(&senders, &device),
        indices(&receivers, &device),
        sh.clone(),
        tp_weights.clone(),
    );
    let messages = conv.forward(up.select(0, indices(&senders, &device)), sh, tp_weights);
    assert_close(
        "conv_tp",
        messages.clone(),
        f.hook("hook/interactions.0.conv_tp"),
        1e-12,
    );
    let summed = Tensor::<B, 2>::zeros([8, mid.dim()], (&device, burn::tensor::DType::F64))
        .select_assign(
            0,
            indices(&receivers, &device),
            messages,
            burn::tensor::IndexingUpdateOp::Add,
        );
    let difference = max_difference(&to_host(convolved), &to_host(summed.clone()));
    assert!(
        difference < 1e-12,
        "convolve vs forward + scatter: {difference:e}"
    );
    let linear = Linear::<B>::new(
        &mid,
        &target,
        f.weight("interactions.0.linear.weight"),
        &device,
        F64,
    )
    .unwrap();
    let message = linear.forward(summed);
    assert_close(
        "interactions.0.linear",
        message.clone(),
        f.hook("hook/interactions.0.linear"),
        1e-12,
    );
    let skip = FullyConnectedTensorProduct::<B>::new(
        &hidden,
        &irreps("3x0e"),
        &irreps("16x0e+16x1o"),
        f.weight("interactions.0.skip_tp.weight"),
        &w3j,
        &device,
        F64,
    )
    .unwrap();
    assert_close(
        "skip_tp",
        skip.forward(h, node_attrs),
        f.hook("hook/interactions.0.skip_tp"),
        1e-12,
    );

    // products.0.symmetric_contractions on the reshaped message [N, C, D].
    let (shape, reshaped) = f.hook("hook/interactions.0[0]");
    assert_eq!(shape, &vec![8, 16, 16]);
    let x = Tensor::<B, 3>::from_data(
        burn::tensor::TensorData::new(reshaped.clone(), [8, 16, 16]),
        (&device, burn::tensor::DType::F64),
    );
    let elements: Vec<u32> = f
        .hook("input/node_attrs")
        .1
        .chunks(3)
        .map(|row| row.iter().position(|&v| v == 1.0).unwrap() as u32)
        .collect();
    let irreps: Vec<ContractionIrrep> = [(0, 1), (1, 3)]
        .iter()
        .map(|&(c, m)| {
            let prefix = format!("products.0.symmetric_contractions.contractions.{c}");
            let orders = [(3, "weights_max"), (2, "weights.0"), (1, "weights.1")]
                .iter()
                .map(|&(nu, w)| {
                    let (u_shape, u) = f.dense_u(&format!("{prefix}.U_matrix_{nu}"));
                    ContractionOrder {
                        nu,
                        u_shape,
                        u,
                        weights: f.weight(&format!("{prefix}.{w}")).to_vec(),
                    }
                })
                .collect();
            ContractionIrrep { m, orders }
        })
        .collect();
    let contraction = SymmetricContraction::<B>::new(16, 16, 3, &irreps, &device, F64).unwrap();
    let product = contraction.forward(x, &elements);
    assert_close(
        "symmetric_contractions",
        product,
        f.hook("hook/products.0.symmetric_contractions"),
        1e-12,
    );
}

#[test]
fn mace_instructions_equal_the_exported_second_layer() {
    let (mid, instructions) = ChannelwiseTensorProduct::<B>::mace_instructions(
        &irreps("16x0e+16x1o"),
        &Irreps::spherical_harmonics(3),
        &irreps("16x0e+16x1o+16x2e+16x3o"),
    );
    assert_eq!(
        mid.to_string(),
        "16x0e+16x0e+16x1o+16x1o+16x1o+16x2e+16x2e+16x2e+16x3o+16x3o"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::data("mace_small_a.json")).unwrap())
            .unwrap();
    let module = json["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "interactions.1.conv_tp")
        .unwrap();
    let exported = module["instructions"].as_array().unwrap();
    assert_eq!(exported.len(), instructions.len());
    for (ours, theirs) in instructions.iter().zip(exported) {
        assert_eq!(ours.input1 as u64, theirs[0].as_u64().unwrap());
        assert_eq!(ours.input2 as u64, theirs[1].as_u64().unwrap());
        assert_eq!(ours.output as u64, theirs[2].as_u64().unwrap());
        assert!((ours.path_weight - theirs[5].as_f64().unwrap()).abs() < 1e-14);
    }
}
