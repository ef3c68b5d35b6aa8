//! `Following` (an entry of `users/followers` and `users/following`), `FollowRequest`, and
//! `Blocking` (an entry of `blocking/list`).

use serde::Serialize;
use tsudoi_core::Settings;
use tsudoi_model::{Block, Follow, User};

use super::{UserDetailed, UserLite, UserView, iso};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Following<'a> {
    id: &'a str,
    created_at: String,
    followee_id: &'a str,
    follower_id: &'a str,
    /// The user on the side the list is about; the other side is the listed user.
    #[serde(skip_serializing_if = "Option::is_none")]
    follower: Option<UserView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    followee: Option<UserView<'a>>,
}

impl<'a> Following<'a> {
    /// `f`, showing its follower (a followers list) as `follower`.
    pub fn with_follower(f: &'a Follow, follower: UserView<'a>) -> Self {
        Self::pack(f, Some(follower), None)
    }

    /// `f`, showing its followee (a following list) as `followee`.
    pub fn with_followee(f: &'a Follow, followee: UserView<'a>) -> Self {
        Self::pack(f, None, Some(followee))
    }

    fn pack(f: &'a Follow, follower: Option<UserView<'a>>, followee: Option<UserView<'a>>) -> Self {
        Following {
            id: &f.id,
            created_at: iso(f.created_at),
            followee_id: &f.followee_id,
            follower_id: &f.follower_id,
            follower,
            followee,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct FollowRequest<'a> {
    id: &'a str,
    follower: UserLite<'a>,
    followee: UserLite<'a>,
}

impl<'a> FollowRequest<'a> {
    pub fn pack(
        r: &'a Follow,
        follower: &'a User,
        followee: &'a User,
        settings: &Settings,
    ) -> Self {
        FollowRequest {
            id: &r.id,
            follower: UserLite::of_user(follower, settings),
            followee: UserLite::of_user(followee, settings),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Blocking<'a> {
    id: &'a str,
    created_at: String,
    blockee_id: &'a str,
    blockee: UserDetailed<'a>,
}

impl<'a> Blocking<'a> {
    pub fn pack(b: &'a Block, blockee: UserDetailed<'a>) -> Self {
        Blocking {
            id: &b.id,
            created_at: iso(b.created_at),
            blockee_id: &b.blockee_id,
            blockee,
        }
    }
}
