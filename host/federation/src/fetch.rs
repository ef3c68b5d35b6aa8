//! Fetching ActivityPub documents from other servers, through the guarded client: private
//! addresses refused at connect time, each redirect checked again, size and time capped, the
//! `Content-Type` checked, and the document's `id` required to be the URL it came from.
//! Every fetch is signed by the instance actor, so servers that require signed fetches
//! (Mastodon's secure mode, Misskey's `signedGet`) answer.

use std::time::{Duration, SystemTime};

use reqwest::Method;
use tsudoi_net::{FetchError as NetError, GuardedClient};

use crate::ap::{self, Object};
use crate::signature::{PrivateKey, sign_request};

/// Largest document fetched (an actor with a long profile, a note with many tags); what
/// Lemmy's library settled on.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;
/// How long one fetch may take, redirects included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0} is not a URL this server may fetch: {1}")]
    BadUrl(String, String),
    #[error("fetching {0}: {1}")]
    Net(String, NetError),
    #[error("{0} answered {1}")]
    Status(String, u16),
    #[error("{0} is gone")]
    Gone(String),
    #[error("{0} is served as `{1}`, not as an ActivityPub document")]
    ContentType(String, String),
    #[error("{url} holds a document whose id is {id}")]
    IdMismatch { url: String, id: String },
    #[error("{0} redirects more than {MAX_REDIRECTS} times")]
    TooManyRedirects(String),
    #[error("{0} is not an ActivityPub document: {1}")]
    Json(String, String),
    #[error("cannot sign the request: {0}")]
    Sign(String),
}

/// One link of a WebFinger answer.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct WebfingerLink {
    pub rel: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub href: Option<String>,
}

/// Who signs fetches: the instance actor's key id and key.
pub struct Signer<'a> {
    pub key_id: &'a str,
    pub key: &'a PrivateKey,
}

/// Fetches documents. `allow_http` admits plain `http://` URLs, which only a test setup (with
/// loopback allowed too) uses.
#[derive(Clone)]
pub struct Fetcher {
    http: GuardedClient,
    allow_http: bool,
}

impl Fetcher {
    pub fn new(http: GuardedClient, allow_http: bool) -> Self {
        Fetcher { http, allow_http }
    }

    /// The guarded client, for requests other than fetches (deliveries).
    pub fn client(&self) -> &GuardedClient {
        &self.http
    }

    /// Whether `url` may be fetched at all (or be an id we accept): https, or http in tests.
    pub fn check_url(&self, url: &str) -> Result<url::Url, FetchError> {
        let parsed =
            url::Url::parse(url).map_err(|e| FetchError::BadUrl(url.into(), e.to_string()))?;
        match parsed.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            other => {
                return Err(FetchError::BadUrl(
                    url.into(),
                    format!("the scheme {other} is not allowed"),
                ));
            }
        }
        if parsed.host_str().is_none() || !parsed.username().is_empty() {
            return Err(FetchError::BadUrl(url.into(), "no host".into()));
        }
        Ok(parsed)
    }

    /// Fetches the document at `url` and parses it, returning it with its raw bytes. Its
    /// `id` must be the URL it was finally served from.
    pub async fn object(
        &self,
        url: &str,
        signer: &Signer<'_>,
    ) -> Result<(Object, Vec<u8>), FetchError> {
        let (final_url, body) = self.document(url, signer).await?;
        let object: Object = serde_json::from_slice(&body)
            .map_err(|e| FetchError::Json(final_url.clone(), e.to_string()))?;
        let id = object.id.clone().unwrap_or_default();
        if id != final_url {
            return Err(FetchError::IdMismatch { url: final_url, id });
        }
        Ok((object, body))
    }

    /// The links of a WebFinger answer (`url` is the whole query URL). Not signed: WebFinger
    /// is public everywhere.
    pub async fn webfinger(&self, url: &str) -> Result<Vec<WebfingerLink>, FetchError> {
        let (final_url, body) = self
            .get(url, "application/jrd+json, application/json", None, |t| {
                let media = t.split(';').next().unwrap_or_default().trim();
                media.eq_ignore_ascii_case("application/jrd+json")
                    || media.eq_ignore_ascii_case("application/json")
            })
            .await?;
        #[derive(serde::Deserialize)]
        struct Jrd {
            #[serde(default)]
            links: Vec<WebfingerLink>,
        }
        let jrd: Jrd = serde_json::from_slice(&body)
            .map_err(|e| FetchError::Json(final_url, e.to_string()))?;
        Ok(jrd.links)
    }

    /// The bytes of an ActivityPub document and the URL they came from after redirects.
    async fn document(
        &self,
        url: &str,
        signer: &Signer<'_>,
    ) -> Result<(String, Vec<u8>), FetchError> {
        let accept = format!("{}, {}", ap::ACTIVITY_JSON, ap::LD_JSON_PROFILE);
        self.get(url, &accept, Some(signer), ap::is_activity_content_type)
            .await
    }

    /// GETs `url` (following redirects, each checked like the first), signed if `signer` is
    /// given, and returns the body if its `Content-Type` passes `acceptable`.
    async fn get(
        &self,
        url: &str,
        accept: &str,
        signer: Option<&Signer<'_>>,
        acceptable: fn(&str) -> bool,
    ) -> Result<(String, Vec<u8>), FetchError> {
        let deadline = tokio::time::Instant::now() + FETCH_TIMEOUT;
        let mut current = self.check_url(url)?;
        for _ in 0..=MAX_REDIRECTS {
            let mut request = self
                .http
                .request(Method::GET, current.as_str())
                .header(reqwest::header::ACCEPT, accept)
                .build()
                .map_err(|e| FetchError::BadUrl(current.to_string(), e.to_string()))?;
            if let Some(signer) = signer {
                sign_request(
                    &Method::GET,
                    &current,
                    request.headers_mut(),
                    &[],
                    signer.key_id,
                    signer.key,
                    SystemTime::now(),
                )
                .map_err(|e| FetchError::Sign(e.to_string()))?;
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let response = self
                .http
                .fetch(request, left, MAX_DOCUMENT_BYTES)
                .await
                .map_err(|e| FetchError::Net(current.to_string(), e))?;
            let header = |name: &str| {
                response
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
            };
            match response.status {
                200 => {
                    let content_type = header("content-type").unwrap_or_default();
                    if !acceptable(content_type) {
                        return Err(FetchError::ContentType(
                            current.to_string(),
                            content_type.to_owned(),
                        ));
                    }
                    return Ok((current.to_string(), response.body));
                }
                301 | 302 | 303 | 307 | 308 => {
                    let location = header("location").unwrap_or_default();
                    let next = current
                        .join(location)
                        .map_err(|e| FetchError::BadUrl(location.to_owned(), e.to_string()))?;
                    current = self.check_url(next.as_str())?;
                }
                410 => return Err(FetchError::Gone(current.to_string())),
                status => return Err(FetchError::Status(current.to_string(), status)),
            }
        }
        Err(FetchError::TooManyRedirects(url.to_owned()))
    }
}
