//! The gate against nequip's recorded layer-0 nonlinearity of `nequip_small` on `pbc_bulk8`
//! (e3nn 0.6.0), f64.

mod common;

use burn::backend::Flex;
use common::{max_difference, read_tensors};
use mlmd_potentials::equivariant::tensor::{tensor, to_host};
use mlmd_potentials::equivariant::{Activation, FloatType, Gate, Irreps, SILU_NORMALIZE2MOM};

#[test]
fn gate_equals_nequip_layer0_nonlinearity() {
    let hooks = read_tensors("nequip_small__pbc_bulk8__intermediates.safetensors");
    let (shape, input) = &hooks["hook/model.func.layer0_convnet.conv/node_features"];
    let (_, expected) = &hooks["hook/model.func.layer0_convnet.equivariant_nonlin"];
    let silu = Activation::Silu(SILU_NORMALIZE2MOM);
    let gate = Gate {
        scalars: vec![(Irreps::parse("8x0e").unwrap(), silu)],
        gates: vec![(Irreps::parse("16x0e").unwrap(), silu)],
        gated: Irreps::parse("8x1o+8x2e").unwrap(),
    };
    assert_eq!(gate.dim_in(), shape[1]);
    let x = tensor::<Flex, 2>(
        input,
        [shape[0], shape[1]],
        &Default::default(),
        FloatType::F64,
    );
    let ours = to_host(gate.forward(x));
    let difference = max_difference(&ours, expected);
    assert!(difference < 1e-12, "{difference:e}");
}
