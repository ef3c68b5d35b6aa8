//! Custom emoji: this server's, with their images, and the ones other servers use.

use tsudoi_model::{Emoji, EmojiImage};

use super::{Result, Store, StoreError, from_json, to_json, with_pool};

#[derive(Debug, sqlx::FromRow)]
struct EmojiRow {
    id: String,
    name: String,
    host: Option<String>,
    category: Option<String>,
    aliases: String,
    license: Option<String>,
    is_sensitive: bool,
    local_only: bool,
    media_type: Option<String>,
    image_id: Option<String>,
    remote_url: Option<String>,
    uri: Option<String>,
    created_at: i64,
    updated_at: Option<i64>,
}

impl EmojiRow {
    fn decode(self) -> Result<Emoji> {
        Ok(Emoji {
            aliases: from_json("emojis.aliases", &self.aliases)?,
            id: self.id,
            name: self.name,
            host: self.host,
            category: self.category,
            license: self.license,
            is_sensitive: self.is_sensitive,
            local_only: self.local_only,
            media_type: self.media_type,
            image_id: self.image_id,
            remote_url: self.remote_url,
            uri: self.uri,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn decode_all(rows: Vec<EmojiRow>) -> Result<Vec<Emoji>> {
    rows.into_iter().map(EmojiRow::decode).collect()
}

/// Inserts an emoji image row inside transaction `$tx`.
macro_rules! insert_image {
    ($tx:expr, $id:expr, $image:expr, $at:expr) => {
        sqlx::query(
            "INSERT INTO emoji_images (id, media_type, data, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind($id)
        .bind(&$image.media_type)
        .bind(&$image.data)
        .bind($at)
        .execute(&mut *$tx)
        .await?;
    };
}

/// Binds an emoji's changeable fields, in the order both the insert and the update name them.
macro_rules! bind_fields {
    ($q:expr, $e:expr) => {
        $q.bind(&$e.name)
            .bind(&$e.category)
            .bind(to_json(&$e.aliases))
            .bind(&$e.license)
            .bind($e.is_sensitive)
            .bind($e.local_only)
            .bind(&$e.media_type)
            .bind(&$e.image_id)
            .bind(&$e.remote_url)
            .bind(&$e.uri)
            .bind($e.updated_at)
    };
}

const EMOJI_COLUMNS: &str = "id, name, host, category, aliases, license, is_sensitive, \
    local_only, media_type, image_id, remote_url, uri, created_at, updated_at";

impl Store {
    /// Every custom emoji of this server, by category then name.
    pub async fn local_emojis(&self) -> Result<Vec<Emoji>> {
        let sql = format!(
            "SELECT {EMOJI_COLUMNS} FROM emojis WHERE host IS NULL ORDER BY category, name"
        );
        decode_all(with_pool!(&self.read, |p| sqlx::query_as::<_, EmojiRow>(
            &sql
        )
        .fetch_all(p)
        .await)?)
    }

    pub async fn emoji_by_id(&self, id: &str) -> Result<Option<Emoji>> {
        let sql = format!("SELECT {EMOJI_COLUMNS} FROM emojis WHERE id = $1");
        with_pool!(&self.read, |p| sqlx::query_as::<_, EmojiRow>(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?
        .map(EmojiRow::decode)
        .transpose()
    }

    /// The emoji of other servers named by `(name, host)` pairs; unknown ones are skipped.
    pub async fn remote_emojis(&self, wanted: &[(String, String)]) -> Result<Vec<Emoji>> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let conds: Vec<String> = (0..wanted.len())
            .map(|i| format!("(name = ${} AND host = ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!(
            "SELECT {EMOJI_COLUMNS} FROM emojis WHERE {}",
            conds.join(" OR ")
        );
        decode_all(with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, EmojiRow>(&sql);
            for (name, host) in wanted {
                q = q.bind(name).bind(host);
            }
            q.fetch_all(p).await
        })?)
    }

    /// Adds a local emoji with its image; a name already taken is a unique violation.
    pub async fn insert_emoji(&self, emoji: &Emoji, image: &EmojiImage) -> Result<()> {
        let image_id = emoji
            .image_id
            .as_deref()
            .ok_or(StoreError::Conflict("a local emoji needs its image"))?;
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            insert_image!(tx, image_id, image, emoji.created_at);
            let insert = sqlx::query(
                "INSERT INTO emojis (id, host, created_at, name, category, aliases, license, \
                 is_sensitive, local_only, media_type, image_id, remote_url, uri, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(&emoji.id)
            .bind(&emoji.host)
            .bind(emoji.created_at);
            bind_fields!(insert, emoji).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// Writes `emoji`'s fields over the stored ones; with `image`, its new image replaces the
    /// old one (whose row goes). `false` if the emoji is gone.
    pub async fn update_emoji(&self, emoji: &Emoji, image: Option<&EmojiImage>) -> Result<bool> {
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let old_image: Option<Option<String>> =
                sqlx::query_scalar("SELECT image_id FROM emojis WHERE id = $1")
                    .bind(&emoji.id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(old_image) = old_image else {
                return Ok(false);
            };
            if let (Some(image), Some(id)) = (image, &emoji.image_id) {
                insert_image!(tx, id, image, emoji.updated_at.unwrap_or(emoji.created_at));
            }
            let update = sqlx::query(
                "UPDATE emojis SET name = $2, category = $3, aliases = $4, license = $5, \
                 is_sensitive = $6, local_only = $7, media_type = $8, image_id = $9, \
                 remote_url = $10, uri = $11, updated_at = $12 WHERE id = $1",
            )
            .bind(&emoji.id);
            bind_fields!(update, emoji).execute(&mut *tx).await?;
            if let Some(old) = old_image.filter(|old| Some(old) != emoji.image_id.as_ref()) {
                sqlx::query("DELETE FROM emoji_images WHERE id = $1")
                    .bind(old)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(true)
        })
    }

    /// Deletes the emoji `ids` and their images; returns how many there were.
    pub async fn delete_emojis(&self, ids: &[String]) -> Result<u64> {
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let mut deleted = 0;
            for id in ids {
                let image: Option<Option<String>> =
                    sqlx::query_scalar("DELETE FROM emojis WHERE id = $1 RETURNING image_id")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some(image) = image {
                    deleted += 1;
                    if let Some(image) = image {
                        sqlx::query("DELETE FROM emoji_images WHERE id = $1")
                            .bind(image)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            tx.commit().await?;
            Ok::<_, StoreError>(deleted)
        })
    }

    pub async fn emoji_image(&self, id: &str) -> Result<Option<EmojiImage>> {
        Ok(
            with_pool!(&self.read, |p| sqlx::query_as::<_, (String, Vec<u8>)>(
                "SELECT media_type, data FROM emoji_images WHERE id = $1"
            )
            .bind(id)
            .fetch_optional(p)
            .await)?
            .map(|(media_type, data)| EmojiImage { media_type, data }),
        )
    }

    /// Records the emoji another server uses (from the `Emoji` tags of what it sent): new
    /// ones are added, known ones take the latest URL.
    pub async fn upsert_remote_emojis(&self, emojis: &[Emoji]) -> Result<()> {
        if emojis.is_empty() {
            return Ok(());
        }
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            for e in emojis {
                sqlx::query(
                    "INSERT INTO emojis (id, name, host, aliases, is_sensitive, media_type, \
                     remote_url, uri, created_at, updated_at) \
                     VALUES ($1, $2, $3, '[]', $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (name, host) WHERE host IS NOT NULL DO UPDATE SET \
                     remote_url = excluded.remote_url, uri = excluded.uri, \
                     media_type = excluded.media_type, is_sensitive = excluded.is_sensitive, \
                     updated_at = excluded.updated_at",
                )
                .bind(&e.id)
                .bind(&e.name)
                .bind(&e.host)
                .bind(e.is_sensitive)
                .bind(&e.media_type)
                .bind(&e.remote_url)
                .bind(&e.uri)
                .bind(e.created_at)
                .bind(e.updated_at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }
}
