//! Other servers: what this one knows of them (`federation/instances`,
//! `federation/show-instance`) and the admin's policy for them (`admin/meta`,
//! `admin/update-meta` with Misskey's `blockedHosts`, `silencedHosts`, `mediaSilencedHosts`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tsudoi_core::{admin, host_policy};
use tsudoi_model::{HostPolicy, HostPolicyKind};

use super::NoParams;
use crate::api::entities::iso;
use crate::api::{ApiResult, Ctx, Endpoint, Reply, json};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            "federation/instances",
            "Servers this one knows, busiest first.",
            instances,
        ),
        Endpoint::new(
            "federation/show-instance",
            "What this server knows of another.",
            show_instance,
        ),
        Endpoint::new(
            "admin/meta",
            "The server's settings an administrator sees (the federation policy).",
            admin_meta,
        )
        .admin(),
        Endpoint::new(
            "admin/update-meta",
            "Change the server's federation policy: blocked, silenced and media-silenced hosts.",
            update_meta,
        )
        .admin(),
    ]
}

/// Misskey's `FederationInstance`, with what this server records.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Instance {
    id: String,
    first_retrieved_at: String,
    host: String,
    users_count: i64,
    notes_count: i64,
    following_count: i64,
    followers_count: i64,
    is_not_responding: bool,
    is_suspended: bool,
    suspension_state: &'static str,
    is_blocked: bool,
    is_silenced: bool,
    is_media_silenced: bool,
    software_name: (),
    software_version: (),
    open_registrations: (),
    name: (),
    description: (),
    maintainer_name: (),
    maintainer_email: (),
    icon_url: (),
    favicon_url: (),
    theme_color: (),
    info_updated_at: (),
    latest_request_received_at: Option<String>,
}

impl Instance {
    fn pack(row: &tsudoi_store::InstanceRow, policy: &HostPolicy) -> Self {
        let blocked = policy.is_blocked(&row.host);
        Instance {
            // Misskey's ids are opaque; the host is unique here.
            id: row.host.clone(),
            first_retrieved_at: iso(row.first_seen_at),
            host: row.host.clone(),
            users_count: row.users_count,
            notes_count: row.notes_count,
            following_count: row.following_count,
            followers_count: row.followers_count,
            is_not_responding: row.failing_since.is_some(),
            is_suspended: row.suspended || blocked,
            suspension_state: if row.suspended {
                "autoSuspendedForNotResponding"
            } else {
                "none"
            },
            is_blocked: blocked,
            is_silenced: policy.is_silenced(&row.host),
            is_media_silenced: policy.applies(HostPolicyKind::MediaSilenced, &row.host),
            software_name: (),
            software_version: (),
            open_registrations: (),
            name: (),
            description: (),
            maintainer_name: (),
            maintainer_email: (),
            icon_url: (),
            favicon_url: (),
            theme_color: (),
            info_updated_at: (),
            latest_request_received_at: row.last_success_at.map(iso),
        }
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct InstancesParams {
    host: Option<String>,
    /// 1–100.
    limit: Option<i64>,
    offset: Option<i64>,
    blocked: Option<bool>,
    silenced: Option<bool>,
}

async fn instances(ctx: Ctx, p: InstancesParams) -> ApiResult<Reply> {
    let limit = super::limit(p.limit, 30)?;
    let policy = host_policy::host_policy(&ctx.core).await?;
    let rows = admin::instances(&ctx.core, None, 1000, 0).await?;
    let wanted = |row: &&tsudoi_store::InstanceRow| {
        p.host
            .as_deref()
            .is_none_or(|h| row.host.contains(&h.to_ascii_lowercase()))
            && p.blocked.is_none_or(|b| policy.is_blocked(&row.host) == b)
            && p.silenced
                .is_none_or(|s| policy.is_silenced(&row.host) == s)
    };
    json(
        rows.iter()
            .filter(wanted)
            .skip(p.offset.unwrap_or(0).max(0) as usize)
            .take(limit as usize)
            .map(|row| Instance::pack(row, &policy))
            .collect::<Vec<_>>(),
    )
}

#[derive(Deserialize, JsonSchema)]
struct ShowInstanceParams {
    host: String,
}

async fn show_instance(ctx: Ctx, p: ShowInstanceParams) -> ApiResult<Reply> {
    let host = p.host.trim().to_ascii_lowercase();
    let policy = host_policy::host_policy(&ctx.core).await?;
    let row = admin::instances(&ctx.core, Some(&host), 1, 0).await?;
    // Misskey answers null for a server it has never heard of.
    json(row.first().map(|r| Instance::pack(r, &policy)))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AdminMeta<'a> {
    name: &'a str,
    description: Option<&'a str>,
    blocked_hosts: &'a [String],
    silenced_hosts: &'a [String],
    media_silenced_hosts: &'a [String],
    /// Servers whose users' files are kept here (Tsudoi's own; Misskey has one switch).
    media_cached_hosts: &'a [String],
}

async fn admin_meta(ctx: Ctx, _: NoParams) -> ApiResult<Reply> {
    let policy = host_policy::host_policy(&ctx.core).await?;
    let s = ctx.settings();
    json(AdminMeta {
        name: &s.instance_name,
        description: s.instance_description.as_deref(),
        blocked_hosts: &policy.blocked,
        silenced_hosts: &policy.silenced,
        media_silenced_hosts: &policy.media_silenced,
        media_cached_hosts: &policy.media_cached,
    })
}

/// Misskey's `admin/update-meta` takes every setting; this server's settings come from its
/// configuration, so only the federation policy is changed here and other keys are ignored.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateMetaParams {
    blocked_hosts: Option<Vec<String>>,
    silenced_hosts: Option<Vec<String>>,
    media_silenced_hosts: Option<Vec<String>>,
    /// Servers whose users' files are fetched and kept here rather than shown through the
    /// media proxy.
    media_cached_hosts: Option<Vec<String>>,
}

async fn update_meta(ctx: Ctx, p: UpdateMetaParams) -> ApiResult<Reply> {
    for (kind, hosts) in [
        (HostPolicyKind::Blocked, &p.blocked_hosts),
        (HostPolicyKind::Silenced, &p.silenced_hosts),
        (HostPolicyKind::MediaSilenced, &p.media_silenced_hosts),
        (HostPolicyKind::MediaCached, &p.media_cached_hosts),
    ] {
        if let Some(hosts) = hosts {
            host_policy::set_host_policy(&ctx.core, kind, hosts).await?;
        }
    }
    Ok(Reply::NoContent)
}
