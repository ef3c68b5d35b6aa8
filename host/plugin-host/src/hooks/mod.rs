//! The hooks, one module per kind of plugin: its world over the WIT versions that bind it,
//! and the calls the server makes into it, in the latest version's types.

pub mod bridge;
pub mod mfm;
pub mod moderation;
pub mod ranking;
