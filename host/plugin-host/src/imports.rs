//! What plugins may call, whatever WIT version they were built against (the binding modules
//! in [`crate::wit`] map their generated types onto these): logging into `tracing` under the
//! plugin's name; a key-value store, namespaced per plugin, with a quota; and outbound HTTP to
//! the hosts the admin granted. Without the grant, `kv` and `http` answer "denied" and
//! nothing leaves the sandbox.

use std::time::{Duration, Instant};

use tsudoi_model::{KvKey, KvRefusal, ids};
use wasmtime::component::Resource;

use crate::log::LogLevel;
use crate::sandbox::HostState;
use crate::services::{
    HttpFailure, HttpMethod, HttpRequest, HttpResponse, KvFailure, KvStore, Services,
};

/// An open key-value bucket. None can be opened without the `kv` grant.
pub struct KvBucket {
    name: String,
}

/// Why a key-value call failed, as every WIT version reports it.
pub(crate) enum KvError {
    QuotaExceeded,
    AccessDenied,
    Other(String),
}

/// Longest key; keys are names, not payloads.
const MAX_KEY: usize = 512;

/// Longest bucket name.
const MAX_BUCKET: usize = 64;

type Imported<T, E> = wasmtime::Result<Result<T, E>>;

impl HostState {
    /// Passes a plugin's log line on, within its allowance (see [`crate::log`]).
    pub(crate) fn write_log(&mut self, level: LogLevel, message: &str) {
        self.log
            .write(&self.plugin, &mut self.call_log, level, message);
    }

    /// Ends the call's logging: counts and reports the lines it dropped.
    pub(crate) fn end_call_log(&self) {
        self.log
            .end_call(&self.plugin, &self.call_log, Instant::now());
    }

    /// The store behind `kv`, if this plugin was granted it and runs in a server.
    fn kv_store(&self) -> Result<&dyn KvStore, KvError> {
        match &self.services {
            Some(Services { kv, .. }) if self.capabilities.kv => Ok(kv.as_ref()),
            _ => Err(KvError::AccessDenied),
        }
    }

    /// Bytes this plugin may keep in `kv`.
    fn kv_quota(&self) -> i64 {
        self.services
            .as_ref()
            .map_or(crate::KV_QUOTA_BYTES, |s| s.kv_quota_bytes)
    }

    pub(crate) fn kv_open(&mut self, name: String) -> Imported<Resource<KvBucket>, KvError> {
        if let Err(e) = self.kv_store() {
            tracing::debug!(
                plugin = &*self.plugin,
                "plugin key-value access denied: not granted"
            );
            return Ok(Err(e));
        }
        if name.is_empty() || name.len() > MAX_BUCKET {
            return Ok(Err(KvError::Other(format!(
                "bucket names are 1 to {MAX_BUCKET} bytes long"
            ))));
        }
        Ok(Ok(self.table.push(KvBucket { name })?))
    }

    /// Runs one key-value operation `op(store, key, until)` on `key` of bucket `b`, where
    /// `until` is when the call must be over.
    fn kv_op<T>(
        &mut self,
        b: &Resource<KvBucket>,
        key: &str,
        op: impl FnOnce(&dyn KvStore, KvKey<'_>, Instant) -> Result<T, KvFailure>,
    ) -> Imported<T, KvError> {
        let bucket = &self.table.get(b)?.name;
        let store = match self.kv_store() {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        Ok(op(
            store,
            KvKey::new(&self.plugin, bucket, key),
            self.deadline_at,
        )
        .map_err(|failure| match failure {
            KvFailure::Refused(KvRefusal::QuotaExceeded) => KvError::QuotaExceeded,
            KvFailure::Refused(KvRefusal::NotANumber) => {
                KvError::Other("the value is not a number".into())
            }
            KvFailure::Refused(KvRefusal::Overflow) => {
                KvError::Other("the counter would overflow".into())
            }
            KvFailure::Unavailable => KvError::Other("the server's store failed; try again".into()),
        }))
    }

    /// `kv_op` for operations that read or write an entry: its key is a name, not a payload.
    fn kv_op_on_entry<T>(
        &mut self,
        b: &Resource<KvBucket>,
        key: &str,
        op: impl FnOnce(&dyn KvStore, KvKey<'_>, Instant) -> Result<T, KvFailure>,
    ) -> Imported<T, KvError> {
        if key.is_empty() || key.len() > MAX_KEY {
            return Ok(Err(KvError::Other(format!(
                "keys are 1 to {MAX_KEY} bytes long"
            ))));
        }
        self.kv_op(b, key, op)
    }

    pub(crate) fn kv_get(
        &mut self,
        b: &Resource<KvBucket>,
        key: &str,
    ) -> Imported<Option<Vec<u8>>, KvError> {
        self.kv_op_on_entry(b, key, |s, at, until| s.get(at, ids::now_ms(), until))
    }

    pub(crate) fn kv_set(
        &mut self,
        b: &Resource<KvBucket>,
        key: &str,
        value: &[u8],
        ttl_seconds: Option<u32>,
    ) -> Imported<(), KvError> {
        let now = ids::now_ms();
        let expires_at = ttl_seconds.map(|s| expiry(now, s));
        let quota = self.kv_quota();
        self.kv_op_on_entry(b, key, |s, at, until| {
            s.set(at, value, expires_at, now, quota, until)
        })
    }

    pub(crate) fn kv_delete(&mut self, b: &Resource<KvBucket>, key: &str) -> Imported<(), KvError> {
        self.kv_op(b, key, |s, at, until| s.delete(at, until))
    }

    pub(crate) fn kv_increment(
        &mut self,
        b: &Resource<KvBucket>,
        key: &str,
        delta: i64,
        ttl_seconds: Option<u32>,
    ) -> Imported<i64, KvError> {
        let now = ids::now_ms();
        let expires_if_new = ttl_seconds.map(|s| expiry(now, s));
        let quota = self.kv_quota();
        self.kv_op_on_entry(b, key, |s, at, until| {
            s.increment(at, delta, expires_if_new, now, quota, until)
        })
    }

    pub(crate) fn kv_list_keys(
        &mut self,
        b: &Resource<KvBucket>,
        prefix: &str,
        limit: u32,
    ) -> Imported<Vec<String>, KvError> {
        self.kv_op(b, "", |s, at, until| {
            s.list_keys(
                at.plugin,
                at.bucket,
                prefix,
                i64::from(limit.min(1000)),
                ids::now_ms(),
                until,
            )
        })
    }

    pub(crate) fn kv_close(&mut self, b: Resource<KvBucket>) -> wasmtime::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }

    /// Sends a plugin's request if its host was granted, within what is left of the call's
    /// deadline: a plugin cannot stall a request by fetching something slow.
    pub(crate) fn http_fetch(
        &mut self,
        method: HttpMethod,
        url: &str,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
        timeout_ms: Option<u32>,
    ) -> Result<HttpResponse, HttpFailure> {
        let plugin = self.plugin.clone();
        let denied = |why: String| {
            tracing::warn!(plugin = &*plugin, %url, reason = %why, "plugin HTTP request denied");
            HttpFailure::Denied(why)
        };
        let parsed =
            url::Url::parse(url).map_err(|e| denied(format!("{url} is not a URL: {e}")))?;
        if !self.capabilities.allows_url(&parsed) {
            return Err(denied(format!(
                "{} is not among the hosts granted to this plugin",
                parsed.host_str().unwrap_or("(no host)")
            )));
        }
        let Some(services) = &self.services else {
            return Err(denied(
                "outbound HTTP is not available outside a server".into(),
            ));
        };
        let left = self.deadline_at.saturating_duration_since(Instant::now());
        let timeout = match timeout_ms {
            Some(ms) => left.min(Duration::from_millis(ms.into())),
            None => left,
        };
        let request = HttpRequest {
            method,
            url: parsed,
            headers,
            body,
        };
        match services.http.fetch(request, timeout, crate::HTTP_MAX_BODY) {
            Err(HttpFailure::Denied(why)) => Err(denied(why)),
            other => other,
        }
    }
}

/// When an entry written at `now` with a TTL of `ttl_seconds` expires (Unix ms).
fn expiry(now: i64, ttl_seconds: u32) -> i64 {
    now + i64::from(ttl_seconds) * 1000
}
