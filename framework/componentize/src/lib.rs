//! Turns a plugin's core wasm module into a component, and reads a plugin's ABI version.
//!
//! A plugin is built for `wasm32-unknown-unknown` with `sdk-guest`, which embeds the WIT world
//! (wit-bindgen's `component-type` section) and stamps the ABI version into a custom section
//! named [`ABI_SECTION`]. [`componentize`] wraps the module into a component with the
//! `wit-component` crate (the encoder behind `wasm-tools component new`), validates the result,
//! and copies the ABI section to the component's top level, first thing after the header, so a
//! host reads it with [`abi_version`] before it compiles anything.
//!
//! ```no_run
//! let core = std::fs::read("target/wasm32-unknown-unknown/release/my_plugin.wasm")?;
//! let component = componentize::componentize(&core)?;
//! assert_eq!(componentize::abi_version(&component)?.as_deref(), Some("0.1.0"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;

use wasm_encoder::{ComponentSection, CustomSection};
use wasmparser::{Encoding, Parser, Payload};

/// The name of the custom section that carries a plugin's ABI version (`sdk-guest`'s
/// `ABI_SECTION`).
pub const ABI_SECTION: &str = "subnetkit:abi";

/// Why a module could not be componentised, or its ABI version read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not well-formed WebAssembly.
    #[error("malformed wasm: {0}")]
    Malformed(#[from] wasmparser::BinaryReaderError),
    /// A section with an id that no WebAssembly version defines.
    #[error("malformed wasm: unknown section id {id} at offset {offset}")]
    UnknownSection {
        /// The section id.
        id: u8,
        /// Offset of the section's contents in the input.
        offset: u64,
    },
    /// [`componentize`] was given a component, or something else that is not a core module.
    #[error("expected a core wasm module, got a component")]
    NotCoreModule,
    /// The module has no ABI section: it was not built with `sdk-guest`'s `export_mechanism!`.
    #[error("the module has no `subnetkit:abi` section (export the plugin with `sdk_guest::export_mechanism!`)")]
    MissingAbi,
    /// The module has no embedded WIT world (wit-bindgen's `component-type` custom section).
    #[error("the module has no embedded WIT world (build it with `sdk-guest`)")]
    MissingWorld,
    /// The ABI section occurs more than once at the top level.
    #[error("the `subnetkit:abi` section occurs more than once")]
    DuplicateAbi,
    /// The ABI section's contents are not UTF-8.
    #[error("the `subnetkit:abi` section is not UTF-8")]
    AbiNotUtf8,
    /// `wit-component` refused the module, or its output did not validate.
    #[error("cannot componentize the module: {0}")]
    Encode(String),
}

/// Wraps `core_wasm`, a plugin's core module, into a validated component whose top level starts
/// with a copy of the module's `subnetkit:abi` section.
///
/// Refuses a component, a module without the ABI section (or with it twice), a module without the
/// WIT world that wit-bindgen embeds, and a module that `wit-component` cannot encode.
pub fn componentize(core_wasm: &[u8]) -> Result<Vec<u8>, Error> {
    if !matches!(encoding(core_wasm)?, Encoding::Module) {
        return Err(Error::NotCoreModule);
    }
    let version = abi_version(core_wasm)?.ok_or(Error::MissingAbi)?;
    if !has_world(core_wasm)? {
        return Err(Error::MissingWorld);
    }
    let component = wit_component::ComponentEncoder::default()
        .validate(true)
        .module(core_wasm)
        .and_then(|encoder| encoder.encode())
        .map_err(|e| Error::Encode(format!("{e:#}")))?;

    // Custom sections may appear anywhere; put this one right after the 8-byte preamble.
    let (preamble, sections) = component.split_at(8);
    let mut out = Vec::with_capacity(component.len() + 32);
    out.extend_from_slice(preamble);
    CustomSection { name: Cow::Borrowed(ABI_SECTION), data: Cow::Borrowed(version.as_bytes()) }
        .append_to_component(&mut out);
    out.extend_from_slice(sections);
    Ok(out)
}

/// The ABI version in the top-level `subnetkit:abi` section of a component or core module, or
/// `None` when there is no such section.
///
/// Parses the whole input, nested modules and components included (function bodies are skipped,
/// not decoded), so truncated or malformed bytes give an error rather than a wrong answer.
/// Sections inside nested modules do not count: for a component, only a section at its own top
/// level does.
pub fn abi_version(bytes: &[u8]) -> Result<Option<String>, Error> {
    let mut depth = 0usize;
    let mut found: Option<&[u8]> = None;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::CustomSection(section) if depth == 1 && section.name() == ABI_SECTION => {
                if found.is_some() {
                    return Err(Error::DuplicateAbi);
                }
                found = Some(section.data());
            }
            Payload::UnknownSection { id, range, .. } => return Err(Error::UnknownSection { id, offset: range.start }),
            _ => {}
        }
    }
    found.map(|data| String::from_utf8(data.to_vec()).map_err(|_| Error::AbiNotUtf8)).transpose()
}

/// Whether the module embeds a WIT world: a custom section whose name starts with
/// `component-type` (how wit-bindgen stores it).
fn has_world(module: &[u8]) -> Result<bool, Error> {
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::CustomSection(section) = payload?
            && section.name().starts_with("component-type")
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `bytes` start like a core module or a component.
fn encoding(bytes: &[u8]) -> Result<Encoding, Error> {
    match Parser::new(0).parse(bytes, true)? {
        wasmparser::Chunk::Parsed { payload: Payload::Version { encoding, .. }, .. } => Ok(encoding),
        // With `eof = true` the parser does not ask for more data, and a first payload that parses is
        // always the version; anything else is not a module.
        _ => Err(Error::NotCoreModule),
    }
}
