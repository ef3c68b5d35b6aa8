//! Installed plugins as the store keeps them, and what moderation plugins and the server
//! report to the administrators.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The kinds of plugin this server runs; each is also the name of the WIT interface it
/// exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    Moderation,
    Ranking,
    Mfm,
    Bridge,
}

crate::named_enum!(PluginKind, "plugin kind (moderation, ranking, mfm, bridge)", {
    Moderation => "moderation",
    Ranking => "ranking",
    Mfm => "mfm",
    Bridge => "bridge",
});

impl PluginKind {
    /// Every hook sits on a request's path, so each gets tens of milliseconds, not seconds;
    /// rendering runs once per `$[fn]` and gets less. A bridge is polled in the background
    /// and waits on another network's API, so it gets seconds.
    pub fn default_deadline(self) -> Duration {
        match self {
            PluginKind::Moderation | PluginKind::Ranking => Duration::from_millis(50),
            PluginKind::Mfm => Duration::from_millis(20),
            PluginKind::Bridge => Duration::from_secs(10),
        }
    }
}

/// How long each kind of plugin may take per call (from the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub moderation: Duration,
    pub ranking: Duration,
    pub mfm: Duration,
    pub bridge: Duration,
}

impl Deadlines {
    pub fn of(&self, kind: PluginKind) -> Duration {
        match kind {
            PluginKind::Moderation => self.moderation,
            PluginKind::Ranking => self.ranking,
            PluginKind::Mfm => self.mfm,
            PluginKind::Bridge => self.bridge,
        }
    }
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            moderation: PluginKind::Moderation.default_deadline(),
            ranking: PluginKind::Ranking.default_deadline(),
            mfm: PluginKind::Mfm.default_deadline(),
            bridge: PluginKind::Bridge.default_deadline(),
        }
    }
}

/// What a moderation plugin's failure means for the note it was asked about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailurePolicy {
    /// Accept the note and flag it for review: a broken filter does not stop a server.
    #[default]
    FailOpen,
    /// Reject the note: for filters an admin would rather be strict with.
    FailClosed,
}

crate::named_enum!(FailurePolicy, "failure policy (fail-open, fail-closed)", {
    FailOpen => "fail-open",
    FailClosed => "fail-closed",
});

/// Timelines a ranking plugin can be assigned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RankedTimeline {
    Local,
    Global,
}

crate::named_enum!(RankedTimeline, "rankable timeline (local, global)", {
    Local => "local",
    Global => "global",
});

/// One thing a plugin may be allowed to do beyond computing. A plugin gets those its
/// manifest requests and the admin granted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Capability {
    /// Its own key-value buckets in the server's database.
    Kv,
    /// The raw ActivityStreams JSON of activities it moderates.
    RawActivity,
    /// Outbound HTTP to this host (`host` or `host:port`, lower-case).
    Http(String),
}

impl std::str::FromStr for Capability {
    type Err = crate::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "kv" => Ok(Self::Kv),
            "raw-activity" => Ok(Self::RawActivity),
            _ => match s.strip_prefix("http:") {
                Some(host)
                    if !host.is_empty()
                        && host.chars().all(|c| {
                            c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')
                        }) =>
                {
                    Ok(Self::Http(host.to_ascii_lowercase()))
                }
                _ => Err(crate::UnknownName {
                    what: "capability (kv, raw-activity, http:HOST[:PORT])",
                    name: s.to_owned(),
                }),
            },
        }
    }
}

impl TryFrom<String> for Capability {
    type Error = crate::UnknownName;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Capability> for String {
    fn from(c: Capability) -> String {
        c.to_string()
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Kv => f.write_str("kv"),
            Self::RawActivity => f.write_str("raw-activity"),
            Self::Http(host) => write!(f, "http:{host}"),
        }
    }
}

/// An installed plugin: its component, configuration and place in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct InstalledPlugin {
    pub name: String,
    pub kind: PluginKind,
    pub version: String,
    pub wasm: Vec<u8>,
    /// JSON configuration, checked against the plugin's schema before it was stored.
    pub config: Option<String>,
    pub enabled: bool,
    /// Order among plugins of the same kind, lowest first.
    pub position: i64,
    pub failure_policy: FailurePolicy,
    /// Moves on every change; servers reload a plugin whose `updated_at` moved.
    pub updated_at: i64,
    /// The manifest supplied beside the component (TOML), when it does not embed one.
    pub manifest: Option<String>,
    pub grants: Vec<Capability>,
    /// Timelines a ranking plugin ranks.
    pub timelines: Vec<RankedTimeline>,
}

/// An installed plugin without its component, for listings.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginSummary {
    pub name: String,
    pub kind: PluginKind,
    pub version: String,
    pub enabled: bool,
    pub position: i64,
    pub failure_policy: FailurePolicy,
    pub updated_at: i64,
    pub grants: Vec<Capability>,
    pub timelines: Vec<RankedTimeline>,
    /// Why a server could not load this version of it, if one could not.
    pub load_error: Option<String>,
}

/// A note a moderation plugin flagged for review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub id: String,
    pub note_id: String,
    pub plugin: String,
    pub reason: String,
    pub created_at: i64,
    pub resolved_at: Option<i64>,
}

/// What the server wants its administrators to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoticeKind {
    /// A plugin failed too often in a row and was disabled.
    PluginDisabled,
}

crate::named_enum!(NoticeKind, "notice kind", {
    PluginDisabled => "plugin-disabled",
});

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub id: String,
    pub kind: NoticeKind,
    pub message: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// Where a plugin's value lives: the plugin's namespace, a bucket in it, a key in the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvKey<'a> {
    pub plugin: &'a str,
    pub bucket: &'a str,
    pub key: &'a str,
}

impl<'a> KvKey<'a> {
    /// Bytes charged for an entry beyond its names and value: about what SQLite or PostgreSQL
    /// keeps for a row of `plugin_kv` and its primary key's index entry (row header, lengths,
    /// the index's copy). The migration that filled `plugin_kv_usage` charges the same.
    pub const ENTRY_OVERHEAD: i64 = 64;

    pub fn new(plugin: &'a str, bucket: &'a str, key: &'a str) -> Self {
        Self {
            plugin,
            bucket,
            key,
        }
    }

    /// What the entry at this key holding `value_len` bytes is charged against its plugin's
    /// quota: its value, its plugin, bucket and key names, and [`Self::ENTRY_OVERHEAD`].
    pub fn entry_bytes(&self, value_len: usize) -> i64 {
        Self::ENTRY_OVERHEAD
            + (self.plugin.len() + self.bucket.len() + self.key.len() + value_len) as i64
    }
}

/// Why a plugin's key-value write was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvRefusal {
    QuotaExceeded,
    NotANumber,
    Overflow,
}

/// The quota rule: a write that takes a plugin's charged bytes from `before` to `after` is
/// refused if it grows them past `quota`. (A write that shrinks what the plugin keeps is always
/// allowed, so a plugin over its quota can still clean up.)
pub fn kv_exceeds_quota(before: i64, after: i64, quota: i64) -> bool {
    after > quota && after > before
}

/// The counter rule of `increment`: the next count and its expiry, given the entry as stored
/// (`value`, `expires_at`) if there is one. An absent or expired entry counts from 0 and takes
/// `expires_if_new`; a live one keeps its expiry and must hold a decimal number.
pub fn kv_next_count(
    stored: Option<(&[u8], Option<i64>)>,
    delta: i64,
    expires_if_new: Option<i64>,
    now: i64,
) -> Result<(i64, Option<i64>), KvRefusal> {
    let (current, expires_at) = match stored {
        Some((value, expires_at)) if expires_at.is_none_or(|t| t > now) => (
            std::str::from_utf8(value)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or(KvRefusal::NotANumber)?,
            expires_at,
        ),
        _ => (0, expires_if_new),
    };
    let next = current.checked_add(delta).ok_or(KvRefusal::Overflow)?;
    Ok((next, expires_at))
}

#[cfg(test)]
mod kv_rule_tests {
    use super::*;

    #[test]
    fn a_count_starts_from_zero_unless_a_live_number_is_stored() {
        let now = 100;
        assert_eq!(kv_next_count(None, 2, Some(200), now), Ok((2, Some(200))));
        assert_eq!(
            kv_next_count(Some((b"41", Some(150))), 1, Some(999), now),
            Ok((42, Some(150))),
            "a live count keeps its expiry"
        );
        assert_eq!(
            kv_next_count(Some((b"41", Some(100))), 1, None, now),
            Ok((1, None)),
            "an expired count starts again"
        );
        assert_eq!(
            kv_next_count(Some((b"x", None)), 1, None, now),
            Err(KvRefusal::NotANumber)
        );
        assert_eq!(
            kv_next_count(Some((i64::MAX.to_string().as_bytes(), None)), 1, None, now),
            Err(KvRefusal::Overflow)
        );
    }

    #[test]
    fn only_growth_past_the_quota_is_refused() {
        assert!(!kv_exceeds_quota(0, 100, 100));
        assert!(kv_exceeds_quota(0, 101, 100));
        assert!(
            !kv_exceeds_quota(150, 120, 100),
            "shrinking while over is allowed"
        );
    }
}
