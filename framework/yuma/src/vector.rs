//! The `yuma-epoch-vector/v1` file format: epochs computed by the chain's own code, input and expected output.

use serde::{Deserialize, Serialize};

use crate::{EpochInput, EpochOutput, InputError};

/// The only vector format this crate reads.
pub const VECTOR_FORMAT: &str = "yuma-epoch-vector/v1";

/// One vector file: consecutive epochs of one subnet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorFile {
    /// Always [`VECTOR_FORMAT`].
    pub format: String,
    /// Case name.
    pub name: String,
    /// What the case exercises.
    #[serde(default)]
    pub description: String,
    /// Free-form tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The epochs, in chain order.
    pub epochs: Vec<VectorEpoch>,
}

/// One epoch of a vector file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorEpoch {
    /// What the epoch reads.
    pub input: EpochInput,
    /// What the chain computed from it; absent in a file that only asks for a computation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<EpochOutput>,
}

impl VectorFile {
    /// Parses and validates a vector file; errors name the offending field (`epochs[2].input.neurons[0].stake`).
    pub fn from_json(bytes: &[u8]) -> Result<VectorFile, InputError> {
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(InputError::new("(file)", "expected a JSON object"));
        }
        // Read the format first, so a file of another format says so instead of failing on some field.
        #[derive(Deserialize)]
        struct Header {
            format: Option<serde_json::Value>,
        }
        let header: Header = serde_json::from_slice(bytes).map_err(|e| InputError::new("(file)", e.to_string()))?;
        match header.format {
            Some(serde_json::Value::String(format)) if format == VECTOR_FORMAT => {}
            Some(other) => {
                return Err(InputError::new("format", format!("unknown format {other}, expected \"{VECTOR_FORMAT}\"")));
            }
            None => return Err(InputError::new("format", "missing field `format`")),
        }

        let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
        let file: VectorFile = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let path = e.path().to_string();
            InputError::new(if path == "." { "(file)".to_string() } else { path }, e.into_inner().to_string())
        })?;
        if file.epochs.is_empty() {
            return Err(InputError::new("epochs", "no epochs: a vector file holds at least one"));
        }
        for (k, epoch) in file.epochs.iter().enumerate() {
            epoch.input.validate().map_err(|e| e.within(&format!("epochs[{k}].input")))?;
        }
        Ok(file)
    }
}
