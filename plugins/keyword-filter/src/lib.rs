//! Rejects (or flags, or hides behind a content warning) notes whose text or CW contains one
//! of the configured keywords, compared case-insensitively.
//!
//! Configuration: `{"keywords": ["buy now", "free crypto"], "action": "reject"}` where
//! `action` is `reject` (default), `flag` or `cw`.
//!
//! The matching lives in [`filter`], plain Rust that also builds natively (the benchmark
//! compares the component with it); `component` connects it to the plugin interface.

pub mod filter;

// The component only makes sense for WebAssembly; on the host target (`cargo build
// --workspace`) it is left out instead of becoming a shared library with unlinkable exports.
#[cfg(target_family = "wasm")]
mod component;
