//! The atomics and `Arc` `task_state.rs` is built on: std's here. The loom models (the
//! `loom-models` crate) compile that same file beside a `sync` module of their own that
//! names loom's instead, so what loom checks is the production code, not a copy.

pub(super) use std::sync::atomic;
pub(super) use std::sync::Arc;
