//! Procedural macros for lunatic programs.
//!
//! | macro | what it does |
//! |---|---|
//! | [`macro@main`] | turns `fn main(mailbox: Mailbox<M>)` into the program's entry point |
//! | [`macro@actor`] | turns an `impl` block's methods into an actor's messages, dispatch and typed client |
//! | [`macro@test`] | a test whose body runs as its own process, judged by how it ended |

mod actor;
mod test;

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, ItemFn, ItemImpl};

/// Marks the main process's function: `fn main(mailbox: Mailbox<M>)` (or `fn main()`).
///
/// The function runs as the program's first process; when it returns, the VM ends and every
/// other process is killed.
///
/// ```ignore
/// #[lunatic::main]
/// fn main(mailbox: lunatic::Mailbox<()>) {
///     println!("hello from process {}", lunatic::process::this(&mailbox).id());
/// }
/// ```
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        let attr = proc_macro2::TokenStream::from(attr);
        return syn::Error::new_spanned(&attr, "#[lunatic::main] takes no arguments")
            .to_compile_error()
            .into();
    }
    let function = parse_macro_input!(item as ItemFn);
    match expand_main(function) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

fn expand_main(mut function: ItemFn) -> syn::Result<proc_macro2::TokenStream> {
    let signature = &function.sig;
    if signature.ident != "main" {
        return Err(syn::Error::new_spanned(
            &signature.ident,
            "#[lunatic::main] goes on `fn main`",
        ));
    }
    if let Some(asyncness) = &signature.asyncness {
        return Err(syn::Error::new_spanned(
            asyncness,
            "lunatic processes are plain blocking code: remove `async`",
        ));
    }
    if !matches!(signature.output, syn::ReturnType::Default) {
        return Err(syn::Error::new_spanned(
            &signature.output,
            "`main` of a lunatic program returns nothing",
        ));
    }
    let call = match signature.inputs.len() {
        0 => quote! { ::lunatic::process::run_main(|_: ::lunatic::Mailbox<()>| __lunatic_main()) },
        1 => quote! { ::lunatic::process::run_main(__lunatic_main) },
        _ => {
            return Err(syn::Error::new_spanned(
                &signature.inputs,
                "`main` takes one argument, its mailbox: `fn main(mailbox: Mailbox<M>)`",
            ))
        }
    };
    function.sig.ident = syn::Ident::new("__lunatic_main", function.sig.ident.span());
    Ok(quote! {
        fn main() {
            #function
            #call
        }
    })
}

/// Turns the methods of an `impl` block into an actor's messages.
///
/// Every method with `&self` or `&mut self` becomes a message: one with a result (or marked
/// `#[call]`) is a call, answered with that result; any other is a cast. A last argument
/// `ctx: &mut Context<Self>` is given the actor's context. The type must also implement
/// `Actor` (its `init`). Generated: `<Type>Message`, `impl Dispatch for <Type>`, and
/// `<Type>Client`, which `ActorRef<Type>` dereferences to, so callers write
/// `counter.increment()` and `counter.get()?`. Each client method is as visible as its
/// handler. A handler that takes a `ReplyTo<T>` after its arguments is a call answered
/// later: it keeps the handle and sends the `T` when it can (`ReplyTo::caller` is who
/// asked).
///
/// ```ignore
/// #[lunatic::actor]
/// impl Counter {
///     pub fn increment(&mut self) { self.count += 1 }
///     pub fn get(&self) -> u64 { self.count }
///     pub fn when_ten(&mut self, reply: ReplyTo<()>) { self.waiting.push(reply) }
/// }
/// ```
#[proc_macro_attribute]
pub fn actor(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        let attr = proc_macro2::TokenStream::from(attr);
        return syn::Error::new_spanned(&attr, "#[lunatic::actor] takes no arguments")
            .to_compile_error()
            .into();
    }
    let block = match syn::parse::<ItemImpl>(item) {
        Ok(block) => block,
        Err(error) => {
            return syn::Error::new(error.span(), "#[lunatic::actor] goes on an `impl` block")
                .to_compile_error()
                .into()
        }
    };
    match actor::expand(block) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// Marks a test whose body runs as its own lunatic process: `fn name()` or
/// `fn name(mailbox: Mailbox<M>)`, returning `()` or a `Result<(), E: Debug>`.
///
/// `#[ignore]` and `#[should_panic]` / `#[should_panic(expected = "...")]` work as with
/// `#[test]`. On the `lunatic` VM every test runs in its own instance, in parallel, so a
/// panic fails that test only; its output (and that of every process it spawned) is shown
/// only if it fails. See the VM's `testing` module.
///
/// ```ignore
/// #[lunatic::test]
/// fn spawns(mailbox: lunatic::Mailbox<u32>) {
///     let this = lunatic::process::this(&mailbox);
///     lunatic::process::spawn_with(this, |parent, _: lunatic::Mailbox<()>| parent.send(7)).unwrap();
///     assert_eq!(mailbox.receive().unwrap(), 7);
/// }
/// ```
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        let attr = proc_macro2::TokenStream::from(attr);
        return syn::Error::new_spanned(&attr, "#[lunatic::test] takes no arguments")
            .to_compile_error()
            .into();
    }
    let function = parse_macro_input!(item as ItemFn);
    match test::expand(function) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}
