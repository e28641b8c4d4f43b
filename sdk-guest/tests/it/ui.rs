//! Misuse of `export_mechanism!` fails to compile with a clear message, pinned in
//! `tests/it/ui/*.stderr` (regenerate with `TRYBUILD=overwrite`).

#[test]
fn misuse_is_a_compile_error() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/it/ui/*.rs");
}
