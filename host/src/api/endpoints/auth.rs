//! App authentication endpoints: MiAuth's check, and the legacy app/session flow.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::api::entities::user_detailed;
use crate::api::{ApiResult, Ctx, Endpoint, Reply, json};
use crate::app::App;
use crate::core::apps;

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
pub async fn miauth_check(app: &App, session: &str) -> ApiResult<Reply> {
    match apps::miauth_check(app, session).await? {
        Some((token, user)) => json(json!({
            "ok": true,
            "token": token,
            "user": user_detailed(app, &user, None)?,
        })),
        None => json(json!({ "ok": false })),
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
    let row = apps::create_app(
        &ctx.app,
        ctx.user.as_ref(),
        &p.name,
        &p.description,
        &p.permission,
        p.callback_url,
    )
    .await?;
    let permission: serde_json::Value = serde_json::from_str(&row.permission).unwrap_or_default();
    json(json!({
        "id": row.id,
        "name": row.name,
        "callbackUrl": row.callback_url,
        "permission": permission,
        "secret": row.secret,
    }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct SecretParams {
    app_secret: String,
}

async fn session_generate(ctx: Ctx, p: SecretParams) -> ApiResult<Reply> {
    let (token, url) = apps::generate_session(&ctx.app, &p.app_secret).await?;
    json(json!({ "token": token, "url": url }))
}

#[derive(Deserialize, JsonSchema)]
struct TokenParams {
    token: String,
}

async fn session_show(ctx: Ctx, p: TokenParams) -> ApiResult<Reply> {
    let (session, client) = apps::show_session(&ctx.app, &p.token).await?;
    let permission: serde_json::Value =
        serde_json::from_str(&client.permission).unwrap_or_default();
    let mut app = json!({
        "id": client.id,
        "name": client.name,
        "callbackUrl": client.callback_url,
        "permission": permission,
    });
    if let Some(me) = &ctx.user {
        let authorized = ctx
            .app
            .store
            .access_token_for_app(&client.id, &me.id)
            .await
            .map_err(crate::api::ApiError::internal)?
            .is_some();
        app["isAuthorized"] = json!(authorized);
    }
    json(json!({ "id": session.id, "app": app, "token": session.token }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UserkeyParams {
    app_secret: String,
    token: String,
}

async fn session_userkey(ctx: Ctx, p: UserkeyParams) -> ApiResult<Reply> {
    let (access, user) = apps::session_userkey(&ctx.app, &p.app_secret, &p.token).await?;
    json(json!({
        "accessToken": access,
        "user": user_detailed(&ctx.app, &user, None)?,
    }))
}

async fn auth_accept(ctx: Ctx, p: TokenParams) -> ApiResult<Reply> {
    apps::accept_session(&ctx.app, ctx.me()?, &p.token).await?;
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

async fn miauth_gen_token(ctx: Ctx, p: GenTokenParams) -> ApiResult<Reply> {
    let session = apps::miauth_open(
        &ctx.app,
        &p.session,
        &apps::MiauthRequest {
            name: p.name,
            icon: p.icon_url,
            callback: None,
            permission: p.permission,
        },
    )
    .await?;
    let token = apps::miauth_grant(&ctx.app, ctx.me()?, &session).await?;
    json(json!({ "token": token }))
}
