//! What the `kv` and `http` imports reach, as traits the server implements: the runtime
//! knows neither the database nor the HTTP client, so changing either rebuilds nothing here.
//!
//! Both are called from the thread running the plugin (a plugin thread, never an async
//! worker) and may block it until the answer is there, but never past `until`, the moment the
//! plugin's call must be over.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tsudoi_model::{KvKey, KvRefusal};

/// Why a key-value operation did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvFailure {
    /// The store refused the write (quota, not a number, overflow).
    Refused(KvRefusal),
    /// The store failed or did not answer before the call's deadline; the plugin may try
    /// again.
    Unavailable,
}

/// The key-value store plugins keep state in.
pub trait KvStore: Send + Sync {
    fn get(&self, at: KvKey<'_>, now: i64, until: Instant) -> Result<Option<Vec<u8>>, KvFailure>;
    /// Stores `value` unless the plugin's entries would exceed `quota` bytes.
    fn set(
        &self,
        at: KvKey<'_>,
        value: &[u8],
        expires_at: Option<i64>,
        now: i64,
        quota: i64,
        until: Instant,
    ) -> Result<(), KvFailure>;
    fn delete(&self, at: KvKey<'_>, until: Instant) -> Result<(), KvFailure>;
    /// Adds `delta` atomically; an absent or expired key starts at 0 and expires at
    /// `expires_if_new`.
    fn increment(
        &self,
        at: KvKey<'_>,
        delta: i64,
        expires_if_new: Option<i64>,
        now: i64,
        quota: i64,
        until: Instant,
    ) -> Result<i64, KvFailure>;
    /// Keys of a bucket starting with `prefix`, in order, at most `limit`.
    fn list_keys(
        &self,
        plugin: &str,
        bucket: &str,
        prefix: &str,
        limit: i64,
        now: i64,
        until: Instant,
    ) -> Result<Vec<String>, KvFailure>;
}

/// HTTP methods a plugin may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
}

/// An outbound request a plugin makes, already checked against its granted hosts.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: HttpMethod,
    pub url: url::Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why an outbound request was not made or did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpFailure {
    /// Refused before anything was sent (a private address, a bad URL).
    Denied(String),
    Timeout,
    TooLarge,
    Transport(String),
}

/// The server's outbound HTTP client (the guarded one: no private addresses, no redirects).
pub trait HttpClient: Send + Sync {
    /// Sends `request`, waiting at most `timeout` and reading at most `max_body` bytes.
    fn fetch(
        &self,
        request: HttpRequest,
        timeout: Duration,
        max_body: usize,
    ) -> Result<HttpResponse, HttpFailure>;
}

/// What a plugin's `kv` and `http` imports reach in a server. Without them (offline testing)
/// both answer "denied".
#[derive(Clone)]
pub struct Services {
    pub kv: Arc<dyn KvStore>,
    pub http: Arc<dyn HttpClient>,
    /// Bytes each plugin may keep in `kv` (the server's `plugins.kv_quota_bytes`, by default
    /// [`crate::KV_QUOTA_BYTES`]).
    pub kv_quota_bytes: i64,
}
