//! What plugins may call: logging into `tracing` under the plugin's name; a key-value store in
//! the server's database, namespaced per plugin, with a quota; and outbound HTTP to the hosts
//! the admin granted, through the guarded client. Without the grant, `kv` and `http` answer
//! "denied" and nothing leaves the sandbox.

use wasmtime::component::{HasSelf, Linker, Resource};

use super::HostState;
use crate::store::KvKey;

wasmtime::component::bindgen!({
    path: "../wit/0.1.0",
    world: "host-base",
    with: { "tsudoi:plugin/kv.bucket": KvBucket },
    imports: { default: trappable },
});

pub use self::tsudoi::plugin::{http, kv, log};

/// An open key-value bucket. None can be opened without the `kv` grant.
pub struct KvBucket {
    name: String,
}

/// Longest log message passed on; a plugin cannot flood the log with megabytes per call.
const MAX_LOG_MESSAGE: usize = 4096;

pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    log::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    kv::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    http::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    Ok(())
}

impl log::Host for HostState {
    fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let mut message = message;
        if message.len() > MAX_LOG_MESSAGE {
            let mut cut = MAX_LOG_MESSAGE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
        }
        let plugin = &*self.plugin;
        match level {
            log::Level::Trace => tracing::trace!(plugin, "{message}"),
            log::Level::Debug => tracing::debug!(plugin, "{message}"),
            log::Level::Info => tracing::info!(plugin, "{message}"),
            log::Level::Warn => tracing::warn!(plugin, "{message}"),
            log::Level::Error => tracing::error!(plugin, "{message}"),
        }
        Ok(())
    }
}

impl kv::Host for HostState {}

/// Longest key and bucket name; keys are names, not payloads.
const MAX_KEY: usize = 512;

impl HostState {
    /// The services behind `kv`, if this plugin was granted it and runs in a server.
    fn kv_services(&self) -> Result<&super::Services, kv::KvError> {
        match &self.services {
            Some(s) if self.capabilities.kv => Ok(s),
            _ => Err(kv::KvError::AccessDenied),
        }
    }

    /// Runs one key-value operation `op(store, plugin, bucket)` on bucket `b`, waiting for
    /// the database on this (blocking) thread.
    fn kv_op<T, F>(
        &mut self,
        b: &Resource<KvBucket>,
        op: F,
    ) -> wasmtime::Result<Result<T, kv::KvError>>
    where
        F: AsyncFnOnce(&crate::store::Store, &str, &str) -> Result<T, kv::KvError>,
    {
        let bucket = self.table.get(b)?.name.clone();
        let plugin = self.plugin.clone();
        let services = match self.kv_services() {
            Ok(s) => s.clone(),
            Err(e) => return Ok(Err(e)),
        };
        Ok(services
            .runtime
            .block_on(op(&services.store, &plugin, &bucket)))
    }
}

fn kv_failure(e: crate::store::StoreError) -> kv::KvError {
    tracing::warn!(error = %e, "plugin key-value operation failed");
    kv::KvError::Other("the server's store failed; try again".into())
}

fn refusal(r: crate::store::KvRefusal) -> kv::KvError {
    match r {
        crate::store::KvRefusal::QuotaExceeded => kv::KvError::QuotaExceeded,
        crate::store::KvRefusal::NotANumber => {
            kv::KvError::Other("the value is not a number".into())
        }
        crate::store::KvRefusal::Overflow => {
            kv::KvError::Other("the counter would overflow".into())
        }
    }
}

fn check_key(key: &str) -> Result<(), kv::KvError> {
    if key.is_empty() || key.len() > MAX_KEY {
        return Err(kv::KvError::Other(format!(
            "keys are 1 to {MAX_KEY} bytes long"
        )));
    }
    Ok(())
}

impl kv::HostBucket for HostState {
    fn open(&mut self, name: String) -> wasmtime::Result<Result<Resource<KvBucket>, kv::KvError>> {
        if let Err(e) = self.kv_services() {
            tracing::debug!(
                plugin = &*self.plugin,
                "plugin key-value access denied: not granted"
            );
            return Ok(Err(e));
        }
        if name.is_empty() || name.len() > 64 {
            return Ok(Err(kv::KvError::Other(
                "bucket names are 1 to 64 bytes long".into(),
            )));
        }
        Ok(Ok(self.table.push(KvBucket { name })?))
    }
    fn get(
        &mut self,
        b: Resource<KvBucket>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, kv::KvError>> {
        self.kv_op(&b, async |store, plugin, bucket| {
            check_key(&key)?;
            store
                .kv_get(KvKey::new(plugin, bucket, &key), now_ms())
                .await
                .map_err(kv_failure)
        })
    }
    fn set(
        &mut self,
        b: Resource<KvBucket>,
        key: String,
        value: Vec<u8>,
        ttl: Option<u32>,
    ) -> wasmtime::Result<Result<(), kv::KvError>> {
        self.kv_op(&b, async |store, plugin, bucket| {
            check_key(&key)?;
            let now = now_ms();
            let expires_at = ttl.map(|s| expiry(now, s));
            store
                .kv_set(
                    KvKey::new(plugin, bucket, &key),
                    &value,
                    expires_at,
                    now,
                    super::KV_QUOTA_BYTES,
                )
                .await
                .map_err(kv_failure)?
                .map_err(refusal)
        })
    }
    fn delete(
        &mut self,
        b: Resource<KvBucket>,
        key: String,
    ) -> wasmtime::Result<Result<(), kv::KvError>> {
        self.kv_op(&b, async |store, plugin, bucket| {
            store
                .kv_delete(KvKey::new(plugin, bucket, &key))
                .await
                .map_err(kv_failure)
        })
    }
    fn increment(
        &mut self,
        b: Resource<KvBucket>,
        key: String,
        delta: i64,
        ttl_seconds: Option<u32>,
    ) -> wasmtime::Result<Result<i64, kv::KvError>> {
        self.kv_op(&b, async |store, plugin, bucket| {
            check_key(&key)?;
            let now = now_ms();
            store
                .kv_increment(
                    KvKey::new(plugin, bucket, &key),
                    delta,
                    ttl_seconds.map(|s| expiry(now, s)),
                    now,
                    super::KV_QUOTA_BYTES,
                )
                .await
                .map_err(kv_failure)?
                .map_err(refusal)
        })
    }
    fn list_keys(
        &mut self,
        b: Resource<KvBucket>,
        prefix: String,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<String>, kv::KvError>> {
        self.kv_op(&b, async |store, plugin, bucket| {
            store
                .kv_list_keys(
                    plugin,
                    bucket,
                    &prefix,
                    i64::from(limit.min(1000)),
                    now_ms(),
                )
                .await
                .map_err(kv_failure)
        })
    }
    fn drop(&mut self, b: Resource<KvBucket>) -> wasmtime::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }
}

/// When an entry written at `now` with a TTL of `ttl_seconds` expires (Unix ms).
fn expiry(now: i64, ttl_seconds: u32) -> i64 {
    now + i64::from(ttl_seconds) * 1000
}

fn now_ms() -> i64 {
    crate::core::ids::now_ms()
}

impl http::Host for HostState {
    fn fetch(
        &mut self,
        req: http::Request,
    ) -> wasmtime::Result<Result<http::Response, http::HttpError>> {
        let plugin = self.plugin.clone();
        let denied = |why: String| {
            tracing::warn!(plugin = &*plugin, url = %req.url, reason = %why, "plugin HTTP request denied");
            Ok(Err(http::HttpError::Denied(why)))
        };
        let url = match url::Url::parse(&req.url) {
            Ok(u) => u,
            Err(e) => return denied(format!("{} is not a URL: {e}", req.url)),
        };
        if !self.capabilities.allows_url(&url) {
            return denied(format!(
                "{} is not among the hosts granted to this plugin",
                url.host_str().unwrap_or("(no host)")
            ));
        }
        let Some(services) = self.services.clone() else {
            return denied("outbound HTTP is not available outside a server".into());
        };
        // The call's own deadline bounds the wait: a plugin cannot stall a request by
        // fetching something slow.
        let left = self
            .deadline_at
            .saturating_duration_since(std::time::Instant::now());
        let timeout = match req.timeout_ms {
            Some(ms) => left.min(std::time::Duration::from_millis(ms.into())),
            None => left,
        };
        let method = match req.method {
            http::Method::Get => reqwest::Method::GET,
            http::Method::Head => reqwest::Method::HEAD,
            http::Method::Post => reqwest::Method::POST,
            http::Method::Put => reqwest::Method::PUT,
            http::Method::Patch => reqwest::Method::PATCH,
            http::Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = services.http.request(method, url.as_str());
        for (name, value) in &req.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = req.body {
            builder = builder.body(body);
        }
        let request = match builder.build() {
            Ok(r) => r,
            Err(e) => return Ok(Err(http::HttpError::Transport(format!("bad request: {e}")))),
        };
        let outcome =
            services
                .runtime
                .block_on(services.http.fetch(request, timeout, super::HTTP_MAX_BODY));
        Ok(match outcome {
            Ok(r) => Ok(http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(crate::net::FetchError::Denied(why)) => return denied(why),
            Err(crate::net::FetchError::Timeout(_)) => Err(http::HttpError::Timeout),
            Err(crate::net::FetchError::TooLarge(_)) => Err(http::HttpError::TooLarge),
            Err(crate::net::FetchError::Transport(e)) => Err(http::HttpError::Transport(e)),
        })
    }
}
