//! Remote actors: stored as users with a `uri` and inboxes, their signing keys, and what the
//! federation layer asks about followers elsewhere.

use tsudoi_model::{RemoteProfile, User};

use super::notes::{NOTE_COLUMNS, NoteRow};
use super::users::{USER_COLUMNS, UserRow, decode_user};
use super::{Result, Store, StoreError, to_json, with_pool};

/// Where a remote user `u` gets deliveries: their server's shared inbox when it has one, so
/// each server gets one copy.
const INBOX: &str = "COALESCE(u.shared_inbox, u.inbox)";
const HAS_INBOX: &str = "u.inbox IS NOT NULL";

impl Store {
    /// The user whose ActivityPub id is `uri`.
    pub async fn user_by_uri(&self, uri: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.uri = $1");
        decode_user(with_pool!(&self.read, |p| sqlx::query_as::<_, UserRow>(
            &sql
        )
        .bind(uri)
        .fetch_optional(p)
        .await)?)
    }

    /// Stores a fetched remote actor: a new user with id `new_id`, or the user already stored
    /// under its `uri` brought up to date. Its key replaces the one it had.
    pub async fn upsert_remote_user(
        &self,
        new_id: &str,
        profile: &RemoteProfile,
        now: i64,
    ) -> Result<User> {
        let a = &profile.actor;
        let user_id: String = with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let id: String = sqlx::query_scalar(
                "INSERT INTO users (id, username, username_lower, host, name, description, fields, \
                 is_locked, is_bot, is_cat, created_at, uri, url, inbox, shared_inbox, \
                 followers_uri, last_fetched_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $11) \
                 ON CONFLICT (uri) WHERE uri IS NOT NULL DO UPDATE SET \
                 name = excluded.name, description = excluded.description, \
                 fields = excluded.fields, is_locked = excluded.is_locked, \
                 is_bot = excluded.is_bot, is_cat = excluded.is_cat, url = excluded.url, \
                 inbox = excluded.inbox, shared_inbox = excluded.shared_inbox, \
                 followers_uri = excluded.followers_uri, \
                 last_fetched_at = excluded.last_fetched_at, updated_at = excluded.created_at \
                 RETURNING id",
            )
            .bind(new_id)
            .bind(&profile.username)
            .bind(profile.username.to_lowercase())
            .bind(profile.host.to_lowercase())
            .bind(&profile.name)
            .bind(&profile.description)
            .bind(to_json(&profile.fields))
            .bind(profile.is_locked)
            .bind(profile.is_bot)
            .bind(profile.is_cat)
            .bind(now)
            .bind(&a.uri)
            .bind(&a.url)
            .bind(&a.inbox)
            .bind(&a.shared_inbox)
            .bind(&a.followers_uri)
            .fetch_one(&mut *tx)
            .await?;
            if let Some((key_id, pem)) = &profile.public_key {
                sqlx::query(
                    "INSERT INTO remote_keys (key_id, user_id, public_key_pem) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id) DO UPDATE SET key_id = excluded.key_id, \
                     public_key_pem = excluded.public_key_pem",
                )
                .bind(key_id)
                .bind(&id)
                .bind(pem)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(id)
        })?;
        self.user_by_id(&user_id)
            .await?
            .ok_or(StoreError::Db(sqlx::Error::RowNotFound))
    }

    /// The user a signature's `key_id` belongs to, and the key.
    pub async fn remote_key(&self, key_id: &str) -> Result<Option<(String, String)>> {
        Ok(with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT user_id, public_key_pem FROM remote_keys WHERE key_id = $1"
        )
        .bind(key_id)
        .fetch_optional(p)
        .await)?)
    }

    /// The inboxes that reach every remote follower of `user_id`, one per shared inbox.
    pub async fn remote_follower_inboxes(&self, user_id: &str) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT DISTINCT {INBOX} FROM follows f JOIN users u ON u.id = f.follower_id \
             WHERE f.followee_id = $1 AND f.follower_host IS NOT NULL AND {HAS_INBOX}"
        );
        Ok(with_pool!(&self.read, |p| sqlx::query_scalar(&sql)
            .bind(user_id)
            .fetch_all(p)
            .await)?)
    }

    /// The inboxes of the remote users who voted in poll `note_id` (shared ones once).
    pub async fn remote_voter_inboxes(&self, note_id: &str) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT DISTINCT {INBOX} FROM poll_votes v JOIN users u ON u.id = v.user_id \
             WHERE v.note_id = $1 AND u.host IS NOT NULL AND {HAS_INBOX}"
        );
        Ok(with_pool!(&self.read, |p| sqlx::query_scalar(&sql)
            .bind(note_id)
            .fetch_all(p)
            .await)?)
    }

    /// The local users who follow `user_id`.
    pub async fn local_follower_ids(&self, user_id: &str) -> Result<Vec<String>> {
        Ok(with_pool!(&self.read, |p| sqlx::query_scalar(
            "SELECT follower_id FROM follows WHERE followee_id = $1 AND follower_host IS NULL"
        )
        .bind(user_id)
        .fetch_all(p)
        .await)?)
    }

    /// The id of the remote Follow activity a pending request came from.
    pub async fn follow_request_activity(
        &self,
        follower: &str,
        followee: &str,
    ) -> Result<Option<String>> {
        Ok(with_pool!(&self.read, |p| sqlx::query_scalar(
            "SELECT activity_id FROM follow_requests WHERE follower_id = $1 AND followee_id = $2"
        )
        .bind(follower)
        .bind(followee)
        .fetch_optional(p)
        .await)?
        .flatten())
    }
}

/// What refers to a user, for taking them apart row by row (each step keeping its counters).
#[derive(Debug, Default)]
pub struct UserFootprint {
    pub follower_ids: Vec<String>,
    pub followee_ids: Vec<String>,
    /// Newest first, so replies go before what they reply to.
    pub notes: Vec<tsudoi_model::Note>,
    pub reactions: Vec<tsudoi_model::Reaction>,
}

impl Store {
    /// Who follows `user_id` and whom they follow, their notes and their reactions.
    pub async fn user_footprint(&self, user_id: &str) -> Result<UserFootprint> {
        let sql =
            format!("SELECT {NOTE_COLUMNS} FROM notes n WHERE n.user_id = $1 ORDER BY n.id DESC");
        let (follower_ids, followee_ids, notes) = with_pool!(&self.read, |p| {
            let followers: Vec<String> =
                sqlx::query_scalar("SELECT follower_id FROM follows WHERE followee_id = $1")
                    .bind(user_id)
                    .fetch_all(p)
                    .await?;
            let followees: Vec<String> =
                sqlx::query_scalar("SELECT followee_id FROM follows WHERE follower_id = $1")
                    .bind(user_id)
                    .fetch_all(p)
                    .await?;
            let notes: Vec<NoteRow> = sqlx::query_as(&sql).bind(user_id).fetch_all(p).await?;
            Ok::<_, StoreError>((followers, followees, notes))
        })?;
        Ok(UserFootprint {
            follower_ids,
            followee_ids,
            notes: notes
                .into_iter()
                .map(NoteRow::decode)
                .collect::<Result<_>>()?,
            reactions: self.reactions_by(user_id).await?,
        })
    }

    /// Deletes user `id` and whatever still refers to them (follow requests, keys, votes).
    pub async fn delete_user(&self, id: &str) -> Result<()> {
        let _change = self.token_owners.changing(&[id]);
        with_pool!(&self.write, |p| sqlx::query(
            "DELETE FROM users WHERE id = $1"
        )
        .bind(id)
        .execute(p)
        .await
        .map(drop))?;
        Ok(())
    }
}
