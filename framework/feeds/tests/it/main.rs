//! Integration tests of the `feeds` crate, as one binary.

mod binance;
mod common;
mod registry;
mod replay;
mod series;
