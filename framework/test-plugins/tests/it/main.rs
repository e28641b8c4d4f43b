//! Tests of the built test plugins: every one is a valid component of the no-import world,
//! stamped with the ABI version, and the native builds of their mechanisms behave.

mod components;
mod native;
