//! `UserList` and `UserListMembership`.

use serde::Serialize;
use tsudoi_core::Settings;
use tsudoi_model::{ListMembership, User};

use super::{UserLite, iso};

/// A list as misskey-js types it; `likedCount`/`isLiked` only where `users/lists/show`
/// shows a public list as such.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserList<'a> {
    id: &'a str,
    created_at: String,
    name: &'a str,
    user_ids: &'a [String],
    is_public: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    liked_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_liked: Option<bool>,
}

impl<'a> UserList<'a> {
    pub fn pack(l: &'a tsudoi_model::UserList) -> Self {
        UserList {
            id: &l.id,
            created_at: iso(l.created_at),
            name: &l.name,
            user_ids: &l.member_ids,
            is_public: l.is_public,
            liked_count: None,
            is_liked: None,
        }
    }

    pub fn with_likes(mut self, (count, mine): (i64, bool)) -> Self {
        self.liked_count = Some(count);
        self.is_liked = Some(mine);
        self
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserListMembership<'a> {
    id: &'a str,
    created_at: String,
    user_id: &'a str,
    user: UserLite<'a>,
    with_replies: bool,
}

impl<'a> UserListMembership<'a> {
    pub fn pack(m: &'a ListMembership, user: &'a User, settings: &Settings) -> Self {
        UserListMembership {
            id: &m.id,
            created_at: iso(m.created_at),
            user_id: &m.user_id,
            user: UserLite::of_user(user, settings),
            with_replies: m.with_replies,
        }
    }
}
