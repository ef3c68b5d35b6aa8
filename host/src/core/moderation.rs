//! Moderation plugins on notes created through the API: every enabled plugin in chain order
//! sees the note before it is stored. A plugin may accept it, reject it (the client gets the
//! reason and nothing is stored), rewrite it (add a CW, narrow the visibility, edit the text)
//! or flag it for review. A plugin that fails is treated by its policy: accepted and flagged
//! (fail-open, the default) or rejected (fail-closed).

use std::sync::Arc;

use super::visibility::Visibility;
use super::{Error, Result};
use crate::app::App;
use crate::plugins::moderation as wit;
use crate::store::UserRow;

/// What the chain decided for a note that may be stored.
#[derive(Debug, Default)]
pub struct Decision {
    /// `(plugin, reason)` for the review queue.
    pub flags: Vec<(String, String)>,
}

/// The parts of a new note a plugin may change.
pub struct Draft<'a> {
    pub id: &'a str,
    pub created_at: i64,
    pub text: &'a mut Option<String>,
    pub cw: &'a mut Option<String>,
    pub visibility: &'a mut Visibility,
    pub local_only: &'a mut bool,
    pub reply_id: Option<&'a str>,
    pub renote_id: Option<&'a str>,
}

/// The one mapping between the host's visibility and the WIT one (the chain and
/// `tsudoi plugin test` both convert through it).
impl From<Visibility> for wit::Visibility {
    fn from(v: Visibility) -> Self {
        match v {
            Visibility::Public => wit::Visibility::Public,
            Visibility::Home => wit::Visibility::Home,
            Visibility::Followers => wit::Visibility::Followers,
            Visibility::Specified => wit::Visibility::Specified,
        }
    }
}

impl From<wit::Visibility> for Visibility {
    fn from(v: wit::Visibility) -> Self {
        match v {
            wit::Visibility::Public => Visibility::Public,
            wit::Visibility::Home => Visibility::Home,
            wit::Visibility::Followers => Visibility::Followers,
            wit::Visibility::Specified => Visibility::Specified,
        }
    }
}

/// How far a visibility reaches; a rewrite may only narrow it.
fn reach(v: Visibility) -> u8 {
    match v {
        Visibility::Public => 3,
        Visibility::Home => 2,
        Visibility::Followers => 1,
        Visibility::Specified => 0,
    }
}

fn actor(u: &UserRow) -> wit::Actor {
    let clamp = |n: i64| n.clamp(0, u32::MAX as i64) as u32;
    wit::Actor {
        id: u.id.clone(),
        username: u.username.clone(),
        host: u.host.clone(),
        display_name: u.name.clone(),
        is_bot: u.is_bot,
        is_locked: u.is_locked,
        created_at: u.created_at,
        followers_count: clamp(u.followers_count),
        following_count: clamp(u.following_count),
        notes_count: clamp(u.notes_count),
    }
}

/// Runs the moderation chain on a note about to be created by `author`.
pub async fn check_new_note(app: &App, author: &UserRow, draft: Draft<'_>) -> Result<Decision> {
    let chain = app.plugins.moderation();
    let mut decision = Decision::default();
    if chain.is_empty() {
        return Ok(decision);
    }
    let ctx = Arc::new(wit::Context {
        direction: wit::Direction::Outgoing,
        activity_type: "Create".into(),
        peer_host: None,
        actor: actor(author),
        raw_activity: None,
    });
    // Built once, and again only after a plugin rewrote the draft.
    let facts = |d: &Draft<'_>| {
        wit::NoteFacts {
            id: d.id,
            author_id: &author.id,
            text: d.text.as_deref(),
            cw: d.cw.as_deref(),
            visibility: (*d.visibility).into(),
            local_only: *d.local_only,
            reply_to: d.reply_id,
            renote_of: d.renote_id,
            created_at: d.created_at,
        }
        .to_note()
    };
    let mut current = facts(&draft);
    for link in chain.iter() {
        let note = current.clone();
        let plugin = link.plugin.clone();
        let call_ctx = ctx.clone();
        let name = plugin.name.to_string();
        let started = std::time::Instant::now();
        let outcome = tokio::task::spawn_blocking(move || plugin.check_note(&call_ctx, &note))
            .await
            .map_err(|e| Error::Internal(format!("plugin call panicked: {e}")))?;
        app.plugins
            .metrics
            .record("moderation", &name, started.elapsed(), outcome.is_err());
        super::plugins::track_failures(
            app,
            crate::plugins::Kind::Moderation,
            &name,
            &link.plugin.failures_in_a_row,
            outcome.is_err(),
        )
        .await;
        match outcome {
            Ok(wit::Verdict::Accept) => {}
            Ok(wit::Verdict::Reject(reason)) => {
                tracing::info!(plugin = %name, note = draft.id, %reason, "note rejected by plugin");
                return Err(Error::RejectedByPlugin {
                    plugin: name,
                    reason,
                });
            }
            Ok(wit::Verdict::Flag(reason)) => decision.flags.push((name, reason)),
            Ok(wit::Verdict::Rewrite(rewritten)) => {
                let visibility = Visibility::from(rewritten.visibility);
                let too_long = rewritten
                    .text
                    .as_ref()
                    .is_some_and(|t| t.chars().count() > app.config.max_note_length);
                if reach(visibility) > reach(*draft.visibility) || too_long {
                    decision.flags.push((
                        name,
                        "rewrite refused: it widened the note or overran the length limit".into(),
                    ));
                    continue;
                }
                *draft.text = rewritten.text.filter(|t| !t.trim().is_empty());
                *draft.cw = rewritten.content_warning.filter(|c| !c.trim().is_empty());
                *draft.visibility = visibility;
                *draft.local_only = *draft.local_only || rewritten.local_only;
                current = facts(&draft);
            }
            Err(failure) => {
                tracing::warn!(plugin = %name, error = %failure, "moderation plugin failed");
                if link.fail_closed {
                    return Err(Error::RejectedByPlugin {
                        plugin: name,
                        reason: "the moderation plugin failed and is set to reject on failure"
                            .into(),
                    });
                }
                decision
                    .flags
                    .push((name, format!("plugin failed: {failure}")));
            }
        }
    }
    Ok(decision)
}
