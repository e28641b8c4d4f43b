//! Integration tests of `sdk-guest`: the compile errors of misused macros.

mod ui;
