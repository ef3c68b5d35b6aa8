//! Mutes (for a while or for good) and renote mutes. A mute hides what the mutee writes,
//! replies to or renotes from the muter's timelines, mentions and streams, and their
//! notifications; a renote mute hides only their pure renotes. Neither tells anyone: the
//! mutee cannot know.

use tsudoi_model::{Event, MuteKind, Muting, Page, User, ids};

use crate::{Core, Error, Result, users};

/// `me` mutes `user_id` (`kind`), until `expires_at` if given. A mute that would already
/// have ended is not made, and that is not an error (Misskey's behaviour).
pub async fn mute(
    core: &Core,
    me: &User,
    kind: MuteKind,
    user_id: &str,
    expires_at: Option<i64>,
) -> Result<()> {
    if me.id == user_id {
        return Err(Error::MuteeIsYourself);
    }
    let mutee = users::by_id(core, user_id).await?;
    let now = ids::now_ms();
    if expires_at.is_some_and(|at| at <= now) {
        return Ok(());
    }
    let muting = Muting {
        id: ids::aidx_at(now),
        muter_id: me.id.clone(),
        mutee_id: mutee.id,
        expires_at: expires_at.filter(|_| kind == MuteKind::Notes),
        created_at: now,
    };
    if !core.store().mute(kind, &muting).await? {
        return Err(Error::AlreadyMuting);
    }
    publish(core, me);
    Ok(())
}

/// `me` ends their mute (`kind`) of `user_id`.
pub async fn unmute(core: &Core, me: &User, kind: MuteKind, user_id: &str) -> Result<()> {
    if me.id == user_id {
        return Err(Error::MuteeIsYourself);
    }
    let mutee = users::by_id(core, user_id).await?;
    if !core
        .store()
        .unmute(kind, &me.id, &mutee.id, ids::now_ms())
        .await?
    {
        return Err(Error::NotMuting);
    }
    publish(core, me);
    Ok(())
}

/// The muter's streams read whom they mute again.
fn publish(core: &Core, me: &User) {
    core.publish(Event::MutesChanged {
        user_id: me.id.clone(),
    });
}

/// A page of `me`'s mutes (`kind`), newest first, each with the muted user.
pub async fn list(
    core: &Core,
    me: &User,
    kind: MuteKind,
    page: &Page,
) -> Result<Vec<(Muting, User)>> {
    let mutes = core
        .store()
        .mutes_page(
            kind,
            &me.id,
            page.since_id.as_deref(),
            page.until_id.as_deref(),
            page.limit,
        )
        .await?;
    users::with_users(core, mutes, |m| &m.mutee_id).await
}

/// Removes the mutes that have ended (they already hide nothing; this keeps the table and
/// `mute/list` clean).
pub async fn clear_ended(core: &Core) -> Result<u64> {
    Ok(core.store().delete_ended_mutes(ids::now_ms()).await?)
}
