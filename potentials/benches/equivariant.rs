//! The channel-wise tensor product and the symmetric contraction at MACE-MP-0-medium sizes
//! (128x0e+128x1o node features, max_ell 3, 10k edges, 1k nodes, correlation 3), on flex in
//! f32 and f64, forward only. Run: `cargo bench -p mlmd-potentials --bench equivariant`.
// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mlmd_potentials::equivariant::tensor::tensor;
use mlmd_potentials::equivariant::{
    ChannelwiseTensorProduct, ContractionIrrep, ContractionOrder, FloatType, Irreps,
    SymmetricContraction, W3jConvention, W3jTable,
};
use mlmd_potentials::mace::read_safetensors;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

type B = Flex;

fn random(rng: &mut Xoshiro256PlusPlus, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

fn tensor_product(c: &mut Criterion) {
    let mut group = c.benchmark_group("channelwise_tensor_product_mp0");
    group.sample_size(10);
    let device = Default::default();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let hidden = Irreps::parse("128x0e+128x1o").expect("valid");
    let sh = Irreps::spherical_harmonics(3);
    let target = Irreps::parse("128x0e+128x1o+128x2e+128x3o").expect("valid");
    let (mid, instructions) =
        ChannelwiseTensorProduct::<B>::mace_instructions(&hidden, &sh, &target);
    let edges = 10_000;
    for float in [FloatType::F32, FloatType::F64] {
        let tp = ChannelwiseTensorProduct::<B>::new(
            &hidden,
            &sh,
            &mid,
            &instructions,
            &W3jTable::new(W3jConvention::E3nn04),
            &device,
            float,
        )
        .expect("valid instructions");
        let x1 = tensor::<B, 2>(
            &random(&mut rng, edges * hidden.dim()),
            [edges, hidden.dim()],
            &device,
            float,
        );
        let x2 = tensor::<B, 2>(
            &random(&mut rng, edges * sh.dim()),
            [edges, sh.dim()],
            &device,
            float,
        );
        let w = tensor::<B, 2>(
            &random(&mut rng, edges * tp.weight_numel()),
            [edges, tp.weight_numel()],
            &device,
            float,
        );
        group.bench_function(BenchmarkId::new(format!("{float:?}"), edges), |b| {
            b.iter(|| tp.forward(x1.clone(), x2.clone(), w.clone()).into_data())
        });
    }
    group.finish();
}

/// U matrices of mace_small_a's 1o contraction: the same shapes as MACE-MP-0 medium's.
fn mp0_orders(
    rng: &mut Xoshiro256PlusPlus,
    channels: usize,
    elements: usize,
) -> Vec<ContractionOrder> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/mace_small_a.compact.safetensors"
    );
    let bytes = std::fs::read(path).expect("fixture present");
    let (tensors, _) = read_safetensors(&bytes).expect("valid safetensors");
    let prefix = "products.0.symmetric_contractions.contractions.1";
    let read = |key: String| &tensors[&key].values;
    (1..=3)
        .map(|nu| {
            let shape: Vec<usize> = read(format!("{prefix}.U_matrix_{nu}.coo_shape"))
                .iter()
                .map(|&v| v as usize)
                .collect();
            let idx: Vec<usize> = read(format!("{prefix}.U_matrix_{nu}.coo_idx"))
                .iter()
                .map(|&v| v as usize)
                .collect();
            let val = read(format!("{prefix}.U_matrix_{nu}.coo_val"));
            let mut u = vec![0.0; shape.iter().product()];
            for (n, v) in val.iter().enumerate() {
                let flat =
                    (0..shape.len()).fold(0, |acc, a| acc * shape[a] + idx[n * shape.len() + a]);
                u[flat] = *v;
            }
            let k = *shape.last().expect("rank ≥ 2");
            ContractionOrder {
                nu,
                u_shape: shape,
                u,
                weights: random(rng, elements * k * channels),
            }
        })
        .collect()
}

fn symmetric_contraction(c: &mut Criterion) {
    let mut group = c.benchmark_group("symmetric_contraction_mp0_1o");
    group.sample_size(10);
    let device = Default::default();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    let (nodes, channels, elements) = (1000, 128, 89);
    let orders = mp0_orders(&mut rng, channels, elements);
    let species: Vec<u32> = (0..nodes).map(|i| (i % elements) as u32).collect();
    for float in [FloatType::F32, FloatType::F64] {
        let irreps = [ContractionIrrep {
            m: 3,
            orders: orders.clone(),
        }];
        let contraction =
            SymmetricContraction::<B>::new(16, channels, elements, &irreps, &device, float)
                .expect("valid U");
        let data = TensorData::new(
            random(&mut rng, nodes * channels * 16),
            [nodes, channels, 16],
        )
        .convert_dtype(float.dtype());
        let x = Tensor::<B, 3>::from_data(data, (&device, float.dtype()));
        group.bench_function(BenchmarkId::new(format!("{float:?}"), nodes), |b| {
            b.iter(|| contraction.forward(x.clone(), &species).into_data())
        });
    }
    group.finish();
}

criterion_group!(benches, tensor_product, symmetric_contraction);
criterion_main!(benches);
