//! The charts Misskey's clients draw of a user: notes (profile pages, user cards, the
//! activity widget) and follows (the profile's activity tab). See `tsudoi_core::charts`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tsudoi_core::charts::{self, FollowSeries, Span, Window};
use tsudoi_model::ids;

use super::check_id;
use crate::api::{ApiError, ApiResult, Ctx, Endpoint, Reply, json};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            "charts/user/notes",
            "A user's notes per hour or day, newest first: made, running total, and by kind.",
            user_notes,
        )
        .get(),
        Endpoint::new(
            "charts/user/following",
            "A user's follows per hour or day, newest first, with local and remote users.",
            user_following,
        )
        .get(),
    ]
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UserChartParams {
    /// `day` or `hour` (UTC).
    span: String,
    /// Buckets, 1–500 (default 30).
    limit: Option<i64>,
    /// Unix ms: the newest bucket is the one that ends a span after it (default: now).
    offset: Option<i64>,
    user_id: String,
}

impl UserChartParams {
    fn window(&self) -> ApiResult<Window> {
        let span = Span::parse(&self.span)?;
        let limit = self.limit.unwrap_or(30);
        if !(1..=charts::MAX_BUCKETS as i64).contains(&limit) {
            return Err(ApiError::invalid_param(
                "limit",
                "must be between 1 and 500",
            ));
        }
        Ok(Window::new(
            span,
            limit as usize,
            self.offset,
            ids::now_ms(),
        ))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NoteDiffs {
    normal: Vec<i64>,
    reply: Vec<i64>,
    renote: Vec<i64>,
    with_file: Vec<i64>,
}

#[derive(Serialize)]
struct NotesChart {
    total: Vec<i64>,
    inc: Vec<i64>,
    dec: Vec<i64>,
    diffs: NoteDiffs,
}

async fn user_notes(ctx: Ctx, p: UserChartParams) -> ApiResult<Reply> {
    let user_id = check_id("userId", &p.user_id)?;
    let c = charts::user_notes(&ctx.core, user_id, p.window()?).await?;
    json(NotesChart {
        total: c.total,
        inc: c.inc,
        dec: c.dec,
        diffs: NoteDiffs {
            normal: c.normal,
            reply: c.reply,
            renote: c.renote,
            with_file: c.with_file,
        },
    })
}

#[derive(Serialize)]
struct Series {
    total: Vec<i64>,
    inc: Vec<i64>,
    dec: Vec<i64>,
}

impl From<FollowSeries> for Series {
    fn from(s: FollowSeries) -> Self {
        Series {
            total: s.total,
            inc: s.inc,
            dec: s.dec,
        }
    }
}

#[derive(Serialize)]
struct FollowSides {
    followings: Series,
    followers: Series,
}

#[derive(Serialize)]
struct FollowingChart {
    local: FollowSides,
    remote: FollowSides,
}

async fn user_following(ctx: Ctx, p: UserChartParams) -> ApiResult<Reply> {
    let user_id = check_id("userId", &p.user_id)?;
    let c = charts::user_following(&ctx.core, user_id, p.window()?).await?;
    json(FollowingChart {
        local: FollowSides {
            followings: c.local_followings.into(),
            followers: c.local_followers.into(),
        },
        remote: FollowSides {
            followings: c.remote_followings.into(),
            followers: c.remote_followers.into(),
        },
    })
}
