//! Checks that run on the plugin's bytes before anything is compiled: it is a component, it
//! declares a supported ABI version, it imports nothing, and it is within the static size limits
//! that keep compilation bounded (a compile-time bomb is refused here, in milliseconds).

use wasmparser::{Encoding, Parser, Payload};

use crate::Limits;
use crate::abi::SUPPORTED_ABI_VERSIONS;
use crate::error::{HostError, Result};

/// Checks the plugin's bytes and returns its ABI version.
pub(crate) fn check(bytes: &[u8], limits: &Limits) -> Result<String> {
    let abi = abi_version(bytes)?;
    structure(bytes, limits)?;
    Ok(abi)
}

/// The plugin's ABI version, refused unless this host supports it.
fn abi_version(bytes: &[u8]) -> Result<String> {
    let supported = SUPPORTED_ABI_VERSIONS.join(", ");
    match componentize::abi_version(bytes) {
        Err(e) => Err(HostError::InvalidModule { reason: format!("cannot read the `subnetkit:abi` section: {e}") }),
        Ok(None) => Err(HostError::AbiMismatch {
            found: None,
            detail: format!("plugin has no `subnetkit:abi` section; this host supports {supported}"),
        }),
        Ok(Some(v)) if SUPPORTED_ABI_VERSIONS.contains(&v.as_str()) => Ok(v),
        Ok(Some(v)) => Err(HostError::AbiMismatch {
            detail: format!("plugin declares ABI {v:?}; this host supports {supported}"),
            found: Some(v),
        }),
    }
}

/// One pass over every payload, nested modules included. Function bodies are skipped, not parsed.
fn structure(bytes: &[u8], limits: &Limits) -> Result<()> {
    let invalid = |reason: String| HostError::InvalidModule { reason };
    let mut depth = 0usize;
    let mut functions = 0u64;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| invalid(format!("malformed wasm: {e}")))?;
        match payload {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != Encoding::Component {
                    return Err(invalid("not a component (a core wasm module?); build it with `componentize`".into()));
                }
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::CodeSectionStart { count, .. } => {
                functions += u64::from(count);
                if functions > limits.functions {
                    return Err(invalid(format!(
                        "plugin defines at least {functions} functions, over the limit of {}",
                        limits.functions
                    )));
                }
            }
            Payload::CodeSectionEntry(body) => {
                let size = body.range().end - body.range().start;
                if size > limits.function_bytes {
                    return Err(invalid(format!(
                        "a function body is {size} bytes, over the {}-byte limit",
                        limits.function_bytes
                    )));
                }
            }
            _ => {}
        }
    }
    Ok(())
}
