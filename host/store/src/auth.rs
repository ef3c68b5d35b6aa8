//! Third-party app authentication: apps, legacy auth sessions, MiAuth sessions and the access
//! tokens they produce.

use tsudoi_model::{App, AuthSession, MiauthSession};

use super::{Result, Store, StoreError, from_json, to_json, with_pool};

/// Inserts an access token on an open transaction (a macro because the transaction's type
/// differs per backend).
macro_rules! insert_token {
    ($tx:expr, $t:expr) => {{
        let t: &NewAccessToken<'_> = $t;
        sqlx::query(
            "INSERT INTO access_tokens (id, token, hash, user_id, app_id, session, name, icon_url, permission, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(t.id)
        .bind(t.token)
        .bind(t.hash)
        .bind(t.user_id)
        .bind(t.app_id)
        .bind(t.session)
        .bind(t.name)
        .bind(t.icon_url)
        .bind($crate::to_json(t.permission))
        .bind(t.created_at)
        .execute($tx)
        .await?
    }};
}

#[derive(sqlx::FromRow)]
struct AppRow {
    id: String,
    user_id: Option<String>,
    secret: String,
    name: String,
    description: String,
    permission: String,
    callback_url: Option<String>,
    created_at: i64,
}

impl AppRow {
    fn decode(self) -> Result<App> {
        Ok(App {
            permission: from_json("apps.permission", &self.permission)?,
            id: self.id,
            user_id: self.user_id,
            secret: self.secret,
            name: self.name,
            description: self.description,
            callback_url: self.callback_url,
            created_at: self.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AuthSessionRow {
    id: String,
    token: String,
    app_id: String,
    user_id: Option<String>,
    created_at: i64,
}

impl From<AuthSessionRow> for AuthSession {
    fn from(r: AuthSessionRow) -> Self {
        AuthSession {
            id: r.id,
            token: r.token,
            app_id: r.app_id,
            user_id: r.user_id,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct MiauthSessionRow {
    session: String,
    name: Option<String>,
    icon_url: Option<String>,
    callback_url: Option<String>,
    permission: String,
    user_id: Option<String>,
    token: Option<String>,
    created_at: i64,
}

impl MiauthSessionRow {
    fn decode(self) -> Result<MiauthSession> {
        Ok(MiauthSession {
            permission: from_json("miauth_sessions.permission", &self.permission)?,
            session: self.session,
            name: self.name,
            icon_url: self.icon_url,
            callback_url: self.callback_url,
            user_id: self.user_id,
            token: self.token,
            created_at: self.created_at,
        })
    }
}

pub struct NewAccessToken<'a> {
    pub id: &'a str,
    pub token: &'a str,
    pub hash: Option<&'a str>,
    pub user_id: &'a str,
    pub app_id: Option<&'a str>,
    pub session: Option<&'a str>,
    pub name: Option<&'a str>,
    pub icon_url: Option<&'a str>,
    pub permission: &'a [String],
    pub created_at: i64,
}

impl Store {
    pub async fn create_app(&self, app: &App) -> Result<()> {
        with_pool!(&self.write, |p| {
            sqlx::query(
            "INSERT INTO apps (id, user_id, secret, name, description, permission, callback_url, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(&app.id)
        .bind(&app.user_id)
        .bind(&app.secret)
        .bind(&app.name)
        .bind(&app.description)
        .bind(to_json(&app.permission))
        .bind(&app.callback_url)
        .bind(app.created_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn app_by_id(&self, id: &str) -> Result<Option<App>> {
        with_pool!(&self.read, |p| {
            sqlx::query_as::<_, AppRow>(
            "SELECT id, user_id, secret, name, description, permission, callback_url, created_at FROM apps WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await
        })?
        .map(AppRow::decode)
        .transpose()
    }

    pub async fn app_by_secret(&self, secret: &str) -> Result<Option<App>> {
        with_pool!(&self.read, |p| {
            sqlx::query_as::<_, AppRow>(
            "SELECT id, user_id, secret, name, description, permission, callback_url, created_at FROM apps WHERE secret = $1"
        )
        .bind(secret)
        .fetch_optional(p)
        .await
        })?
        .map(AppRow::decode)
        .transpose()
    }

    pub async fn create_auth_session(&self, s: &AuthSession) -> Result<()> {
        with_pool!(&self.write, |p| {
            sqlx::query(
            "INSERT INTO auth_sessions (id, token, app_id, user_id, created_at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(&s.id)
        .bind(&s.token)
        .bind(&s.app_id)
        .bind(&s.user_id)
        .bind(s.created_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn auth_session_by_token(&self, token: &str) -> Result<Option<AuthSession>> {
        Ok(
            with_pool!(&self.read, |p| sqlx::query_as::<_, AuthSessionRow>(
                "SELECT id, token, app_id, user_id, created_at FROM auth_sessions WHERE token = $1"
            )
            .bind(token)
            .fetch_optional(p)
            .await)?
            .map(AuthSession::from),
        )
    }

    /// Marks a legacy auth session as approved by `user_id` and stores the access token the
    /// app will fetch, in one transaction.
    pub async fn approve_auth_session(
        &self,
        session_id: &str,
        user_id: &str,
        token: &NewAccessToken<'_>,
    ) -> Result<()> {
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let updated = sqlx::query(
                "UPDATE auth_sessions SET user_id = $2 WHERE id = $1 AND user_id IS NULL",
            )
            .bind(session_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated != 1 {
                return Err(StoreError::Conflict("session already approved"));
            }
            insert_token!(&mut *tx, token);
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// Ends a legacy auth session once the app has collected its token.
    pub async fn delete_auth_session(&self, id: &str) -> Result<()> {
        with_pool!(&self.write, |p| sqlx::query(
            "DELETE FROM auth_sessions WHERE id = $1"
        )
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The access token issued to `app_id` for `user_id`, if any (newest first).
    pub async fn access_token_for_app(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Option<String>> {
        Ok(with_pool!(&self.read, |p| {
            sqlx::query_scalar::<_, String>(
            "SELECT token FROM access_tokens WHERE app_id = $1 AND user_id = $2 ORDER BY id DESC LIMIT 1"
        )
        .bind(app_id)
        .bind(user_id)
        .fetch_optional(p)
        .await
        })?)
    }

    pub async fn upsert_miauth_session(&self, s: &MiauthSession) -> Result<()> {
        with_pool!(&self.write, |p| {
            sqlx::query(
            "INSERT INTO miauth_sessions (session, name, icon_url, callback_url, permission, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (session) DO NOTHING"
        )
        .bind(&s.session)
        .bind(&s.name)
        .bind(&s.icon_url)
        .bind(&s.callback_url)
        .bind(to_json(&s.permission))
        .bind(s.created_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn miauth_session(&self, session: &str) -> Result<Option<MiauthSession>> {
        with_pool!(&self.read, |p| sqlx::query_as::<_, MiauthSessionRow>(
            "SELECT session, name, icon_url, callback_url, permission, user_id, token, created_at \
             FROM miauth_sessions WHERE session = $1"
        )
        .bind(session)
        .fetch_optional(p)
        .await)?
        .map(MiauthSessionRow::decode)
        .transpose()
    }

    /// Grants a MiAuth session: stores the token and remembers it on the session for `check`.
    pub async fn grant_miauth_session(&self, token: &NewAccessToken<'_>) -> Result<()> {
        let session = token.session.unwrap_or_default();
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let updated = sqlx::query(
                "UPDATE miauth_sessions SET user_id = $2, token = $3 WHERE session = $1 AND token IS NULL",
            )
            .bind(session)
            .bind(token.user_id)
            .bind(token.token)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated != 1 {
                return Err(StoreError::Conflict("session already granted"));
            }
            insert_token!(&mut *tx, token);
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// Removes a MiAuth session after the app has collected its token. Returns false if
    /// another request removed it first, so a token is handed out only once.
    pub async fn delete_miauth_session(&self, session: &str) -> Result<bool> {
        Ok(with_pool!(&self.write, |p| sqlx::query(
            "DELETE FROM miauth_sessions WHERE session = $1"
        )
        .bind(session)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?
            == 1)
    }
}
