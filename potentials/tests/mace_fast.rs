//! The fast path (hand-written kernels and gradients) of MACE against the taped reference path
//! on random periodic systems with self-image edges; MACE's, NequIP's and Allegro's against
//! finite differences of their own energy and across thread counts; MACE's and NequIP's edge
//! work on a GPU (`--features wgpu`). Parity with mace-torch and nequip is in the workspace's
//! tests/mace.rs, tests/nequip.rs and tests/allegro.rs.

use mlmd_potentials::allegro::Allegro;
use mlmd_potentials::mace::FastMace;
use mlmd_potentials::nequip::Nequip;
use mlmd_potentials::{AtomicGraph, CpuBackend, Evaluation, FloatType, Mace, Potential, Request};
use nalgebra::{Matrix3, Vector3};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::path::PathBuf;

/// The exported test models (mace-torch fixtures), see tests/data/mace in the workspace.
const MODELS: [&str; 4] = [
    "mace_small_a",
    "mace_small_b",
    "mace_reduced_cg",
    "mace_plain_f32",
];

fn model(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../tests/data/mace/{name}.safetensors"))
}

/// The exported NequIP test model (tests/data/nequip in the workspace).
fn nequip_model() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/nequip/nequip_small.safetensors")
}

/// The exported Allegro test model (tests/data/allegro in the workspace).
fn allegro_model() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/allegro/allegro_small.safetensors")
}

/// Atoms in a periodic cell and every edge within `reach`, own images included.
struct System {
    positions: Vec<Vector3<f64>>,
    species: Vec<u8>,
    cell: Matrix3<f64>,
    senders: Vec<u32>,
    receivers: Vec<u32>,
    shifts: Vec<[i32; 3]>,
}

impl System {
    /// `n` random H/C/O atoms at least 0.9 Å apart in `cell` (rows are lattice vectors).
    fn random(seed: u64, n: usize, cell: Matrix3<f64>, reach: f64) -> Self {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut system = Self {
            positions: Vec::new(),
            species: Vec::new(),
            cell,
            senders: Vec::new(),
            receivers: Vec::new(),
            shifts: Vec::new(),
        };
        while system.positions.len() < n {
            let f = Vector3::new(rng.random(), rng.random(), rng.random());
            let x = cell.transpose() * f;
            let close = system
                .positions
                .iter()
                .any(|y| system.min_image_distance(&x, y) < 0.9);
            if !close {
                system.positions.push(x);
                system.species.push([1, 6, 8][rng.random_range(0..3)]);
            }
        }
        system.build_edges(reach);
        system
    }

    fn shift(&self, s: [i32; 3]) -> Vector3<f64> {
        self.cell.transpose() * Vector3::new(f64::from(s[0]), f64::from(s[1]), f64::from(s[2]))
    }

    fn min_image_distance(&self, x: &Vector3<f64>, y: &Vector3<f64>) -> f64 {
        let mut best = f64::INFINITY;
        for s in images(2) {
            best = best.min((y - x + self.shift(s)).norm());
        }
        best
    }

    /// Brute force over images: edge i → j with shift S when |x_j − x_i + S·cell| < reach.
    fn build_edges(&mut self, reach: f64) {
        let (mut senders, mut receivers, mut shifts) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..self.positions.len() {
            for j in 0..self.positions.len() {
                for s in images(3) {
                    let v = self.positions[j] - self.positions[i] + self.shift(s);
                    if (i != j || s != [0, 0, 0]) && v.norm() < reach {
                        senders.push(i as u32);
                        receivers.push(j as u32);
                        shifts.push(s);
                    }
                }
            }
        }
        (self.senders, self.receivers, self.shifts) = (senders, receivers, shifts);
    }

    fn graph(&self) -> AtomicGraph<'_> {
        AtomicGraph {
            positions: &self.positions,
            species: &self.species,
            cell: Some(&self.cell),
            senders: &self.senders,
            receivers: &self.receivers,
            unit_shifts: &self.shifts,
            generation: 0,
            half_list: false,
            pairs: None,
        }
    }

    /// The same atoms under the deformation x ↦ x (I + ε) (cell rows too), same edges.
    fn strained(&self, epsilon: &Matrix3<f64>) -> Self {
        let map = Matrix3::identity() + epsilon;
        Self {
            positions: self.positions.iter().map(|x| map.transpose() * x).collect(),
            species: self.species.clone(),
            cell: self.cell * map,
            senders: self.senders.clone(),
            receivers: self.receivers.clone(),
            shifts: self.shifts.clone(),
        }
    }
}

fn images(k: i32) -> Vec<[i32; 3]> {
    let mut out = Vec::new();
    for a in -k..=k {
        for b in -k..=k {
            for c in -k..=k {
                out.push([a, b, c]);
            }
        }
    }
    out
}

/// A small triclinic cell whose widths are below the cutoff (self-image edges), and a larger one.
fn cells() -> [(usize, Matrix3<f64>); 2] {
    [
        (
            4,
            Matrix3::new(3.1, 0.0, 0.0, 0.6, 2.9, 0.0, -0.4, 0.5, 3.3),
        ),
        (
            14,
            Matrix3::new(5.6, 0.0, 0.0, 0.9, 5.2, 0.0, 0.3, -0.7, 5.9),
        ),
    ]
}

fn eval(potential: &mut dyn Potential, system: &System) -> Evaluation {
    potential.compute(&system.graph(), Request::ALL).unwrap()
}

fn max_abs(a: impl IntoIterator<Item = f64>) -> f64 {
    a.into_iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// Largest |a − b| of energy, forces, virial and per-atom energies; asserts `b`'s forces are
/// not trivial.
fn differences(a: &Evaluation, b: &Evaluation) -> [f64; 4] {
    let df = max_abs(
        a.forces
            .iter()
            .zip(&b.forces)
            .flat_map(|(x, y)| (x - y).iter().copied().collect::<Vec<_>>()),
    );
    let dw = max_abs((a.virial.unwrap() - b.virial.unwrap()).iter().copied());
    let de_atoms = max_abs(
        a.energies
            .as_ref()
            .unwrap()
            .iter()
            .zip(b.energies.as_ref().unwrap())
            .map(|(x, y)| x - y),
    );
    let scale = max_abs(
        b.forces
            .iter()
            .flat_map(|f| f.iter().copied().collect::<Vec<_>>()),
    );
    assert!(scale > 1e-3, "forces are not trivial ({scale})");
    [(a.energy - b.energy).abs(), df, dw, de_atoms]
}

#[test]
fn fast_equals_reference_on_random_periodic_systems() {
    for name in MODELS {
        let mut fast = FastMace::<f64>::load(&model(name)).unwrap();
        let mut reference =
            Mace::<CpuBackend>::load(&model(name), Default::default(), FloatType::F64).unwrap();
        for (seed, (n, cell)) in cells().into_iter().enumerate() {
            let system = System::random(seed as u64 + 11, n, cell, fast.cutoff() + 0.5);
            let (a, b) = (eval(&mut fast, &system), eval(&mut reference, &system));
            let [de, df, dw, de_atoms] = differences(&a, &b);
            assert!(
                de <= 1e-10 && df <= 1e-10 && dw <= 1e-10 && de_atoms <= 1e-10,
                "{name} system {seed}: ΔE {de:e}, ΔF {df:e}, ΔW {dw:e}, ΔE_i {de_atoms:e}"
            );
        }
    }
}

#[test]
fn forces_and_virial_equal_finite_differences_of_the_fast_energy() {
    for name in ["mace_small_a", "mace_small_b"] {
        let mut fast = FastMace::<f64>::load(&model(name)).unwrap();
        assert_finite_differences(name, &mut fast);
    }
    let mut nequip = Nequip::<f64>::load(&nequip_model()).unwrap();
    assert_finite_differences("nequip_small", &mut nequip);
    let mut allegro = Allegro::<f64>::load(&allegro_model()).unwrap();
    assert_finite_differences("allegro_small", &mut allegro);
}

/// Forces = −dE/dx and virial = −dE/dε by central differences (1e-7) on a random system.
fn assert_finite_differences(name: &str, fast: &mut dyn Potential) {
    let h = 1e-5;
    let (n, cell) = cells()[0];
    let system = System::random(5, n, cell, fast.cutoff() + 1.0);
    let analytic = eval(fast, &system);
    let mut worst: f64 = 0.0;
    for atom in 0..n {
        for axis in 0..3 {
            let mut energy_at = |delta: f64| {
                let mut moved = system.strained(&Matrix3::zeros());
                moved.positions[atom][axis] += delta;
                eval(fast, &moved).energy
            };
            let numeric = -(energy_at(h) - energy_at(-h)) / (2.0 * h);
            worst = worst.max((numeric - analytic.forces[atom][axis]).abs());
        }
    }
    assert!(
        worst < 1e-7,
        "{name}: forces differ from −dE/dx by {worst:e}"
    );
    let virial = analytic.virial.unwrap();
    let mut worst: f64 = 0.0;
    for a in 0..3 {
        for b in 0..3 {
            let mut epsilon = Matrix3::zeros();
            epsilon[(a, b)] += 0.5;
            epsilon[(b, a)] += 0.5;
            let plus = eval(fast, &system.strained(&(epsilon * h))).energy;
            let minus = eval(fast, &system.strained(&(epsilon * -h))).energy;
            worst = worst.max((-(plus - minus) / (2.0 * h) - virial[(a, b)]).abs());
        }
    }
    assert!(
        worst < 1e-7,
        "{name}: virial differs from −dE/dε by {worst:e}"
    );
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    assert_thread_independent(&mut FastMace::<f64>::load(&model("mace_small_b")).unwrap());
    assert_thread_independent(&mut Nequip::<f64>::load(&nequip_model()).unwrap());
    assert_thread_independent(&mut Allegro::<f64>::load(&allegro_model()).unwrap());
}

/// Bit-identical results on 1 and 2 threads.
fn assert_thread_independent(fast: &mut dyn Potential) {
    let (n, cell) = cells()[1];
    let system = System::random(3, n, cell, fast.cutoff());
    let mut run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| eval(fast, &system))
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one, two, "1 and 2 threads differ");
}

#[test]
fn float32_follows_float64() {
    for name in MODELS {
        let mut f64_path = FastMace::<f64>::load(&model(name)).unwrap();
        let mut f32_path = FastMace::<f32>::load(&model(name)).unwrap();
        let (n, cell) = cells()[1];
        let system = System::random(9, n, cell, f64_path.cutoff());
        let (a, b) = (eval(&mut f64_path, &system), eval(&mut f32_path, &system));
        assert!(
            (a.energy - b.energy).abs() <= 1e-4 * a.energy.abs(),
            "{name}: E {} vs {}",
            a.energy,
            b.energy
        );
        let scale = max_abs(
            a.forces
                .iter()
                .flat_map(|f| f.iter().copied().collect::<Vec<_>>()),
        );
        let df = max_abs(
            a.forces
                .iter()
                .zip(&b.forces)
                .flat_map(|(x, y)| (x - y).iter().copied().collect::<Vec<_>>()),
        );
        assert!(df <= 1e-4 * scale, "{name}: ΔF {df:e} (scale {scale})");
    }
}

/// The edge work on a GPU through wgpu's Vulkan backend (Mesa's lavapipe on a machine without
/// one: `apt-get install mesa-vulkan-drivers`) equals the CPU fast path: the same kernels run
/// on CUDA. Run with `cargo test --release -p mlmd-potentials --features wgpu --test mace_fast`.
#[cfg(feature = "wgpu")]
#[test]
fn gpu_edge_work_equals_the_cpu_path() {
    use mlmd_potentials::cubecl::wgpu::{WgpuDevice, WgpuRuntime};
    use mlmd_potentials::mace::gpu::CHUNK_BYTES;
    let device = WgpuDevice::default();
    // Chunks of a few edges (the per-edge weights of small models are ~100 bytes) in f64, one
    // chunk for everything in f32.
    for name in MODELS {
        let path = model(name);
        assert_gpu_equals_cpu(
            name,
            &mut FastMace::<f64>::load(&path).unwrap(),
            &mut FastMace::<f64>::load_on::<WgpuRuntime>(&path, &device, 4096).unwrap(),
            &mut FastMace::<f32>::load_on::<WgpuRuntime>(&path, &device, CHUNK_BYTES).unwrap(),
        );
    }
    let path = nequip_model();
    assert_gpu_equals_cpu(
        "nequip_small",
        &mut Nequip::<f64>::load(&path).unwrap(),
        &mut Nequip::<f64>::load_on::<WgpuRuntime>(&path, &device, 4096).unwrap(),
        &mut Nequip::<f32>::load_on::<WgpuRuntime>(&path, &device, CHUNK_BYTES).unwrap(),
    );
}

/// The GPU edge work (`gpu` in f64, `gpu32` in f32) against the CPU path on random systems:
/// f64 to 1e-10, f32 within 1e-4.
#[cfg(feature = "wgpu")]
fn assert_gpu_equals_cpu(
    name: &str,
    cpu: &mut dyn Potential,
    gpu: &mut dyn Potential,
    gpu32: &mut dyn Potential,
) {
    for (seed, (n, cell)) in cells().into_iter().enumerate() {
        let system = System::random(seed as u64 + 21, n, cell, cpu.cutoff() + 0.5);
        let a = eval(cpu, &system);
        let [de, df, dw, de_atoms] = differences(&eval(gpu, &system), &a);
        assert!(
            de <= 1e-10 && df <= 1e-10 && dw <= 1e-10 && de_atoms <= 1e-10,
            "{name} system {seed}, f64: ΔE {de:e}, ΔF {df:e}, ΔW {dw:e}, ΔE_i {de_atoms:e}"
        );
        let b = eval(gpu32, &system);
        let [de, df, ..] = differences(&b, &a);
        let f_scale = max_abs(
            a.forces
                .iter()
                .flat_map(|f| f.iter().copied().collect::<Vec<_>>()),
        );
        assert!(
            de <= 1e-4 * a.energy.abs() && df <= 1e-4 * f_scale,
            "{name} system {seed}, f32: ΔE {de:e}, ΔF {df:e}"
        );
    }
}
