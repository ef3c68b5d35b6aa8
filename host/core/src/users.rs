//! Looking users up. A suspended account is hidden from lookups, as if it did not exist.

use tsudoi_model::User;

use crate::{Core, Error, Result};

fn visible(user: Option<User>) -> Result<User> {
    match user {
        Some(u) if !u.is_suspended => Ok(u),
        _ => Err(Error::NoSuchUser),
    }
}

/// The user with `id`.
pub async fn by_id(core: &Core, id: &str) -> Result<User> {
    visible(core.store().user_by_id(id).await?)
}

/// `@username` (local) or `@username@host`; this server's own host means local.
pub async fn by_username(core: &Core, username: &str, host: Option<&str>) -> Result<User> {
    let host = host.filter(|h| !h.is_empty() && !core.settings().is_own_host(h));
    visible(core.store().user_by_username(username.trim(), host).await?)
}

/// The users with `ids`, in the order asked for, unknown ones left out.
pub async fn by_ids(core: &Core, ids: &[String]) -> Result<Vec<User>> {
    let found = core.store().users_by_ids(ids).await?;
    Ok(ids
        .iter()
        .filter_map(|id| {
            found
                .iter()
                .find(|u| &u.id == id && !u.is_suspended)
                .cloned()
        })
        .collect())
}
