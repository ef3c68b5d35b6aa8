//! Spam comes from accounts made minutes ago. An account younger than `young_hours` may post
//! `max_notes_per_hour` notes an hour; beyond that its notes are rejected until the hour
//! turns. The counts live in the server's key-value store (the `kv` capability, which the
//! admin grants), expire with their hour, and are shared by every server of the instance.
//!
//! Configuration (all optional): `{"young_hours": 24, "max_notes_per_hour": 10}`.

#![cfg(target_family = "wasm")]

use tsudoi_sdk::kv::Bucket;
use tsudoi_sdk::moderation::*;

tsudoi_sdk::manifest!(include_bytes!("../tsudoi-plugin.toml"));

#[derive(Clone, Copy, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default = "day")]
    young_hours: i64,
    #[serde(default = "ten")]
    max_notes_per_hour: i64,
}

fn day() -> i64 {
    24
}
fn ten() -> i64 {
    10
}

static SETTINGS: tsudoi_sdk::Settings<Settings> = tsudoi_sdk::Settings::new(Settings {
    young_hours: 24,
    max_notes_per_hour: 10,
});

const HOUR_MS: i64 = 3_600_000;

struct NewAccountGuard;

impl ModerationFilter for NewAccountGuard {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "new-account-guard".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            config_schema: Some(
                r#"{"type":"object","additionalProperties":false,"properties":{"young_hours":{"type":"integer","minimum":0},"max_notes_per_hour":{"type":"integer","minimum":1}}}"#.into(),
            ),
        }
    }

    fn configure(config_json: String) -> Result<(), String> {
        SETTINGS.configure(&config_json)
    }

    fn check_note(activity: &Activity, note: &NoteView) -> Result<Verdict, PluginError> {
        let s = SETTINGS.get();
        let actor = activity.actor();
        let created_at = note.created_at();
        let age = created_at - actor.created_at;
        if age >= s.young_hours * HOUR_MS {
            return Ok(Verdict::Accept);
        }
        let hour = created_at / HOUR_MS;
        let counted = Bucket::open("notes-per-hour")
            .and_then(|b| {
                let key = format!("{}:{hour}", actor.id);
                // Expires with the hour (and a margin).
                b.increment(&key, 1, Some(2 * 3600))
            })
            .map_err(|e| {
                PluginError::Config(format!(
                    "the key-value store is not available ({e:?}); grant the kv capability"
                ))
            })?;
        Ok(if counted > s.max_notes_per_hour {
            Verdict::Reject(format!(
                "new accounts may post {} notes an hour",
                s.max_notes_per_hour
            ))
        } else {
            Verdict::Accept
        })
    }
}

tsudoi_sdk::register_moderation!(NewAccountGuard);
