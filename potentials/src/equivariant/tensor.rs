//! The thin layer between mlmd and burn: host data in and out of tensors of a chosen float type.

use burn::tensor::{backend::Backend, DType, Int, Tensor, TensorData};

/// The float type of a model's tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatType {
    /// 32-bit: the fast path.
    F32,
    /// 64-bit: parity with references.
    F64,
}

impl FloatType {
    /// The burn dtype.
    pub fn dtype(self) -> DType {
        match self {
            FloatType::F32 => DType::F32,
            FloatType::F64 => DType::F64,
        }
    }
}

/// A float tensor from host f64 values (row-major) in `float` precision.
pub fn tensor<B: Backend, const D: usize>(
    values: &[f64],
    shape: [usize; D],
    device: &B::Device,
    float: FloatType,
) -> Tensor<B, D> {
    let data = TensorData::new(values.to_vec(), shape).convert_dtype(float.dtype());
    Tensor::from_data(data, (device, float.dtype()))
}

/// An integer index tensor.
pub fn indices<B: Backend>(values: &[u32], device: &B::Device) -> Tensor<B, 1, Int> {
    let values: Vec<i64> = values.iter().map(|&v| i64::from(v)).collect();
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

/// The values of a float tensor on the host, as f64, row-major.
pub fn to_host<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> Vec<f64> {
    tensor
        .into_data()
        .convert_dtype(DType::F64)
        .to_vec::<f64>()
        .expect("a float tensor converts to f64")
}
