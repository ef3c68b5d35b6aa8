//! Who may see a note: the one rule, stated twice in the same place, once as a Rust function
//! (for a single note in hand) and once as a SQL fragment (for every query that lists notes).
//! Every read path uses one of the two; `host/tests/store.rs` checks that they agree.
//!
//! The rule (Misskey's):
//! - `public` and `home` notes: everyone, signed in or not.
//! - `followers` notes: the author, their followers, the author of the note replied to, and the
//!   users mentioned in it.
//! - `specified` notes: the author and the users named in `visibleUserIds` (which include the
//!   mentioned users and the author of the note replied to).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Home,
    Followers,
    Specified,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Home => "home",
            Self::Followers => "followers",
            Self::Specified => "specified",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "public" => Some(Self::Public),
            "home" => Some(Self::Home),
            "followers" => Some(Self::Followers),
            "specified" => Some(Self::Specified),
            _ => None,
        }
    }
}

/// What the rule needs to know about a note and its viewer.
#[derive(Debug, Clone)]
pub struct NoteAudience<'a> {
    pub visibility: Visibility,
    pub author_id: &'a str,
    pub reply_user_id: Option<&'a str>,
    pub mentioned_ids: &'a [String],
    pub visible_user_ids: &'a [String],
    /// Whether the viewer follows the author (only consulted for `followers` notes).
    pub viewer_follows_author: bool,
}

/// May `viewer` (None = not signed in) see the note?
pub fn may_see(note: &NoteAudience<'_>, viewer: Option<&str>) -> bool {
    match note.visibility {
        Visibility::Public | Visibility::Home => true,
        Visibility::Followers => viewer.is_some_and(|me| {
            me == note.author_id
                || note.viewer_follows_author
                || note.reply_user_id == Some(me)
                || note.mentioned_ids.iter().any(|m| m == me)
        }),
        Visibility::Specified => viewer.is_some_and(|me| {
            me == note.author_id || note.visible_user_ids.iter().any(|v| v == me)
        }),
    }
}

/// The same rule as a boolean SQL expression over the notes table aliased `alias`.
/// `viewer` is the placeholder (e.g. `$1`) bound to the viewer's id, or `None` when nobody is
/// signed in. The subqueries are index lookups (`follows` by its unique pair,
/// `note_mentions`/`note_visible_users` by primary key).
pub fn sql_visible(alias: &str, viewer: Option<&str>) -> String {
    match viewer {
        None => format!("{alias}.visibility IN ('public', 'home')"),
        Some(me) => format!(
            "({a}.visibility IN ('public', 'home') OR {a}.user_id = {me} \
             OR ({a}.visibility = 'followers' AND ({a}.reply_user_id = {me} \
                 OR EXISTS (SELECT 1 FROM follows vf WHERE vf.follower_id = {me} AND vf.followee_id = {a}.user_id) \
                 OR EXISTS (SELECT 1 FROM note_mentions vm WHERE vm.note_id = {a}.id AND vm.user_id = {me}))) \
             OR ({a}.visibility = 'specified' \
                 AND EXISTS (SELECT 1 FROM note_visible_users vv WHERE vv.note_id = {a}.id AND vv.user_id = {me})))",
            a = alias
        ),
    }
}

/// A pure renote (no text, no CW, no poll) is listed only if the renoted note is visible
/// too; a quote is listed, and its embedded note is left out when the viewer may not see it.
pub fn sql_renote_visible(alias: &str, viewer: Option<&str>) -> String {
    format!(
        "({a}.renote_id IS NULL OR {a}.text IS NOT NULL OR {a}.cw IS NOT NULL OR {a}.has_poll \
          OR EXISTS (SELECT 1 FROM notes rv WHERE rv.id = {a}.renote_id AND {rule}))",
        a = alias,
        rule = sql_visible("rv", viewer)
    )
}
