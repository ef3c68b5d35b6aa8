//! Moderation plugins on new notes, local or arriving from other servers: every enabled
//! plugin in chain order
//! sees the note before it is stored. A plugin may accept it, reject it (the client gets the
//! reason and nothing is stored), rewrite it (add a CW, narrow the visibility, edit the text)
//! or flag it for review. A plugin that fails is treated by its policy: accepted and flagged
//! (fail-open, the default) or rejected (fail-closed).

use std::sync::Arc;

use tsudoi_model::{FailurePolicy, User, Visibility};
use tsudoi_plugin_host::Calls;
use tsudoi_plugin_host::hooks::moderation::{
    self as wit, Context, Direction, NoteFacts, Verdict, actor,
};
use tsudoi_plugin_host::registry::ChainedModeration;

use crate::notes::create::check_text_fields;
use crate::{Core, Error, Result};

/// `(plugin, reason)` pairs for the review queue.
#[derive(Debug, Default)]
pub struct Flags(pub Vec<(String, String)>);

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
    /// The activity a remote note arrived in, as JSON, for plugins granted `raw-activity`.
    pub raw_activity: Option<&'a str>,
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
type Verdicted = (String, String);

/// Runs the whole chain (one hand-off per note, not one per plugin): the note as the chain
/// left it with its flags, or the rejection.
fn run_chain(
    calls: &Calls<'_>,
    chain: &[ChainedModeration],
    ctx: &Arc<Context>,
    facts: &dyn Fn(&Editable) -> Arc<wit::NoteUnderReview>,
    mut note: Editable,
    max_note_length: usize,
) -> std::result::Result<(Editable, Vec<Verdicted>), Verdicted> {
    let mut flags = Vec::new();
    let mut current = facts(&note);
    for link in chain {
        let name = link.plugin.name.to_string();
        match calls.call(&link.plugin, |p| p.check_note(ctx, &current)) {
            Ok(Verdict::Accept) => {}
            Ok(Verdict::Reject(reason)) => {
                tracing::info!(plugin = %name, note = %current.note.id, %reason, "note rejected by plugin");
                return Err((name, reason));
            }
            Ok(Verdict::Flag(reason)) => flags.push((name, reason)),
            Ok(Verdict::Rewrite(rewritten)) => {
                let visibility = Visibility::from(rewritten.visibility);
                let refused = if visibility.is_wider_than(note.visibility) {
                    Some("it widened the note's visibility".to_owned())
                } else {
                    check_text_fields(
                        max_note_length,
                        rewritten.text.as_deref(),
                        rewritten.content_warning.as_deref(),
                    )
                    .err()
                    .map(|e| e.to_string())
                };
                if let Some(why) = refused {
                    flags.push((name, format!("rewrite refused: {why}")));
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
                if link.failure_policy == FailurePolicy::FailClosed {
                    return Err((
                        name,
                        "the moderation plugin failed and is set to reject on failure".into(),
                    ));
                }
                flags.push((name, format!("plugin failed: {failure}")));
            }
        }
    }
    Ok((note, flags))
}

/// An activity without a note, arriving from another server or about to leave for one.
pub struct ActivityDraft<'a> {
    /// Who does it: the remote actor (incoming) or the local user (outgoing).
    pub actor: &'a User,
    pub incoming: bool,
    /// `Follow`, `Like`, `Announce`, `Undo`, `Delete`, …
    pub activity_type: &'a str,
    /// The other server.
    pub peer_host: Option<&'a str>,
    /// The activity as JSON, for plugins granted `raw-activity`.
    pub raw: Option<&'a str>,
    /// What it acts on.
    pub object_id: Option<&'a str>,
}

/// Runs the moderation chain's `check-activity` on an activity that carries no note: a
/// plugin may reject it (nothing of it is stored, or it is not sent) or flag it (logged, as
/// activities have no review queue entry of their own).
pub async fn check_activity(core: &Core, a: ActivityDraft<'_>) -> Result<()> {
    let plugins = core.plugins();
    let chain = plugins.registry().loaded_moderation().await;
    if chain.is_empty() {
        return Ok(());
    }
    let ctx = Arc::new(Context {
        direction: if a.incoming {
            Direction::Incoming
        } else {
            Direction::Outgoing
        },
        activity_type: a.activity_type.to_owned(),
        peer_host: a.peer_host.map(str::to_owned),
        actor: actor(a.actor),
        raw_activity: a.raw.map(str::to_owned),
    });
    let object_id = a.object_id.map(str::to_owned);
    let outcome = plugins
        .funnel()
        .run(move |calls| {
            for link in chain.iter() {
                let name = link.plugin.name.to_string();
                match calls.call(&link.plugin, |p| {
                    p.check_activity(&ctx, object_id.as_deref())
                }) {
                    Ok(Verdict::Reject(reason)) => return Err((name, reason)),
                    Ok(Verdict::Flag(reason)) => {
                        tracing::info!(plugin = %name, activity = %ctx.activity_type, %reason, "activity flagged by plugin");
                    }
                    Ok(_) => {}
                    Err(failure) => {
                        tracing::warn!(plugin = %name, error = %failure, "moderation plugin failed");
                        if link.failure_policy == FailurePolicy::FailClosed {
                            return Err((
                                name,
                                "the moderation plugin failed and is set to reject on failure"
                                    .into(),
                            ));
                        }
                    }
                }
            }
            Ok(())
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    outcome.map_err(|(plugin, reason)| Error::RejectedByPlugin { plugin, reason })
}

/// Runs the moderation chain on a note about to be created by `author`, applying rewrites
/// to `draft`.
pub async fn check_new_note(core: &Core, author: &User, draft: Draft<'_>) -> Result<Flags> {
    let plugins = core.plugins();
    let chain = plugins.registry().loaded_moderation().await;
    if chain.is_empty() {
        return Ok(Flags::default());
    }
    // A remote author's note arrived from their server; a local one is about to leave.
    let direction = if author.is_local() {
        Direction::Outgoing
    } else {
        Direction::Incoming
    };
    let ctx = Arc::new(Context {
        direction,
        activity_type: "Create".into(),
        peer_host: author.host.clone(),
        actor: actor(author),
        raw_activity: draft.raw_activity.map(str::to_owned),
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
    let max_note_length = core.settings().max_note_length;
    let outcome = plugins
        .funnel()
        .run(move |calls| {
            // The note as plugins see it; built again only after a plugin rewrote it.
            let facts = |n: &Editable| {
                NoteFacts {
                    id: &id,
                    author_id: &author_id,
                    text: n.text.as_deref(),
                    cw: n.cw.as_deref(),
                    visibility: n.visibility,
                    local_only: n.local_only,
                    reply_to: reply_to.as_deref(),
                    renote_of: renote_of.as_deref(),
                    created_at,
                }
                .review()
                .into()
            };
            run_chain(calls, &chain, &ctx, &facts, note, max_note_length)
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    let (note, flags) =
        outcome.map_err(|(plugin, reason)| Error::RejectedByPlugin { plugin, reason })?;
    *draft.text = note.text;
    *draft.cw = note.cw;
    *draft.visibility = note.visibility;
    *draft.local_only = note.local_only;
    Ok(Flags(flags))
}
