//! What a plugin says about itself, and what the admin lets it do.
//!
//! The manifest is TOML, embedded in the component as a custom section named
//! `tsudoi-manifest` (the Rust SDK's `manifest!` macro does it) or supplied beside the
//! `.wasm` file when a toolchain cannot embed one (componentize-py, componentize-js):
//!
//! ```toml
//! name = "keyword-filter"
//! version = "0.1.0"
//! kind = "moderation"
//! hooks = ["check-note"]
//! capabilities = ["kv", "http:api.example.com"]
//! ```
//!
//! Requesting a capability grants nothing: the admin grants capabilities, and a plugin gets
//! only those both requested and granted. A plugin without a manifest requests nothing.

use serde::{Deserialize, Serialize};
use tsudoi_model::{Capability, PluginKind};

/// The custom section the manifest lives in.
pub const SECTION: &str = "tsudoi-manifest";

/// Largest manifest read; a manifest is a few lines.
const MAX_MANIFEST: usize = 64 << 10;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    pub name: Option<String>,
    pub version: Option<String>,
    pub kind: Option<PluginKind>,
    #[serde(default)]
    pub hooks: Vec<String>,
    #[serde(default)]
    pub capabilities: Vec<Capability>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("the manifest is not valid TOML: {0}")]
    Toml(String),
    #[error("the manifest is larger than {MAX_MANIFEST} bytes")]
    TooLarge,
}

impl Manifest {
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        if text.len() > MAX_MANIFEST {
            return Err(ManifestError::TooLarge);
        }
        toml::from_str(text).map_err(|e| ManifestError::Toml(e.message().to_owned()))
    }

    /// The manifest embedded in `wasm`, searched through nested modules and components.
    pub fn embedded(wasm: &[u8]) -> Result<Option<Self>, ManifestError> {
        for payload in wasmparser::Parser::new(0).parse_all(wasm) {
            let Ok(payload) = payload else { break };
            if let wasmparser::Payload::CustomSection(section) = payload
                && section.name() == SECTION
            {
                let text = std::str::from_utf8(section.data())
                    .map_err(|e| ManifestError::Toml(format!("not UTF-8: {e}")))?;
                return Self::parse(text).map(Some);
            }
        }
        Ok(None)
    }
}

/// What a plugin may do: requested by its manifest and granted by the admin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub kv: bool,
    pub raw_activity: bool,
    pub http_hosts: Vec<String>,
}

impl Capabilities {
    /// The intersection of what the manifest requests and what the admin granted.
    pub fn effective(requested: &[Capability], granted: &[Capability]) -> Self {
        let mut caps = Capabilities::default();
        for c in requested.iter().filter(|c| granted.contains(c)) {
            match c {
                Capability::Kv => caps.kv = true,
                Capability::RawActivity => caps.raw_activity = true,
                Capability::Http(host) => caps.http_hosts.push(host.clone()),
            }
        }
        caps
    }

    /// Whether `url` names a granted host: a grant of `host` covers the scheme's default
    /// port, `host:port` that port only.
    pub fn allows_url(&self, url: &url::Url) -> bool {
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return false;
        };
        let with_port = url.port().map(|p| format!("{host}:{p}"));
        self.http_hosts.iter().any(|granted| match &with_port {
            Some(hp) => granted == hp,
            None => *granted == host,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(list: &[&str]) -> Vec<Capability> {
        list.iter().map(|c| c.parse().unwrap()).collect()
    }

    #[test]
    fn effective_capabilities_are_the_intersection() {
        let requested = caps(&["kv", "http:api.example.com"]);
        let granted = caps(&["http:api.example.com", "raw-activity"]);
        let caps = Capabilities::effective(&requested, &granted);
        assert!(!caps.kv, "kv was requested but not granted");
        assert!(
            !caps.raw_activity,
            "raw-activity was granted but not requested"
        );
        assert_eq!(caps.http_hosts, vec!["api.example.com"]);
        let url = |s: &str| url::Url::parse(s).unwrap();
        assert!(caps.allows_url(&url("https://API.example.com/x")));
        assert!(!caps.allows_url(&url("https://api.example.com:8443/x")));
        assert!(!caps.allows_url(&url("https://evil.example.com/")));
    }

    #[test]
    fn manifests_are_checked() {
        let m = Manifest::parse("name = \"x\"\nkind = \"moderation\"\ncapabilities = [\"kv\"]\n")
            .unwrap();
        assert_eq!(m.capabilities, vec![Capability::Kv]);
        assert_eq!(m.kind, Some(PluginKind::Moderation));
        assert!(Manifest::parse("capabilities = [\"fs\"]").is_err());
        assert!(Manifest::parse("nmae = \"typo\"").is_err());
        assert!(Manifest::parse("kind = \"spam\"").is_err());
    }
}
