//! Notifications. They are written in the same transaction as what caused them (a note, a
//! reaction, a follow), so a crash never leaves one without the other, and only for local
//! users who neither block nor mute whoever caused them (nor are blocked by them): that rule is in the statement
//! ([`insert_notifications`]), so no caller can forget it.

use tsudoi_model::{Notification, NotificationKind, Page};

use super::{Result, Store, from_name, placeholders, with_pool};

const COLUMNS: &str = "id, notifiee_id, kind, notifier_id, note_id, target_note_id, reaction, \
                       header, body, icon, app_token_id, achievement, created_at";

/// Most unread notifications counted (what `i` reports past it is this number): counting
/// is a walk of the index, and a client shows "99+" long before.
pub const MAX_UNREAD_COUNTED: i64 = 1_000;

/// Inserts `$list` (notifications) within transaction `$tx`, each only if its notifiee is
/// a local user who neither blocks nor mutes its notifier, nor is blocked by it.
macro_rules! insert_notifications {
    ($tx:expr, $list:expr) => {
        for n in $list {
            sqlx::query(
                "INSERT INTO notifications (id, notifiee_id, kind, notifier_id, note_id, \
                   target_note_id, reaction, header, body, icon, app_token_id, created_at, \
                   achievement) \
                 SELECT $1, u.id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM users u \
                 WHERE u.id = $2 AND u.host IS NULL AND ($4 IS NULL OR (NOT EXISTS \
                   (SELECT 1 FROM blockings b WHERE (b.blocker_id = u.id AND b.blockee_id = $4) \
                      OR (b.blocker_id = $4 AND b.blockee_id = u.id)) \
                 AND NOT EXISTS (SELECT 1 FROM mutings m WHERE m.muter_id = u.id AND m.mutee_id = $4 \
                   AND (m.expires_at IS NULL OR m.expires_at > $12))))",
            )
            .bind(&n.id)
            .bind(&n.notifiee_id)
            .bind(n.kind.as_str())
            .bind(&n.notifier_id)
            .bind(&n.note_id)
            .bind(&n.target_note_id)
            .bind(&n.reaction)
            .bind(&n.header)
            .bind(&n.body)
            .bind(&n.icon)
            .bind(&n.app_token_id)
            .bind(n.created_at)
            .bind(&n.achievement)
            .execute(&mut *$tx)
            .await?;
        }
    };
}
pub(crate) use insert_notifications;

#[derive(sqlx::FromRow)]
struct NotificationRow {
    id: String,
    notifiee_id: String,
    kind: String,
    notifier_id: Option<String>,
    note_id: Option<String>,
    target_note_id: Option<String>,
    reaction: Option<String>,
    header: Option<String>,
    body: Option<String>,
    icon: Option<String>,
    app_token_id: Option<String>,
    achievement: Option<String>,
    created_at: i64,
}

impl NotificationRow {
    fn decode(self) -> Result<Notification> {
        Ok(Notification {
            kind: from_name("notifications.kind", &self.kind)?,
            id: self.id,
            notifiee_id: self.notifiee_id,
            notifier_id: self.notifier_id,
            note_id: self.note_id,
            target_note_id: self.target_note_id,
            reaction: self.reaction,
            header: self.header,
            body: self.body,
            icon: self.icon,
            app_token_id: self.app_token_id,
            achievement: self.achievement,
            created_at: self.created_at,
        })
    }
}

impl Store {
    /// Adds `list` on its own (what nothing else is written with: an app's notification, a
    /// poll that ended).
    pub async fn notify(&self, list: &[Notification]) -> Result<()> {
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            insert_notifications!(tx, list);
            tx.commit().await?;
            Ok::<_, super::StoreError>(())
        })
    }

    /// One page of `user_id`'s notifications of `kinds` (all kinds when `None`).
    pub async fn notifications_page(
        &self,
        user_id: &str,
        kinds: Option<&[NotificationKind]>,
        page: &Page,
    ) -> Result<Vec<Notification>> {
        let mut conds = vec!["notifiee_id = $1".to_owned()];
        let mut binds: Vec<String> = vec![user_id.to_owned()];
        if let Some(kinds) = kinds {
            if kinds.is_empty() {
                return Ok(Vec::new());
            }
            conds.push(format!(
                "kind IN ({})",
                placeholders(binds.len() + 1, kinds.len())
            ));
            binds.extend(kinds.iter().map(|k| k.as_str().to_owned()));
        }
        if let Some(since) = &page.since_id {
            binds.push(since.clone());
            conds.push(format!("id > ${}", binds.len()));
        }
        if let Some(until) = &page.until_id {
            binds.push(until.clone());
            conds.push(format!("id < ${}", binds.len()));
        }
        let order = if page.ascending() { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT {COLUMNS} FROM notifications WHERE {} ORDER BY id {order} LIMIT {}",
            conds.join(" AND "),
            page.limit.clamp(1, 100)
        );
        let rows: Vec<NotificationRow> = with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as(&sql);
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(p).await
        })?;
        rows.into_iter().map(NotificationRow::decode).collect()
    }

    pub async fn notification_by_id(&self, id: &str) -> Result<Option<Notification>> {
        let sql = format!("SELECT {COLUMNS} FROM notifications WHERE id = $1");
        let row: Option<NotificationRow> = with_pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        row.map(NotificationRow::decode).transpose()
    }

    /// Marks every notification of `user_id` read; false if none was unread.
    pub async fn read_all_notifications(&self, user_id: &str) -> Result<bool> {
        let changed = with_pool!(&self.write, |p| {
            sqlx::query(
            "INSERT INTO notification_reads (user_id, read_id) \
             SELECT $1, MAX(id) FROM notifications WHERE notifiee_id = $1 HAVING MAX(id) IS NOT NULL \
             ON CONFLICT (user_id) DO UPDATE SET read_id = excluded.read_id \
             WHERE notification_reads.read_id < excluded.read_id"
        )
        .bind(user_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(changed > 0)
    }

    /// How many of `user_id`'s notifications are unread, up to [`MAX_UNREAD_COUNTED`].
    pub async fn unread_notifications(&self, user_id: &str) -> Result<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM notifications WHERE notifiee_id = $1 \
             AND id > COALESCE((SELECT read_id FROM notification_reads WHERE user_id = $1), '') \
             LIMIT {MAX_UNREAD_COUNTED}) unread"
        );
        Ok(with_pool!(&self.read, |p| sqlx::query_scalar::<_, i64>(
            &sql
        )
        .bind(user_id)
        .fetch_one(p)
        .await)?)
    }

    /// Deletes every notification of `user_id` (`notifications/flush`).
    pub async fn flush_notifications(&self, user_id: &str) -> Result<()> {
        with_pool!(&self.write, |p| sqlx::query(
            "DELETE FROM notifications WHERE notifiee_id = $1"
        )
        .bind(user_id)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }
}
