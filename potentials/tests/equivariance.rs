//! Equivariance under random rotations and inversion: spherical harmonics, Linear, the three
//! tensor products, the gate and the symmetric contraction transform by the Wigner D matrices
//! of their irreps (f64, 1e-10). The D matrices come from the harmonics by least squares.

mod common;

use burn::backend::Flex;
use burn::tensor::{DType, Tensor, TensorData};
use common::{max_difference, read_tensors};
use mlmd_potentials::equivariant::tensor::{tensor, to_host};
use mlmd_potentials::equivariant::{
    Activation, ChannelwiseTensorProduct, ContractionIrrep, ContractionOrder,
    ElementwiseTensorProduct, FloatType, FullyConnectedTensorProduct, Gate, Irreps, Linear,
    Normalization, SphericalHarmonics, SymmetricContraction, W3jConvention, W3jTable,
    SILU_NORMALIZE2MOM,
};
use nalgebra::{DMatrix, Matrix3, UnitQuaternion, Vector3, Vector4};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

type B = Flex;
const F64: FloatType = FloatType::F64;
const LMAX: usize = 4;

/// An O(3) element: a rotation, optionally composed with inversion.
struct Transformation {
    rotation: Matrix3<f64>,
    inversion: bool,
    /// D^l(rotation) for l = 0..=LMAX.
    wigner: Vec<DMatrix<f64>>,
}

fn harmonics(vectors: &[Vector3<f64>]) -> Vec<f64> {
    let flat: Vec<f64> = vectors.iter().flat_map(|v| [v.x, v.y, v.z]).collect();
    let sh = SphericalHarmonics::<B>::new(LMAX, Normalization::Component, &Default::default(), F64);
    to_host(sh.forward(tensor(&flat, [vectors.len(), 3], &Default::default(), F64)))
}

impl Transformation {
    fn random(rng: &mut Xoshiro256PlusPlus, inversion: bool) -> Self {
        let q = Vector4::from_fn(|_, _| rng.random_range(-1.0..1.0));
        let rotation = UnitQuaternion::from_quaternion(nalgebra::Quaternion::from(q))
            .to_rotation_matrix()
            .into_inner();
        let samples: Vec<Vector3<f64>> = (0..40)
            .map(|_| Vector3::from_fn(|_, _| rng.random_range(-1.0..1.0)))
            .collect();
        let rotated: Vec<Vector3<f64>> = samples.iter().map(|v| rotation * v).collect();
        let (y, yr) = (harmonics(&samples), harmonics(&rotated));
        let width = (LMAX + 1).pow(2);
        let wigner = (0..=LMAX)
            .map(|l| {
                let (start, d) = (l * l, 2 * l + 1);
                let block = |data: &[f64]| {
                    DMatrix::from_fn(d, samples.len(), |m, s| data[s * width + start + m])
                };
                // Y(R v) = D Y(v)  ⇒  D = Y_R Y⁺
                block(&yr) * block(&y).pseudo_inverse(1e-12).unwrap()
            })
            .collect();
        Self {
            rotation,
            inversion,
            wigner,
        }
    }

    fn vector(&self, v: &Vector3<f64>) -> Vector3<f64> {
        let r = self.rotation * v;
        if self.inversion {
            -r
        } else {
            r
        }
    }

    /// Applies the representation of `irreps` to rows of `data` ([rows, dim]).
    fn features(&self, irreps: &Irreps, data: &[f64]) -> Vec<f64> {
        let dim = irreps.dim();
        let mut out = data.to_vec();
        for row in 0..data.len() / dim {
            for (block, (offset, _)) in irreps.0.iter().zip(irreps.slices()) {
                let d = block.ir.dim();
                let sign = if self.inversion && block.ir.p < 0 {
                    -1.0
                } else {
                    1.0
                };
                for u in 0..block.mul {
                    let start = row * dim + offset + u * d;
                    let x = DMatrix::from_column_slice(d, 1, &data[start..start + d]);
                    let y = &self.wigner[block.ir.l] * x * sign;
                    out[start..start + d].copy_from_slice(y.as_slice());
                }
            }
        }
        out
    }
}

fn random(rng: &mut Xoshiro256PlusPlus, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

fn t2(values: &[f64], rows: usize) -> Tensor<B, 2> {
    tensor(
        values,
        [rows, values.len() / rows],
        &Default::default(),
        F64,
    )
}

fn check(name: &str, a: &[f64], b: &[f64]) {
    let difference = max_difference(a, b);
    assert!(
        difference < 1e-10,
        "{name}: not equivariant, {difference:e}"
    );
}

fn transformations() -> Vec<Transformation> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
    vec![
        Transformation::random(&mut rng, false),
        Transformation::random(&mut rng, true),
    ]
}

#[test]
fn spherical_harmonics_and_linear_are_equivariant() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    for g in transformations() {
        let vectors: Vec<Vector3<f64>> = (0..7)
            .map(|_| Vector3::from_fn(|_, _| rng.random_range(-2.0..2.0)))
            .collect();
        let moved: Vec<Vector3<f64>> = vectors.iter().map(|v| g.vector(v)).collect();
        check(
            "spherical harmonics",
            &harmonics(&moved),
            &g.features(&Irreps::spherical_harmonics(LMAX), &harmonics(&vectors)),
        );
        let (a, b) = (
            Irreps::parse("4x0e+3x1o+2x2e+2x1e").unwrap(),
            Irreps::parse("3x0e+2x1o+2x2e+1x1e+1x3o").unwrap(),
        );
        let linear = Linear::<B>::new(
            &a,
            &b,
            &random(&mut rng, Linear::<B>::weight_numel(&a, &b)),
            &Default::default(),
            F64,
        )
        .unwrap();
        let x = random(&mut rng, 5 * a.dim());
        let left = to_host(linear.forward(t2(&g.features(&a, &x), 5)));
        let right = g.features(&b, &to_host(linear.forward(t2(&x, 5))));
        check("linear", &left, &right);
    }
}

#[test]
fn tensor_products_and_gate_are_equivariant() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    let device = Default::default();
    let w3j = W3jTable::new(W3jConvention::E3nn06);
    for g in transformations() {
        let rows = 6;
        // Channel-wise, per-row weights (MACE's instruction rule, pseudo-tensors included).
        let in1 = Irreps::parse("3x0e+3x1o+3x2e+3x1e").unwrap();
        let in2 = Irreps::spherical_harmonics(2);
        let target = Irreps::parse("1x0e+1x1o+1x2e+1x1e+1x0o+1x2o+1x3o").unwrap();
        let (mid, instructions) =
            ChannelwiseTensorProduct::<B>::mace_instructions(&in1, &in2, &target);
        let tp =
            ChannelwiseTensorProduct::<B>::new(&in1, &in2, &mid, &instructions, &w3j, &device, F64)
                .unwrap();
        let (x1, x2) = (
            random(&mut rng, rows * in1.dim()),
            random(&mut rng, rows * in2.dim()),
        );
        let w = random(&mut rng, rows * tp.weight_numel());
        let left = to_host(tp.forward(
            t2(&g.features(&in1, &x1), rows),
            t2(&g.features(&in2, &x2), rows),
            t2(&w, rows),
        ));
        let right = g.features(
            &mid,
            &to_host(tp.forward(t2(&x1, rows), t2(&x2, rows), t2(&w, rows))),
        );
        check("channel-wise tensor product", &left, &right);

        // Fully connected.
        let (a, b, c) = (
            Irreps::parse("2x0e+2x1o+1x2e").unwrap(),
            Irreps::parse("2x0e+1x1o+1x1e").unwrap(),
            Irreps::parse("2x0e+2x1o+1x1e+1x2e+1x0o").unwrap(),
        );
        let numel: usize = FullyConnectedTensorProduct::<B>::instructions(&a, &b, &c)
            .iter()
            .map(|i| a.0[i.input1].mul * b.0[i.input2].mul * c.0[i.output].mul)
            .sum();
        let fc = FullyConnectedTensorProduct::<B>::new(
            &a,
            &b,
            &c,
            &random(&mut rng, numel),
            &w3j,
            &device,
            F64,
        )
        .unwrap();
        let (x1, x2) = (
            random(&mut rng, rows * a.dim()),
            random(&mut rng, rows * b.dim()),
        );
        let left = to_host(fc.forward(
            t2(&g.features(&a, &x1), rows),
            t2(&g.features(&b, &x2), rows),
        ));
        let right = g.features(&c, &to_host(fc.forward(t2(&x1, rows), t2(&x2, rows))));
        check("fully connected tensor product", &left, &right);

        // Element-wise.
        let (a, b) = (
            Irreps::parse("2x0e+2x1o+1x2e").unwrap(),
            Irreps::parse("2x1o+2x1e+1x1o").unwrap(),
        );
        let ew = ElementwiseTensorProduct::<B>::new(&a, &b, None, &w3j, &device, F64).unwrap();
        let (x1, x2) = (
            random(&mut rng, rows * a.dim()),
            random(&mut rng, rows * b.dim()),
        );
        let left = to_host(ew.forward(
            t2(&g.features(&a, &x1), rows),
            t2(&g.features(&b, &x2), rows),
        ));
        let right = g.features(
            ew.irreps_out(),
            &to_host(ew.forward(t2(&x1, rows), t2(&x2, rows))),
        );
        check("element-wise tensor product", &left, &right);

        // Gate.
        let gate = Gate {
            scalars: vec![
                (
                    Irreps::parse("2x0e").unwrap(),
                    Activation::Silu(SILU_NORMALIZE2MOM),
                ),
                (Irreps::parse("1x0o").unwrap(), Activation::Tanh(1.59)),
            ],
            gates: vec![(
                Irreps::parse("3x0e").unwrap(),
                Activation::Silu(SILU_NORMALIZE2MOM),
            )],
            gated: Irreps::parse("2x1o+1x2e").unwrap(),
        };
        let input = Irreps::parse("2x0e+1x0o+3x0e+2x1o+1x2e").unwrap();
        let output = Irreps::parse("2x0e+1x0o+2x1o+1x2e").unwrap();
        let x = random(&mut rng, rows * gate.dim_in());
        let left = to_host(gate.forward(t2(&g.features(&input, &x), rows)));
        let right = g.features(&output, &to_host(gate.forward::<B>(t2(&x, rows))));
        check("gate", &left, &right);
    }
}

#[test]
fn symmetric_contraction_is_equivariant() {
    let weights = read_tensors("mace_small_a.compact.safetensors");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let device = Default::default();
    let prefix = "products.0.symmetric_contractions.contractions.1";
    let orders: Vec<ContractionOrder> = [(3, "weights_max"), (2, "weights.0"), (1, "weights.1")]
        .iter()
        .map(|&(nu, w)| {
            let key = |s: &str| &weights[&format!("{prefix}.U_matrix_{nu}.{s}")].1;
            let shape: Vec<usize> = key("coo_shape").iter().map(|&v| v as usize).collect();
            let mut u = vec![0.0; shape.iter().product()];
            for (n, &v) in key("coo_val").iter().enumerate() {
                let idx = &key("coo_idx")[n * shape.len()..(n + 1) * shape.len()];
                u[idx
                    .iter()
                    .zip(&shape)
                    .fold(0, |acc, (&i, &s)| acc * s + i as usize)] = v;
            }
            ContractionOrder {
                nu,
                u_shape: shape,
                u,
                weights: weights[&format!("{prefix}.{w}")].1.clone(),
            }
        })
        .collect();
    let contraction = SymmetricContraction::<B>::new(
        16,
        16,
        3,
        &[ContractionIrrep { m: 3, orders }],
        &device,
        F64,
    )
    .unwrap();
    // Per channel, the 16 features are 0e+1o+2e+3o.
    let per_channel = Irreps::spherical_harmonics(3);
    let output = Irreps::parse("16x1o").unwrap();
    let (nodes, channels) = (4, 16);
    let elements = [0, 1, 2, 1];
    let to3 = |v: &[f64]| {
        Tensor::<B, 3>::from_data(
            TensorData::new(v.to_vec(), [nodes, channels, 16]),
            (&device, DType::F64),
        )
    };
    for g in transformations() {
        let x = random(&mut rng, nodes * channels * 16);
        let left = to_host(contraction.forward(to3(&g.features(&per_channel, &x)), &elements));
        let right = g.features(&output, &to_host(contraction.forward(to3(&x), &elements)));
        check("symmetric contraction", &left, &right);
    }
}
