//! Integration tests of the plugin host. Plugins are built from source by `test-plugins`; the
//! malformed ones (wrong ABI, imports, compile-time bombs) are made here with `wasm-encoder`.
//!
//! Compiling a plugin in a dev-profile test binary takes seconds, so every test loads plugins
//! through one process-wide [`support::host`] whose artifact cache lives in the target directory:
//! the first test process compiles each plugin once and the others map the artifact.

mod determinism;
mod faults;
mod load;
mod output;
mod support;
mod wasm;
