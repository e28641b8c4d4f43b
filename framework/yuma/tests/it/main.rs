//! Integration tests of the `yuma` crate, in one test binary.

mod vectors;
