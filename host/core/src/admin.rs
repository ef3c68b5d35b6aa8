//! What the administrators review: the notes moderation plugins flagged.

use tsudoi_model::{Flag, ids};

use crate::{Core, Error, Result};

/// Flags newest first, unresolved only unless `include_resolved`, older than `until_id`.
pub async fn flags(
    core: &Core,
    include_resolved: bool,
    until_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Flag>> {
    Ok(core
        .store()
        .flags(include_resolved, until_id, limit)
        .await?)
}

/// Marks a flag handled.
pub async fn resolve_flag(core: &Core, id: &str) -> Result<()> {
    if core.store().resolve_flag(id, ids::now_ms()).await? {
        Ok(())
    } else {
        Err(Error::NoSuchFlag)
    }
}

/// How many local accounts and notes this server has (for NodeInfo).
pub async fn usage(core: &Core) -> Result<(i64, i64)> {
    Ok(tokio::try_join!(
        core.store().count_local_users(),
        core.store().count_local_notes()
    )?)
}

/// Creates an invitation code for invite-only registration, expiring after `expires_in_days`.
pub async fn create_invitation(core: &Core, expires_in_days: Option<u32>) -> Result<String> {
    let code = crate::random_token(16);
    let now = ids::now_ms();
    let expires = expires_in_days.map(|d| now + i64::from(d) * 86_400_000);
    core.store()
        .create_invitation_code(&code, None, now, expires)
        .await?;
    Ok(code)
}

/// Remote servers this one knows, busiest first (`host` only that one).
pub async fn instances(
    core: &Core,
    host: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<tsudoi_store::InstanceRow>> {
    Ok(core.store().instances(host, limit, offset).await?)
}
