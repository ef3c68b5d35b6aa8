//! The keyword filter as a moderation plugin.

use std::sync::Mutex;

use tsudoi_sdk::moderation::*;

use crate::filter::{Action, Filter};

tsudoi_sdk::manifest!(include_bytes!("../tsudoi-plugin.toml"));

/// Set by `configure`; until then every check answers with a configuration error.
static FILTER: Mutex<Option<Filter>> = Mutex::new(None);

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
        let filter = Filter::from_json(&config_json)?;
        *FILTER.lock().map_err(|e| e.to_string())? = Some(filter);
        Ok(())
    }

    fn check_note(_activity: &Activity, note: &NoteView) -> Result<Verdict, PluginError> {
        let guard = FILTER
            .lock()
            .map_err(|e| PluginError::Other(e.to_string()))?;
        let Some(filter) = guard.as_ref() else {
            return Err(PluginError::Config("no keywords configured".into()));
        };
        let (text, cw) = (note.text(), note.content_warning());
        let Some(hit) = filter.first_match(text.as_deref(), cw.as_deref()) else {
            return Ok(Verdict::Accept);
        };
        log(Level::Info, &format!("note {} matched {hit:?}", note.id()));
        Ok(match filter.action {
            Action::Reject => Verdict::Reject(format!("contains a blocked keyword: {hit}")),
            Action::Flag => Verdict::Flag(format!("contains {hit}")),
            Action::Cw => {
                let hit = hit.to_owned();
                let mut rewritten = note.to_note();
                rewritten.content_warning = Some(format!("filtered: {hit}"));
                Verdict::Rewrite(rewritten)
            }
        })
    }
}

tsudoi_sdk::register_moderation!(KeywordFilter);
