//! Misskey entities, each packed in exactly one place from what the core returns: `UserLite`,
//! `UserDetailed`, `MeDetailed`, `Note`, `Following`, `FollowRequest`, the app and admin
//! shapes. Field names, types and nullability follow misskey-js's typings so typed clients
//! accept them; fields of features we do not have yet carry their neutral value. They are
//! serialised straight to the response body, never through a `serde_json::Value`.

mod admin;
mod app;
mod drive;
mod emoji;
mod follow;
mod note;
mod notification;
mod user;
mod user_list;

pub use admin::{Flag, InstalledPlugin, Notice, PluginEntry};
pub use app::{AppCreated, AuthSessionShown, MiauthChecked, SignedIn};
pub use drive::{DriveFile, DriveFolder};
pub use emoji::{EmojiDetailed, EmojiSimple, EmojisList, NoteReaction};
pub use follow::{Blocking, FollowRequest, Following};
pub use note::{CreatedNote, Note};
pub use notification::{GroupedNotification, Notification};
pub use user::{MeDetailed, Policies, RelationEntry, UserDetailed, UserLite, UserView, WithToken};
pub use user_list::{UserList, UserListMembership};

use chrono::{TimeZone, Utc};
use serde::{Serialize, Serializer};

/// Milliseconds since the epoch as the ISO-8601 string Misskey sends (`…T…Z`).
pub fn iso(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// `[]`: a list of a feature this server does not have yet.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyList;

impl Serialize for EmptyList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_seq(Some(0))?.end()
    }
}

/// `{}`: a map of a feature this server does not have yet.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyObject;

impl Serialize for EmptyObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_map(Some(0))?.end()
    }
}

/// A JSON object from key–value pairs, in their order (reaction counts, emoji URLs).
#[derive(Debug, Clone, Default)]
pub struct PairMap<K, V>(pub Vec<(K, V)>);

impl<K: Serialize, V: Serialize> Serialize for PairMap<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

use serde::ser::{SerializeMap, SerializeSeq};
