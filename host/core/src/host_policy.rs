//! The admin's policy for other servers (blocked, silenced, media-silenced hosts). Read on
//! every inbox request, fetch and delivery and changed rarely, so it is kept in memory for a
//! few seconds: a change made through any node applies on every node within a few seconds
//! (see [`crate::fresh`]).

use std::sync::Arc;

use tsudoi_model::{HostPolicy, HostPolicyKind};

use crate::{Core, Error, Result};

/// The current policy.
pub async fn host_policy(core: &Core) -> Result<Arc<HostPolicy>> {
    if let Some(p) = core.policy_cache().get() {
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
