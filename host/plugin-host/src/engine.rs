//! The engine every plugin shares, and compiling components (with an on-disk cache of the
//! compiled code) into something a [`crate::wit`] binding module can instantiate.

use std::path::Path;
use std::sync::OnceLock;

use wasmtime::component::Component;
use wasmtime::{Config, Engine};

use crate::wit::{self, WitVersion};
use crate::{Kind, LoadError, TICK};

/// The engine every plugin shares, with its epoch ticker.
pub(crate) fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        // Plugins run on blocking threads with 2 MiB stacks; leave room for the host.
        config.max_wasm_stack(512 << 10);
        // No copy-on-write memory images: wasmtime builds them in a sealed memfd, and on
        // this project's machines (Linux 6.18) sealing failed now and then under load
        // (`cannot add seals to the memfd`, EBUSY), so a plugin failed to start. A plugin is
        // instantiated a few times and its instances are kept warm, so copying its data
        // segments at instantiation costs little.
        config.memory_init_cow(false);
        let engine = match Engine::new(&config) {
            Ok(e) => e,
            // A configuration error here is a build problem, not a runtime condition.
            Err(e) => panic!("wasmtime engine configuration is invalid: {e}"),
        };
        let ticking = engine.clone();
        std::thread::Builder::new()
            .name("plugin-epoch".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(TICK);
                    ticking.increment_epoch();
                }
            })
            .map(|_| ())
            .unwrap_or_else(
                |e| tracing::error!(error = %e, "cannot start the plugin epoch ticker"),
            );
        engine
    })
}

/// Which of our plugin interfaces a component exports, read from its export section
/// without compiling it.
pub(crate) fn exported_kind(wasm: &[u8]) -> Option<Kind> {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let Ok(wasmparser::Payload::ComponentExportSection(exports)) = payload else {
            continue;
        };
        for export in exports.into_iter().flatten() {
            for kind in Kind::ALL {
                if export
                    .name
                    .0
                    .starts_with(&format!("{}/{}@", wit::PACKAGE, kind.as_str()))
                {
                    return Some(*kind);
                }
            }
        }
    }
    None
}

/// Compiles a component (or takes it from the on-disk cache in `cache`) and finds which of
/// the WIT versions this host implements it exports `kind`'s interface of.
pub(crate) fn compile(
    wasm: &[u8],
    kind: Kind,
    cache: Option<&Path>,
) -> Result<(Component, WitVersion), LoadError> {
    let component = match cache {
        Some(dir) => cached_compile(wasm, dir)?,
        None => Component::new(engine(), wasm).map_err(|e| LoadError::Invalid(format!("{e:#}")))?,
    };
    let exports: Vec<String> = component
        .component_type()
        .exports(engine())
        .map(|(name, _)| name.to_owned())
        .collect();
    // Each kind's name is also the name of the WIT interface it exports; the version the
    // component was built against is the one it carries, which a line of ours must serve.
    let interface = format!("{}/{}@", wit::PACKAGE, kind.as_str());
    if let Some(version) = exports
        .iter()
        .filter_map(|e| WitVersion::parse(e.strip_prefix(&interface)?))
        .find(|v| v.line().is_some())
    {
        return Ok((component, version));
    }
    let ours: Vec<&String> = exports
        .iter()
        .filter(|e| e.starts_with(wit::PACKAGE))
        .collect();
    if ours.iter().any(|e| e.starts_with(&interface)) {
        return Err(LoadError::IncompatibleVersion {
            found: ours
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Err(LoadError::WrongKind {
        expected: kind.as_str(),
        found: if exports.is_empty() {
            "nothing".into()
        } else {
            exports.join(", ")
        },
    })
}

/// Compiled code is kept in `dir`, named by the component's hash and the engine's
/// compatibility hash, so a restart (or a second server) loads it in milliseconds instead of
/// compiling again, and an upgraded wasmtime never reads code compiled by another.
fn cached_compile(wasm: &[u8], dir: &Path) -> Result<Component, LoadError> {
    use sha2::{Digest, Sha256};
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine().precompile_compatibility_hash().hash(&mut h);
    let name = format!(
        "{}-{:016x}.cwasm",
        hex::encode(Sha256::digest(wasm)),
        h.finish()
    );
    let path = dir.join(name);
    // Read into memory rather than mapped: a file truncated under a mapping would kill the
    // process with SIGBUS.
    if let Ok(bytes) = std::fs::read(&path) {
        // SAFETY: the file was written by `Component::serialize` of this same engine
        // configuration (the name carries its compatibility hash) into the server's own data
        // directory; wasmtime checks the header and refuses a foreign or corrupt artifact.
        match unsafe { Component::deserialize(engine(), &bytes) } {
            Ok(c) => return Ok(c),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "discarding a bad compiled-plugin cache entry")
            }
        }
    }
    let component =
        Component::new(engine(), wasm).map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
    if let Ok(bytes) = component.serialize() {
        let tmp = path.with_extension("tmp");
        let written = std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(&tmp, bytes))
            .and_then(|_| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot cache compiled plugin");
        }
    }
    Ok(component)
}
