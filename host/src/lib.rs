//! The `tsudoi` binary's library half: the Misskey-compatible HTTP API and pages, the
//! configuration, the wiring that builds the core from it, and the background workers. The shell commands live
//! beside `main.rs` in `cli/`.

pub mod api;
pub mod config;
pub mod progress;
pub mod wiring;
pub mod workers;
