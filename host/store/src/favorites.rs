//! Favourites: notes a user keeps for later.

use super::{Result, Store, with_pool};

/// A favourite: which note, and when (its id is time-ordered, for paging).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Favorite {
    pub id: String,
    pub note_id: String,
    pub created_at: i64,
}

impl Store {
    /// Marks `note_id` a favourite of `user_id`; false if it already was.
    pub async fn add_favorite(
        &self,
        id: &str,
        user_id: &str,
        note_id: &str,
        now: i64,
    ) -> Result<bool> {
        let added = with_pool!(&self.write, |p| {
            sqlx::query(
            "INSERT INTO note_favorites (id, user_id, note_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING"
        )
        .bind(id)
        .bind(user_id)
        .bind(note_id)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(added == 1)
    }

    /// Takes `note_id` from `user_id`'s favourites; false if it was not one.
    pub async fn remove_favorite(&self, user_id: &str, note_id: &str) -> Result<bool> {
        let gone = with_pool!(&self.write, |p| sqlx::query(
            "DELETE FROM note_favorites WHERE user_id = $1 AND note_id = $2"
        )
        .bind(user_id)
        .bind(note_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(gone > 0)
    }

    pub async fn is_favorite(&self, user_id: &str, note_id: &str) -> Result<bool> {
        Ok(with_pool!(&self.read, |p| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM note_favorites WHERE user_id = $1 AND note_id = $2"
        )
        .bind(user_id)
        .bind(note_id)
        .fetch_one(p)
        .await)?
            > 0)
    }

    /// A page of `user_id`'s favourites, newest first (oldest first with only `since_id`).
    pub async fn favorites_page(
        &self,
        user_id: &str,
        since_id: Option<&str>,
        until_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Favorite>> {
        self.page_by_id::<Favorite>(
            "note_favorites",
            "id, note_id, created_at",
            "user_id",
            user_id,
            since_id,
            until_id,
            limit,
        )
        .await
    }
}
