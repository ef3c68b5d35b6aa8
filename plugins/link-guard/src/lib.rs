//! Link spam, the other half of fediverse spam waves: accounts made minutes ago posting links,
//! and links to sites the admin already knows. This filter refuses (or flags) a note that
//! links a blocked host or one of its subdomains, whoever posts it, and a note from an account
//! younger than `new_account_hours` with more than `new_account_max_links` links to hosts not
//! in `allowed_hosts`.
//!
//! Configuration (all optional):
//! `{"blocked_hosts": ["spam.example"], "allowed_hosts": ["wikipedia.org"],
//!   "new_account_hours": 24, "new_account_max_links": 0, "action": "reject"}`,
//! `action` being `reject` or `flag`. Hosts are compared without case; write international
//! names in their ASCII (`xn--…`) form, as the host reports them.
//!
//! It reads the links the host's MFM parser found (`note.links()`, WIT 0.1.1), so a link
//! inside code does not count and `[google.com](https://spam.example)` is `spam.example`.
//! The rules live in [`rules`], plain Rust tested natively; `component` connects them.

pub mod rules;

// The component only makes sense for WebAssembly; on the host target it is left out instead
// of becoming a shared library with unlinkable exports.
#[cfg(target_family = "wasm")]
mod component;
