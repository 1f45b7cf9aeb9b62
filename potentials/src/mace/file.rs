//! Reading a model file: safetensors tensors plus the JSON hyperparameters in its metadata.

use super::config::{MaceConfig, FORMAT, FORMAT_VERSION};
use crate::PotentialError;
use safetensors::{Dtype, SafeTensors};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A tensor read from a file: its shape and its values converted to f64.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    /// Shape as stored.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub values: Vec<f64>,
}

/// The tensors of a safetensors file by name, and its string metadata.
pub type SafetensorsContents = (HashMap<String, HostTensor>, HashMap<String, String>);

/// Every tensor of a safetensors buffer, converted to f64 (floats and integers; booleans are
/// skipped), and its metadata.
pub fn read_safetensors(bytes: &[u8]) -> Result<SafetensorsContents, String> {
    let unreadable = |e: safetensors::SafeTensorError| {
        format!(
            "not a readable safetensors file ({e}): truncated, or a mace-torch .model that \
             scripts/export_mace.py must convert first?"
        )
    };
    let file = SafeTensors::deserialize(bytes).map_err(unreadable)?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(unreadable)?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let mut tensors = HashMap::new();
    for (name, view) in file.tensors() {
        let data = view.data();
        let values: Vec<f64> = match view.dtype() {
            Dtype::F64 => data
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))))
                .collect(),
            Dtype::I64 => data
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")) as f64)
                .collect(),
            Dtype::I32 => data
                .chunks_exact(4)
                .map(|c| f64::from(i32::from_le_bytes(c.try_into().expect("4 bytes"))))
                .collect(),
            Dtype::BOOL => continue,
            other => return Err(format!("tensor {name} has unsupported dtype {other:?}")),
        };
        tensors.insert(
            name,
            HostTensor {
                shape: view.shape().to_vec(),
                values,
            },
        );
    }
    Ok((tensors, metadata))
}

/// A MACE model file written by `scripts/export_mace.py`.
#[derive(Debug, Clone)]
pub struct ModelFile {
    path: PathBuf,
    /// The hyperparameters.
    pub config: MaceConfig,
    tensors: HashMap<String, HostTensor>,
}

impl ModelFile {
    /// Reads and checks `path`: a safetensors file whose metadata says it is an mlmd MACE file
    /// of a version this build reads.
    pub fn read(path: &Path) -> Result<Self, PotentialError> {
        let error = |message: String| PotentialError::ModelFile {
            path: path.to_path_buf(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| error(format!("cannot read it: {e}")))?;
        let (tensors, metadata) = read_safetensors(&bytes).map_err(error)?;
        let hint = "export the model with scripts/export_mace.py";
        match metadata.get("format").map(String::as_str) {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(error(format!(
                    "metadata format is '{other}', not '{FORMAT}'; {hint}"
                )))
            }
            None => return Err(error(format!("no mlmd metadata (format); {hint}"))),
        }
        let version = metadata
            .get("format_version")
            .ok_or_else(|| error(format!("no format_version in the metadata; {hint}")))?;
        if version != &FORMAT_VERSION.to_string() {
            return Err(error(format!(
                "format_version {version} is not supported by this mlmd (it reads version \
                 {FORMAT_VERSION}); re-export the model with this mlmd's scripts/export_mace.py"
            )));
        }
        let json = metadata
            .get("mace")
            .ok_or_else(|| error(format!("no 'mace' hyperparameters in the metadata; {hint}")))?;
        let config: MaceConfig = serde_json::from_str(json)
            .map_err(|e| error(format!("bad hyperparameters in the metadata: {e}")))?;
        if config.format != FORMAT || config.format_version != FORMAT_VERSION {
            return Err(error(format!(
                "hyperparameters say format {} version {}, expected {FORMAT} version \
                 {FORMAT_VERSION}",
                config.format, config.format_version
            )));
        }
        Ok(Self {
            path: path.to_path_buf(),
            config,
            tensors,
        })
    }

    /// An error about this file.
    pub fn error(&self, message: impl Into<String>) -> PotentialError {
        PotentialError::ModelFile {
            path: self.path.clone(),
            message: message.into(),
        }
    }

    /// The tensor `name`, or an error naming it.
    pub fn tensor(&self, name: &str) -> Result<&HostTensor, PotentialError> {
        self.tensors
            .get(name)
            .ok_or_else(|| self.error(format!("missing tensor '{name}'")))
    }

    /// The values of tensor `name`.
    pub fn values(&self, name: &str) -> Result<&[f64], PotentialError> {
        Ok(&self.tensor(name)?.values)
    }

    /// The single value of a scalar tensor `name`.
    pub fn scalar(&self, name: &str) -> Result<f64, PotentialError> {
        match self.values(name)? {
            [value] => Ok(*value),
            other => Err(self.error(format!(
                "tensor '{name}' should hold one value, holds {}",
                other.len()
            ))),
        }
    }
}
