//! Looking users up (a suspended account is hidden from lookups, as if it did not exist), and
//! removing remote users their server deleted.

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

/// Each of `items` with the user `user_of` names (a block with its blockee, a mute with its
/// mutee), those whose user is unknown or suspended left out.
pub(crate) async fn with_users<T>(
    core: &Core,
    items: Vec<T>,
    user_of: impl Fn(&T) -> &str,
) -> Result<Vec<(T, User)>> {
    let ids: Vec<String> = items.iter().map(|i| user_of(i).to_owned()).collect();
    let mut users = by_ids(core, &ids).await?;
    Ok(items
        .into_iter()
        .filter_map(|i| {
            let at = users.iter().position(|u| u.id == user_of(&i))?;
            Some((i, users.swap_remove(at)))
        })
        .collect())
}

/// Removes a remote user whose server says they are gone (a `Delete` of the actor): their
/// follows both ways, their reactions and their notes, each through the write that keeps the
/// counters right, then the user. Other servers are not told: it is their news.
pub async fn delete_remote(core: &Core, user: &User) -> Result<()> {
    if user.is_local() {
        return Err(Error::AccessDenied);
    }
    let store = core.store();
    let footprint = store.user_footprint(&user.id).await?;
    let now = tsudoi_model::ids::now_ms();
    for follower in &footprint.follower_ids {
        store.unfollow(follower, &user.id, now, &[]).await?;
    }
    for followee in &footprint.followee_ids {
        store.unfollow(&user.id, followee, now, &[]).await?;
    }
    for reaction in &footprint.reactions {
        store.unreact(reaction, &[], now).await?;
    }
    // A note already gone with one it replied to is skipped by the store.
    for note in &footprint.notes {
        store.delete_note(note, &[]).await?;
    }
    store.delete_user(&user.id).await?;
    Ok(())
}
