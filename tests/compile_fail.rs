//! Misusing the macros is a compile error that points at the user's code and says what to
//! do (checked with trybuild against `tests/compile_fail/*.stderr`).

#[test]
fn macro_misuse_is_a_clear_compile_error() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/compile_fail/*.rs");
}
