#![recursion_limit = "256"]
//! The Tsudoi host: storage, accounts, notes, timelines and the Misskey-compatible client API.

pub mod api;
pub mod app;
pub mod config;
pub mod core;
pub mod net;
pub mod plugins;
pub mod progress;
pub mod store;
