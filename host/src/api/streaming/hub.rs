//! The node's side of streaming: one task per node hears every event on the bus, reads
//! what it names once (a new note with what it refers to, packed once when it looks the
//! same to every viewer) and hands it to every connection of the node, which only decides
//! and sends. So a note reaching 5,000 connections costs one read, not 5,000.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;
use tsudoi_core::Core;
use tsudoi_core::notes;
use tsudoi_core::reactions;
use tsudoi_core::stream::{self, StreamNote};
use tsudoi_core::timelines;
use tsudoi_model::{Event, Listing, Note, NoteSource, RankedTimeline};

use crate::api::entities::{self, iso};

/// Prepared events a connection may fall behind by before it misses the oldest.
const CAPACITY: usize = 4_096;

/// The notes a ranked timeline's stream remembers having carried, to show its ranker with
/// each new one: a page's worth, as a client has on screen.
const CARRIED: usize = 20;

/// An event as the node prepared it for its connections.
pub enum Prepared {
    Note(Arc<PreparedNote>),
    /// A `noteUpdated` message for the connections that subscribed to the note, ready to
    /// send.
    NoteUpdated {
        note_id: String,
        message: Arc<str>,
    },
    /// Anything else: each connection of the users it names works out its message.
    Other(Arc<Event>),
}

pub struct PreparedNote {
    pub note: StreamNote,
    /// The note as every signed-in viewer who may see it is shown it, when that is the
    /// same for all (else each connection presents it for its viewer).
    pub packed: Option<String>,
    /// Whether the streams of the local and global timelines carry it (their rankers'
    /// say; always, without one).
    pub on_local: bool,
    pub on_global: bool,
}

/// The node's hub. Cheap to clone.
#[derive(Clone)]
pub struct Hub(broadcast::Sender<Arc<Prepared>>);

impl Hub {
    /// Starts the node's hub over `core`'s events.
    pub fn start(core: Core) -> Self {
        let (tx, _) = broadcast::channel(CAPACITY);
        let hub = Hub(tx.clone());
        tokio::spawn(run(core, tx));
        hub
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Prepared>> {
        self.0.subscribe()
    }
}

async fn run(core: Core, tx: broadcast::Sender<Arc<Prepared>>) {
    let mut events = core.events();
    let mut carried = Carried::default();
    loop {
        let event = match events.recv().await {
            Ok(e) => e,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "streaming hub fell behind the bus");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        // No connection on this node: nothing to read or pack (a node serving only the
        // API, or all of whose clients are away, does no streaming work for other nodes'
        // notes).
        if tx.receiver_count() == 0 {
            continue;
        }
        match prepare(&core, &event, &mut carried).await {
            Ok(Some(p)) => {
                let _ = tx.send(Arc::new(p));
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, ?event, "cannot prepare an event for streaming"),
        }
    }
}

/// What the ranked timelines' streams carried lately, newest first.
#[derive(Default)]
struct Carried {
    local: VecDeque<Note>,
    global: VecDeque<Note>,
}

impl Carried {
    /// Whether `timeline`'s stream carries `note`; remembered if so.
    async fn carries(&mut self, core: &Core, timeline: RankedTimeline, note: &Note) -> bool {
        let window = match timeline {
            RankedTimeline::Local => &mut self.local,
            RankedTimeline::Global => &mut self.global,
        };
        let carried = window.make_contiguous();
        let yes = match timelines::streams(core, timeline, note, carried).await {
            Ok(yes) => yes,
            Err(e) => {
                tracing::warn!(error = %e, %timeline, "cannot rank a streamed note; carrying it");
                true
            }
        };
        if yes {
            window.push_front(note.clone());
            window.truncate(CARRIED);
        }
        yes
    }
}

async fn prepare(
    core: &Core,
    event: &Arc<Event>,
    carried: &mut Carried,
) -> tsudoi_core::Result<Option<Prepared>> {
    Ok(Some(match &**event {
        Event::NoteCreated { note_id, .. } => {
            let Some(note) = StreamNote::load(core, note_id).await? else {
                return Ok(None);
            };
            let packed = if note.shown_alike() {
                Some(pack_note(core, &note, None).await?)
            } else {
                None
            };
            let on_local = NoteSource::LocalPublic.admits(&note.note, |_| false)
                && carried
                    .carries(core, RankedTimeline::Local, &note.note)
                    .await;
            let on_global = NoteSource::GlobalPublic.admits(&note.note, |_| false)
                && carried
                    .carries(core, RankedTimeline::Global, &note.note)
                    .await;
            Prepared::Note(Arc::new(PreparedNote {
                note,
                packed,
                on_local,
                on_global,
            }))
        }
        Event::Reacted {
            note_id,
            user_id,
            reaction,
        } => {
            let emoji = stream::reaction_emoji(core, reaction).await?;
            note_updated(
                note_id,
                Update::Reacted {
                    reaction: reactions::shown(reaction),
                    emoji: emoji.map(|(name, url)| EmojiRef { name, url }),
                    user_id,
                },
            )
        }
        Event::Unreacted {
            note_id,
            user_id,
            reaction,
        } => note_updated(
            note_id,
            Update::Unreacted {
                reaction: reactions::shown(reaction),
                user_id,
            },
        ),
        Event::PollVoted {
            note_id,
            user_id,
            choice,
        } => note_updated(
            note_id,
            Update::PollVoted {
                choice: *choice,
                user_id,
            },
        ),
        Event::NoteDeleted {
            note_id,
            deleted_at,
        } => note_updated(
            note_id,
            Update::Deleted {
                deleted_at: iso(*deleted_at),
            },
        ),
        // News between nodes, for their caches.
        Event::UsersChanged { .. } => return Ok(None),
        _ => Prepared::Other(event.clone()),
    }))
}

/// `note` packed as `viewer` is shown it; with no viewer, as every signed-in viewer is
/// when it is [shown alike](StreamNote::shown_alike).
pub async fn pack_note(
    core: &Core,
    note: &StreamNote,
    viewer: Option<&str>,
) -> tsudoi_core::Result<String> {
    let listing = Listing {
        notes: vec![note.note.clone()],
        referenced: note.reply.iter().chain(&note.renote).cloned().collect(),
    };
    let mut presented = notes::present(core, listing, viewer).await?;
    if viewer.is_none() {
        presented = presented.as_signed_in();
    }
    let packed = entities::Note::pack_first(&presented, core.settings());
    serde_json::to_string(&packed).map_err(|e| tsudoi_core::Error::Internal(e.to_string()))
}

#[derive(Serialize)]
#[serde(tag = "type", content = "body", rename_all = "camelCase")]
enum Update<'a> {
    #[serde(rename_all = "camelCase")]
    Reacted {
        reaction: String,
        emoji: Option<EmojiRef>,
        user_id: &'a str,
    },
    #[serde(rename_all = "camelCase")]
    Unreacted { reaction: String, user_id: &'a str },
    #[serde(rename_all = "camelCase")]
    PollVoted { choice: i64, user_id: &'a str },
    #[serde(rename_all = "camelCase")]
    Deleted { deleted_at: String },
}

#[derive(Serialize)]
struct EmojiRef {
    name: String,
    url: String,
}

/// `{type: 'noteUpdated', body: {id, type, body}}`, as Misskey sends it.
fn note_updated(note_id: &str, update: Update<'_>) -> Prepared {
    #[derive(Serialize)]
    struct Body<'a> {
        id: &'a str,
        #[serde(flatten)]
        update: Update<'a>,
    }
    #[derive(Serialize)]
    struct Message<'a> {
        r#type: &'static str,
        body: Body<'a>,
    }
    let message = serde_json::to_string(&Message {
        r#type: "noteUpdated",
        body: Body {
            id: note_id,
            update,
        },
    })
    .unwrap_or_default();
    Prepared::NoteUpdated {
        note_id: note_id.to_owned(),
        message: message.into(),
    }
}
