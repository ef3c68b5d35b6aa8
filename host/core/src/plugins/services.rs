//! What plugins' `kv` and `http` imports reach in a server: the store's key-value table and
//! the guarded HTTP client. Plugin calls run on plugin threads, so these wait for the async
//! store and client on the runtime they were made in, never past the call's deadline.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tsudoi_model::KvKey;
use tsudoi_net::{FetchError, GuardedClient};
use tsudoi_plugin_host::Services;
use tsudoi_plugin_host::services::{
    HttpClient, HttpFailure, HttpMethod, HttpRequest, HttpResponse, KvFailure, KvStore,
};
use tsudoi_store::{Store, StoreError};

/// The services over `store` and `http`, waiting on the current runtime.
pub(crate) fn services(store: Store, http: GuardedClient, kv_quota_bytes: i64) -> Services {
    let runtime = Handle::current();
    Services {
        kv: Arc::new(StoreKv {
            store,
            runtime: runtime.clone(),
        }),
        http: Arc::new(GuardedHttp {
            client: http,
            runtime,
        }),
        kv_quota_bytes,
    }
}

struct StoreKv {
    store: Store,
    runtime: Handle,
}

fn unavailable(e: StoreError) -> KvFailure {
    tracing::warn!(error = %e, "plugin key-value operation failed");
    KvFailure::Unavailable
}

impl StoreKv {
    /// Waits for `op` on the server's runtime, but not past `until`: a write queued behind the
    /// database's writer must not hold the plugin's thread after its call is over.
    fn wait<T>(
        &self,
        until: Instant,
        op: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, KvFailure> {
        // The timer is made inside `block_on`, where the runtime is current.
        match self
            .runtime
            .block_on(async { tokio::time::timeout_at(until.into(), op).await })
        {
            Ok(done) => done.map_err(unavailable),
            Err(_elapsed) => {
                tracing::warn!("plugin key-value operation ran past the call's deadline");
                Err(KvFailure::Unavailable)
            }
        }
    }
}

impl KvStore for StoreKv {
    fn get(&self, at: KvKey<'_>, now: i64, until: Instant) -> Result<Option<Vec<u8>>, KvFailure> {
        self.wait(until, self.store.kv_get(at, now))
    }

    fn set(
        &self,
        at: KvKey<'_>,
        value: &[u8],
        expires_at: Option<i64>,
        now: i64,
        quota: i64,
        until: Instant,
    ) -> Result<(), KvFailure> {
        self.wait(until, self.store.kv_set(at, value, expires_at, now, quota))?
            .map_err(KvFailure::Refused)
    }

    fn delete(&self, at: KvKey<'_>, until: Instant) -> Result<(), KvFailure> {
        self.wait(until, self.store.kv_delete(at))
    }

    fn increment(
        &self,
        at: KvKey<'_>,
        delta: i64,
        expires_if_new: Option<i64>,
        now: i64,
        quota: i64,
        until: Instant,
    ) -> Result<i64, KvFailure> {
        self.wait(
            until,
            self.store
                .kv_increment(at, delta, expires_if_new, now, quota),
        )?
        .map_err(KvFailure::Refused)
    }

    fn list_keys(
        &self,
        plugin: &str,
        bucket: &str,
        prefix: &str,
        limit: i64,
        now: i64,
        until: Instant,
    ) -> Result<Vec<String>, KvFailure> {
        self.wait(
            until,
            self.store.kv_list_keys(plugin, bucket, prefix, limit, now),
        )
    }
}

struct GuardedHttp {
    client: GuardedClient,
    runtime: Handle,
}

impl HttpClient for GuardedHttp {
    fn fetch(
        &self,
        request: HttpRequest,
        timeout: Duration,
        max_body: usize,
    ) -> Result<HttpResponse, HttpFailure> {
        let method = match request.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Head => reqwest::Method::HEAD,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Put => reqwest::Method::PUT,
            HttpMethod::Patch => reqwest::Method::PATCH,
            HttpMethod::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self.client.request(method, request.url.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let built = builder
            .build()
            .map_err(|e| HttpFailure::Transport(format!("bad request: {e}")))?;
        match self
            .runtime
            .block_on(self.client.fetch(built, timeout, max_body))
        {
            Ok(r) => Ok(HttpResponse {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(FetchError::Denied(why)) => Err(HttpFailure::Denied(why)),
            Err(FetchError::Timeout(_)) => Err(HttpFailure::Timeout),
            Err(FetchError::TooLarge(_)) => Err(HttpFailure::TooLarge),
            Err(FetchError::Transport(e)) => Err(HttpFailure::Transport(e)),
        }
    }
}
