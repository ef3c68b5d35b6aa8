//! Users' muted words (see `tsudoi_core::word_mutes`).

use tsudoi_model::WordMutes;

use super::{Result, Store, from_json, to_json, with_pool};

impl Store {
    /// `user_id`'s muted words (none if never set).
    pub async fn word_mutes(&self, user_id: &str) -> Result<WordMutes> {
        let row: Option<(String, String)> = with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT soft, hard FROM user_word_mutes WHERE user_id = $1"
        )
        .bind(user_id)
        .fetch_optional(p)
        .await)?;
        Ok(match row {
            Some((soft, hard)) => WordMutes {
                soft: from_json("user_word_mutes.soft", &soft)?,
                hard: from_json("user_word_mutes.hard", &hard)?,
            },
            None => WordMutes::default(),
        })
    }

    pub async fn set_word_mutes(&self, user_id: &str, mutes: &WordMutes) -> Result<()> {
        // Part of the account's settings: other nodes drop what they keep of the user.
        let _change = self.token_owners.changing(&[user_id]);
        with_pool!(&self.write, |p| sqlx::query(
            "INSERT INTO user_word_mutes (user_id, soft, hard) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET soft = excluded.soft, hard = excluded.hard"
        )
        .bind(user_id)
        .bind(to_json(&mutes.soft))
        .bind(to_json(&mutes.hard))
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
