//! Components built against the `tsudoi:plugin@0.1.x` line: bindings generated from its
//! newest version (`wit/0.1.1`), which also bind components built against `0.1.0` (see
//! [`crate::wit`]), the host's side of the imports they use, and conversions between the
//! host's own types and this line's.

use wasmtime::component::{HasSelf, Linker, Resource};

use crate::hooks::moderation::{Activity, NoteUnderReview, NoteView};
use crate::imports::{KvBucket, KvError};
use crate::log::LogLevel;
use crate::plugin::Info;
use crate::sandbox::HostState;
use crate::services::{HttpFailure, HttpMethod};
use crate::wit::{Bindings, WitVersion};

/// The newest version of the line: 0.1.1 added `note-view.links`.
pub const VERSION: WitVersion = WitVersion::new(0, 1, 1);

mod host_base {
    wasmtime::component::bindgen!({
        path: "../../wit/0.1.1",
        world: "host-base",
        with: { "tsudoi:plugin/kv.bucket": crate::imports::KvBucket },
        imports: { default: trappable },
    });
}

pub use host_base::tsudoi::plugin::{http, kv, log};

/// `moderation-filter`: asked about each note before it is stored.
pub mod moderation {
    wasmtime::component::bindgen!({
        path: "../../wit/0.1.1",
        world: "moderation-filter",
        with: {
            "tsudoi:plugin/log": crate::wit::since_v0_1_0::log,
            "tsudoi:plugin/kv": crate::wit::since_v0_1_0::kv,
            "tsudoi:plugin/http": crate::wit::since_v0_1_0::http,
            "tsudoi:plugin/review.activity": crate::hooks::moderation::Activity,
            "tsudoi:plugin/review.note-view": crate::hooks::moderation::NoteView,
        },
        imports: { default: trappable },
    });
}

pub use moderation::tsudoi::plugin::{review, types};
pub use moderation::{ModerationFilter, ModerationFilterPre};

/// `timeline-ranker`: keeps and scores the candidates of a timeline page.
pub mod ranking {
    wasmtime::component::bindgen!({
        path: "../../wit/0.1.1",
        world: "timeline-ranker",
        with: {
            "tsudoi:plugin/log": crate::wit::since_v0_1_0::log,
            "tsudoi:plugin/kv": crate::wit::since_v0_1_0::kv,
            "tsudoi:plugin/http": crate::wit::since_v0_1_0::http,
            "tsudoi:plugin/types": crate::wit::since_v0_1_0::types,
        },
        imports: { default: trappable },
    });
}

pub use ranking::{TimelineRanker, TimelineRankerPre};

/// `mfm-renderer`: renders the `$[fn]` names it declares, or whole documents.
pub mod mfm {
    wasmtime::component::bindgen!({
        path: "../../wit/0.1.1",
        world: "mfm-renderer",
        with: {
            "tsudoi:plugin/log": crate::wit::since_v0_1_0::log,
            "tsudoi:plugin/kv": crate::wit::since_v0_1_0::kv,
            "tsudoi:plugin/http": crate::wit::since_v0_1_0::http,
        },
        imports: { default: trappable },
    });
}

pub use mfm::{MfmRenderer, MfmRendererPre};

/// `network-bridge`: carries posts between Tsudoi and another network.
pub mod bridge {
    wasmtime::component::bindgen!({
        path: "../../wit/0.1.1",
        world: "network-bridge",
        with: {
            "tsudoi:plugin/log": crate::wit::since_v0_1_0::log,
            "tsudoi:plugin/kv": crate::wit::since_v0_1_0::kv,
            "tsudoi:plugin/http": crate::wit::since_v0_1_0::http,
            "tsudoi:plugin/types": crate::wit::since_v0_1_0::types,
        },
        imports: { default: trappable },
    });
}

pub use bridge::{NetworkBridge, NetworkBridgePre};

/// Adds this version's host interfaces to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    log::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    kv::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    http::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    // The shared types travel in an interface of their own that components import.
    types::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    // What moderation filters are asked about (handles to the host's copy of the note).
    review::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    Ok(())
}

/// Implements [`Bindings`] for the generated world `$world` (with `$pre`): every world
/// exports `meta` the same way.
macro_rules! bindings {
    ($($world:ident, $pre:ident;)+) => {
        $(impl Bindings for $world {
            type Pre = $pre<HostState>;
            fn prepare(
                pre: wasmtime::component::InstancePre<HostState>,
            ) -> wasmtime::Result<Self::Pre> {
                $pre::new(pre)
            }
            fn instantiate(
                pre: &Self::Pre,
                store: &mut wasmtime::Store<HostState>,
            ) -> wasmtime::Result<Self> {
                pre.instantiate(store)
            }
            fn info(&self, store: &mut wasmtime::Store<HostState>) -> wasmtime::Result<Info> {
                let i = self.tsudoi_plugin_meta().call_info(store)?;
                Ok(Info {
                    name: i.name,
                    version: i.version,
                    config_schema: i.config_schema,
                })
            }
            fn configure(
                &self,
                store: &mut wasmtime::Store<HostState>,
                config: &str,
            ) -> wasmtime::Result<Result<(), String>> {
                self.tsudoi_plugin_meta().call_configure(store, config)
            }
        })+
    };
}

bindings! {
    ModerationFilter, ModerationFilterPre;
    TimelineRanker, TimelineRankerPre;
    MfmRenderer, MfmRendererPre;
    NetworkBridge, NetworkBridgePre;
}

impl log::Host for HostState {
    fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            log::Level::Trace => LogLevel::Trace,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Info => LogLevel::Info,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Error => LogLevel::Error,
        };
        self.write_log(level, &message);
        Ok(())
    }
}

impl kv::Host for HostState {}

fn kv_error(e: KvError) -> kv::KvError {
    match e {
        KvError::QuotaExceeded => kv::KvError::QuotaExceeded,
        KvError::AccessDenied => kv::KvError::AccessDenied,
        KvError::Other(m) => kv::KvError::Other(m),
    }
}

type KvResult<T> = wasmtime::Result<Result<T, kv::KvError>>;

impl kv::HostBucket for HostState {
    fn open(&mut self, name: String) -> KvResult<Resource<KvBucket>> {
        Ok(self.kv_open(name)?.map_err(kv_error))
    }
    fn get(&mut self, b: Resource<KvBucket>, key: String) -> KvResult<Option<Vec<u8>>> {
        Ok(self.kv_get(&b, &key)?.map_err(kv_error))
    }
    fn set(
        &mut self,
        b: Resource<KvBucket>,
        key: String,
        value: Vec<u8>,
        ttl_seconds: Option<u32>,
    ) -> KvResult<()> {
        Ok(self
            .kv_set(&b, &key, &value, ttl_seconds)?
            .map_err(kv_error))
    }
    fn delete(&mut self, b: Resource<KvBucket>, key: String) -> KvResult<()> {
        Ok(self.kv_delete(&b, &key)?.map_err(kv_error))
    }
    fn increment(
        &mut self,
        b: Resource<KvBucket>,
        key: String,
        delta: i64,
        ttl_seconds: Option<u32>,
    ) -> KvResult<i64> {
        Ok(self
            .kv_increment(&b, &key, delta, ttl_seconds)?
            .map_err(kv_error))
    }
    fn list_keys(
        &mut self,
        b: Resource<KvBucket>,
        prefix: String,
        limit: u32,
    ) -> KvResult<Vec<String>> {
        Ok(self.kv_list_keys(&b, &prefix, limit)?.map_err(kv_error))
    }
    fn drop(&mut self, b: Resource<KvBucket>) -> wasmtime::Result<()> {
        self.kv_close(b)
    }
}

impl http::Host for HostState {
    fn fetch(
        &mut self,
        req: http::Request,
    ) -> wasmtime::Result<Result<http::Response, http::HttpError>> {
        let method = match req.method {
            http::Method::Get => HttpMethod::Get,
            http::Method::Head => HttpMethod::Head,
            http::Method::Post => HttpMethod::Post,
            http::Method::Put => HttpMethod::Put,
            http::Method::Patch => HttpMethod::Patch,
            http::Method::Delete => HttpMethod::Delete,
        };
        let outcome = self.http_fetch(method, &req.url, req.headers, req.body, req.timeout_ms);
        Ok(match outcome {
            Ok(r) => Ok(http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(HttpFailure::Denied(why)) => Err(http::HttpError::Denied(why)),
            Err(HttpFailure::Timeout) => Err(http::HttpError::Timeout),
            Err(HttpFailure::TooLarge) => Err(http::HttpError::TooLarge),
            Err(HttpFailure::Transport(e)) => Err(http::HttpError::Transport(e)),
        })
    }
}

impl types::Host for HostState {}

impl review::Host for HostState {}

impl HostState {
    fn activity(
        &self,
        handle: &Resource<Activity>,
    ) -> wasmtime::Result<&crate::hooks::moderation::Context> {
        Ok(&self.table.get(handle)?.0)
    }

    fn reviewed(&self, handle: &Resource<NoteView>) -> wasmtime::Result<&NoteUnderReview> {
        Ok(&self.table.get(handle)?.0)
    }

    fn note(&self, handle: &Resource<NoteView>) -> wasmtime::Result<&types::Note> {
        Ok(&self.reviewed(handle)?.note)
    }
}

impl review::HostActivity for HostState {
    fn direction(&mut self, a: Resource<Activity>) -> wasmtime::Result<types::Direction> {
        Ok(self.activity(&a)?.direction)
    }
    fn activity_type(&mut self, a: Resource<Activity>) -> wasmtime::Result<String> {
        Ok(self.activity(&a)?.activity_type.clone())
    }
    fn peer_host(&mut self, a: Resource<Activity>) -> wasmtime::Result<Option<String>> {
        Ok(self.activity(&a)?.peer_host.clone())
    }
    fn actor(&mut self, a: Resource<Activity>) -> wasmtime::Result<types::Actor> {
        Ok(self.activity(&a)?.actor.clone())
    }
    fn raw_activity(&mut self, a: Resource<Activity>) -> wasmtime::Result<Option<String>> {
        if !self.capabilities.raw_activity {
            return Ok(None);
        }
        Ok(self.activity(&a)?.raw_activity.clone())
    }
    fn drop(&mut self, a: Resource<Activity>) -> wasmtime::Result<()> {
        self.table.delete(a)?;
        Ok(())
    }
}

impl review::HostNoteView for HostState {
    fn id(&mut self, n: Resource<NoteView>) -> wasmtime::Result<String> {
        Ok(self.note(&n)?.id.clone())
    }
    fn uri(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Option<String>> {
        Ok(self.note(&n)?.uri.clone())
    }
    fn author_id(&mut self, n: Resource<NoteView>) -> wasmtime::Result<String> {
        Ok(self.note(&n)?.author_id.clone())
    }
    fn text(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Option<String>> {
        Ok(self.note(&n)?.text.clone())
    }
    fn content_warning(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Option<String>> {
        Ok(self.note(&n)?.content_warning.clone())
    }
    fn visibility(&mut self, n: Resource<NoteView>) -> wasmtime::Result<types::Visibility> {
        Ok(self.note(&n)?.visibility)
    }
    fn local_only(&mut self, n: Resource<NoteView>) -> wasmtime::Result<bool> {
        Ok(self.note(&n)?.local_only)
    }
    fn reply_to(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Option<String>> {
        Ok(self.note(&n)?.reply_to.clone())
    }
    fn renote_of(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Option<String>> {
        Ok(self.note(&n)?.renote_of.clone())
    }
    fn mentions(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Vec<String>> {
        Ok(self.note(&n)?.mentions.clone())
    }
    fn hashtags(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Vec<String>> {
        Ok(self.note(&n)?.hashtags.clone())
    }
    fn emojis(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Vec<String>> {
        Ok(self.note(&n)?.emojis.clone())
    }
    fn links(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Vec<types::Link>> {
        Ok(self.reviewed(&n)?.links.clone())
    }
    fn attachments(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Vec<types::Attachment>> {
        Ok(self.note(&n)?.attachments.clone())
    }
    fn lang(&mut self, n: Resource<NoteView>) -> wasmtime::Result<Option<String>> {
        Ok(self.note(&n)?.lang.clone())
    }
    fn created_at(&mut self, n: Resource<NoteView>) -> wasmtime::Result<i64> {
        Ok(self.note(&n)?.created_at)
    }
    fn to_note(&mut self, n: Resource<NoteView>) -> wasmtime::Result<types::Note> {
        Ok(self.note(&n)?.clone())
    }
    fn drop(&mut self, n: Resource<NoteView>) -> wasmtime::Result<()> {
        self.table.delete(n)?;
        Ok(())
    }
}

/// The one mapping between the host's visibility and this version's.
impl From<tsudoi_model::Visibility> for types::Visibility {
    fn from(v: tsudoi_model::Visibility) -> Self {
        use tsudoi_model::Visibility as V;
        match v {
            V::Public => Self::Public,
            V::Home => Self::Home,
            V::Followers => Self::Followers,
            V::Specified => Self::Specified,
        }
    }
}

impl From<types::Visibility> for tsudoi_model::Visibility {
    fn from(v: types::Visibility) -> Self {
        use types::Visibility as V;
        match v {
            V::Public => Self::Public,
            V::Home => Self::Home,
            V::Followers => Self::Followers,
            V::Specified => Self::Specified,
        }
    }
}

/// An error a plugin returned, as one line of text.
pub(crate) fn plugin_error(e: &types::PluginError) -> String {
    match e {
        types::PluginError::Config(m) => format!("configuration: {m}"),
        types::PluginError::Transient(m) => format!("transient: {m}"),
        types::PluginError::Other(m) => m.clone(),
    }
}
