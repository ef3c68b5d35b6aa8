//! Mutes and renote mutes (see `tsudoi_core::mutes`).

use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tsudoi_core::mutes;
use tsudoi_model::MuteKind;

use super::{Paging, check_id};
use crate::api::entities::{UserDetailed, iso};
use crate::api::{ApiError, ApiResult, Ctx, Endpoint, Reply, json};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            "mute/create",
            "Mute a user, for good or until `expiresAt`: their notes, and notes replying to or \
             renoting them, are no longer shown to you, nor are their notifications.",
            mute_create,
        )
        .credential()
        .kind("write:mutes")
        .per_hour(20),
        Endpoint::new("mute/delete", "Stop muting a user.", mute_delete)
            .credential()
            .kind("write:mutes"),
        Endpoint::new("mute/list", "The users you mute.", mute_list)
            .credential()
            .kind("read:mutes"),
        Endpoint::new(
            "renote-mute/create",
            "Stop seeing a user's renotes (their own notes still show).",
            renote_create,
        )
        .credential()
        .kind("write:mutes")
        .per_hour(20),
        Endpoint::new(
            "renote-mute/delete",
            "See a user's renotes again.",
            renote_delete,
        )
        .credential()
        .kind("write:mutes"),
        Endpoint::new(
            "renote-mute/list",
            "The users whose renotes you mute.",
            renote_list,
        )
        .credential()
        .kind("read:mutes"),
    ]
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct MuteParams {
    user_id: String,
    /// Unix milliseconds when the mute ends; `null` or absent: never.
    expires_at: Option<i64>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UserParams {
    user_id: String,
}

/// Misskey gives each mute endpoint its own error ids: no such user, yourself, and
/// already muting (create) or not muting (delete).
struct Ids {
    no_such_user: &'static str,
    yourself: &'static str,
    muting: &'static str,
}

const MUTE_CREATE: Ids = Ids {
    no_such_user: "6fef56f3-e765-4957-88e5-c6f65329b8a5",
    yourself: "a4619cb2-5f23-484b-9301-94c903074e10",
    muting: "7e7359cb-160c-4956-b08f-4d1c653cd007",
};
const MUTE_DELETE: Ids = Ids {
    no_such_user: "b851d00b-8ab1-4a56-8b1b-e24187cb48ef",
    yourself: "f428b029-6b39-4d48-a1d2-cc1ae6dd5cf9",
    muting: "5467d020-daa9-4553-81e1-135c0c35a96d",
};
const RENOTE_CREATE: Ids = Ids {
    no_such_user: "5e0a5dff-1e94-4202-87ae-4d9c89eb2271",
    yourself: "37285718-52f7-4aef-b7de-c38b8e8a8420",
    muting: "ccfecbe4-1f1c-4fc2-8a3d-c3ffee61cb7b",
};
const RENOTE_DELETE: Ids = Ids {
    no_such_user: "9b6728cf-638c-4aa1-bedb-e07d8101474d",
    yourself: "619b1314-0850-4597-a242-e245f3da42af",
    muting: "2e4ef874-8bf0-4b4b-b069-4598f6d05817",
};

fn with_ids(e: tsudoi_core::Error, ids: &Ids) -> ApiError {
    use tsudoi_core::Error as E;
    let bad = |code, message: &str, id| ApiError::new(StatusCode::BAD_REQUEST, code, message, id);
    match e {
        E::NoSuchUser => bad("NO_SUCH_USER", "No such user.", ids.no_such_user),
        E::MuteeIsYourself => bad("MUTEE_IS_YOURSELF", "Mutee is yourself.", ids.yourself),
        E::AlreadyMuting => bad(
            "ALREADY_MUTING",
            "You are already muting that user.",
            ids.muting,
        ),
        E::NotMuting => bad("NOT_MUTING", "You are not muting that user.", ids.muting),
        other => other.into(),
    }
}

async fn mute_create(ctx: Ctx, p: MuteParams) -> ApiResult<Reply> {
    let user_id = check_id("userId", &p.user_id)?;
    mutes::mute(&ctx.core, ctx.me()?, MuteKind::Notes, user_id, p.expires_at)
        .await
        .map_err(|e| with_ids(e, &MUTE_CREATE))?;
    Ok(Reply::NoContent)
}

async fn mute_delete(ctx: Ctx, p: UserParams) -> ApiResult<Reply> {
    let user_id = check_id("userId", &p.user_id)?;
    mutes::unmute(&ctx.core, ctx.me()?, MuteKind::Notes, user_id)
        .await
        .map_err(|e| with_ids(e, &MUTE_DELETE))?;
    Ok(Reply::NoContent)
}

async fn renote_create(ctx: Ctx, p: UserParams) -> ApiResult<Reply> {
    let user_id = check_id("userId", &p.user_id)?;
    mutes::mute(&ctx.core, ctx.me()?, MuteKind::Renotes, user_id, None)
        .await
        .map_err(|e| with_ids(e, &RENOTE_CREATE))?;
    Ok(Reply::NoContent)
}

async fn renote_delete(ctx: Ctx, p: UserParams) -> ApiResult<Reply> {
    let user_id = check_id("userId", &p.user_id)?;
    mutes::unmute(&ctx.core, ctx.me()?, MuteKind::Renotes, user_id)
        .await
        .map_err(|e| with_ids(e, &RENOTE_DELETE))?;
    Ok(Reply::NoContent)
}

/// `Muting` (with `expiresAt`) or `RenoteMuting`, with the muted user.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MutingEntity<'a> {
    id: &'a str,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<Option<String>>,
    mutee_id: &'a str,
    mutee: UserDetailed<'a>,
}

async fn list(ctx: Ctx, p: Paging, kind: MuteKind) -> ApiResult<Reply> {
    let page = p.page(30)?;
    let muted = mutes::list(&ctx.core, ctx.me()?, kind, &page).await?;
    json(
        muted
            .iter()
            .map(|(m, user)| MutingEntity {
                id: &m.id,
                created_at: iso(m.created_at),
                expires_at: (kind == MuteKind::Notes).then(|| m.expires_at.map(iso)),
                mutee_id: &m.mutee_id,
                mutee: UserDetailed::pack(user, None, ctx.settings()),
            })
            .collect::<Vec<_>>(),
    )
}

async fn mute_list(ctx: Ctx, p: Paging) -> ApiResult<Reply> {
    list(ctx, p, MuteKind::Notes).await
}

async fn renote_list(ctx: Ctx, p: Paging) -> ApiResult<Reply> {
    list(ctx, p, MuteKind::Renotes).await
}
