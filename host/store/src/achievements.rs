//! Achievements users unlocked.

use tsudoi_model::{Achievement, Notification};

use super::notifications::insert_notifications;
use super::{Result, Store, with_pool};

impl Store {
    /// Records that `user_id` unlocked `achievement.name`, with `notification` telling them,
    /// in one transaction; false, writing nothing, if they had it already.
    pub async fn add_achievement(
        &self,
        user_id: &str,
        achievement: &Achievement,
        notification: &Notification,
    ) -> Result<bool> {
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let added = sqlx::query(
                "INSERT INTO user_achievements (user_id, name, unlocked_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(user_id)
            .bind(&achievement.name)
            .bind(achievement.unlocked_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if added == 0 {
                return Ok::<_, super::StoreError>(false);
            }
            insert_notifications!(tx, [notification]);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// `user_id`'s achievements, in the order they were unlocked.
    pub async fn achievements(&self, user_id: &str) -> Result<Vec<Achievement>> {
        let rows: Vec<(String, i64)> = with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT name, unlocked_at FROM user_achievements WHERE user_id = $1 \
             ORDER BY unlocked_at, name"
        )
        .bind(user_id)
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(name, unlocked_at)| Achievement { name, unlocked_at })
            .collect())
    }
}
