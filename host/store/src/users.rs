//! Accounts: the `users` table and local credentials.

use tsudoi_model::{AppGrant, Author, ProfilePatch, RemoteActor, User};

use super::jobs::insert_jobs;
use super::token_owners::Identity;
use super::{Result, Store, from_json, placeholders, to_json, with_pool};

/// A `users` row as SQL returns it; [`UserRow::decode`] makes it a [`User`].
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    id: String,
    username: String,
    username_lower: String,
    host: Option<String>,
    name: Option<String>,
    description: Option<String>,
    location: Option<String>,
    birthday: Option<String>,
    lang: Option<String>,
    fields: String,
    is_locked: bool,
    is_bot: bool,
    is_cat: bool,
    is_admin: bool,
    is_suspended: bool,
    followers_count: i64,
    following_count: i64,
    notes_count: i64,
    created_at: i64,
    updated_at: Option<i64>,
    last_posted_at: Option<i64>,
    following_version: i64,
    remote_followers_count: i64,
    uri: Option<String>,
    url: Option<String>,
    inbox: Option<String>,
    shared_inbox: Option<String>,
    followers_uri: Option<String>,
    last_fetched_at: Option<i64>,
}

impl UserRow {
    pub(crate) fn decode(self) -> Result<User> {
        Ok(User {
            fields: from_json("users.fields", &self.fields)?,
            id: self.id,
            username: self.username,
            username_lower: self.username_lower,
            host: self.host,
            name: self.name,
            description: self.description,
            location: self.location,
            birthday: self.birthday,
            lang: self.lang,
            is_locked: self.is_locked,
            is_bot: self.is_bot,
            is_cat: self.is_cat,
            is_admin: self.is_admin,
            is_suspended: self.is_suspended,
            followers_count: self.followers_count,
            following_count: self.following_count,
            notes_count: self.notes_count,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_posted_at: self.last_posted_at,
            following_version: self.following_version,
            remote_followers_count: self.remote_followers_count,
            // A remote user is stored with its uri and inbox; a row with only some of them
            // is not a usable remote actor and is treated as one to fetch again.
            remote: match (self.uri, self.inbox) {
                (Some(uri), Some(inbox)) => Some(RemoteActor {
                    uri,
                    url: self.url,
                    inbox,
                    shared_inbox: self.shared_inbox,
                    followers_uri: self.followers_uri,
                    fetched_at: self.last_fetched_at.unwrap_or(0),
                }),
                _ => None,
            },
        })
    }
}

pub(crate) fn decode_user(row: Option<UserRow>) -> Result<Option<User>> {
    row.map(UserRow::decode).transpose()
}

pub(crate) const USER_COLUMNS: &str = "u.id, u.username, u.username_lower, u.host, u.name, u.description, \
    u.location, u.birthday, u.lang, u.fields, u.is_locked, u.is_bot, u.is_cat, u.is_admin, \
    u.is_suspended, u.followers_count, u.following_count, u.notes_count, u.created_at, \
    u.updated_at, u.last_posted_at, u.following_version, u.remote_followers_count, u.uri, u.url, u.inbox, u.shared_inbox, \
    u.followers_uri, u.last_fetched_at";

pub struct NewLocalUser<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub password_hash: &'a str,
    pub token: &'a str,
    pub is_admin: bool,
    pub created_at: i64,
}

/// What a presented token turned out to be.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub user: User,
    /// `None` for the account's own (native) token, which carries every permission.
    pub app: Option<AppGrant>,
}

impl Store {
    /// Creates a local account. Fails with a unique violation if the username is taken.
    pub async fn create_local_user(
        &self,
        new: &NewLocalUser<'_>,
        invitation_code: Option<&str>,
    ) -> Result<User> {
        let lower = new.username.to_lowercase();
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "INSERT INTO users (id, username, username_lower, host, is_admin, created_at) \
                 VALUES ($1, $2, $3, NULL, $4, $5)",
            )
            .bind(new.id)
            .bind(new.username)
            .bind(&lower)
            .bind(new.is_admin)
            .bind(new.created_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO user_credentials (user_id, password_hash, token) VALUES ($1, $2, $3)",
            )
            .bind(new.id)
            .bind(new.password_hash)
            .bind(new.token)
            .execute(&mut *tx)
            .await?;
            if let Some(code) = invitation_code {
                // Claimed in the same transaction, so a failed sign-up leaves the code unused.
                let claimed = sqlx::query(
                    "UPDATE invitation_codes SET used_by = $2, used_at = $3 \
                     WHERE code = $1 AND used_at IS NULL AND (expires_at IS NULL OR expires_at > $3)",
                )
                .bind(code)
                .bind(new.id)
                .bind(new.created_at)
                .execute(&mut *tx)
                .await?;
                if claimed.rows_affected() != 1 {
                    return Err(super::StoreError::Conflict(
                        "invitation code is invalid or used",
                    ));
                }
            }
            tx.commit().await?;
            Ok::<_, super::StoreError>(())
        })?;
        self.user_by_id(new.id)
            .await?
            .ok_or(super::StoreError::Db(sqlx::Error::RowNotFound))
    }

    /// The local account `username` that stands for the server itself (no password, no
    /// token: nobody signs in as it), made with id `new_id` if it does not exist yet. It is
    /// a locked bot, so nobody follows it.
    pub async fn ensure_system_user(&self, new_id: &str, username: &str, now: i64) -> Result<User> {
        with_pool!(&self.write, |p| sqlx::query(
            "INSERT INTO users (id, username, username_lower, host, is_locked, is_bot, created_at) \
             VALUES ($1, $2, $3, NULL, TRUE, TRUE, $4) ON CONFLICT DO NOTHING"
        )
        .bind(new_id)
        .bind(username)
        .bind(username.to_lowercase())
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        self.user_by_username(username, None)
            .await?
            .ok_or(super::StoreError::Db(sqlx::Error::RowNotFound))
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        decode_user(with_pool!(&self.read, |p| sqlx::query_as::<_, UserRow>(
            &sql
        )
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    /// Users for `ids`, in no particular order; missing ids are skipped.
    pub async fn users_by_ids(&self, ids: &[String]) -> Result<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.id IN ({})",
            placeholders(1, ids.len())
        );
        with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, UserRow>(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await
        })?
        .into_iter()
        .map(UserRow::decode)
        .collect()
    }

    /// What notes show of the users `ids` (missing ids are skipped): seven columns instead
    /// of a whole profile.
    pub async fn authors(&self, ids: &[String]) -> Result<Vec<Author>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, username, username_lower, host, name, is_bot, is_cat FROM users \
             WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        type Row = (
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            bool,
            bool,
        );
        Ok(with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, Row>(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await
        })?
        .into_iter()
        .map(
            |(id, username, username_lower, host, name, is_bot, is_cat)| Author {
                id,
                username,
                username_lower,
                host,
                name,
                is_bot,
                is_cat,
            },
        )
        .collect())
    }

    /// Looks a user up by name; `host` is `None` for local users.
    pub async fn user_by_username(
        &self,
        username: &str,
        host: Option<&str>,
    ) -> Result<Option<User>> {
        let lower = username.to_lowercase();
        let (sql, host) = match host {
            None => (
                format!(
                    "SELECT {USER_COLUMNS} FROM users u WHERE u.username_lower = $1 AND u.host IS NULL"
                ),
                None,
            ),
            Some(h) => (
                format!(
                    "SELECT {USER_COLUMNS} FROM users u WHERE u.username_lower = $1 AND u.host = $2"
                ),
                Some(h.to_lowercase()),
            ),
        };
        decode_user(with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, UserRow>(&sql).bind(&lower);
            if let Some(h) = &host {
                q = q.bind(h);
            }
            q.fetch_optional(p).await
        })?)
    }

    /// Password hash and native token of a local user, for sign-in.
    pub async fn credentials(&self, user_id: &str) -> Result<Option<(String, String)>> {
        Ok(with_pool!(&self.read, |p| sqlx::query_as::<
            _,
            (String, String),
        >(
            "SELECT password_hash, token FROM user_credentials WHERE user_id = $1"
        )
        .bind(user_id)
        .fetch_optional(p)
        .await)?)
    }

    /// Resolves the credential a client presented: a native token, an app access token, or the
    /// hash a legacy-auth app sends. Answered from the copies in [`super::token_owners`] when
    /// it can be.
    pub async fn token_owner(&self, token: &str) -> Result<Option<TokenOwner>> {
        let identity = match self.token_owners.identity(token) {
            Some(identity) => identity,
            None => match self.token_identity(token).await? {
                Some(identity) => {
                    self.token_owners.keep_identity(token, identity.clone());
                    identity
                }
                None => return Ok(None),
            },
        };
        let user = match self.token_owners.user(&identity.user_id) {
            Some(user) => user,
            None => {
                let read_at = self.token_owners.generation(&identity.user_id);
                let Some(user) = self.user_by_id(&identity.user_id).await? else {
                    return Ok(None);
                };
                self.token_owners.keep_user(&user, read_at);
                user
            }
        };
        Ok(Some(TokenOwner {
            user,
            app: identity.app,
        }))
    }

    /// Whose `token` is, from the database.
    async fn token_identity(&self, token: &str) -> Result<Option<Identity>> {
        let native = "SELECT user_id FROM user_credentials WHERE token = $1";
        if let Some(user_id) = with_pool!(&self.read, |p| sqlx::query_scalar::<_, String>(native)
            .bind(token)
            .fetch_optional(p)
            .await)?
        {
            return Ok(Some(Identity { user_id, app: None }));
        }
        let app = "SELECT id, user_id, permission FROM access_tokens WHERE token = $1 OR hash = $1";
        let Some((token_id, user_id, permission)) = with_pool!(&self.read, |p| sqlx::query_as::<
            _,
            (String, String, String),
        >(app)
        .bind(token)
        .fetch_optional(p)
        .await)?
        else {
            return Ok(None);
        };
        Ok(Some(Identity {
            user_id,
            app: Some(AppGrant {
                token_id,
                permission: from_json("access_tokens.permission", &permission)?,
            }),
        }))
    }

    pub async fn update_profile(
        &self,
        user_id: &str,
        patch: &ProfilePatch,
        now: i64,
        jobs: &[tsudoi_model::Job],
    ) -> Result<()> {
        // One statement per call; each column is either kept (flag 0) or set (flag 1).
        let sql = "UPDATE users SET \
            name = CASE WHEN $2 THEN $3 ELSE name END, \
            description = CASE WHEN $4 THEN $5 ELSE description END, \
            location = CASE WHEN $6 THEN $7 ELSE location END, \
            birthday = CASE WHEN $8 THEN $9 ELSE birthday END, \
            lang = CASE WHEN $10 THEN $11 ELSE lang END, \
            fields = COALESCE($12, fields), \
            is_locked = COALESCE($13, is_locked), \
            is_bot = COALESCE($14, is_bot), \
            is_cat = COALESCE($15, is_cat), \
            updated_at = $16 \
            WHERE id = $1";
        let opt = |v: &Option<Option<String>>| (v.is_some(), v.clone().flatten());
        let (n0, n1) = opt(&patch.name);
        let (d0, d1) = opt(&patch.description);
        let (l0, l1) = opt(&patch.location);
        let (b0, b1) = opt(&patch.birthday);
        let (g0, g1) = opt(&patch.lang);
        let _change = self.token_owners.changing(&[user_id]);
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(sql)
                .bind(user_id)
                .bind(n0)
                .bind(&n1)
                .bind(d0)
                .bind(&d1)
                .bind(l0)
                .bind(&l1)
                .bind(b0)
                .bind(&b1)
                .bind(g0)
                .bind(&g1)
                .bind(patch.fields.as_deref().map(to_json))
                .bind(patch.is_locked)
                .bind(patch.is_bot)
                .bind(patch.is_cat)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            insert_jobs!(tx, jobs, now);
            tx.commit().await?;
            Ok::<_, super::StoreError>(())
        })
    }

    /// Local accounts people sign in to: the system's own (the instance actor, which has no
    /// credentials) are not users to count.
    pub async fn count_local_users(&self) -> Result<i64> {
        Ok(with_pool!(&self.read, |p| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM users u JOIN user_credentials c ON c.user_id = u.id \
             WHERE u.host IS NULL"
        )
        .fetch_one(p)
        .await)?)
    }

    pub async fn count_local_notes(&self) -> Result<i64> {
        Ok(with_pool!(&self.read, |p| sqlx::query_scalar::<_, i64>(
            "SELECT CAST(COALESCE(SUM(notes_count), 0) AS BIGINT) FROM users WHERE host IS NULL"
        )
        .fetch_one(p)
        .await)?)
    }

    pub async fn create_invitation_code(
        &self,
        code: &str,
        created_by: Option<&str>,
        now: i64,
        expires_at: Option<i64>,
    ) -> Result<()> {
        with_pool!(&self.write, |p| {
            sqlx::query(
            "INSERT INTO invitation_codes (code, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(code)
        .bind(created_by)
        .bind(now)
        .bind(expires_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}
