//! The link guard as a moderation plugin.

use tsudoi_sdk::moderation::*;

use crate::rules::{Action, Rules};

tsudoi_sdk::manifest!(include_bytes!("../tsudoi-plugin.toml"));

static RULES: tsudoi_sdk::Settings<Rules> = tsudoi_sdk::Settings::new(Rules::DEFAULT);

struct LinkGuard;

impl ModerationFilter for LinkGuard {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "link-guard".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            config_schema: Some(crate::rules::SCHEMA.into()),
        }
    }

    fn configure(config_json: String) -> Result<(), String> {
        RULES.configure(&config_json)
    }

    fn check_note(activity: &Activity, note: &NoteView) -> Result<Verdict, PluginError> {
        let links = note.links();
        // Most notes carry no link: one read, and the author is never asked for.
        if links.is_empty() {
            return Ok(Verdict::Accept);
        }
        let account_age_ms = note.created_at() - activity.actor().created_at;
        let hosts = links.iter().map(|l| l.host.as_str());
        Ok(
            RULES.with(|rules| match rules.judge(account_age_ms, hosts) {
                None => Verdict::Accept,
                Some(why) => match rules.action {
                    Action::Reject => Verdict::Reject(why),
                    Action::Flag => Verdict::Flag(why),
                },
            }),
        )
    }
}

tsudoi_sdk::register_moderation!(LinkGuard);
