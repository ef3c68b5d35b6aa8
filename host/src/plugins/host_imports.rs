//! What plugins may call: logging into `tracing` under the plugin's name, and the key-value
//! store and outbound HTTP, which answer "denied" until the admin grants them (grants are the
//! next step of the plugin work; a plugin with no grant gets exactly this answer).

use wasmtime::component::{HasSelf, Linker, Resource};

use super::HostState;

wasmtime::component::bindgen!({
    path: "../wit/0.1.0",
    world: "host-base",
    with: { "tsudoi:plugin/kv.bucket": KvBucket },
    imports: { default: trappable },
});

pub use self::tsudoi::plugin::{http, kv, log};

/// A key-value bucket handle. None can be opened without a grant.
pub struct KvBucket;

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

impl kv::HostBucket for HostState {
    fn open(&mut self, _name: String) -> wasmtime::Result<Result<Resource<KvBucket>, kv::KvError>> {
        Ok(Err(kv::KvError::AccessDenied))
    }
    fn get(
        &mut self,
        _b: Resource<KvBucket>,
        _key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, kv::KvError>> {
        Ok(Err(kv::KvError::AccessDenied))
    }
    fn set(
        &mut self,
        _b: Resource<KvBucket>,
        _key: String,
        _value: Vec<u8>,
        _ttl: Option<u32>,
    ) -> wasmtime::Result<Result<(), kv::KvError>> {
        Ok(Err(kv::KvError::AccessDenied))
    }
    fn delete(
        &mut self,
        _b: Resource<KvBucket>,
        _key: String,
    ) -> wasmtime::Result<Result<(), kv::KvError>> {
        Ok(Err(kv::KvError::AccessDenied))
    }
    fn increment(
        &mut self,
        _b: Resource<KvBucket>,
        _key: String,
        _delta: i64,
    ) -> wasmtime::Result<Result<i64, kv::KvError>> {
        Ok(Err(kv::KvError::AccessDenied))
    }
    fn list_keys(
        &mut self,
        _b: Resource<KvBucket>,
        _prefix: String,
        _limit: u32,
    ) -> wasmtime::Result<Result<Vec<String>, kv::KvError>> {
        Ok(Err(kv::KvError::AccessDenied))
    }
    fn drop(&mut self, _b: Resource<KvBucket>) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl http::Host for HostState {
    fn fetch(
        &mut self,
        req: http::Request,
    ) -> wasmtime::Result<Result<http::Response, http::HttpError>> {
        tracing::warn!(plugin = &*self.plugin, url = %req.url, "plugin HTTP request denied: no hosts granted");
        Ok(Err(http::HttpError::Denied(format!(
            "{} is not in the plugin's granted hosts",
            req.url
        ))))
    }
}
