//! The model files of every ML potential: one safetensors file holding the tensors under the
//! upstream module names, with metadata `format` (`mlmd-<architecture>`), `format_version` and
//! the architecture's hyperparameters as JSON under the architecture's name.

use crate::PotentialError;
use safetensors::{Dtype, SafeTensors};
use serde::de::DeserializeOwned;
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
            "not a readable safetensors file ({e}): truncated, or a model the export scripts \
             (scripts/export_mace.py, scripts/export_nequip.py) must convert first?"
        )
    };
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(
            "not a readable safetensors file: a zip archive (a nequip package or \
                    compiled model, or a torch checkpoint?); convert the package or checkpoint \
                    with scripts/export_nequip.py or scripts/export_mace.py"
                .into(),
        );
    }
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

/// The elements a model knows, in the order of its types (one-hot order for MACE).
#[derive(Debug, Clone)]
pub struct ElementTable(pub Vec<u8>);

impl ElementTable {
    fn index(&self, z: u8) -> Option<u32> {
        self.0
            .iter()
            .position(|&known| known == z)
            .map(|i| i as u32)
    }

    /// An error naming the first atom whose element the model does not know.
    pub fn check(&self, species: &[u8]) -> Result<(), PotentialError> {
        match species.iter().position(|&z| self.index(z).is_none()) {
            Some(atom) => Err(PotentialError::UnknownSpecies {
                element: species[atom],
                atom,
            }),
            None => Ok(()),
        }
    }

    /// Each atom's element index, or the error of [`check`](Self::check).
    pub fn indices(&self, species: &[u8]) -> Result<Vec<u32>, PotentialError> {
        self.check(species)?;
        Ok(species
            .iter()
            .map(|&z| self.index(z).expect("checked"))
            .collect())
    }
}

/// Message-passing models need both directions of every pair: an error for a half list.
pub fn require_full_list(
    graph: &crate::AtomicGraph<'_>,
    model: &str,
) -> Result<(), PotentialError> {
    if graph.half_list {
        return Err(PotentialError::Invalid(format!(
            "{model} needs the full (directed) neighbor list, not a half list"
        )));
    }
    Ok(())
}

/// The ML architectures mlmd has model files for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// MACE (mace-torch), `scripts/export_mace.py`.
    Mace,
    /// NequIP (nequip), `scripts/export_nequip.py`.
    Nequip,
    /// Allegro (nequip-allegro), `scripts/export_nequip.py`.
    Allegro,
}

impl Architecture {
    /// Every architecture.
    pub const ALL: [Self; 3] = [Self::Mace, Self::Nequip, Self::Allegro];

    /// The name in input files (`type = "…"`) and the metadata key of the hyperparameters.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mace => "mace",
            Self::Nequip => "nequip",
            Self::Allegro => "allegro",
        }
    }

    /// The metadata `format` of its files.
    pub fn format(self) -> &'static str {
        match self {
            Self::Mace => "mlmd-mace",
            Self::Nequip => "mlmd-nequip",
            Self::Allegro => "mlmd-allegro",
        }
    }

    /// The script that writes its files.
    pub fn exporter(self) -> &'static str {
        match self {
            Self::Mace => "scripts/export_mace.py",
            Self::Nequip | Self::Allegro => "scripts/export_nequip.py",
        }
    }
}

/// The hyperparameters of one architecture, as its exporter writes them.
pub trait ModelConfig: DeserializeOwned {
    /// The architecture.
    const ARCHITECTURE: Architecture;
    /// The metadata layout this build reads.
    const FORMAT_VERSION: u32;
    /// The `format` and `format_version` the hyperparameters themselves state.
    fn declared(&self) -> (&str, u32);
}

/// A model file of the architecture whose hyperparameters are `C`.
#[derive(Debug, Clone)]
pub struct ModelFile<C> {
    path: PathBuf,
    /// The hyperparameters.
    pub config: C,
    tensors: HashMap<String, HostTensor>,
}

impl<C: ModelConfig> ModelFile<C> {
    /// Reads and checks `path`: a safetensors file whose metadata says it is a model file of
    /// `C`'s architecture, of a version this build reads.
    pub fn read(path: &Path) -> Result<Self, PotentialError> {
        let error = |message: String| PotentialError::ModelFile {
            path: path.to_path_buf(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| error(format!("cannot read it: {e}")))?;
        let (tensors, metadata) = read_safetensors(&bytes).map_err(error)?;
        let json = check_metadata(&metadata, C::ARCHITECTURE, C::FORMAT_VERSION).map_err(error)?;
        let config: C = serde_json::from_str(json)
            .map_err(|e| error(format!("bad hyperparameters in the metadata: {e}")))?;
        let (format, version) = config.declared();
        let expected = C::ARCHITECTURE.format();
        if format != expected || version != C::FORMAT_VERSION {
            return Err(error(format!(
                "hyperparameters say format {format} version {version}, expected {expected} \
                 version {}",
                C::FORMAT_VERSION
            )));
        }
        Ok(Self {
            path: path.to_path_buf(),
            config,
            tensors,
        })
    }
}

/// The hyperparameters' JSON of a file of `architecture`, after checking `format` and
/// `format_version`; a file of another architecture is named as such.
fn check_metadata(
    metadata: &HashMap<String, String>,
    architecture: Architecture,
    version: u32,
) -> Result<&str, String> {
    let (expected, exporter) = (architecture.format(), architecture.exporter());
    let hint = format!("export the model with {exporter}");
    match metadata.get("format").map(String::as_str) {
        Some(format) if format == expected => {}
        Some(format) => {
            return Err(
                match Architecture::ALL.iter().find(|a| a.format() == format) {
                    Some(other) => format!(
                        "this is a model file for type = \"{}\" (format '{format}'), but the \
                         input says type = \"{}\"",
                        other.name(),
                        architecture.name(),
                    ),
                    None => format!("metadata format is '{format}', not '{expected}'; {hint}"),
                },
            )
        }
        None => return Err(format!("no mlmd metadata (format); {hint}")),
    }
    let found = metadata
        .get("format_version")
        .ok_or_else(|| format!("no format_version in the metadata; {hint}"))?;
    if found != &version.to_string() {
        return Err(format!(
            "format_version {found} is not supported by this mlmd (it reads version {version}); \
             re-export the model with this mlmd's {exporter}"
        ));
    }
    metadata
        .get(architecture.name())
        .map(String::as_str)
        .ok_or_else(|| {
            format!(
                "no '{}' hyperparameters in the metadata; {hint}",
                architecture.name()
            )
        })
}

impl<C> ModelFile<C> {
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
