//! The autodiff glue: forces and virial of a small energy built from the equivariant blocks, on
//! a periodic triclinic cell with self-image edges, against finite differences (f64), and f32
//! against f64.

mod common;

use burn::backend::{Autodiff, Flex};
use burn::tensor::{IndexingUpdateOp, Tensor};
use mlmd_potentials::equivariant::tensor::tensor;
use mlmd_potentials::equivariant::{
    evaluate_with_autodiff, BesselBasis, ChannelwiseTensorProduct, FloatType, GraphInputs, Irreps,
    Linear, Normalization, PolynomialCutoff, RadialMlp, SphericalHarmonics, W3jConvention,
    W3jTable, SILU_NORMALIZE2MOM,
};
use mlmd_potentials::{AtomicGraph, Evaluation, PotentialError, Request};
use nalgebra::{Matrix3, Vector3};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

type B = Autodiff<Flex>;
const CUTOFF: f64 = 3.2;

/// A one-layer MACE-like energy: species embedding, edge harmonics and radial MLP, a
/// channel-wise convolution summed at receivers, a linear map, and invariant read-outs.
struct TestEnergy {
    embedding: Linear<B>,
    sh: SphericalHarmonics<B>,
    bessel: BesselBasis<B>,
    mlp: RadialMlp<B>,
    conv: ChannelwiseTensorProduct<B>,
    linear: Linear<B>,
    float: FloatType,
}

impl TestEnergy {
    fn new(float: FloatType) -> Self {
        let device = Default::default();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
        let mut random =
            |n: usize| -> Vec<f64> { (0..n).map(|_| rng.random_range(-1.0..1.0)).collect() };
        let hidden = Irreps::parse("4x0e").unwrap();
        let sh_irreps = Irreps::spherical_harmonics(2);
        let target = Irreps::parse("4x0e+4x1o+4x2e").unwrap();
        let (mid, instructions) =
            ChannelwiseTensorProduct::<B>::mace_instructions(&hidden, &sh_irreps, &target);
        let conv = ChannelwiseTensorProduct::new(
            &hidden,
            &sh_irreps,
            &mid,
            &instructions,
            &W3jTable::new(W3jConvention::E3nn04),
            &device,
            float,
        )
        .unwrap();
        let numel = conv.weight_numel();
        Self {
            embedding: Linear::new(
                &Irreps::parse("2x0e").unwrap(),
                &hidden,
                &random(8),
                &device,
                float,
            )
            .unwrap(),
            sh: SphericalHarmonics::new(2, Normalization::Component, &device, float),
            bessel: BesselBasis::new(CUTOFF, 6, &device, float),
            mlp: RadialMlp::new(
                &[(random(6 * 8), 6, 8), (random(8 * numel), 8, numel)],
                SILU_NORMALIZE2MOM,
                &device,
                float,
            ),
            linear: Linear::new(
                &mid,
                &target,
                &random(Linear::<B>::weight_numel(&mid, &target)),
                &device,
                float,
            )
            .unwrap(),
            conv,
            float,
        }
    }

    fn energy(
        &self,
        inputs: &GraphInputs<B>,
        one_hot: &[f64],
    ) -> Result<Tensor<B, 1>, PotentialError> {
        let device = Default::default();
        let n = inputs.n_atoms;
        let h = self
            .embedding
            .forward(tensor(one_hot, [n, 2], &device, self.float));
        let lengths = (inputs.vectors.clone() * inputs.vectors.clone())
            .sum_dim(1)
            .sqrt();
        let radial = self.bessel.forward(lengths.clone())
            * PolynomialCutoff {
                r_max: CUTOFF,
                p: 5.0,
            }
            .forward(lengths);
        let messages = self.conv.forward(
            h.select(0, inputs.senders.clone()),
            self.sh.forward(inputs.vectors.clone()),
            self.mlp.forward(radial),
        );
        let [_, width] = messages.dims();
        let summed = Tensor::<B, 2>::zeros([n, width], (&device, self.float.dtype()))
            .select_assign(0, inputs.receivers.clone(), messages, IndexingUpdateOp::Add);
        let features = self.linear.forward(summed);
        let scalars = features.clone().narrow(1, 0, 4).sum_dim(1);
        let norms = (features.clone() * features).sum_dim(1).mul_scalar(0.3);
        Ok((scalars + norms).reshape([n]))
    }
}

struct Structure {
    positions: Vec<Vector3<f64>>,
    species: Vec<u8>,
    lattice: Matrix3<f64>,
}

/// All edges within the cutoff, with images, sorted by sender (brute force).
fn edges(s: &Structure) -> (Vec<u32>, Vec<u32>, Vec<[i32; 3]>) {
    let (mut senders, mut receivers, mut shifts) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..s.positions.len() {
        for j in 0..s.positions.len() {
            for a in -3..=3 {
                for b in -3..=3 {
                    for c in -3..=3 {
                        let shift = [a, b, c];
                        let d = s.positions[j] - s.positions[i]
                            + s.lattice
                                .tr_mul(&Vector3::new(a as f64, b as f64, c as f64));
                        if (i != j || shift != [0, 0, 0]) && d.norm() < CUTOFF + 0.5 {
                            senders.push(i as u32);
                            receivers.push(j as u32);
                            shifts.push(shift);
                        }
                    }
                }
            }
        }
    }
    (senders, receivers, shifts)
}

fn evaluate(model: &TestEnergy, s: &Structure, request: Request) -> Evaluation {
    let (senders, receivers, shifts) = edges(s);
    let graph = AtomicGraph {
        positions: &s.positions,
        species: &s.species,
        cell: Some(&s.lattice),
        senders: &senders,
        receivers: &receivers,
        unit_shifts: &shifts,
        generation: 1,
        half_list: false,
        pairs: None,
    };
    let one_hot: Vec<f64> = s
        .species
        .iter()
        .flat_map(|&z| if z == 1 { [1.0, 0.0] } else { [0.0, 1.0] })
        .collect();
    evaluate_with_autodiff(
        &graph,
        CUTOFF,
        request,
        &Default::default(),
        model.float,
        |inputs| model.energy(inputs, &one_hot),
    )
    .unwrap()
}

fn structure() -> Structure {
    // A small triclinic cell (widths below the cutoff: atoms see their own images).
    Structure {
        positions: vec![
            Vector3::new(0.1, 0.2, 0.05),
            Vector3::new(1.3, 0.9, 0.7),
            Vector3::new(0.4, 1.6, 1.5),
            Vector3::new(2.0, 0.3, 1.1),
        ],
        species: vec![1, 8, 1, 8],
        lattice: Matrix3::new(2.9, 0.0, 0.0, 0.6, 2.7, 0.0, -0.4, 0.5, 2.6),
    }
}

#[test]
fn forces_and_virial_equal_finite_differences() {
    let model = TestEnergy::new(FloatType::F64);
    let s = structure();
    let result = evaluate(&model, &s, Request::ALL);
    let energy = |s: &Structure| {
        evaluate(
            &model,
            s,
            Request {
                forces: false,
                virial: false,
            },
        )
        .energy
    };
    let largest = result.forces.iter().map(|f| f.amax()).fold(0.0, f64::max);
    assert!(
        largest > 0.1,
        "the test energy must have real forces: {largest}"
    );
    let h = 1e-5;
    for atom in 0..4 {
        for axis in 0..3 {
            let mut plus = structure();
            plus.positions[atom][axis] += h;
            let mut minus = structure();
            minus.positions[atom][axis] -= h;
            let numeric = -(energy(&plus) - energy(&minus)) / (2.0 * h);
            let analytic = result.forces[atom][axis];
            assert!(
                (numeric - analytic).abs() <= 1e-7 * largest,
                "F[{atom}][{axis}]: {analytic} vs {numeric}"
            );
        }
    }
    let virial = result.virial.unwrap();
    for (a, b) in [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)] {
        let strained = |sign: f64| {
            let mut epsilon = Matrix3::zeros();
            epsilon[(a, b)] += 0.5 * sign * h;
            epsilon[(b, a)] += 0.5 * sign * h;
            let deformation = Matrix3::identity() + epsilon;
            let mut s = structure();
            s.positions.iter_mut().for_each(|x| *x = deformation * *x);
            s.lattice *= deformation.transpose();
            energy(&s)
        };
        let numeric = -(strained(1.0) - strained(-1.0)) / (2.0 * h);
        assert!(
            (numeric - virial[(a, b)]).abs() <= 1e-7 * virial.amax(),
            "W[{a}{b}]: {} vs {numeric}",
            virial[(a, b)]
        );
    }
    assert!((virial - virial.transpose()).amax() < 1e-12 * virial.amax());
    // Newton's third law: no net force.
    let net: Vector3<f64> = result.forces.iter().sum();
    assert!(net.norm() < 1e-10 * result.forces.iter().map(|f| f.norm()).fold(0.0, f64::max));
}

#[test]
fn float32_agrees_with_float64() {
    let s = structure();
    let f64_result = evaluate(&TestEnergy::new(FloatType::F64), &s, Request::ALL);
    let f32_result = evaluate(&TestEnergy::new(FloatType::F32), &s, Request::ALL);
    assert!(((f32_result.energy - f64_result.energy) / f64_result.energy).abs() < 1e-4);
    let scale = f64_result
        .forces
        .iter()
        .map(|f| f.amax())
        .fold(0.0, f64::max);
    for (a, b) in f32_result.forces.iter().zip(&f64_result.forces) {
        assert!((a - b).amax() < 1e-4 * scale, "{a} vs {b}");
    }
    let (w32, w64) = (f32_result.virial.unwrap(), f64_result.virial.unwrap());
    assert!((w32 - w64).amax() < 1e-4 * w64.amax());
}
