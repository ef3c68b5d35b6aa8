//! Listing notes: timelines, a user's notes, mentions, replies and renotes. Every listing goes
//! through [`Store::list_notes`], which applies the visibility rule and the paging, so no list
//! can forget either.

use super::{NOTE_COLUMNS, NoteRow, Result, Store, with_pool};
use crate::core::visibility::{sql_renote_visible, sql_visible};

/// Id bounds (both exclusive), size and order of one page. Dates are turned into ids by the
/// caller.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub since_id: Option<String>,
    pub until_id: Option<String>,
    pub limit: i64,
    /// The oldest notes of the range, oldest first, instead of the newest, newest first.
    pub oldest_first: bool,
}

impl Page {
    /// A page as a client asks for it. Misskey's rule: with only `sinceId`, the page is the
    /// oldest notes after it, ascending; otherwise the newest, descending.
    pub fn new(since_id: Option<String>, until_id: Option<String>, limit: i64) -> Self {
        let oldest_first = since_id.is_some() && until_id.is_none();
        Self {
            since_id,
            until_id,
            limit,
            oldest_first,
        }
    }

    /// The newest `limit` notes.
    pub fn newest(limit: i64) -> Self {
        Self::new(None, None, limit)
    }

    pub fn ascending(&self) -> bool {
        self.oldest_first
    }
}

/// Where the notes of a listing come from.
#[derive(Debug, Clone)]
pub enum NoteSource {
    /// The home timeline: notes of the people `user_id` follows and their own, without replies
    /// to third persons (Misskey's rule) unless they are replies to `user_id`.
    Followed {
        user_id: String,
    },
    LocalPublic,
    GlobalPublic,
    User {
        user_id: String,
    },
    /// Notes mentioning the user (addressees of specified notes count as mentioned).
    Mentions {
        user_id: String,
    },
    Replies {
        note_id: String,
    },
    Renotes {
        note_id: String,
    },
    /// Replies and quotes of a note.
    Children {
        note_id: String,
    },
}

/// Which notes of the source to keep.
#[derive(Debug, Clone)]
pub struct NoteFilter {
    pub with_renotes: bool,
    /// Replies to third persons; replies to oneself and to the viewer are always kept.
    pub with_replies: bool,
    pub only_with_files: bool,
    /// The home timeline's `include*` switches, about pure renotes only.
    pub include_my_renotes: bool,
    pub include_renoted_my_notes: bool,
    pub include_local_renotes: bool,
    /// Only notes by people the viewer follows, and the viewer's own.
    pub only_followed_authors: bool,
    /// Only notes of this visibility.
    pub visibility: Option<String>,
}

impl Default for NoteFilter {
    fn default() -> Self {
        Self {
            with_renotes: true,
            with_replies: true,
            only_with_files: false,
            include_my_renotes: true,
            include_renoted_my_notes: true,
            include_local_renotes: true,
            only_followed_authors: false,
            visibility: None,
        }
    }
}

/// Positional arguments collected while a statement is assembled.
#[derive(Default)]
struct Args(Vec<Option<String>>);

impl Args {
    fn push(&mut self, v: impl Into<Option<String>>) -> String {
        self.0.push(v.into());
        format!("${}", self.0.len())
    }
}

/// The SQL that says "this is a pure renote" (no text, no CW, no poll).
const PURE_RENOTE: &str =
    "(n.renote_id IS NOT NULL AND n.text IS NULL AND n.cw IS NULL AND NOT n.has_poll)";

impl Store {
    /// One page of notes from `source` that `viewer` may see, newest first (or oldest first
    /// for a `sinceId`-only page).
    pub async fn list_notes(
        &self,
        source: &NoteSource,
        viewer: Option<&str>,
        filter: &NoteFilter,
        page: &Page,
    ) -> Result<Vec<NoteRow>> {
        let mut args = Args::default();
        let me = viewer.map(|v| args.push(v.to_owned()));
        let me = me.as_deref();
        // `key` is the column the listing is ordered and paged by: the index's own column, so
        // the database walks the index instead of sorting (it equals `n.id` in every case).
        let (from, key, mut conds) = match source {
            NoteSource::Followed { user_id } => {
                let u = args.push(user_id.clone());
                (
                    "notes n".to_owned(),
                    "n.id",
                    vec![
                        format!(
                            "(n.user_id IN (SELECT followee_id FROM follows WHERE follower_id = {u}) OR n.user_id = {u})"
                        ),
                        format!(
                            "(n.reply_id IS NULL OR n.reply_user_id = n.user_id OR n.reply_user_id = {u} OR n.user_id = {u})"
                        ),
                    ],
                )
            }
            NoteSource::LocalPublic => (
                "notes n".to_owned(),
                "n.id",
                vec!["n.visibility = 'public' AND n.user_host IS NULL".to_owned()],
            ),
            NoteSource::GlobalPublic => (
                "notes n".to_owned(),
                "n.id",
                vec!["n.visibility = 'public'".to_owned()],
            ),
            NoteSource::User { user_id } => (
                "notes n".to_owned(),
                "n.id",
                vec![format!("n.user_id = {}", args.push(user_id.clone()))],
            ),
            NoteSource::Mentions { user_id } => (
                "note_mentions m JOIN notes n ON n.id = m.note_id".to_owned(),
                "m.note_id",
                vec![format!("m.user_id = {}", args.push(user_id.clone()))],
            ),
            NoteSource::Replies { note_id } => (
                "notes n".to_owned(),
                "n.id",
                vec![format!("n.reply_id = {}", args.push(note_id.clone()))],
            ),
            NoteSource::Renotes { note_id } => (
                "notes n".to_owned(),
                "n.id",
                vec![format!("n.renote_id = {}", args.push(note_id.clone()))],
            ),
            NoteSource::Children { note_id } => {
                let id = args.push(note_id.clone());
                (
                    "notes n".to_owned(),
                    "n.id",
                    vec![format!(
                        "(n.reply_id = {id} OR (n.renote_id = {id} AND NOT {PURE_RENOTE}))"
                    )],
                )
            }
        };
        conds.push(sql_visible("n", me));
        conds.push(sql_renote_visible("n", me));
        if !filter.with_renotes {
            conds.push(format!("NOT {PURE_RENOTE}"));
        }
        if !filter.with_replies {
            let to_me = me
                .map(|m| format!(" OR n.reply_user_id = {m} OR n.user_id = {m}"))
                .unwrap_or_default();
            conds.push(format!(
                "(n.reply_id IS NULL OR n.reply_user_id = n.user_id{to_me})"
            ));
        }
        if let Some(me) = me {
            if !filter.include_my_renotes {
                conds.push(format!("NOT ({PURE_RENOTE} AND n.user_id = {me})"));
            }
            if !filter.include_renoted_my_notes {
                conds.push(format!(
                    "NOT ({PURE_RENOTE} AND n.renote_user_id = {me} AND n.user_id <> {me})"
                ));
            }
            if filter.only_followed_authors {
                conds.push(format!(
                    "(n.user_id = {me} OR EXISTS (SELECT 1 FROM follows af WHERE af.follower_id = {me} AND af.followee_id = n.user_id))"
                ));
            }
        }
        if !filter.include_local_renotes {
            conds.push(format!(
                "NOT ({PURE_RENOTE} AND EXISTS (SELECT 1 FROM notes lr WHERE lr.id = n.renote_id AND lr.user_host IS NULL))"
            ));
        }
        if let Some(v) = &filter.visibility {
            conds.push(format!("n.visibility = {}", args.push(v.clone())));
        }
        if filter.only_with_files {
            // No note carries files until the drive exists; keep the filter honest.
            conds.push("1 = 0".to_owned());
        }
        if let Some(since) = &page.since_id {
            conds.push(format!("{key} > {}", args.push(since.clone())));
        }
        if let Some(until) = &page.until_id {
            conds.push(format!("{key} < {}", args.push(until.clone())));
        }
        let order = if page.ascending() { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT {NOTE_COLUMNS} FROM {from} WHERE {} ORDER BY {key} {order} LIMIT {}",
            conds.join(" AND "),
            // Clients get at most 100; a timeline ranker looks at up to 500 candidates.
            page.limit
                .clamp(1, crate::plugins::ranking::MAX_CANDIDATES as i64)
        );
        Ok(with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, NoteRow>(&sql);
            for a in &args.0 {
                q = q.bind(a);
            }
            q.fetch_all(p).await
        })?)
    }
}
