//! Administration of plugins and of what they report: install, upgrade, configure, grant,
//! order and remove plugins; read and resolve the review queue moderation plugins fill; read
//! the notices the server leaves for its administrators. The CLI does the same through
//! `tsudoi_core::plugins`, so both check a change the same way.

use std::str::FromStr;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use tsudoi_core::plugins::{self, Change};
use tsudoi_core::{admin, notes};
use tsudoi_model::{FailurePolicy, UnknownName};

use super::{check_id, double_option};
use crate::api::entities::{self, Flag, InstalledPlugin, Notice, PluginEntry};
use crate::api::{ApiError, ApiResult, Ctx, Endpoint, Reply, json};

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

/// A configuration arrives as a JSON object (or as the JSON text of one).
fn config_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Names (capabilities, timelines, a policy) as the type they name.
fn parse_names<T: FromStr<Err = UnknownName>>(
    param: &str,
    names: Vec<String>,
) -> ApiResult<Vec<T>> {
    names
        .iter()
        .map(|n| n.parse().map_err(|e| ApiError::invalid_param(param, e)))
        .collect()
}

#[derive(Deserialize, JsonSchema)]
struct ListParams {}

async fn list(ctx: Ctx, _: ListParams) -> ApiResult<Reply> {
    let installed = plugins::list(&ctx.core).await?;
    json(installed.iter().map(PluginEntry::pack).collect::<Vec<_>>())
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
        &ctx.core,
        plugins::Install {
            wasm,
            manifest: p.manifest,
            config: p.config.map(config_text),
            failure_policy: if p.fail_closed {
                FailurePolicy::FailClosed
            } else {
                FailurePolicy::FailOpen
            },
            position: p.position,
        },
    )
    .await?;
    json(InstalledPlugin::pack(&done))
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
    let change = Change {
        enabled: p.enabled,
        position: p.position,
        grants: p.grants.map(|g| parse_names("grants", g)).transpose()?,
        timelines: p
            .timelines
            .map(|t| parse_names("timelines", t))
            .transpose()?,
        failure_policy: p
            .failure_policy
            .map(|f| {
                f.parse().map_err(|_| {
                    ApiError::invalid_param("failurePolicy", "must be fail-open or fail-closed")
                })
            })
            .transpose()?,
    };
    if let Some(config) = p.config {
        plugins::configure(&ctx.core, &p.name, config.map(config_text)).await?;
    }
    plugins::update(&ctx.core, &p.name, change).await?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
struct NameParams {
    name: String,
}

async fn remove(ctx: Ctx, p: NameParams) -> ApiResult<Reply> {
    plugins::remove(&ctx.core, &p.name).await?;
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
    let limit = super::limit(p.limit, 10)?;
    if let Some(id) = &p.until_id {
        check_id("untilId", id)?;
    }
    let flagged = admin::flags(&ctx.core, p.include_resolved, p.until_id.as_deref(), limit).await?;
    // The notes as an administrator sees them; gone if deleted since.
    let ids: Vec<String> = flagged.iter().map(|f| f.note_id.clone()).collect();
    let reviewed = notes::for_review(&ctx.core, &ids).await?;
    let presented = notes::present(&ctx.core, reviewed.into(), ctx.viewer_id()).await?;
    json(
        flagged
            .iter()
            .map(|f| {
                let note = presented.notes.iter().find(|n| n.id == f.note_id);
                Flag::pack(
                    f,
                    note.map(|n| entities::Note::pack(n, &presented, ctx.settings())),
                )
            })
            .collect::<Vec<_>>(),
    )
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ResolveParams {
    flag_id: String,
}

async fn resolve_flag(ctx: Ctx, p: ResolveParams) -> ApiResult<Reply> {
    admin::resolve_flag(&ctx.core, check_id("flagId", &p.flag_id)?).await?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct NoticesParams {
    #[serde(default)]
    include_read: bool,
}

async fn notices(ctx: Ctx, p: NoticesParams) -> ApiResult<Reply> {
    let listed = plugins::notices(&ctx.core, p.include_read, 100).await?;
    json(listed.iter().map(Notice::pack).collect::<Vec<_>>())
}

async fn mark_notices_read(ctx: Ctx, _: ListParams) -> ApiResult<Reply> {
    plugins::mark_notices_read(&ctx.core).await?;
    Ok(Reply::NoContent)
}
