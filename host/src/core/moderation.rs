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

/// What a plugin may change in a note: moved into the blocking task that runs the chain
/// and back.
struct Editable {
    text: Option<String>,
    cw: Option<String>,
    visibility: Visibility,
    local_only: bool,
}

/// `(plugin, reason)`: a flag for the review queue, or the reason a note was rejected.
type Verdict = (String, String);

/// What the chain did: one entry per plugin called (for metrics and failure counts), and
/// either the note as the chain left it with its flags, or the rejection.
struct ChainRun {
    calls: Vec<(Arc<wit::ModerationPlugin>, std::time::Duration, bool)>,
    outcome: std::result::Result<(Editable, Vec<Verdict>), Verdict>,
}

/// Runs the whole chain on one blocking thread (one hand-off per note, not one per plugin).
fn run_chain(
    chain: &[crate::plugins::registry::ChainedModeration],
    ctx: &Arc<wit::Context>,
    facts: &dyn Fn(&Editable) -> Arc<wit::Note>,
    mut note: Editable,
    max_note_length: usize,
) -> ChainRun {
    let mut calls = Vec::with_capacity(chain.len());
    let mut flags = Vec::new();
    let mut current = facts(&note);
    for link in chain {
        let name = link.plugin.name.to_string();
        let started = std::time::Instant::now();
        let outcome = link.plugin.check_note(ctx, &current);
        calls.push((link.plugin.clone(), started.elapsed(), outcome.is_err()));
        match outcome {
            Ok(wit::Verdict::Accept) => {}
            Ok(wit::Verdict::Reject(reason)) => {
                tracing::info!(plugin = %name, note = %current.id, %reason, "note rejected by plugin");
                return ChainRun {
                    calls,
                    outcome: Err((name, reason)),
                };
            }
            Ok(wit::Verdict::Flag(reason)) => flags.push((name, reason)),
            Ok(wit::Verdict::Rewrite(rewritten)) => {
                let visibility = Visibility::from(rewritten.visibility);
                let too_long = rewritten
                    .text
                    .as_ref()
                    .is_some_and(|t| t.chars().count() > max_note_length);
                if reach(visibility) > reach(note.visibility) || too_long {
                    flags.push((
                        name,
                        "rewrite refused: it widened the note or overran the length limit".into(),
                    ));
                    continue;
                }
                note = Editable {
                    text: rewritten.text.filter(|t| !t.trim().is_empty()),
                    cw: rewritten.content_warning.filter(|c| !c.trim().is_empty()),
                    visibility,
                    local_only: note.local_only || rewritten.local_only,
                };
                current = facts(&note);
            }
            Err(failure) => {
                tracing::warn!(plugin = %name, error = %failure, "moderation plugin failed");
                if link.fail_closed {
                    return ChainRun {
                        calls,
                        outcome: Err((
                            name,
                            "the moderation plugin failed and is set to reject on failure".into(),
                        )),
                    };
                }
                flags.push((name, format!("plugin failed: {failure}")));
            }
        }
    }
    ChainRun {
        calls,
        outcome: Ok((note, flags)),
    }
}

/// Runs the moderation chain on a note about to be created by `author`.
pub async fn check_new_note(app: &App, author: &UserRow, draft: Draft<'_>) -> Result<Decision> {
    let chain = app.plugins.moderation();
    if chain.is_empty() {
        return Ok(Decision::default());
    }
    let ctx = Arc::new(wit::Context {
        direction: wit::Direction::Outgoing,
        activity_type: "Create".into(),
        peer_host: None,
        actor: actor(author),
        raw_activity: None,
    });
    let note = Editable {
        text: draft.text.take(),
        cw: draft.cw.take(),
        visibility: *draft.visibility,
        local_only: *draft.local_only,
    };
    let (id, author_id, created_at) = (draft.id.to_owned(), author.id.clone(), draft.created_at);
    let (reply_to, renote_of) = (
        draft.reply_id.map(str::to_owned),
        draft.renote_id.map(str::to_owned),
    );
    let max_note_length = app.config.max_note_length;
    let run = tokio::task::spawn_blocking(move || {
        // The note as plugins see it; built again only after a plugin rewrote it.
        let facts = |n: &Editable| {
            wit::NoteFacts {
                id: &id,
                author_id: &author_id,
                text: n.text.as_deref(),
                cw: n.cw.as_deref(),
                visibility: n.visibility.into(),
                local_only: n.local_only,
                reply_to: reply_to.as_deref(),
                renote_of: renote_of.as_deref(),
                created_at,
            }
            .to_note()
            .into()
        };
        run_chain(&chain, &ctx, &facts, note, max_note_length)
    })
    .await
    .map_err(|e| Error::Internal(format!("plugin call panicked: {e}")))?;
    for (plugin, took, failed) in &run.calls {
        app.plugins
            .metrics
            .record("moderation", &plugin.name, *took, *failed);
        super::plugins::track_failures(
            app,
            crate::plugins::Kind::Moderation,
            &plugin.name,
            &plugin.failures_in_a_row,
            *failed,
        )
        .await;
    }
    let (note, flags) = run
        .outcome
        .map_err(|(plugin, reason)| Error::RejectedByPlugin { plugin, reason })?;
    *draft.text = note.text;
    *draft.cw = note.cw;
    *draft.visibility = note.visibility;
    *draft.local_only = note.local_only;
    Ok(Decision { flags })
}
