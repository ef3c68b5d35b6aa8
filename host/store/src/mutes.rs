//! Mutes and renote mutes. What they hide is decided in the listings
//! (`visibility::sql_not_excluded`); here they are made, ended and listed.

use tsudoi_model::{MuteKind, Muting};

use super::{Result, Store, placeholders, with_pool};

fn table(kind: MuteKind) -> &'static str {
    match kind {
        MuteKind::Notes => "mutings",
        MuteKind::Renotes => "renote_mutings",
    }
}

#[derive(sqlx::FromRow)]
struct MutingRow {
    id: String,
    muter_id: String,
    mutee_id: String,
    expires_at: Option<i64>,
    created_at: i64,
}

impl From<MutingRow> for Muting {
    fn from(r: MutingRow) -> Self {
        Muting {
            id: r.id,
            muter_id: r.muter_id,
            mutee_id: r.mutee_id,
            expires_at: r.expires_at,
            created_at: r.created_at,
        }
    }
}

impl Store {
    /// Records `m` (a renote mute has no end); false, writing nothing, if the muter already
    /// mutes the mutee so (a mute that has ended no longer counts).
    pub async fn mute(&self, kind: MuteKind, m: &Muting) -> Result<bool> {
        let table = table(kind);
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            if kind == MuteKind::Notes {
                sqlx::query(
                    "DELETE FROM mutings WHERE muter_id = $1 AND mutee_id = $2 \
                     AND expires_at IS NOT NULL AND expires_at <= $3",
                )
                .bind(&m.muter_id)
                .bind(&m.mutee_id)
                .bind(m.created_at)
                .execute(&mut *tx)
                .await?;
            }
            let sql = match kind {
                MuteKind::Notes => format!(
                    "INSERT INTO {table} (id, muter_id, mutee_id, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"
                ),
                MuteKind::Renotes => format!(
                    "INSERT INTO {table} (id, muter_id, mutee_id, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
                ),
            };
            let mut q = sqlx::query(&sql)
                .bind(&m.id)
                .bind(&m.muter_id)
                .bind(&m.mutee_id)
                .bind(m.created_at);
            if kind == MuteKind::Notes {
                q = q.bind(m.expires_at);
            }
            let inserted = q.execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok::<_, super::StoreError>(inserted == 1)
        })
    }

    /// Ends `muter`'s mute of `mutee`; false if there was none (or it had ended).
    pub async fn unmute(&self, kind: MuteKind, muter: &str, mutee: &str, now: i64) -> Result<bool> {
        let sql = match kind {
            MuteKind::Notes => {
                "DELETE FROM mutings WHERE muter_id = $1 AND mutee_id = $2 \
                 AND (expires_at IS NULL OR expires_at > $3)"
            }
            MuteKind::Renotes => "DELETE FROM renote_mutings WHERE muter_id = $1 AND mutee_id = $2",
        };
        let gone = with_pool!(&self.write, |p| {
            let q = sqlx::query(sql).bind(muter).bind(mutee);
            match kind {
                MuteKind::Notes => q.bind(now),
                MuteKind::Renotes => q,
            }
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(gone > 0)
    }

    /// A page of the mutes `muter` made.
    pub async fn mutes_page(
        &self,
        kind: MuteKind,
        muter: &str,
        since_id: Option<&str>,
        until_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Muting>> {
        let columns = match kind {
            MuteKind::Notes => "id, muter_id, mutee_id, expires_at, created_at",
            MuteKind::Renotes => "id, muter_id, mutee_id, NULL AS expires_at, created_at",
        };
        Ok(self
            .page_by_id::<MutingRow>(
                table(kind),
                columns,
                "muter_id",
                muter,
                since_id,
                until_id,
                limit,
            )
            .await?
            .into_iter()
            .map(Muting::from)
            .collect())
    }

    /// Removes the mutes that ended before `now`; how many.
    pub async fn delete_ended_mutes(&self, now: i64) -> Result<u64> {
        Ok(with_pool!(&self.write, |p| sqlx::query(
            "DELETE FROM mutings WHERE expires_at IS NOT NULL AND expires_at <= $1"
        )
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// Whether `me` and any of `others` block each other, either way.
    pub async fn blocked_either_way(&self, me: &str, others: &[&str]) -> Result<bool> {
        if others.is_empty() {
            return Ok(false);
        }
        let list = placeholders(2, others.len());
        let sql = format!(
            "SELECT COUNT(*) FROM blockings WHERE (blockee_id = $1 AND blocker_id IN ({list})) \
             OR (blocker_id = $1 AND blockee_id IN ({list}))"
        );
        Ok(with_pool!(&self.read, |p| {
            let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(me);
            for o in others {
                q = q.bind(*o);
            }
            q.fetch_one(p).await
        })? > 0)
    }
}
