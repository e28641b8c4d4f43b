//! Integration tests of the `yuma` crate, in one test binary.

mod properties;
mod reference;
mod strategies;
mod vectors;
