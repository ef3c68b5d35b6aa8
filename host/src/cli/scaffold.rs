//! `tsudoi plugin new NAME`: a moderation plugin crate that builds, tests and installs as it
//! is, laid out as `sdk/README.md` describes (rules in plain Rust tested natively, the
//! component beside them, fixtures for `tsudoi plugin test`).
//!
//! The SDK is not published, so the crate gets a copy of the SDK and of the WIT package this
//! binary serves (`tsudoi-sdk/`, `wit/`), as a path dependency: it builds offline, and always
//! against the interface of the server its author tests with. `--sdk DIR` depends on a
//! checkout's `sdk/` instead. The copies are this repository's own files, embedded at build
//! time; their manifests are made standalone by resolving what they inherit from our
//! workspace, so the versions they pin are the ones our own plugins are built with.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The folder of `wit/` the SDK is built against: the newest version this server serves
/// (checked by a test against `tsudoi_plugin_host::wit::LATEST`).
const WIT_DIR: &str = "0.1.1";

/// `(path in the generated crate, contents)` of the embedded SDK and WIT sources.
const SDK_FILES: &[(&str, &str)] = &[
    (
        "tsudoi-sdk/src/lib.rs",
        include_str!("../../../sdk/src/lib.rs"),
    ),
    (
        "tsudoi-sdk/README.md",
        include_str!("../../../sdk/README.md"),
    ),
    (
        "tsudoi-sdk/ranking/src/lib.rs",
        include_str!("../../../sdk/ranking/src/lib.rs"),
    ),
    (
        "tsudoi-sdk/mfm/src/lib.rs",
        include_str!("../../../sdk/mfm/src/lib.rs"),
    ),
    (
        "tsudoi-sdk/bridge/src/lib.rs",
        include_str!("../../../sdk/bridge/src/lib.rs"),
    ),
    (
        "wit/0.1.1/types.wit",
        include_str!("../../../wit/0.1.1/types.wit"),
    ),
    (
        "wit/0.1.1/host.wit",
        include_str!("../../../wit/0.1.1/host.wit"),
    ),
    (
        "wit/0.1.1/moderation.wit",
        include_str!("../../../wit/0.1.1/moderation.wit"),
    ),
    (
        "wit/0.1.1/ranking.wit",
        include_str!("../../../wit/0.1.1/ranking.wit"),
    ),
    (
        "wit/0.1.1/mfm.wit",
        include_str!("../../../wit/0.1.1/mfm.wit"),
    ),
    (
        "wit/0.1.1/bridge.wit",
        include_str!("../../../wit/0.1.1/bridge.wit"),
    ),
];

/// `(path in the generated crate, manifest as in this repository)` of the SDK's crates.
const SDK_MANIFESTS: &[(&str, &str)] = &[
    (
        "tsudoi-sdk/Cargo.toml",
        include_str!("../../../sdk/Cargo.toml"),
    ),
    (
        "tsudoi-sdk/ranking/Cargo.toml",
        include_str!("../../../sdk/ranking/Cargo.toml"),
    ),
    (
        "tsudoi-sdk/mfm/Cargo.toml",
        include_str!("../../../sdk/mfm/Cargo.toml"),
    ),
    (
        "tsudoi-sdk/bridge/Cargo.toml",
        include_str!("../../../sdk/bridge/Cargo.toml"),
    ),
];

/// Our workspace manifest: what the SDK's crates inherit, and the `plugin` profile.
const WORKSPACE: &str = include_str!("../../../Cargo.toml");

/// Writes the crate for plugin `name` into `dir` (by default `./NAME`), which must not exist
/// or be empty, and says what to run next.
pub fn new_plugin(name: &str, dir: Option<PathBuf>, sdk: Option<PathBuf>) -> anyhow::Result<()> {
    check_name(name)?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    if std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some()) {
        bail!("{} exists and is not empty", dir.display());
    }
    let files = crate_files(name, sdk.as_deref())?;
    for (path, contents) in &files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let lib = name.replace('-', "_");
    println!(
        "created the moderation plugin {name} in {dir}, with the SDK for tsudoi:plugin@{WIT_DIR}\n\n  cd {dir}\n  rustup target add wasm32-wasip2\n  cargo test\n  cargo build --profile plugin --target wasm32-wasip2\n  tsudoi plugin test target/wasm32-wasip2/plugin/{lib}.wasm --notes notes.json\n  tsudoi plugin install target/wasm32-wasip2/plugin/{lib}.wasm --plugin-config '{{\"blocked_words\": [\"buy now\"]}}'",
        dir = dir.display()
    );
    Ok(())
}

/// Plugin names are crate names here too: lowercase, so that the crate, the library
/// (`-` becomes `_`) and the plugin agree.
fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        bail!(
            "`{name}` cannot name a plugin crate: use 1 to 64 lowercase letters, digits and `-`, starting with a letter"
        );
    }
    Ok(())
}

/// Every file of the new crate, by its path in it.
fn crate_files(name: &str, sdk: Option<&Path>) -> anyhow::Result<Vec<(String, String)>> {
    let workspace: toml::Table = WORKSPACE.parse().context("our workspace manifest")?;
    let sdk_dependency = match sdk {
        Some(path) => {
            let path = std::path::absolute(path)
                .with_context(|| format!("cannot resolve {}", path.display()))?;
            if !path.join("Cargo.toml").is_file() {
                bail!(
                    "{} holds no Cargo.toml: give the sdk/ folder of a Tsudoi checkout",
                    path.display()
                );
            }
            toml::Value::from(path.display().to_string())
        }
        None => toml::Value::from("tsudoi-sdk"),
    };
    let mut files = vec![
        (
            "Cargo.toml".to_owned(),
            plugin_manifest(name, &workspace, sdk_dependency)?,
        ),
        (
            "tsudoi-plugin.toml".to_owned(),
            format!(
                "name = \"{name}\"\nkind = \"moderation\"\nhooks = [\"check-note\"]\n# capabilities = [\"kv\"]   # what the plugin asks for; the admin grants it\n"
            ),
        ),
        ("notes.json".to_owned(), NOTES.to_owned()),
        (".gitignore".to_owned(), "/target\n".to_owned()),
        ("src/lib.rs".to_owned(), LIB.replace("{name}", name)),
        ("src/rules.rs".to_owned(), RULES.to_owned()),
        (
            "src/component.rs".to_owned(),
            COMPONENT.replace("{name}", name),
        ),
    ];
    if sdk.is_none() {
        for (path, text) in SDK_FILES {
            files.push(((*path).to_owned(), (*text).to_owned()));
        }
        for (path, text) in SDK_MANIFESTS {
            files.push(((*path).to_owned(), standalone(text, &workspace)?));
        }
    }
    Ok(files)
}

/// The plugin crate's manifest: a workspace of its own (so that it builds wherever it is
/// created), the SDK, and the `plugin` profile our plugins are built with.
fn plugin_manifest(
    name: &str,
    workspace: &toml::Table,
    sdk: toml::Value,
) -> anyhow::Result<String> {
    let shared = |dep: &str| -> anyhow::Result<toml::Value> {
        workspace_table(workspace, "dependencies")?
            .get(dep)
            .cloned()
            .with_context(|| format!("the workspace has no dependency {dep}"))
    };
    let mut sdk_table = toml::Table::new();
    sdk_table.insert("path".into(), sdk);
    let mut deps = toml::Table::new();
    deps.insert("tsudoi-sdk".into(), sdk_table.into());
    deps.insert("serde".into(), shared("serde")?);
    deps.insert("serde_json".into(), shared("serde_json")?);
    let profile = workspace
        .get("profile")
        .and_then(|p| p.get("plugin"))
        .cloned()
        .context("the workspace has no plugin profile")?;
    let mut profiles = toml::Table::new();
    profiles.insert("plugin".into(), profile);
    let mut manifest = toml::Table::new();
    let mut package = toml::Table::new();
    package.insert("name".into(), name.into());
    package.insert("version".into(), "0.1.0".into());
    package.insert("edition".into(), "2024".into());
    package.insert("publish".into(), false.into());
    let mut lib = toml::Table::new();
    lib.insert("crate-type".into(), vec!["cdylib", "rlib"].into());
    manifest.insert("package".into(), package.into());
    manifest.insert("lib".into(), lib.into());
    manifest.insert("dependencies".into(), deps.into());
    manifest.insert("workspace".into(), toml::Table::new().into());
    manifest.insert("profile".into(), profiles.into());
    Ok(format!(
        "# cdylib: the component (cargo build --profile plugin --target wasm32-wasip2);\n# rlib: `cargo test` of the rules on this machine.\n{}",
        manifest_text(manifest)?
    ))
}

fn workspace_table<'a>(workspace: &'a toml::Table, key: &str) -> anyhow::Result<&'a toml::Table> {
    workspace
        .get("workspace")
        .and_then(|w| w.get(key))
        .and_then(toml::Value::as_table)
        .with_context(|| format!("the workspace manifest has no [workspace.{key}]"))
}

/// `manifest` with what it inherits from our workspace (`version.workspace = true`,
/// `dep = { workspace = true, … }`) written out.
fn standalone(manifest: &str, workspace: &toml::Table) -> anyhow::Result<String> {
    let mut table: toml::Table = manifest.parse().context("an SDK manifest")?;
    let package = workspace_table(workspace, "package")?;
    let dependencies = workspace_table(workspace, "dependencies")?;
    if let Some(toml::Value::Table(fields)) = table.get_mut("package") {
        for (key, value) in fields.iter_mut() {
            if inherits(value) {
                *value = package
                    .get(key)
                    .cloned()
                    .with_context(|| format!("the workspace has no package.{key}"))?;
            }
        }
    }
    if let Some(toml::Value::Table(deps)) = table.get_mut("dependencies") {
        for (name, value) in deps.iter_mut() {
            if !inherits(value) {
                continue;
            }
            let mut resolved = match dependencies.get(name) {
                Some(toml::Value::String(version)) => {
                    toml::Table::from_iter([("version".to_owned(), version.as_str().into())])
                }
                Some(toml::Value::Table(t)) => t.clone(),
                _ => bail!("the workspace has no dependency {name}"),
            };
            // Keys beside `workspace = true` (features, optional) add to the workspace's.
            if let toml::Value::Table(own) = value {
                for (k, v) in own.iter().filter(|(k, _)| *k != "workspace") {
                    resolved.insert(k.clone(), v.clone());
                }
            }
            *value = resolved.into();
        }
    }
    manifest_text(table)
}

/// A manifest as people write them: `[package]` first, then `[lib]`, then the rest.
fn manifest_text(mut manifest: toml::Table) -> anyhow::Result<String> {
    let mut sections = Vec::new();
    for key in ["package", "lib"] {
        if let Some(value) = manifest.remove(key) {
            sections.push(toml::to_string(&toml::Table::from_iter([(
                key.to_owned(),
                value,
            )]))?);
        }
    }
    sections.push(toml::to_string(&manifest)?);
    Ok(sections.join("\n"))
}

fn inherits(value: &toml::Value) -> bool {
    value.get("workspace").and_then(toml::Value::as_bool) == Some(true)
}

const LIB: &str = r##"//! {name}: a moderation plugin for Tsudoi.
//!
//! The decision lives in [`rules`], plain Rust that `cargo test` runs on this machine;
//! `component` connects it to the server's plugin interface when built for WebAssembly.

pub mod rules;

// The component only makes sense for WebAssembly; natively (`cargo test`) it is left out.
#[cfg(target_family = "wasm")]
mod component;
"##;

const RULES: &str = r##"//! What the plugin decides, from what the server tells it about a note.

use serde::Deserialize;

/// The configuration (JSON), checked by the server against [`SCHEMA`] before `configure`
/// sees it. Every setting has a default: a server configures a plugin installed without a
/// configuration with `{}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Notes whose text contains one of these (without case) are refused.
    #[serde(default)]
    pub blocked_words: Vec<String>,
    /// Notes linking one of these hosts, or a subdomain of one, are refused.
    #[serde(default)]
    pub blocked_hosts: Vec<String>,
}

pub const SCHEMA: &str = r#"{"type":"object","additionalProperties":false,"properties":{"blocked_words":{"type":"array","items":{"type":"string","minLength":1}},"blocked_hosts":{"type":"array","items":{"type":"string","minLength":1}}}}"#;

impl Rules {
    pub const DEFAULT: Rules = Rules {
        blocked_words: Vec::new(),
        blocked_hosts: Vec::new(),
    };

    /// Why a note with this text, linking these hosts, is refused, if it is.
    pub fn judge<'a>(&self, text: &str, hosts: impl IntoIterator<Item = &'a str>) -> Option<String> {
        let lower = text.to_lowercase();
        if let Some(word) = self.blocked_words.iter().find(|w| lower.contains(&w.to_lowercase())) {
            return Some(format!("contains a blocked word ({word})"));
        }
        hosts
            .into_iter()
            .find(|host| {
                self.blocked_hosts.iter().any(|b| {
                    host.eq_ignore_ascii_case(b)
                        || host.to_ascii_lowercase().ends_with(&format!(".{}", b.to_ascii_lowercase()))
                })
            })
            .map(|host| format!("links to a blocked site ({host})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        serde_json::from_str(r#"{"blocked_words": ["Buy Now"], "blocked_hosts": ["spam.example"]}"#).unwrap()
    }

    #[test]
    fn blocked_words_and_hosts_are_refused() {
        let r = rules();
        assert_eq!(r.judge("please BUY NOW", []).as_deref(), Some("contains a blocked word (Buy Now)"));
        assert_eq!(r.judge("see", ["www.spam.example"]).as_deref(), Some("links to a blocked site (www.spam.example)"));
        assert_eq!(r.judge("hello", ["notspam.example"]), None);
    }

    #[test]
    fn an_empty_configuration_refuses_nothing() {
        let r: Rules = serde_json::from_str("{}").unwrap();
        assert_eq!(r.judge("buy now", ["spam.example"]), None);
    }
}
"##;

const COMPONENT: &str = r##"//! The rules as a moderation plugin.

use tsudoi_sdk::moderation::*;

use crate::rules::Rules;

tsudoi_sdk::manifest!(include_bytes!("../tsudoi-plugin.toml"));

static RULES: tsudoi_sdk::Settings<Rules> = tsudoi_sdk::Settings::new(Rules::DEFAULT);

struct Plugin;

impl ModerationFilter for Plugin {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "{name}".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            config_schema: Some(crate::rules::SCHEMA.into()),
        }
    }

    fn configure(config_json: String) -> Result<(), String> {
        RULES.configure(&config_json)
    }

    /// Each getter copies one field from the server: read only what the decision needs.
    /// (`activity.actor()` tells who posts: local or not, account age, followers.)
    fn check_note(_activity: &Activity, note: &NoteView) -> Result<Verdict, PluginError> {
        let text = note.text().unwrap_or_default();
        let links = note.links();
        let why = RULES.with(|rules| rules.judge(&text, links.iter().map(|l| l.host.as_str())));
        Ok(match why {
            Some(reason) => Verdict::Reject(reason),
            None => Verdict::Accept,
        })
    }
}

tsudoi_sdk::register_moderation!(Plugin);
"##;

const NOTES: &str = r##"[
  {"text": "hello, fediverse"},
  {"text": "BUY NOW at https://shop.example"},
  {"text": "look [docs](https://www.spam.example/x)", "author": {"username": "newcomer", "accountAgeDays": 0}}
]
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_wit_is_the_newest_this_server_serves() {
        assert_eq!(WIT_DIR, tsudoi_plugin_host::wit::LATEST.to_string());
        assert!(
            SDK_FILES
                .iter()
                .filter(|(p, _)| p.starts_with("wit/"))
                .all(|(p, _)| p.starts_with(&format!("wit/{WIT_DIR}/")))
        );
    }

    #[test]
    fn sdk_manifests_stand_alone() {
        let workspace: toml::Table = WORKSPACE.parse().unwrap();
        for (path, text) in SDK_MANIFESTS {
            let resolved: toml::Table = standalone(text, &workspace).unwrap().parse().unwrap();
            let text = toml::to_string(&resolved).unwrap();
            assert!(!text.contains("workspace"), "{path}: {text}");
            assert_eq!(
                resolved["package"]["edition"].as_str(),
                Some("2024"),
                "{path}"
            );
        }
        let sdk: toml::Table = standalone(SDK_MANIFESTS[0].1, &workspace)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            sdk["dependencies"]["wit-bindgen"],
            workspace["workspace"]["dependencies"]["wit-bindgen"]
        );
    }

    #[test]
    fn names_must_make_a_crate() {
        assert!(check_name("no-spam").is_ok());
        for bad in ["", "NoSpam", "1spam", "no_spam", "no spam", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_existing_folder_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keep"), "mine").unwrap();
        let err = new_plugin("no-spam", Some(dir.path().to_owned()), None).unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("keep")).unwrap(),
            "mine"
        );
    }
}
