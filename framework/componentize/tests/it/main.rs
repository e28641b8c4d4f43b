//! Tests of `componentize` and `abi_version` on hand-made modules. The happy path on real plugins
//! is tested by `test-plugins`, which componentises every guest it builds.

mod errors;
