//! Rejects (or flags, or hides behind a content warning) notes whose text or CW contains one
//! of the configured keywords, compared case-insensitively.
//!
//! Configuration: `{"keywords": ["buy now", "free crypto"], "action": "reject"}` where
//! `action` is `reject` (default), `flag` or `cw`.

// A component only makes sense for WebAssembly; on the host target (`cargo build
// --workspace`) the crate is empty instead of a shared library with unlinkable exports.
#![cfg(target_family = "wasm")]

use std::sync::Mutex;

use tsudoi_sdk::moderation::*;

#[derive(serde::Deserialize)]
struct Config {
    keywords: Vec<String>,
    #[serde(default)]
    action: Action,
}

#[derive(serde::Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Action {
    #[default]
    Reject,
    Flag,
    Cw,
}

/// Set by `configure`; until then every check answers with a configuration error.
static CONFIG: Mutex<Option<(Vec<String>, Action)>> = Mutex::new(None);

struct KeywordFilter;

impl ModerationFilter for KeywordFilter {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "keyword-filter".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            config_schema: Some(
                r#"{"type":"object","required":["keywords"],"properties":{"keywords":{"type":"array","items":{"type":"string"}},"action":{"enum":["reject","flag","cw"]}}}"#.into(),
            ),
        }
    }

    fn configure(config_json: String) -> Result<(), String> {
        let config: Config = serde_json::from_str(&config_json).map_err(|e| e.to_string())?;
        let keywords = config
            .keywords
            .iter()
            .map(|k| k.to_lowercase())
            .filter(|k| !k.is_empty())
            .collect();
        *CONFIG.lock().map_err(|e| e.to_string())? = Some((keywords, config.action));
        Ok(())
    }

    fn check_note(_ctx: Context, note: Note) -> Result<Verdict, PluginError> {
        let guard = CONFIG
            .lock()
            .map_err(|e| PluginError::Other(e.to_string()))?;
        let Some((keywords, action)) = guard.as_ref() else {
            return Err(PluginError::Config("no keywords configured".into()));
        };
        let haystack = format!(
            "{}\n{}",
            note.text.as_deref().unwrap_or_default(),
            note.content_warning.as_deref().unwrap_or_default()
        )
        .to_lowercase();
        let Some(hit) = keywords.iter().find(|k| haystack.contains(k.as_str())) else {
            return Ok(Verdict::Accept);
        };
        log(Level::Info, &format!("note {} matched {hit:?}", note.id));
        Ok(match action {
            Action::Reject => Verdict::Reject(format!("contains a blocked keyword: {hit}")),
            Action::Flag => Verdict::Flag(format!("contains {hit}")),
            Action::Cw => {
                let mut rewritten = note;
                rewritten.content_warning = Some(format!("filtered: {hit}"));
                Verdict::Rewrite(rewritten)
            }
        })
    }
}

tsudoi_sdk::register_moderation!(KeywordFilter);
