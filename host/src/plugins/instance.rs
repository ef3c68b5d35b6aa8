//! One loaded plugin of any kind: compiled once, instantiated a few times, its instances kept
//! warm between calls. An instance that trapped or ran out of time is thrown away, so a
//! failure leaves nothing behind. Each kind (moderation, ranking) implements [`World`] for
//! its generated bindings and adds its hook calls on [`Plugin`].

use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::Store;
use wasmtime::component::InstancePre;

use super::manifest::{Capabilities, Manifest};
use super::{CallError, HostState, LoadError, Services, call_error, compile, linker, store};

/// Warm instances kept per plugin: enough for the blocking threads that call at once.
const MAX_WARM: usize = 4;

/// Time allowed for `info` and `configure` when a plugin is loaded.
const LOAD_DEADLINE: Duration = Duration::from_secs(5);

/// The kinds of plugin this server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Moderation,
    Ranking,
    Mfm,
    Bridge,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Moderation => "moderation",
            Kind::Ranking => "ranking",
            Kind::Mfm => "mfm",
            Kind::Bridge => "bridge",
        }
    }

    /// Every hook sits on a request's path, so each gets tens of milliseconds, not seconds;
    /// rendering runs once per `$[fn]` and gets less. A bridge is polled in the background
    /// and waits on another network's API, so it gets seconds.
    pub fn default_deadline(self) -> Duration {
        match self {
            Kind::Moderation | Kind::Ranking => Duration::from_millis(50),
            Kind::Mfm => Duration::from_millis(20),
            Kind::Bridge => Duration::from_secs(10),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "moderation" => Some(Kind::Moderation),
            "ranking" => Some(Kind::Ranking),
            "mfm" => Some(Kind::Mfm),
            "bridge" => Some(Kind::Bridge),
            _ => None,
        }
    }
}

/// What every plugin answers about itself.
pub struct Info {
    pub name: String,
    pub version: String,
    pub config_schema: Option<String>,
}

/// The generated bindings of one plugin world, narrowed to what loading needs.
pub trait World: Sized + Send + 'static {
    type Pre: Send + Sync;
    const KIND: Kind;
    fn prepare(pre: InstancePre<HostState>) -> wasmtime::Result<Self::Pre>;
    fn instantiate(pre: &Self::Pre, store: &mut Store<HostState>) -> wasmtime::Result<Self>;
    fn info(&self, store: &mut Store<HostState>) -> wasmtime::Result<Info>;
    fn configure(
        &self,
        store: &mut Store<HostState>,
        config: &str,
    ) -> wasmtime::Result<Result<(), String>>;
}

/// Implements [`World`] for the bindings `$world` (with `$pre`) generated from a WIT world of
/// kind `$kind`: every world exports `meta` the same way.
macro_rules! impl_world {
    ($world:ident, $pre:ident, $kind:expr) => {
        impl $crate::plugins::instance::World for $world {
            type Pre = $pre<$crate::plugins::HostState>;
            const KIND: $crate::plugins::Kind = $kind;
            fn prepare(
                pre: wasmtime::component::InstancePre<$crate::plugins::HostState>,
            ) -> wasmtime::Result<Self::Pre> {
                $pre::new(pre)
            }
            fn instantiate(
                pre: &Self::Pre,
                store: &mut wasmtime::Store<$crate::plugins::HostState>,
            ) -> wasmtime::Result<Self> {
                pre.instantiate(store)
            }
            fn info(
                &self,
                store: &mut wasmtime::Store<$crate::plugins::HostState>,
            ) -> wasmtime::Result<$crate::plugins::instance::Info> {
                let i = self.tsudoi_plugin_meta().call_info(store)?;
                Ok($crate::plugins::instance::Info {
                    name: i.name,
                    version: i.version,
                    config_schema: i.config_schema,
                })
            }
            fn configure(
                &self,
                store: &mut wasmtime::Store<$crate::plugins::HostState>,
                config: &str,
            ) -> wasmtime::Result<Result<(), String>> {
                self.tsudoi_plugin_meta().call_configure(store, config)
            }
        }
    };
}
pub(crate) use impl_world;

/// How a plugin is loaded: its configuration, where compiled code is cached, the manifest
/// supplied beside it (if not embedded), what the admin granted and the hook's deadline.
#[derive(Clone, Default)]
pub struct LoadOptions {
    pub config: Option<String>,
    pub cache: Option<std::path::PathBuf>,
    pub manifest: Option<Manifest>,
    pub grants: Vec<String>,
    /// The database and HTTP client behind `kv` and `http`; without them (offline testing)
    /// both answer "denied".
    pub services: Option<Services>,
    pub deadline: Option<Duration>,
}

struct Warm<W> {
    store: Store<HostState>,
    instance: W,
}

/// A compiled plugin, ready to instantiate.
pub struct Plugin<W: World> {
    pub name: Arc<str>,
    pub version: String,
    pub manifest: Manifest,
    pub capabilities: Arc<Capabilities>,
    pub config_schema: Option<String>,
    pub deadline: Duration,
    /// Failed calls since the last one that succeeded; the hook disables the plugin when it
    /// reaches its limit.
    pub failures_in_a_row: AtomicU32,
    pre: W::Pre,
    config: Option<String>,
    services: Option<Services>,
    /// Instances are reused across calls (the plugin keeps its state, as in any long-running
    /// server); one that trapped or ran out of time is dropped, as wasmtime requires.
    warm: Mutex<Vec<Warm<W>>>,
}

impl<W: World> Plugin<W> {
    /// Compiles `wasm`, checks its WIT version, kind and manifest, asks it who it is, checks
    /// the configuration against the schema it declares and hands the configuration over.
    pub fn load(wasm: &[u8], options: LoadOptions) -> Result<Self, LoadError> {
        let manifest = match options.manifest {
            Some(m) => m,
            None => Manifest::embedded(wasm)
                .map_err(|e| LoadError::Manifest(e.to_string()))?
                .unwrap_or_default(),
        };
        if let Some(kind) = &manifest.kind
            && kind != W::KIND.as_str()
        {
            return Err(LoadError::Manifest(format!(
                "the manifest says kind `{kind}`, but the component is a {} plugin",
                W::KIND.as_str()
            )));
        }
        // Each kind's name is also the name of the WIT interface it exports.
        let component = compile(
            wasm,
            W::KIND.as_str(),
            W::KIND.as_str(),
            options.cache.as_deref(),
        )?;
        let pre = linker()?
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let pre = W::prepare(pre).map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let capabilities = Arc::new(Capabilities::effective(
            &manifest.capabilities,
            &options.grants,
        ));
        let mut plugin = Self {
            name: Arc::from("(loading)"),
            version: String::new(),
            manifest,
            capabilities,
            config_schema: None,
            deadline: options.deadline.unwrap_or(W::KIND.default_deadline()),
            failures_in_a_row: AtomicU32::new(0),
            pre,
            config: options.config,
            services: options.services,
            warm: Mutex::new(Vec::new()),
        };
        let start = |e| LoadError::Start(call_error(e, LOAD_DEADLINE).to_string());
        let mut store = plugin.new_store(LOAD_DEADLINE);
        let instance = W::instantiate(&plugin.pre, &mut store).map_err(start)?;
        let info = instance.info(&mut store).map_err(start)?;
        if let Some(named) = &plugin.manifest.name
            && *named != info.name
        {
            return Err(LoadError::Manifest(format!(
                "the manifest names the plugin `{named}`, but it calls itself `{}`",
                info.name
            )));
        }
        plugin.name = Arc::from(info.name.as_str());
        plugin.version = info.version;
        plugin.config_schema = info.config_schema;
        store.data_mut().plugin = plugin.name.clone();
        if let Some(config) = &plugin.config {
            if let Some(schema) = &plugin.config_schema {
                validate_config(schema, config)?;
            }
            instance
                .configure(&mut store, config)
                .map_err(start)?
                .map_err(LoadError::Config)?;
        }
        plugin
            .warm
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Warm { store, instance });
        Ok(plugin)
    }

    fn new_store(&self, deadline: Duration) -> Store<HostState> {
        store(
            &self.name,
            deadline,
            self.capabilities.clone(),
            self.services.clone(),
        )
    }

    /// Runs `f` on a warm instance, or on a new one (instantiated and configured).
    pub(crate) fn with_instance<T>(
        &self,
        f: impl FnOnce(&mut Store<HostState>, &W) -> Result<T, CallError>,
    ) -> Result<T, CallError> {
        let deadline = self.deadline;
        let pooled = self.warm.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut warm = match pooled {
            Some(mut w) => {
                super::set_deadline(&mut w.store, deadline);
                w
            }
            None => self.fresh(deadline)?,
        };
        let result = f(&mut warm.store, &warm.instance);
        // After a trap or a timeout the instance cannot be entered again: drop it. One whose
        // memory has grown near the limit is dropped too, before it traps.
        let spent = matches!(result, Err(CallError::Trap(_)) | Err(CallError::Timeout(_)))
            || warm.store.data().memory_bytes() > super::MEMORY_RETIRE_AT;
        if !spent {
            let mut pool = self.warm.lock().unwrap_or_else(|p| p.into_inner());
            if pool.len() < MAX_WARM {
                pool.push(warm);
            }
        }
        result
    }

    fn fresh(&self, deadline: Duration) -> Result<Warm<W>, CallError> {
        let mut store = self.new_store(deadline);
        let instance =
            W::instantiate(&self.pre, &mut store).map_err(|e| call_error(e, deadline))?;
        if let Some(config) = &self.config {
            instance
                .configure(&mut store, config)
                .map_err(|e| call_error(e, deadline))?
                .map_err(CallError::Config)?;
        }
        Ok(Warm { store, instance })
    }
}

/// Checks `config` (JSON) against the plugin's JSON Schema, naming every place it fails.
pub fn validate_config(schema: &str, config: &str) -> Result<(), LoadError> {
    let schema: serde_json::Value = serde_json::from_str(schema)
        .map_err(|e| LoadError::Config(format!("the plugin's config schema is not JSON: {e}")))?;
    let config: serde_json::Value = serde_json::from_str(config)
        .map_err(|e| LoadError::Config(format!("the configuration is not JSON: {e}")))?;
    let validator = jsonschema::validator_for(&schema)
        .map_err(|e| LoadError::Config(format!("the plugin's config schema is invalid: {e}")))?;
    let problems: Vec<String> = validator
        .iter_errors(&config)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("{at}: {e}")
            }
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(LoadError::Config(format!(
            "the configuration does not match the plugin's schema: {}",
            problems.join("; ")
        )))
    }
}
