//! Achievements, as Misskey has them: clients claim them (`i/claim-achievement`), each once,
//! and each unlocked one is a notification (`achievementEarned`).

use tsudoi_model::{ACHIEVEMENTS, Achievement, Notification, NotificationKind, User, ids};

use crate::{Core, Error, Result, notifications};

/// `me` unlocks `name`. Claiming one unlocked already changes nothing (as in Misskey).
pub async fn claim(core: &Core, me: &User, name: &str) -> Result<()> {
    if !ACHIEVEMENTS.contains(&name) {
        return Err(Error::InvalidParam {
            param: "name",
            reason: "is not an achievement".to_owned(),
        });
    }
    let now = ids::now_ms();
    let mut told = Notification::new(NotificationKind::AchievementEarned, &me.id, None, now);
    told.achievement = Some(name.to_owned());
    let achievement = Achievement {
        name: name.to_owned(),
        unlocked_at: now,
    };
    if core
        .store()
        .add_achievement(&me.id, &achievement, &told)
        .await?
    {
        notifications::publish(core, &[told]);
    }
    Ok(())
}

/// `user_id`'s achievements, oldest first.
pub async fn of(core: &Core, user_id: &str) -> Result<Vec<Achievement>> {
    Ok(core.store().achievements(user_id).await?)
}
