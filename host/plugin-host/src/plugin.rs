//! One loaded plugin of any kind: compiled once, instantiated a few times, its instances kept
//! warm between calls. An instance that trapped or ran out of time is thrown away, so a
//! failure leaves nothing behind. Each kind (moderation, ranking, …) defines its [`World`]
//! over the WIT versions that bind it and adds its hook calls on [`Plugin`].

use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::Store;
use wasmtime::component::InstancePre;

use crate::log::PluginLog;
use crate::manifest::{Capabilities, Manifest};
use crate::sandbox::{HostState, begin_call, call_error, store};
use crate::services::Services;
use crate::wit::{self, WitVersion};
use crate::{CallError, Kind, LoadError, MEMORY_RETIRE_AT, engine};

/// Warm instances kept per plugin: enough for the blocking threads that call at once.
const MAX_WARM: usize = 4;

/// Time allowed for `info` and `configure` when a plugin is loaded.
const LOAD_DEADLINE: Duration = Duration::from_secs(5);

/// What every plugin answers about itself.
pub struct Info {
    pub name: String,
    pub version: String,
    pub config_schema: Option<String>,
}

/// The world one kind of plugin is built against, over every WIT version that binds it
/// (see [`crate::wit`]).
pub trait World: Sized + Send + 'static {
    type Pre: Send + Sync;
    const KIND: Kind;
    fn prepare(version: WitVersion, pre: InstancePre<HostState>) -> wasmtime::Result<Self::Pre>;
    fn instantiate(pre: &Self::Pre, store: &mut Store<HostState>) -> wasmtime::Result<Self>;
    fn info(&self, store: &mut Store<HostState>) -> wasmtime::Result<Info>;
    fn configure(
        &self,
        store: &mut Store<HostState>,
        config: &str,
    ) -> wasmtime::Result<Result<(), String>>;
}

/// How a plugin is loaded: its configuration, where compiled code is cached, the manifest
/// supplied beside it (if not embedded), what the admin granted and the hook's deadline.
#[derive(Clone, Default)]
pub struct LoadOptions {
    pub config: Option<String>,
    pub cache: Option<std::path::PathBuf>,
    pub manifest: Option<Manifest>,
    pub grants: Vec<tsudoi_model::Capability>,
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
    /// The version of the WIT package the component was built against.
    pub wit_version: WitVersion,
    /// Failed calls since the last one that succeeded; the [`crate::Funnel`] disables the
    /// plugin when it reaches its limit.
    pub(crate) failures_in_a_row: AtomicU32,
    pre: W::Pre,
    config: Option<String>,
    services: Option<Services>,
    /// How much it may log, over all its instances.
    log: Arc<PluginLog>,
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
        if let Some(kind) = manifest.kind
            && kind != W::KIND
        {
            return Err(LoadError::Manifest(format!(
                "the manifest says kind `{kind}`, but the component is a {} plugin",
                W::KIND
            )));
        }
        let (component, wit_version) = engine::compile(wasm, W::KIND, options.cache.as_deref())?;
        let pre = wit::linker(wit_version)?
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let pre = W::prepare(wit_version, pre).map_err(|e| LoadError::Link(format!("{e:#}")))?;
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
            wit_version,
            failures_in_a_row: AtomicU32::new(0),
            pre,
            config: options.config,
            services: options.services,
            log: Arc::default(),
            warm: Mutex::new(Vec::new()),
        };
        let start = |e| LoadError::Start(call_error(e, LOAD_DEADLINE).bounded().to_string());
        let mut store = plugin.new_store(LOAD_DEADLINE);
        let instance = W::instantiate(&plugin.pre, &mut store).map_err(start)?;
        let info = instance.info(&mut store).map_err(start)?;
        check_info(&info)?;
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
        let config = plugin.config_or_defaults();
        if let Some(schema) = &plugin.config_schema {
            validate_config(schema, config).map_err(|e| match &plugin.config {
                Some(_) => e,
                None => LoadError::Config(format!("this plugin needs a configuration: {e}")),
            })?;
        }
        instance
            .configure(&mut store, config)
            .map_err(start)?
            .map_err(|refusal| LoadError::Config(crate::one_line(&refusal)))?;
        store.data().end_call_log();
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
            self.log.clone(),
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
                begin_call(&mut w.store, deadline);
                w
            }
            None => self.fresh(deadline).map_err(CallError::bounded)?,
        };
        let result = f(&mut warm.store, &warm.instance);
        warm.store.data().end_call_log();
        // After a trap or a timeout the instance cannot be entered again: drop it. One whose
        // memory has grown near the limit is dropped too, before it traps.
        let spent = matches!(result, Err(CallError::Trap(_)) | Err(CallError::Timeout(_)))
            || warm.store.data().memory_bytes() > MEMORY_RETIRE_AT;
        if !spent {
            let mut pool = self.warm.lock().unwrap_or_else(|p| p.into_inner());
            if pool.len() < MAX_WARM {
                pool.push(warm);
            }
        }
        result.map_err(CallError::bounded)
    }

    fn fresh(&self, deadline: Duration) -> Result<Warm<W>, CallError> {
        let mut store = self.new_store(deadline);
        let instance =
            W::instantiate(&self.pre, &mut store).map_err(|e| call_error(e, deadline))?;
        instance
            .configure(&mut store, self.config_or_defaults())
            .map_err(|e| call_error(e, deadline))?
            .map_err(CallError::Config)?;
        Ok(Warm { store, instance })
    }

    /// The configuration an instance is given: the admin's, or `{}` when there is none, so a
    /// plugin's `configure` always runs (and a plugin that needs settings says so at install,
    /// through its schema or its own refusal, instead of failing every call).
    fn config_or_defaults(&self) -> &str {
        self.config.as_deref().unwrap_or("{}")
    }
}

/// Checks what a plugin says of itself: a name admins can type, a short version, a schema of
/// reasonable size. Everything a plugin returns is held to rules, as client input is.
fn check_info(info: &Info) -> Result<(), LoadError> {
    let name_ok = !info.name.is_empty()
        && info.name.chars().count() <= crate::MAX_NAME_CHARS
        && info
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !name_ok {
        return Err(LoadError::Start(format!(
            "the plugin calls itself `{}`: a name is 1 to {} letters, digits, `-`, `_` or `.`",
            crate::one_line(&info.name),
            crate::MAX_NAME_CHARS
        )));
    }
    if info.version.is_empty()
        || info.version.chars().count() > crate::MAX_VERSION_CHARS
        || info.version.chars().any(char::is_control)
    {
        return Err(LoadError::Start(format!(
            "the plugin's version `{}` is not 1 to {} printable characters",
            crate::one_line(&info.version),
            crate::MAX_VERSION_CHARS
        )));
    }
    if info
        .config_schema
        .as_ref()
        .is_some_and(|s| s.len() > crate::MAX_CONFIG_SCHEMA_BYTES)
    {
        return Err(LoadError::Start(format!(
            "the plugin's configuration schema is over {} bytes",
            crate::MAX_CONFIG_SCHEMA_BYTES
        )));
    }
    Ok(())
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
