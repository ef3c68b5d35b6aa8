//! App authentication endpoints: MiAuth's check, and the legacy app/session flow.

use schemars::JsonSchema;
use serde::Deserialize;
use tsudoi_core::{Core, apps};

use crate::api::entities::{AppCreated, AuthSessionShown, MiauthChecked, UserDetailed};
use crate::api::{ApiResult, Ctx, Endpoint, Reply, json};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            "app/create",
            "Register a third-party app; returns its secret.",
            app_create,
        )
        .per_hour(60),
        Endpoint::new(
            "auth/session/generate",
            "Start a legacy auth session for an app.",
            session_generate,
        ),
        Endpoint::new(
            "auth/session/show",
            "A legacy auth session and its app.",
            session_show,
        ),
        Endpoint::new(
            "auth/session/userkey",
            "Collect the access token of an approved session.",
            session_userkey,
        ),
        Endpoint::new(
            "auth/accept",
            "Approve a legacy auth session (web UI).",
            auth_accept,
        )
        .credential()
        .secure(),
        Endpoint::new(
            "miauth/gen-token",
            "Grant a MiAuth session (web UI).",
            miauth_gen_token,
        )
        .credential()
        .secure(),
    ]
}

/// `POST /api/miauth/{session}/check`: the token once the user granted it, then never again.
pub async fn miauth_check(core: &Core, session: &str) -> ApiResult<Reply> {
    match apps::miauth_check(core, session).await? {
        Some((token, user)) => json(MiauthChecked::Granted {
            ok: true,
            token: &token,
            user: Box::new(UserDetailed::pack(&user, None, core.settings())),
        }),
        None => json(MiauthChecked::Pending { ok: false }),
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct AppCreateParams {
    name: String,
    description: String,
    permission: Vec<String>,
    callback_url: Option<String>,
}

async fn app_create(ctx: Ctx, p: AppCreateParams) -> ApiResult<Reply> {
    let app = apps::create_app(
        &ctx.core,
        ctx.user.as_ref(),
        &p.name,
        &p.description,
        &p.permission,
        p.callback_url,
    )
    .await?;
    json(AppCreated::pack(&app))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct SecretParams {
    app_secret: String,
}

#[derive(serde::Serialize)]
struct SessionGenerated {
    token: String,
    url: String,
}

async fn session_generate(ctx: Ctx, p: SecretParams) -> ApiResult<Reply> {
    let (token, url) = apps::generate_session(&ctx.core, &p.app_secret).await?;
    json(SessionGenerated { token, url })
}

#[derive(Deserialize, JsonSchema)]
struct TokenParams {
    token: String,
}

async fn session_show(ctx: Ctx, p: TokenParams) -> ApiResult<Reply> {
    let (session, app) = apps::show_session(&ctx.core, &p.token).await?;
    let authorized = match &ctx.user {
        Some(me) => Some(apps::is_authorized(&ctx.core, &app, me).await?),
        None => None,
    };
    json(AuthSessionShown::pack(&session, &app, authorized))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UserkeyParams {
    app_secret: String,
    token: String,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct UserKey<'a> {
    access_token: String,
    user: UserDetailed<'a>,
}

async fn session_userkey(ctx: Ctx, p: UserkeyParams) -> ApiResult<Reply> {
    let (access_token, user) = apps::session_userkey(&ctx.core, &p.app_secret, &p.token).await?;
    json(UserKey {
        access_token,
        user: UserDetailed::pack(&user, None, ctx.settings()),
    })
}

async fn auth_accept(ctx: Ctx, p: TokenParams) -> ApiResult<Reply> {
    apps::accept_session(&ctx.core, ctx.me()?, &p.token).await?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct GenTokenParams {
    session: String,
    name: Option<String>,
    icon_url: Option<String>,
    permission: Vec<String>,
}

#[derive(serde::Serialize)]
struct Token {
    token: String,
}

async fn miauth_gen_token(ctx: Ctx, p: GenTokenParams) -> ApiResult<Reply> {
    let session = apps::miauth_open(
        &ctx.core,
        &p.session,
        &apps::MiauthRequest {
            name: p.name,
            icon: p.icon_url,
            callback: None,
            permission: p.permission,
        },
    )
    .await?;
    let token = apps::miauth_grant(&ctx.core, ctx.me()?, &session).await?;
    json(Token { token })
}
