//! `#[lunatic::actor]`: an `impl` block's methods become an actor's messages.
//!
//! For `impl Counter { fn increment(&mut self); fn get(&self) -> u64 }` it keeps the
//! methods and generates:
//! - `CounterMessage`: one variant per method; a method with a result (or marked `#[call]`)
//!   is a call and carries a `Request<(args), Result>`, any other a cast carrying `(args)`;
//! - `impl Dispatch for Counter`: runs the method for each variant and replies to calls;
//! - `CounterClient`: what `ActorRef<Counter>` dereferences to, with one method per message
//!   (`increment(&self)`, `get(&self) -> Result<u64, CallError>`, `get_timeout(&self, d)`),
//!   each as visible as the method it calls (a private handler is no public client method).
//!
//! A method that takes a `ReplyTo<T>` after its arguments is a call answered later (OTP's
//! `noreply` and `gen_server:reply`): it is handed the reply handle instead of replying
//! with its result, keeps it, and sends `T` when it can (`ReplyTo::caller` says who asked).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, GenericParam, ImplItem, ImplItemFn, ItemImpl, Pat, ReturnType, Type};

/// Names of `ActorRef`'s own methods: a message with one of them would be hidden by it.
const RESERVED: &[&str] = &[
    "call",
    "call_timeout",
    "cast",
    "info",
    "stop",
    "link",
    "unlink",
    "monitor",
    "kill",
    "is_alive",
    "register",
    "lookup",
    "process",
    "process_id",
    "start",
    "start_link",
    "from_process",
    "clone",
];

/// One method turned into a message.
struct MessageMethod {
    name: syn::Ident,
    variant: syn::Ident,
    args: Vec<(syn::Ident, Type)>,
    takes_context: bool,
    /// `Some(result type)` for a call.
    reply: Option<Type>,
    /// Whether the method takes the reply handle and answers later (a `ReplyTo<T>`
    /// parameter after its arguments), rather than replying with its result.
    deferred: bool,
    vis: syn::Visibility,
    docs: Vec<syn::Attribute>,
}

pub(crate) fn expand(mut block: ItemImpl) -> syn::Result<TokenStream> {
    if let Some((_, path, _)) = &block.trait_ {
        return Err(syn::Error::new_spanned(path,
            "#[lunatic::actor] goes on an inherent `impl` block (`impl MyActor { ... }`), not on a trait impl",
        ));
    }
    let type_name = match &*block.self_ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.clone()),
        _ => None,
    }
    .ok_or_else(|| {
        syn::Error::new_spanned(&block.self_ty, "#[lunatic::actor] needs a named type")
    })?;

    let mut messages = Vec::new();
    for item in &mut block.items {
        if let ImplItem::Fn(method) = item {
            if method.sig.receiver().is_some() {
                messages.push(message_method(method)?);
            }
        }
    }
    if messages.is_empty() {
        return Err(syn::Error::new_spanned(
            &block.self_ty,
            "#[lunatic::actor] found no method with `&self` or `&mut self` to turn into a message",
        ));
    }

    let message_enum = format_ident!("{}Message", type_name);
    let client = format_ident!("{}Client", type_name);
    let self_ty = &block.self_ty;
    let (impl_generics, type_generics, where_clause) = block.generics.split_for_impl();
    // The generated types take the parameters without bounds: serde infers its own, and
    // repeating the user's (say `T: Sendable`) next to them makes them ambiguous.
    let params: Vec<TokenStream> = block
        .generics
        .params
        .iter()
        .map(|p| match p {
            GenericParam::Type(t) => {
                let ident = &t.ident;
                quote! { #ident }
            }
            GenericParam::Lifetime(l) => {
                let lifetime = &l.lifetime;
                quote! { #lifetime }
            }
            GenericParam::Const(c) => {
                let (ident, ty) = (&c.ident, &c.ty);
                quote! { const #ident: #ty }
            }
        })
        .collect();
    let type_params: Vec<_> = block
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Type(t) => Some(&t.ident),
            _ => None,
        })
        .collect();
    let phantom = (!type_params.is_empty()).then(|| {
        quote! {
            #[doc(hidden)]
            #[serde(skip)]
            __Phantom(::core::marker::PhantomData<fn() -> (#(#type_params,)*)>),
        }
    });
    let phantom_arm = phantom
        .as_ref()
        .map(|_| quote! { #message_enum::__Phantom(_) => {} });

    let variants = messages.iter().map(|m| {
        let variant = &m.variant;
        let arg_types = m.args.iter().map(|(_, ty)| ty);
        let kind = if m.reply.is_some() { "call" } else { "cast" };
        let summary = format!("The `{}` message (a {kind}).", m.name);
        let docs = if m.docs.is_empty() {
            vec![syn::parse_quote!(#[doc = #summary])]
        } else {
            m.docs.clone()
        };
        match &m.reply {
            Some(reply) => {
                quote! { #(#docs)* #variant(::lunatic::Request<(#(#arg_types,)*), #reply>), }
            }
            None => quote! { #(#docs)* #variant((#(#arg_types,)*)), },
        }
    });
    let arms = messages.iter().map(|m| {
        let (variant, name) = (&m.variant, &m.name);
        let names: Vec<_> = m.args.iter().map(|(n, _)| n).collect();
        let ctx = m.takes_context.then(|| quote! { ctx });
        let reply_arg = m.deferred.then(|| quote! { reply });
        let call_args = names
            .iter()
            .map(|n| quote! { #n })
            .chain(reply_arg)
            .chain(ctx);
        match &m.reply {
            Some(_) if m.deferred => quote! {
                #message_enum::#variant(request) => {
                    let ((#(#names,)*), reply) = request.into_parts();
                    self.#name(#(#call_args),*);
                }
            },
            Some(_) => quote! {
                #message_enum::#variant(request) => {
                    let ((#(#names,)*), reply) = request.into_parts();
                    reply.send(self.#name(#(#call_args),*));
                }
            },
            None => quote! {
                #message_enum::#variant((#(#names,)*)) => { self.#name(#(#call_args),*); }
            },
        }
    });
    let client_methods = messages.iter().map(|m| {
        let (variant, name) = (&m.variant, &m.name);
        let names: Vec<_> = m.args.iter().map(|(n, _)| n).collect();
        let params: Vec<_> = m.args.iter().map(|(n, ty)| quote! { #n: #ty }).collect();
        let (docs, vis) = (&m.docs, &m.vis);
        match &m.reply {
            Some(reply) => {
                let with_timeout = format_ident!("{}_timeout", name);
                quote! {
                    #(#docs)*
                    ///
                    /// A call: waits up to `DEFAULT_CALL_TIMEOUT` for the reply.
                    ///
                    /// # Errors
                    /// The actor is down or dies (at once), or does not reply in time.
                    #vis fn #name(&self, #(#params),*) -> ::core::result::Result<#reply, ::lunatic::actors::CallError> {
                        ::lunatic::actors::call(&self.process, #message_enum::#variant, (#(#names,)*), ::lunatic::actors::DEFAULT_CALL_TIMEOUT)
                    }

                    #[doc = concat!("[`Self::", stringify!(#name), "`] with its own timeout.")]
                    ///
                    /// # Errors
                    /// The actor is down or dies (at once), or does not reply in time.
                    #vis fn #with_timeout(&self, #(#params,)* timeout: ::core::time::Duration) -> ::core::result::Result<#reply, ::lunatic::actors::CallError> {
                        ::lunatic::actors::call(&self.process, #message_enum::#variant, (#(#names,)*), timeout)
                    }
                }
            }
            None => quote! {
                #(#docs)*
                ///
                /// A cast: sent without waiting; dropped if the actor is not alive.
                #vis fn #name(&self, #(#params),*) {
                    ::lunatic::actors::cast(&self.process, #message_enum::#variant((#(#names,)*)));
                }
            },
        }
    });

    let dispatch_impl = quote_spanned! { block.self_ty.span() =>
        impl #impl_generics ::lunatic::actors::Dispatch for #self_ty #where_clause {
            type Message = #message_enum #type_generics;
            type Client = #client #type_generics;

            fn dispatch(&mut self, message: Self::Message, ctx: &mut ::lunatic::actors::Context<Self>) {
                let _ = &ctx;
                match message {
                    #(#arms)*
                    #phantom_arm
                }
            }
        }
    };
    let doc_enum = format!("The messages of [`{type_name}`] (generated by `#[lunatic::actor]`).");
    let doc_client = format!(
        "The typed client of [`{type_name}`]: what `ActorRef<{type_name}>` dereferences to (generated by `#[lunatic::actor]`)."
    );
    Ok(quote! {
        #block

        #[doc = #doc_enum]
        #[derive(::lunatic::__private::serde::Serialize, ::lunatic::__private::serde::Deserialize)]
        #[serde(crate = "::lunatic::__private::serde")]
        pub enum #message_enum <#(#params),*> {
            #(#variants)*
            #phantom
        }

        #dispatch_impl

        #[doc = #doc_client]
        // The client's methods mirror the actor's: lints about their shape are the actor's.
        #[allow(clippy::len_without_is_empty)]
        pub struct #client <#(#params),*> {
            process: ::lunatic::Process<::lunatic::actors::Envelope<#message_enum #type_generics>>,
        }

        impl #impl_generics ::core::convert::From<::lunatic::Process<::lunatic::actors::Envelope<#message_enum #type_generics>>>
            for #client #type_generics #where_clause
        {
            fn from(process: ::lunatic::Process<::lunatic::actors::Envelope<#message_enum #type_generics>>) -> Self {
                Self { process }
            }
        }

        #[allow(clippy::too_many_arguments, clippy::len_without_is_empty)]
        impl #impl_generics #client #type_generics #where_clause {
            #(#client_methods)*
        }
    })
}

/// Reads one method; removes the `#[call]` marker it may carry.
fn message_method(method: &mut ImplItemFn) -> syn::Result<MessageMethod> {
    let sig = &method.sig;
    if let Some(asyncness) = &sig.asyncness {
        return Err(syn::Error::new_spanned(
            asyncness,
            "actor methods are plain blocking code: remove `async`",
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(&sig.generics,
            "actor methods cannot be generic: each becomes one message variant (make the actor generic instead)",
        ));
    }
    if let Some(receiver) = sig.receiver() {
        if receiver.reference.is_none() {
            return Err(syn::Error::new_spanned(
                receiver,
                "actor methods take `&self` or `&mut self`, not `self`",
            ));
        }
    }
    let name = sig.ident.clone();
    if RESERVED.contains(&name.to_string().as_str()) {
        return Err(syn::Error::new_spanned(&name,
            format!("`{name}` is a method of `ActorRef` itself, which would hide this message: rename it"),
        ));
    }
    let mut args = Vec::new();
    let mut takes_context = false;
    let mut deferred_reply: Option<Type> = None;
    let inputs: Vec<_> = sig.inputs.iter().skip(1).collect();
    for (position, input) in inputs.iter().enumerate() {
        let FnArg::Typed(arg) = input else { continue };
        if position + 1 == inputs.len() && is_context(&arg.ty) {
            takes_context = true;
            continue;
        }
        if let Some(reply) = reply_to(&arg.ty) {
            let last = position + 1 == inputs.len()
                || (position + 2 == inputs.len()
                    && matches!(inputs[position + 1], FnArg::Typed(next) if is_context(&next.ty)));
            if !last || deferred_reply.is_some() {
                return Err(syn::Error::new_spanned(&arg.ty,
                    "the `ReplyTo` of a call answered later comes after the method's arguments (before a `&mut Context`)",
                ));
            }
            deferred_reply = Some(reply);
            continue;
        }
        if deferred_reply.is_some() {
            return Err(syn::Error::new_spanned(&arg.ty,
                "the `ReplyTo` of a call answered later comes after the method's arguments (before a `&mut Context`)",
            ));
        }
        let Pat::Ident(ident) = &*arg.pat else {
            return Err(syn::Error::new_spanned(
                &arg.pat,
                "use a plain name for each argument of an actor method",
            ));
        };
        if let Type::Reference(reference) = &*arg.ty {
            return Err(syn::Error::new_spanned(reference,
                "arguments travel in messages, so they must be owned values (for example `String`, not `&str`)",
            ));
        }
        if let Type::ImplTrait(impl_trait) = &*arg.ty {
            return Err(syn::Error::new_spanned(
                impl_trait,
                "arguments of actor methods need a concrete type",
            ));
        }
        args.push((ident.ident.clone(), (*arg.ty).clone()));
    }
    let marked_call = method.attrs.iter().any(|a| a.path().is_ident("call"));
    method.attrs.retain(|a| !a.path().is_ident("call"));
    let deferred = deferred_reply.is_some();
    let reply = match (&method.sig.output, deferred_reply) {
        (ReturnType::Type(_, ty), Some(_)) => {
            return Err(syn::Error::new_spanned(ty,
                "a call answered later replies through its `ReplyTo`, so the method returns nothing",
            ));
        }
        (ReturnType::Default, Some(reply)) => Some(reply),
        (ReturnType::Type(_, ty), None) => Some((**ty).clone()),
        (ReturnType::Default, None) if marked_call => Some(syn::parse_quote!(())),
        (ReturnType::Default, None) => None,
    };
    let docs = method
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .cloned()
        .collect();
    Ok(MessageMethod {
        variant: pascal_case(&name),
        name,
        args,
        takes_context,
        reply,
        deferred,
        vis: method.vis.clone(),
        docs,
    })
}

/// `T` if `ty` is `ReplyTo<T>` (by its last path segment, as `Context` is found).
fn reply_to(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "ReplyTo" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(reply) if args.args.len() == 1 => Some(reply.clone()),
        _ => None,
    }
}

/// Whether `ty` is `&mut Context<..>`.
fn is_context(ty: &Type) -> bool {
    let Type::Reference(reference) = ty else {
        return false;
    };
    let Type::Path(path) = &*reference.elem else {
        return false;
    };
    reference.mutability.is_some()
        && path
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Context")
}

fn pascal_case(name: &syn::Ident) -> syn::Ident {
    let text: String = name
        .to_string()
        .trim_start_matches("r#")
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    syn::Ident::new(&text, Span::call_site())
}
