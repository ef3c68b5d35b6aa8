//! Blocks. Making one ends the follows and follow requests between the two users in the same
//! transaction, with the counters, so nothing is left half-severed after a crash.

use tsudoi_model::{Block, Job, Severed};

use super::follows::end_follow;
use super::jobs::insert_jobs;
use super::{Result, Store, placeholders, with_pool};

#[derive(sqlx::FromRow)]
struct BlockRow {
    id: String,
    blocker_id: String,
    blockee_id: String,
    created_at: i64,
}

impl From<BlockRow> for Block {
    fn from(r: BlockRow) -> Self {
        Block {
            id: r.id,
            blocker_id: r.blocker_id,
            blockee_id: r.blockee_id,
            created_at: r.created_at,
        }
    }
}

impl Store {
    /// Records that `block.blocker_id` blocks `block.blockee_id` (`uri`: the Block activity
    /// it arrived as), ends the follows and requests between them both ways, and enqueues
    /// what `jobs` makes of what was ended. Returns false, changing nothing, if the block
    /// already existed.
    pub async fn block(
        &self,
        block: &Block,
        uri: Option<&str>,
        jobs: impl FnOnce(&Severed) -> Vec<Job>,
    ) -> Result<bool> {
        let (blocker, blockee) = (block.blocker_id.as_str(), block.blockee_id.as_str());
        let _change = self.token_owners.changing(&[blocker, blockee]);
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO blockings (id, blocker_id, blockee_id, created_at, uri) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(&block.id)
            .bind(blocker)
            .bind(blockee)
            .bind(block.created_at)
            .bind(uri)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                return Ok(false);
            }
            let mut severed = Severed::default();
            for (follower, followee) in [(blocker, blockee), (blockee, blocker)] {
                let followed = end_follow!(tx, follower, followee);
                let request: Option<Option<String>> = sqlx::query_scalar(
                    "DELETE FROM follow_requests WHERE follower_id = $1 AND followee_id = $2 \
                     RETURNING activity_id",
                )
                .bind(follower)
                .bind(followee)
                .fetch_optional(&mut *tx)
                .await?;
                let ended = followed || request.is_some();
                if follower == blocker {
                    severed.blocker_followed = ended;
                } else {
                    severed.blockee_followed = ended;
                    severed.blockee_request_activity = request.flatten();
                }
            }
            // The blocker leaves the blockee's lists (Misskey's rule): a list is a way to
            // follow someone's notes, which the block ends.
            sqlx::query("DELETE FROM user_list_members WHERE user_id = $1 AND owner_id = $2")
                .bind(blocker)
                .bind(blockee)
                .execute(&mut *tx)
                .await?;
            insert_jobs!(tx, &jobs(&severed), block.created_at);
            tx.commit().await?;
            Ok::<_, super::StoreError>(true)
        })
    }

    /// Ends `blocker`'s block of `blockee` and enqueues what `jobs` makes of the block that
    /// was ended. Returns false (enqueueing nothing) if there was none.
    pub async fn unblock(
        &self,
        blocker: &str,
        blockee: &str,
        now: i64,
        jobs: impl FnOnce(&Block) -> Vec<Job>,
    ) -> Result<bool> {
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let Some(block) = sqlx::query_as::<_, BlockRow>(
                "DELETE FROM blockings WHERE blocker_id = $1 AND blockee_id = $2 \
                 RETURNING id, blocker_id, blockee_id, created_at",
            )
            .bind(blocker)
            .bind(blockee)
            .fetch_optional(&mut *tx)
            .await?
            .map(Block::from) else {
                return Ok(false);
            };
            insert_jobs!(tx, &jobs(&block), now);
            tx.commit().await?;
            Ok::<_, super::StoreError>(true)
        })
    }

    /// Whether any of `blockers` blocks `blockee`: the authors of the notes `blockee` replies
    /// to, renotes, reacts to or votes in, or someone `blockee` follows.
    pub async fn blocked_by_any(&self, blockee: &str, blockers: &[&str]) -> Result<bool> {
        if blockers.is_empty() {
            return Ok(false);
        }
        let sql = format!(
            "SELECT COUNT(*) FROM blockings WHERE blockee_id = $1 AND blocker_id IN ({})",
            placeholders(2, blockers.len())
        );
        Ok(with_pool!(&self.read, |p| {
            let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(blockee);
            for b in blockers {
                q = q.bind(*b);
            }
            q.fetch_one(p).await
        })? > 0)
    }

    /// A page of the blocks `blocker` made.
    pub async fn blocks_page(
        &self,
        blocker: &str,
        since_id: Option<&str>,
        until_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Block>> {
        Ok(self
            .page_by_id::<BlockRow>(
                "blockings",
                "id, blocker_id, blockee_id, created_at",
                "blocker_id",
                blocker,
                since_id,
                until_id,
                limit,
            )
            .await?
            .into_iter()
            .map(Block::from)
            .collect())
    }
}
