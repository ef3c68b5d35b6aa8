//! Local actors' key pairs (`actor_keys`), made the first time an actor federates.

use tsudoi_model::ActorKey;

use super::{Result, Store, with_pool};

const SELECT_KEY: &str =
    "SELECT public_key_pem, private_key_pem FROM actor_keys WHERE user_id = $1";

fn decode((public_key_pem, private_key_pem): (String, String)) -> ActorKey {
    ActorKey {
        public_key_pem,
        private_key_pem,
    }
}

impl Store {
    /// `user_id`'s key pair, if it has one yet.
    pub async fn actor_key(&self, user_id: &str) -> Result<Option<ActorKey>> {
        let row = with_pool!(&self.read, |p| sqlx::query_as(SELECT_KEY)
            .bind(user_id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(decode))
    }

    /// Keeps `key` as `user_id`'s key pair unless it already has one, and returns the one it
    /// has: when two requests (or two servers) make a key at once, both end up signing with
    /// the first one stored.
    pub async fn keep_actor_key(
        &self,
        user_id: &str,
        key: &ActorKey,
        now: i64,
    ) -> Result<ActorKey> {
        let kept = with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "INSERT INTO actor_keys (user_id, public_key_pem, private_key_pem, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO NOTHING",
            )
            .bind(user_id)
            .bind(&key.public_key_pem)
            .bind(&key.private_key_pem)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let kept = sqlx::query_as(SELECT_KEY)
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(kept)
        })?;
        Ok(decode(kept))
    }
}
