//! What administrators see: installed plugins, the review queue, the server's notices.

use serde::Serialize;
use tsudoi_core::plugins::Installed;
use tsudoi_model::{
    Capability, FailurePolicy, NoticeKind, PluginKind, PluginSummary, RankedTimeline,
};

use super::{Note, iso};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginEntry<'a> {
    name: &'a str,
    version: &'a str,
    kind: PluginKind,
    enabled: bool,
    position: i64,
    failure_policy: FailurePolicy,
    grants: &'a [Capability],
    timelines: &'a [RankedTimeline],
    updated_at: String,
    /// Why a server could not load this version, if one could not.
    load_error: Option<&'a str>,
}

impl<'a> PluginEntry<'a> {
    pub fn pack(p: &'a PluginSummary) -> Self {
        PluginEntry {
            name: &p.name,
            version: &p.version,
            kind: p.kind,
            enabled: p.enabled,
            position: p.position,
            failure_policy: p.failure_policy,
            grants: &p.grants,
            timelines: &p.timelines,
            updated_at: iso(p.updated_at),
            load_error: p.load_error.as_deref(),
        }
    }
}

/// What `admin/plugins/install` answers.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstalledPlugin<'a> {
    name: &'a str,
    version: &'a str,
    kind: PluginKind,
    upgraded: bool,
    requested_capabilities: &'a [Capability],
}

impl<'a> InstalledPlugin<'a> {
    pub fn pack(done: &'a Installed) -> Self {
        InstalledPlugin {
            name: &done.name,
            version: &done.version,
            kind: done.kind,
            upgraded: done.upgraded,
            requested_capabilities: &done.requested_capabilities,
        }
    }
}

/// A note in the review queue, with the note as an administrator sees it (`null` once it was
/// deleted).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Flag<'a> {
    id: &'a str,
    note_id: &'a str,
    plugin: &'a str,
    reason: &'a str,
    created_at: String,
    resolved_at: Option<String>,
    note: Option<Note<'a>>,
}

impl<'a> Flag<'a> {
    pub fn pack(f: &'a tsudoi_model::Flag, note: Option<Note<'a>>) -> Self {
        Flag {
            id: &f.id,
            note_id: &f.note_id,
            plugin: &f.plugin,
            reason: &f.reason,
            created_at: iso(f.created_at),
            resolved_at: f.resolved_at.map(iso),
            note,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notice<'a> {
    id: &'a str,
    kind: NoticeKind,
    message: &'a str,
    created_at: String,
    read_at: Option<String>,
}

impl<'a> Notice<'a> {
    pub fn pack(n: &'a tsudoi_model::Notice) -> Self {
        Notice {
            id: &n.id,
            kind: n.kind,
            message: &n.message,
            created_at: iso(n.created_at),
            read_at: n.read_at.map(iso),
        }
    }
}
