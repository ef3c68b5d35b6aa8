//! The admin's policy for other servers (blocked, silenced, media-silenced hosts). Read on
//! every inbox request, fetch and delivery and changed rarely, so it is kept in memory for a
//! few seconds: a change made through any node applies on every node within that time.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tsudoi_model::{HostPolicy, HostPolicyKind};

use crate::{Core, Error, Result};

/// How long a node keeps the policy before reading it again.
const FRESH_FOR: Duration = Duration::from_secs(5);

/// The policy as last read, and when.
#[derive(Default)]
pub(crate) struct PolicyCache(Mutex<Option<(Instant, Arc<HostPolicy>)>>);

impl PolicyCache {
    fn fresh(&self) -> Option<Arc<HostPolicy>> {
        let cached = self.0.lock().unwrap_or_else(|p| p.into_inner());
        cached
            .as_ref()
            .filter(|(at, _)| at.elapsed() < FRESH_FOR)
            .map(|(_, p)| p.clone())
    }

    fn keep(&self, policy: Arc<HostPolicy>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), policy));
    }

    fn forget(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// The current policy.
pub async fn host_policy(core: &Core) -> Result<Arc<HostPolicy>> {
    if let Some(p) = core.policy_cache().fresh() {
        return Ok(p);
    }
    let policy = Arc::new(core.store().host_policy().await?);
    core.policy_cache().keep(policy.clone());
    Ok(policy)
}

/// Replaces the `kind` list. Entries are hosts (`name` or `name:port`), lower-cased; blank
/// ones are dropped, duplicates kept once.
pub async fn set_host_policy(core: &Core, kind: HostPolicyKind, hosts: &[String]) -> Result<()> {
    let mut clean: Vec<String> = Vec::new();
    for host in hosts {
        let host = host.trim().to_ascii_lowercase();
        if host.is_empty() {
            continue;
        }
        if host.contains(['/', ' ', '@', '*', '?', '#']) || host.len() > 253 {
            return Err(Error::InvalidParam {
                param: "hosts",
                reason: format!("`{host}` is not a host such as example.com"),
            });
        }
        if !clean.contains(&host) {
            clean.push(host);
        }
    }
    core.store().set_host_policy(kind, &clean).await?;
    core.policy_cache().forget();
    Ok(())
}
