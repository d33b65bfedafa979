//! `#[lunatic::test]`: a libtest `#[test]` whose body runs as its own lunatic process.
//!
//! ```ignore
//! #[lunatic::test]
//! #[should_panic(expected = "boom")]
//! fn explodes() { panic!("boom") }
//! ```
//! expands to (roughly)
//! ```ignore
//! #[test]
//! fn explodes() {
//!     #[used] #[link_section = "lunatic_tests"] static MARK: [u8; 1] = [1];
//!     fn body() { panic!("boom") }
//!     testing::run(|m| testing::finish(body(testing::start(m))), Expect::Panic(Some("boom")))
//! }
//! ```
//! `should_panic` is judged by lunatic, not libtest: with `panic = abort` libtest ignores
//! such tests, and the panic happens in another process anyway.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Expr, ExprLit, ItemFn, Lit, Meta, ReturnType};

/// Expands `#[lunatic::test]` on `function`.
pub(crate) fn expand(mut function: ItemFn) -> syn::Result<TokenStream> {
    let signature = &function.sig;
    if let Some(asyncness) = &signature.asyncness {
        return Err(syn::Error::new_spanned(
            asyncness,
            "lunatic tests are plain blocking code: remove `async`",
        ));
    }
    if !signature.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &signature.generics,
            "a test cannot be generic",
        ));
    }
    if signature.inputs.len() > 1 {
        return Err(syn::Error::new_spanned(
            &signature.inputs,
            "a test takes nothing or its mailbox: `fn name(mailbox: Mailbox<M>)`",
        ));
    }
    let mut expect = quote! { ::lunatic::__private::testing::Expect::Return };
    let mut kept = Vec::new();
    for attr in std::mem::take(&mut function.attrs) {
        if attr.path().is_ident("should_panic") {
            if !matches!(signature.output, ReturnType::Default) {
                return Err(syn::Error::new_spanned(
                    &signature.output,
                    "functions using `#[should_panic]` must return `()`",
                ));
            }
            let expected = match expected_text(&attr)? {
                Some(text) => quote! { ::core::option::Option::Some(#text) },
                None => quote! { ::core::option::Option::None },
            };
            expect = quote! { ::lunatic::__private::testing::Expect::Panic(#expected) };
        } else if attr.path().is_ident("test") {
            return Err(syn::Error::new_spanned(
                &attr,
                "#[lunatic::test] already makes this a test: remove `#[test]`",
            ));
        } else {
            kept.push(attr);
        }
    }
    let name = function.sig.ident.clone();
    let visibility = function.vis.clone();
    function.sig.ident = syn::Ident::new("__lunatic_test_body", name.span());
    let call = if function.sig.inputs.is_empty() {
        quote! {{
            let _: ::lunatic::Mailbox<()> = ::lunatic::__private::testing::start(mailbox);
            __lunatic_test_body()
        }}
    } else {
        quote! { __lunatic_test_body(::lunatic::__private::testing::start(mailbox)) }
    };
    let section = lunatic_abi::TEST_SECTION;
    Ok(quote! {
        #[test]
        #(#kept)*
        #visibility fn #name() {
            // Marks the program as one the VM's test runner runs test by test.
            #[used]
            #[link_section = #section]
            static __LUNATIC_TEST_MARK: [u8; 1] = [1];
            #function
            ::lunatic::__private::testing::run(
                |mailbox: ::lunatic::Mailbox<()>| {
                    ::lunatic::__private::testing::finish(#call)
                },
                #expect,
            )
        }
    })
}

/// The `expected` text of `#[should_panic]`, `#[should_panic = "..."]` or
/// `#[should_panic(expected = "...")]`.
fn expected_text(attr: &Attribute) -> syn::Result<Option<String>> {
    let string = |expr: &Expr| match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => Ok(text.value()),
        other => Err(syn::Error::new_spanned(other, "expected a string literal")),
    };
    match &attr.meta {
        Meta::Path(_) => Ok(None),
        Meta::NameValue(pair) => string(&pair.value).map(Some),
        Meta::List(_) => {
            let mut expected = None;
            attr.parse_nested_meta(|item| {
                if item.path.is_ident("expected") {
                    expected = Some(string(&item.value()?.parse()?)?);
                    Ok(())
                } else {
                    Err(item.error("`should_panic` takes only `expected = \"...\"`"))
                }
            })?;
            Ok(expected)
        }
    }
}
