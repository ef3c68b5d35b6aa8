//! Finding users and hashtags. (Notes are found by `list_notes` with `NoteSource::Search`, so
//! search results pass the visibility rule, blocks and mutes like every listing.)

use tsudoi_model::User;

use super::users::{USER_COLUMNS, UserRow};
use super::{Result, Store, with_pool};

/// Whose accounts a user search looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Local,
    Remote,
    Combined,
}

impl Origin {
    fn sql(self) -> &'static str {
        match self {
            Origin::Local => " AND u.host IS NULL",
            Origin::Remote => " AND u.host IS NOT NULL",
            Origin::Combined => "",
        }
    }
}

/// Which server's users a username search looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPrefix {
    /// This server's.
    Local,
    /// Servers whose host starts with this (lower case).
    Starting(String),
}

/// How many used a hashtag: distinct authors of notes with it, in all, here and elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct TagUsers {
    pub users: i64,
    pub local_users: i64,
    pub remote_users: i64,
}

/// `%s%` or `s%` for LIKE, with LIKE's own characters escaped by `\`.
pub(crate) fn like(s: &str, contains: bool) -> String {
    let mut p = String::with_capacity(s.len() + 2);
    if contains {
        p.push('%');
    }
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl Store {
    /// Users (not suspended, not muted by `viewer`) whose name contains `query` or whose
    /// username starts with it, most recently active first. `query` is lower case.
    pub async fn search_users(
        &self,
        query: &str,
        origin: Origin,
        viewer: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<User>> {
        let muted = if viewer.is_some() {
            " AND NOT EXISTS (SELECT 1 FROM mutings m WHERE m.muter_id = $5 AND m.mutee_id = u.id)"
        } else {
            " AND CAST($5 AS TEXT) IS NULL"
        };
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE NOT u.is_suspended \
             AND (LOWER(u.name) LIKE $1 ESCAPE '\\' OR u.username_lower LIKE $2 ESCAPE '\\'){}{muted} \
             ORDER BY COALESCE(u.last_posted_at, u.created_at) DESC, u.id LIMIT $3 OFFSET $4",
            origin.sql()
        );
        let username = query.strip_prefix('@').unwrap_or(query);
        with_pool!(&self.read, |p| sqlx::query_as::<_, UserRow>(&sql)
            .bind(like(query, true))
            .bind(like(username, false))
            .bind(limit)
            .bind(offset)
            .bind(viewer)
            .fetch_all(p)
            .await)?
        .into_iter()
        .map(UserRow::decode)
        .collect()
    }

    /// Users (not suspended) whose username starts with `username` on servers `host` names,
    /// those `viewer` follows first, then by username.
    pub async fn users_by_username_prefix(
        &self,
        username: Option<&str>,
        host: Option<&HostPrefix>,
        viewer: Option<&str>,
        limit: i64,
    ) -> Result<Vec<User>> {
        let host_sql = match host {
            None => " AND CAST($2 AS TEXT) IS NULL",
            Some(HostPrefix::Local) => " AND u.host IS NULL AND CAST($2 AS TEXT) IS NULL",
            Some(HostPrefix::Starting(_)) => " AND u.host LIKE $2 ESCAPE '\\'",
        };
        let followed_first = match viewer {
            Some(_) => {
                "CASE WHEN EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $3 \
                 AND f.followee_id = u.id) THEN 0 ELSE 1 END, "
            }
            None => "",
        };
        let viewer_used = if viewer.is_some() {
            ""
        } else {
            " AND CAST($3 AS TEXT) IS NULL"
        };
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE NOT u.is_suspended \
             AND (CAST($1 AS TEXT) IS NULL OR u.username_lower LIKE $1 ESCAPE '\\'){host_sql}{viewer_used} \
             ORDER BY {followed_first}u.username_lower, u.host LIMIT $4"
        );
        let host_pattern = match host {
            Some(HostPrefix::Starting(h)) => Some(like(h, false)),
            _ => None,
        };
        with_pool!(&self.read, |p| sqlx::query_as::<_, UserRow>(&sql)
            .bind(username.map(|u| like(u, false)))
            .bind(host_pattern.as_deref())
            .bind(viewer)
            .bind(limit)
            .fetch_all(p)
            .await)?
        .into_iter()
        .map(UserRow::decode)
        .collect()
    }

    /// Hashtags starting with `prefix` (normalised), most used first.
    pub async fn hashtags_with_prefix(
        &self,
        prefix: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<String>> {
        Ok(with_pool!(&self.read, |p| {
            sqlx::query_scalar::<_, String>(
                "SELECT tag FROM note_tags WHERE tag LIKE $1 ESCAPE '\\' \
             GROUP BY tag ORDER BY COUNT(*) DESC, tag LIMIT $2 OFFSET $3",
            )
            .bind(like(prefix, false))
            .bind(limit)
            .bind(offset)
            .fetch_all(p)
            .await
        })?)
    }

    /// Who used `tag`: `None` if no note has it.
    pub async fn hashtag_users(&self, tag: &str) -> Result<Option<TagUsers>> {
        let counts = with_pool!(&self.read, |p| {
            sqlx::query_as::<_, TagUsers>(
            "SELECT COUNT(DISTINCT n.user_id) AS users, \
                    COUNT(DISTINCT CASE WHEN n.user_host IS NULL THEN n.user_id END) AS local_users, \
                    COUNT(DISTINCT CASE WHEN n.user_host IS NOT NULL THEN n.user_id END) AS remote_users \
             FROM note_tags t JOIN notes n ON n.id = t.note_id WHERE t.tag = $1"
        )
        .bind(tag)
        .fetch_one(p)
        .await
        })?;
        Ok((counts.users > 0).then_some(counts))
    }

    /// Each use of a hashtag in public notes since note id `since_id`: (tag, author, time),
    /// for the trend to count distinct users per tag and per slice of time.
    pub async fn hashtag_uses_since(&self, since_id: &str) -> Result<Vec<(String, String, i64)>> {
        // Through the index on `note_tags.note_id`: only the notes of the window are read.
        let sql = "SELECT t.tag, n.user_id, n.created_at FROM note_tags t \
                   JOIN notes n ON n.id = t.note_id \
                   WHERE t.note_id > $1 AND n.visibility = 'public'";
        Ok(with_pool!(&self.read, |p| sqlx::query_as::<
            _,
            (String, String, i64),
        >(sql)
        .bind(since_id)
        .fetch_all(p)
        .await)?)
    }
}
