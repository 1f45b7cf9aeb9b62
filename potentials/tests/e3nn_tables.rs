//! Spherical harmonics and Wigner-3j blocks against e3nn's tables (0.4.4 and 0.6.0), f64.

mod common;

use burn::backend::Flex;
use common::{max_difference, read_tensors};
use mlmd_potentials::equivariant::tensor::{tensor, to_host};
use mlmd_potentials::equivariant::{
    wigner_3j, FloatType, Normalization, SphericalHarmonics, W3jConvention,
};

type B = Flex;

#[test]
fn wigner_3j_equals_both_e3nn_versions() {
    for (file, convention) in [
        ("e3nn_0.6.0_tables.safetensors", W3jConvention::E3nn06),
        ("e3nn_0.4.4_tables.safetensors", W3jConvention::E3nn04),
    ] {
        let tables = read_tensors(file);
        let mut count = 0;
        for (name, (shape, values)) in &tables {
            let Some(ls) = name.strip_prefix("w3j_") else {
                continue;
            };
            let ls: Vec<usize> = ls.split('_').map(|l| l.parse().unwrap()).collect();
            let ours = wigner_3j(ls[0], ls[1], ls[2], convention);
            assert_eq!(shape, &ls.iter().map(|l| 2 * l + 1).collect::<Vec<_>>());
            let difference = max_difference(&ours, values);
            assert!(difference < 1e-12, "{file} {name}: {difference:e}");
            count += 1;
        }
        assert!(count >= 170, "{count} blocks");
    }
    assert!(wigner_3j(1, 1, 3, W3jConvention::E3nn06).is_empty());
}

#[test]
fn spherical_harmonics_equal_both_e3nn_versions_to_l6() {
    let device = Default::default();
    for file in [
        "e3nn_0.6.0_tables.safetensors",
        "e3nn_0.4.4_tables.safetensors",
    ] {
        let tables = read_tensors(file);
        let (_, vectors) = &tables["sh_vectors"];
        let n = vectors.len() / 3;
        for (key, normalization) in [
            ("sh_component_lmax8", Normalization::Component),
            ("sh_integral_lmax8", Normalization::Integral),
        ] {
            let (shape, reference) = &tables[key];
            let lmax = 6;
            let sh = SphericalHarmonics::<B>::new(lmax, normalization, &device, FloatType::F64);
            let input = tensor::<B, 2>(vectors, [n, 3], &device, FloatType::F64);
            let ours = to_host(sh.forward(input));
            let width = (lmax + 1) * (lmax + 1);
            for e in 0..n {
                let expected = &reference[e * shape[1]..e * shape[1] + width];
                let got = &ours[e * width..(e + 1) * width];
                let difference = max_difference(got, expected);
                assert!(
                    difference < 1e-12,
                    "{file} {key} vector {e}: {difference:e}"
                );
            }
        }
    }
}
