//! `Note`, with the reply and renote it embeds (a renote's own renote too, so a renoted quote
//! shows what it quotes), packed from what `tsudoi_core::notes::present` loaded.

use serde::Serialize;
use tsudoi_core::Settings;
use tsudoi_core::notes::{PollState, Presented};
use tsudoi_model::Visibility;

use super::{DriveFile, PairMap, UserLite, iso};

/// How many levels of embedded notes a note carries (its reply is shown without its own).
const EMBED_DEPTH: u8 = 2;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Note<'a> {
    id: &'a str,
    created_at: String,
    user_id: &'a str,
    user: Option<UserLite<'a>>,
    text: Option<&'a str>,
    cw: Option<&'a str>,
    visibility: Visibility,
    local_only: bool,
    reaction_acceptance: Option<&'static str>,
    renote_count: i64,
    replies_count: i64,
    reaction_count: i64,
    reactions: PairMap<&'a str, i64>,
    reaction_emojis: PairMap<String, &'a str>,
    /// The viewer's reaction; present (possibly `null`) only for a signed-in viewer.
    #[serde(skip_serializing_if = "Option::is_none")]
    my_reaction: Option<Option<&'a str>>,
    /// The custom emoji a remote note's text uses; absent on local notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    emojis: Option<PairMap<&'a str, &'a str>>,
    file_ids: &'a [String],
    files: Vec<DriveFile<'a>>,
    reply_id: Option<&'a str>,
    renote_id: Option<&'a str>,
    clipped_count: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    visible_user_ids: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mentions: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    has_poll: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    poll: Option<Poll<'a>>,
    /// Present (possibly `null`, when hidden or gone) for a reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<Option<Box<Note<'a>>>>,
    /// Present (possibly `null`) for a renote or quote.
    #[serde(skip_serializing_if = "Option::is_none")]
    renote: Option<Option<Box<Note<'a>>>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Poll<'a> {
    multiple: bool,
    expires_at: Option<String>,
    choices: Vec<Choice<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Choice<'a> {
    text: &'a str,
    votes: i64,
    is_voted: bool,
}

impl<'a> Note<'a> {
    /// Every note of `presented`, in order.
    pub fn pack_all(presented: &'a Presented, settings: &Settings) -> Vec<Note<'a>> {
        presented
            .notes
            .iter()
            .map(|n| Note::pack(n, presented, settings))
            .collect()
    }

    /// The first note of `presented` (what `notes/show` and `notes/create` answer).
    pub fn pack_first(presented: &'a Presented, settings: &Settings) -> Option<Note<'a>> {
        presented
            .notes
            .first()
            .map(|n| Note::pack(n, presented, settings))
    }

    /// `n`, one of the notes of `presented`.
    pub fn pack(n: &'a tsudoi_model::Note, ctx: &'a Presented, settings: &Settings) -> Note<'a> {
        Note::pack_at(n, ctx, settings, EMBED_DEPTH)
    }

    fn pack_at(
        n: &'a tsudoi_model::Note,
        ctx: &'a Presented,
        settings: &Settings,
        depth: u8,
    ) -> Note<'a> {
        let embed = |id: &Option<String>, depth: u8| {
            id.as_ref().filter(|_| depth > 0).map(|id| {
                ctx.embedded(id)
                    .map(|e| Box::new(Note::pack_at(e, ctx, settings, depth - 1)))
            })
        };
        let reactions = ctx.reactions(&n.id);
        Note {
            id: &n.id,
            created_at: iso(n.created_at),
            user_id: &n.user_id,
            user: ctx
                .author(&n.user_id)
                .map(|a| UserLite::of_author(a, settings)),
            text: n.text.as_deref(),
            cw: n.cw.as_deref(),
            visibility: n.visibility,
            local_only: n.local_only,
            reaction_acceptance: n.reaction_acceptance.map(|a| a.as_str()),
            renote_count: n.renote_count,
            replies_count: n.replies_count,
            reaction_count: reactions.map_or(0, |r| r.total()),
            reactions: PairMap(
                reactions
                    .map(|r| r.counts.iter().map(|(k, n)| (k.as_str(), *n)).collect())
                    .unwrap_or_default(),
            ),
            reaction_emojis: PairMap(ctx.reaction_emojis(&n.id)),
            my_reaction: ctx
                .signed_in()
                .then(|| reactions.and_then(|r| r.mine.as_deref())),
            emojis: ctx.note_emojis(n).map(PairMap),
            file_ids: &n.file_ids,
            files: ctx.files(n).into_iter().map(DriveFile::pack).collect(),
            reply_id: n.reply_id.as_deref(),
            renote_id: n.renote_id.as_deref(),
            clipped_count: 0,
            visible_user_ids: (n.visibility == Visibility::Specified)
                .then_some(n.visible_user_ids.as_slice()),
            mentions: (!n.mentions.is_empty()).then_some(n.mentions.as_slice()),
            tags: (!n.tags.is_empty()).then_some(n.tags.as_slice()),
            uri: n.uri.as_deref(),
            url: n.url.as_deref(),
            has_poll: n.has_poll,
            poll: n
                .has_poll
                .then(|| ctx.poll(&n.id))
                .flatten()
                .map(Poll::pack),
            // A reply embeds its parent without the parent's own reply or renote.
            reply: embed(&n.reply_id, depth.min(1)),
            renote: embed(&n.renote_id, depth),
        }
    }
}

impl<'a> Poll<'a> {
    fn pack(state: &'a PollState) -> Self {
        Poll {
            multiple: state.poll.multiple,
            expires_at: state.poll.expires_at.map(iso),
            choices: state
                .poll
                .choices
                .iter()
                .enumerate()
                .map(|(i, text)| {
                    let tally = state.tally(i);
                    Choice {
                        text,
                        votes: tally.votes,
                        is_voted: tally.voted_by_viewer,
                    }
                })
                .collect(),
        }
    }
}

/// What `notes/create` answers.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedNote<'a> {
    pub created_note: Option<Note<'a>>,
}
