//! Who may see a note: the rule as a Rust function, for a note in hand. Its SQL twin, for
//! every query that lists notes, lives in the store (`tsudoi_store::visibility`), tested
//! there against this function on every case; every read path uses one of the two.
//!
//! The rule (Misskey's):
//! - `public` and `home` notes: everyone, signed in or not.
//! - `followers` notes: the author, their followers, the author of the note replied to, and the
//!   users mentioned in it.
//! - `specified` notes: the author and the users named in `visibleUserIds` (which include the
//!   mentioned users and the author of the note replied to).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Home,
    Followers,
    Specified,
}

crate::named_enum!(Visibility, "visibility (public, home, followers, specified)", {
    Public => "public",
    Home => "home",
    Followers => "followers",
    Specified => "specified",
});

impl Visibility {
    /// How far a note of this visibility reaches: public beyond home (which leaves the public
    /// timelines) beyond followers beyond the named users only.
    fn reach(self) -> u8 {
        match self {
            Visibility::Public => 3,
            Visibility::Home => 2,
            Visibility::Followers => 1,
            Visibility::Specified => 0,
        }
    }

    /// Whether this visibility reaches further than `other`.
    pub fn is_wider_than(self, other: Visibility) -> bool {
        self.reach() > other.reach()
    }

    /// The narrower of the two: what a note that must not reach further than `limit` gets.
    pub fn narrowed_to(self, limit: Visibility) -> Visibility {
        if self.is_wider_than(limit) {
            limit
        } else {
            self
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Who looks at a note by `author`, replying to `replied`, mentioning `mentioned`, addressed
    /// to `addressee` (specified notes) and followed by `follower`.
    #[derive(Debug, Clone, Copy)]
    enum Viewer {
        Anonymous,
        Author,
        Follower,
        RepliedTo,
        Mentioned,
        Addressee,
        Stranger,
    }

    fn sees(visibility: Visibility, viewer: Viewer) -> bool {
        let mentioned = vec!["mentioned".to_owned()];
        let addressees = vec!["addressee".to_owned()];
        let note = NoteAudience {
            visibility,
            author_id: "author",
            reply_user_id: Some("replied"),
            mentioned_ids: &mentioned,
            visible_user_ids: &addressees,
            viewer_follows_author: matches!(viewer, Viewer::Follower),
        };
        let id = match viewer {
            Viewer::Anonymous => None,
            Viewer::Author => Some("author"),
            Viewer::Follower => Some("follower"),
            Viewer::RepliedTo => Some("replied"),
            Viewer::Mentioned => Some("mentioned"),
            Viewer::Addressee => Some("addressee"),
            Viewer::Stranger => Some("stranger"),
        };
        may_see(&note, id)
    }

    #[test]
    fn who_sees_what() {
        use Viewer::*;
        use Visibility::*;
        // Columns: anonymous, author, follower, replied-to, mentioned, addressee, stranger.
        let table: [(Visibility, [bool; 7]); 4] = [
            (Public, [true, true, true, true, true, true, true]),
            (Home, [true, true, true, true, true, true, true]),
            (Followers, [false, true, true, true, true, false, false]),
            // The addressee list of a specified note holds everyone it is for (the mentioned
            // and the replied-to are added to it when the note is made), so only they and
            // the author see it.
            (Specified, [false, true, false, false, false, true, false]),
        ];
        let viewers = [
            Anonymous, Author, Follower, RepliedTo, Mentioned, Addressee, Stranger,
        ];
        for (visibility, expected) in table {
            for (viewer, want) in viewers.into_iter().zip(expected) {
                assert_eq!(sees(visibility, viewer), want, "{visibility} to {viewer:?}");
            }
        }
    }

    #[test]
    fn narrowing_never_widens() {
        use Visibility::*;
        for (v, limit, want) in [
            (Public, Home, Home),
            (Public, Followers, Followers),
            (Home, Followers, Followers),
            (Home, Public, Home),
            (Followers, Public, Followers),
            (Specified, Public, Specified),
            (Public, Public, Public),
        ] {
            assert_eq!(v.narrowed_to(limit), want, "{v} limited to {limit}");
        }
        assert!(Public.is_wider_than(Home) && !Home.is_wider_than(Home));
    }

    #[test]
    fn names_round_trip() {
        for v in Visibility::ALL {
            assert_eq!(v.as_str().parse::<Visibility>(), Ok(*v));
        }
        assert!("direct".parse::<Visibility>().is_err());
    }
}
