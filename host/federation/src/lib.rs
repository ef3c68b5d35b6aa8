//! Tsudoi's ActivityPub layer. It depends on the core, never the reverse: the core knows
//! notes and follows, this crate knows how other servers say them.
//!
//! - [`signature`]: HTTP signatures, signing what we send and checking what we receive.
//! - [`actor_keys`]: the key pair each local actor signs with.

pub mod actor_keys;
pub mod signature;
