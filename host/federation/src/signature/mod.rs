//! HTTP signatures: every request we send is signed (draft-cavage, what every fediverse
//! server verifies), and every request that reaches an inbox is checked before anything else,
//! in draft-cavage or RFC 9421 form (what Fedify sends first).
//!
//! Checking is in two steps, so that nothing costly happens for a request that cannot be
//! valid: [`inspect`] checks what the request itself says (which parts the signature covers,
//! the body against its digest, the date window, the host it was meant for) and returns a
//! [`PendingSignature`] naming the key; the caller finds that key (from its store, or by
//! fetching the actor) and calls [`PendingSignature::verify`]. A caller that fails with a
//! stored key may fetch the key once more and retry (key rotation), never more.

mod cavage;
mod digest;
mod keys;
mod rfc9421;

use std::time::{Duration, SystemTime};

pub use cavage::sign_request;
pub use keys::{KeyError, PrivateKey, PublicKey};

/// How far a signature's date may lie from our clock, either way. Mastodon accepts a
/// signature for about 65 minutes (5 minutes of validity and an hour of clock skew); the
/// same hour each way here, so a request held back by a slow queue still passes while a
/// two-hour-old one (a replay) does not.
pub const MAX_SKEW: Duration = Duration::from_secs(65 * 60);

/// The request as received, with what the signature is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a http::Method,
    /// Path and query, as received (`/inbox?page=1`).
    pub path_and_query: &'a str,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
}

/// What a signature must satisfy beyond being valid.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Our public origin (`https://example.com`, or `http://127.0.0.1:3000` in tests): the
    /// host a request must have been signed for, and the base of RFC 9421's `@target-uri`.
    pub origin: url::Url,
    /// The time to check dates against.
    pub now: SystemTime,
}

impl Policy {
    fn authority(&self) -> String {
        authority(&self.origin)
    }

    fn check_time(&self, at: SystemTime) -> Result<(), VerifyError> {
        let skew = match at.duration_since(self.now) {
            Ok(ahead) => ahead,
            Err(behind) => behind.duration(),
        };
        if skew > MAX_SKEW {
            return Err(VerifyError::Expired);
        }
        Ok(())
    }
}

impl Request<'_> {
    /// Whether the request carries a body the signature must cover through a digest.
    fn has_body(&self) -> bool {
        self.method == http::Method::POST || !self.body.is_empty()
    }
}

/// `host[:port]` of `url` as a client addresses it (the `Host` header): the port only when it
/// is not the scheme's.
fn authority(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// A time given in whole seconds since the epoch, as `created` and `expires` are.
fn unix_seconds(at: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(at)
}

/// Which specification a request was signed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// draft-cavage-http-signatures (`Signature` header), what the fediverse uses.
    Cavage,
    /// RFC 9421 (`Signature-Input` and `Signature`).
    Rfc9421,
}

/// The signature algorithms we verify: RSA keys, which every fediverse actor has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256: cavage's `rsa-sha256` (and `hs2019` with an RSA key),
    /// RFC 9421's `rsa-v1_5-sha256`.
    RsaSha256,
    /// RSASSA-PSS with SHA-512: RFC 9421's `rsa-pss-sha512`.
    RsaPssSha512,
}

/// Why a request's signature was refused. Every variant means "unauthenticated": the inbox
/// answers 401 and stores nothing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("the request is not signed")]
    Unsigned,
    #[error("the signature is malformed: {0}")]
    Malformed(String),
    #[error("the signature does not cover {0}")]
    NotCovered(&'static str),
    #[error("the request has no {0} header")]
    MissingHeader(String),
    #[error("the body does not match its digest")]
    DigestMismatch,
    #[error("the signature's date is too far from ours")]
    Expired,
    #[error("the request was signed for another host")]
    WrongHost,
    #[error("unsupported signature algorithm {0}")]
    UnsupportedAlgorithm(String),
    #[error("the signature does not match the key")]
    BadSignature,
}

/// A signature whose request checked out, waiting for its key.
#[derive(Debug, Clone)]
pub struct PendingSignature {
    /// The key that must have made it (an actor's `publicKey.id`).
    pub key_id: String,
    pub scheme: Scheme,
    pub algorithm: Algorithm,
    /// The bytes that were signed: cavage's signing string, RFC 9421's signature base.
    signed: Vec<u8>,
    signature: Vec<u8>,
}

impl PendingSignature {
    /// Whether `key` made this signature.
    pub fn verify(&self, key: &PublicKey) -> Result<(), VerifyError> {
        if key.verify(self.algorithm, &self.signed, &self.signature) {
            Ok(())
        } else {
            Err(VerifyError::BadSignature)
        }
    }
}

/// Checks everything about a request's signature that needs no key: which scheme signed it,
/// that it covers the method, target, host and date (and the body's digest when there is a
/// body), that the body matches that digest, that the date is within [`MAX_SKEW`] and that
/// it was meant for us. RFC 9421 is preferred when a request carries both.
pub fn inspect(request: &Request<'_>, policy: &Policy) -> Result<PendingSignature, VerifyError> {
    if request.headers.contains_key("signature-input") {
        rfc9421::inspect(request, policy)
    } else if request.headers.contains_key("signature") {
        cavage::inspect(request, policy)
    } else {
        Err(VerifyError::Unsigned)
    }
}

/// One header's value as text; several lines of it joined as HTTP allows (`, `).
fn header_text(headers: &http::HeaderMap, name: &str) -> Result<Option<String>, VerifyError> {
    let mut values = headers.get_all(name).iter().peekable();
    if values.peek().is_none() {
        return Ok(None);
    }
    let mut joined = String::new();
    for (i, v) in values.enumerate() {
        let text = v
            .to_str()
            .map_err(|_| VerifyError::Malformed(format!("the {name} header is not text")))?;
        if i > 0 {
            joined.push_str(", ");
        }
        joined.push_str(text.trim());
    }
    Ok(Some(joined))
}

#[cfg(test)]
pub(crate) mod test_keys;
