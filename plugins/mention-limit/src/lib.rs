//! Spam waves on the fediverse (Misskey's in 2024 among them) post notes that mention many
//! strangers or carry many links. This filter rejects (or flags) a note with more mentions
//! or links than allowed.
//!
//! Configuration (all optional): `{"max_mentions": 5, "max_links": 10, "action": "reject"}`,
//! `action` being `reject` or `flag`.

#![cfg(target_family = "wasm")]

use tsudoi_sdk::moderation::*;

tsudoi_sdk::manifest!(include_bytes!("../tsudoi-plugin.toml"));

#[derive(Clone, Copy, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default = "five")]
    max_mentions: usize,
    #[serde(default = "ten")]
    max_links: usize,
    #[serde(default)]
    action: Action,
}

#[derive(Clone, Copy, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Action {
    #[default]
    Reject,
    Flag,
}

fn five() -> usize {
    5
}
fn ten() -> usize {
    10
}

static SETTINGS: tsudoi_sdk::Settings<Settings> = tsudoi_sdk::Settings::new(Settings {
    max_mentions: 5,
    max_links: 10,
    action: Action::Reject,
});

struct MentionLimit;

impl ModerationFilter for MentionLimit {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "mention-limit".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            config_schema: Some(
                r#"{"type":"object","additionalProperties":false,"properties":{"max_mentions":{"type":"integer","minimum":0},"max_links":{"type":"integer","minimum":0},"action":{"enum":["reject","flag"]}}}"#.into(),
            ),
        }
    }

    fn configure(config_json: String) -> Result<(), String> {
        SETTINGS.configure(&config_json)
    }

    fn check_note(_activity: &Activity, note: &NoteView) -> Result<Verdict, PluginError> {
        let s = SETTINGS.get();
        // The links the host's MFM parser found: not a URL inside code, each link once.
        let links = note.links().len();
        let mentions = note.mentions().len();
        let problem = if mentions > s.max_mentions {
            format!("{mentions} mentions (at most {})", s.max_mentions)
        } else if links > s.max_links {
            format!("{links} links (at most {})", s.max_links)
        } else {
            return Ok(Verdict::Accept);
        };
        Ok(match s.action {
            Action::Reject => Verdict::Reject(format!("too many {problem}")),
            Action::Flag => Verdict::Flag(format!("many {problem}")),
        })
    }
}

tsudoi_sdk::register_moderation!(MentionLimit);
