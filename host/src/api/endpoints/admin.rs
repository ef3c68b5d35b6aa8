//! Administration of plugins and of what they report: install, upgrade, configure, grant,
//! order and remove plugins; read and resolve the review queue moderation plugins fill; read
//! the notices the server leaves for its administrators. The CLI does the same through
//! `core::plugins`, so both check a change the same way.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{check_id, double_option};
use crate::api::entities::{iso, pack_note};
use crate::api::{ApiError, ApiResult, Ctx, Endpoint, Reply, json};
use crate::core::plugins;
use crate::core::{Error, ids};
use crate::store::PluginChange;

/// A component travels base64-encoded in JSON: 16 MiB of body holds a 12 MiB plugin, more
/// than a Python or JavaScript component with its interpreter needs.
const MAX_INSTALL_BODY: usize = 16 << 20;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new("admin/plugins/list", "Installed plugins.", list).admin(),
        Endpoint::new(
            "admin/plugins/install",
            "Install a plugin (base64 component), or upgrade the installed one of the same name.",
            install,
        )
        .admin()
        .max_body(MAX_INSTALL_BODY),
        Endpoint::new(
            "admin/plugins/update",
            "Enable, disable, configure, order or grant capabilities to a plugin; assign a ranker to timelines.",
            update,
        )
        .admin(),
        Endpoint::new("admin/plugins/remove", "Remove a plugin and its stored state.", remove)
            .admin(),
        Endpoint::new(
            "admin/moderation/flags",
            "The review queue: notes moderation plugins flagged.",
            flags,
        )
        .admin(),
        Endpoint::new(
            "admin/moderation/resolve-flag",
            "Mark a flagged note reviewed.",
            resolve_flag,
        )
        .admin(),
        Endpoint::new(
            "admin/notices",
            "What the server told its administrators (e.g. a plugin disabled after failures).",
            notices,
        )
        .admin(),
        Endpoint::new(
            "admin/notices/mark-read",
            "Mark every notice read.",
            mark_notices_read,
        )
        .admin(),
    ]
}

fn cache(ctx: &Ctx) -> std::path::PathBuf {
    ctx.app.plugin_cache_dir()
}

/// A configuration arrives as a JSON object (or as the JSON text of one).
fn config_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

#[derive(Deserialize, JsonSchema)]
struct ListParams {}

async fn list(ctx: Ctx, _: ListParams) -> ApiResult<Reply> {
    let rows = ctx.app.store.list_plugins().await.map_err(Error::from)?;
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(json!([]));
    json(Value::Array(
        rows.into_iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "version": p.version,
                    "kind": p.kind,
                    "enabled": p.enabled,
                    "position": p.position,
                    "failurePolicy": p.failure_policy,
                    "grants": parse(&p.grants),
                    "timelines": parse(&p.timelines),
                    "updatedAt": iso(p.updated_at),
                })
            })
            .collect(),
    ))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct InstallParams {
    /// The `.wasm` component, base64.
    wasm: String,
    /// Manifest TOML, for components that do not embed one.
    manifest: Option<String>,
    /// The plugin's configuration (JSON).
    config: Option<Value>,
    #[serde(default)]
    fail_closed: bool,
    #[serde(default)]
    position: i64,
}

async fn install(ctx: Ctx, p: InstallParams) -> ApiResult<Reply> {
    use base64::Engine;
    let wasm = base64::engine::general_purpose::STANDARD
        .decode(p.wasm.trim())
        .map_err(|e| ApiError::invalid_param("wasm", format!("not base64: {e}")))?;
    let done = plugins::install(
        &ctx.app.store,
        &cache(&ctx),
        plugins::Install {
            wasm,
            manifest: p.manifest,
            config: p.config.map(config_text),
            fail_closed: p.fail_closed,
            position: p.position,
        },
    )
    .await?;
    json(json!({
        "name": done.name,
        "version": done.version,
        "kind": done.kind,
        "upgraded": done.upgraded,
        "requestedCapabilities": done.requested_capabilities,
    }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateParams {
    name: String,
    enabled: Option<bool>,
    /// New configuration; `null` clears it. Checked against the plugin's schema and by the
    /// plugin before it is stored.
    #[serde(default, deserialize_with = "double_option")]
    #[schemars(with = "Option<Value>")]
    config: Option<Option<Value>>,
    position: Option<i64>,
    /// Granted capabilities, replacing the current ones: `kv`, `raw-activity`,
    /// `http:HOST[:PORT]`.
    grants: Option<Vec<String>>,
    /// Timelines a ranker ranks (`local`, `global`), replacing the current ones.
    timelines: Option<Vec<String>>,
    /// `fail-open` (accept and flag) or `fail-closed` (reject) when the plugin fails.
    failure_policy: Option<String>,
}

async fn update(ctx: Ctx, p: UpdateParams) -> ApiResult<Reply> {
    let store = &ctx.app.store;
    if let Some(config) = p.config {
        plugins::configure(store, &cache(&ctx), &p.name, config.map(config_text)).await?;
    }
    let change = PluginChange {
        enabled: p.enabled,
        config: None,
        position: p.position,
        grants: p.grants.as_deref(),
        timelines: p.timelines.as_deref(),
        failure_policy: p.failure_policy.as_deref(),
    };
    plugins::update(store, &p.name, change).await?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
struct NameParams {
    name: String,
}

async fn remove(ctx: Ctx, p: NameParams) -> ApiResult<Reply> {
    plugins::remove(&ctx.app.store, &p.name).await?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct FlagsParams {
    #[serde(default)]
    include_resolved: bool,
    until_id: Option<String>,
    /// 1–100.
    limit: Option<i64>,
}

async fn flags(ctx: Ctx, p: FlagsParams) -> ApiResult<Reply> {
    let limit = p.limit.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_param(
            "limit",
            "must be between 1 and 100",
        ));
    }
    if let Some(id) = &p.until_id {
        check_id("untilId", id)?;
    }
    let rows = ctx
        .app
        .store
        .flags(p.include_resolved, p.until_id.as_deref(), limit)
        .await
        .map_err(Error::from)?;
    let me = ctx.viewer_id();
    let mut out = Vec::with_capacity(rows.len());
    for f in rows {
        // The note as an administrator sees it; gone if it was deleted since.
        let note = match ctx
            .app
            .store
            .note_by_id(&f.note_id)
            .await
            .map_err(Error::from)?
        {
            Some(n) => pack_note(&ctx.app, n, me).await?,
            None => Value::Null,
        };
        out.push(json!({
            "id": f.id,
            "noteId": f.note_id,
            "plugin": f.plugin,
            "reason": f.reason,
            "createdAt": iso(f.created_at),
            "resolvedAt": f.resolved_at.map(iso),
            "note": note,
        }));
    }
    json(Value::Array(out))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ResolveParams {
    flag_id: String,
}

async fn resolve_flag(ctx: Ctx, p: ResolveParams) -> ApiResult<Reply> {
    check_id("flagId", &p.flag_id)?;
    if ctx
        .app
        .store
        .resolve_flag(&p.flag_id, ids::now_ms())
        .await
        .map_err(Error::from)?
    {
        Ok(Reply::NoContent)
    } else {
        Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "NO_SUCH_FLAG",
            "No such unresolved flag.",
            "9d3b7c1e-4f2a-4e8b-b5d6-0a1c2e3f4a5b",
        ))
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct NoticesParams {
    #[serde(default)]
    include_read: bool,
}

async fn notices(ctx: Ctx, p: NoticesParams) -> ApiResult<Reply> {
    let rows = ctx
        .app
        .store
        .admin_notices(p.include_read, 100)
        .await
        .map_err(Error::from)?;
    json(Value::Array(
        rows.into_iter()
            .map(|n| {
                json!({
                    "id": n.id,
                    "kind": n.kind,
                    "message": n.message,
                    "createdAt": iso(n.created_at),
                    "readAt": n.read_at.map(iso),
                })
            })
            .collect(),
    ))
}

async fn mark_notices_read(ctx: Ctx, _: ListParams) -> ApiResult<Reply> {
    ctx.app
        .store
        .mark_admin_notices_read(ids::now_ms())
        .await
        .map_err(Error::from)?;
    Ok(Reply::NoContent)
}
