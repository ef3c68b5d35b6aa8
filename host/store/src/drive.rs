//! The drive's folders and files. The bytes are elsewhere (the blob store); here are the
//! records, each user's usage, and the checks that must hold in one transaction.

use tsudoi_model::{DriveFile, DriveFilePatch, DriveFolder};

use super::{Result, Store, placeholders, with_pool};

const FILE_COLUMNS: &str = "id, user_id, user_host, folder_id, name, type, md5, size, \
    is_sensitive, comment, blurhash, width, height, storage_key, thumbnail_key, thumbnail_type, \
    uri, created_at";

#[derive(sqlx::FromRow)]
struct FileRow {
    id: String,
    user_id: String,
    user_host: Option<String>,
    folder_id: Option<String>,
    name: String,
    #[sqlx(rename = "type")]
    media_type: String,
    md5: Option<String>,
    size: i64,
    is_sensitive: bool,
    comment: Option<String>,
    blurhash: Option<String>,
    width: Option<i64>,
    height: Option<i64>,
    storage_key: Option<String>,
    thumbnail_key: Option<String>,
    thumbnail_type: Option<String>,
    uri: Option<String>,
    created_at: i64,
}

impl From<FileRow> for DriveFile {
    fn from(r: FileRow) -> Self {
        DriveFile {
            id: r.id,
            user_id: r.user_id,
            user_host: r.user_host,
            folder_id: r.folder_id,
            name: r.name,
            media_type: r.media_type,
            md5: r.md5,
            size: r.size,
            is_sensitive: r.is_sensitive,
            comment: r.comment,
            blurhash: r.blurhash,
            width: r.width,
            height: r.height,
            storage_key: r.storage_key,
            thumbnail_key: r.thumbnail_key,
            thumbnail_type: r.thumbnail_type,
            uri: r.uri,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct FolderRow {
    id: String,
    user_id: String,
    name: String,
    parent_id: Option<String>,
    created_at: i64,
}

impl From<FolderRow> for DriveFolder {
    fn from(r: FolderRow) -> Self {
        DriveFolder {
            id: r.id,
            user_id: r.user_id,
            name: r.name,
            parent_id: r.parent_id,
            created_at: r.created_at,
        }
    }
}

/// Bytes of a user's files kept here (remote files that are only linked take none).
const USAGE: &str = "SELECT CAST(SUM(size) AS BIGINT) FROM drive_files \
     WHERE user_id = $1 AND storage_key IS NOT NULL";

/// Which folder a listing looks in.
#[derive(Debug, Clone, Copy)]
pub enum InFolder<'a> {
    /// Every folder (`drive/stream`).
    Any,
    Root,
    Folder(&'a str),
}

/// How a listing of files is ordered: newest first unless told.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FileOrder {
    #[default]
    Newest,
    Oldest,
    NameDesc,
    NameAsc,
    Largest,
    Smallest,
}

impl FileOrder {
    fn sql(self) -> &'static str {
        match self {
            FileOrder::Newest => "id DESC",
            FileOrder::Oldest => "id ASC",
            FileOrder::NameDesc => "name DESC, id DESC",
            FileOrder::NameAsc => "name ASC, id ASC",
            FileOrder::Largest => "size DESC, id DESC",
            FileOrder::Smallest => "size ASC, id ASC",
        }
    }
}

/// A listing of one user's files.
#[derive(Debug, Clone, Copy)]
pub struct FileQuery<'a> {
    pub user_id: &'a str,
    pub folder: InFolder<'a>,
    /// `image/png`, or `image/` for a whole family.
    pub media_type: Option<&'a str>,
    pub name: Option<&'a str>,
    pub md5: Option<&'a str>,
    pub since_id: Option<&'a str>,
    pub until_id: Option<&'a str>,
    pub order: FileOrder,
    pub limit: i64,
}

impl<'a> FileQuery<'a> {
    /// The newest ten of every file of `user_id`; set the fields to narrow it.
    pub fn all_of(user_id: &'a str) -> Self {
        FileQuery {
            user_id,
            folder: InFolder::Any,
            media_type: None,
            name: None,
            md5: None,
            since_id: None,
            until_id: None,
            order: FileOrder::Newest,
            limit: 10,
        }
    }
}

/// Why a folder was not deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderRemoval {
    Removed,
    NotFound,
    NotEmpty,
}

impl Store {
    /// Records an uploaded file if its owner's stored files leave room for it within
    /// `capacity` bytes; false, writing nothing, if they do not. The check and the insert
    /// are one transaction (the owner's row is locked on PostgreSQL), so two uploads at once
    /// cannot both squeeze into the last free space.
    pub async fn insert_drive_file(&self, file: &DriveFile, capacity: i64) -> Result<bool> {
        let lock = self.lock_user_sql();
        let insert = format!(
            "INSERT INTO drive_files ({FILE_COLUMNS}) VALUES ({})",
            placeholders(1, 18)
        );
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(lock)
                .bind(&file.user_id)
                .execute(&mut *tx)
                .await?;
            let used: Option<i64> = sqlx::query_scalar(USAGE)
                .bind(&file.user_id)
                .fetch_one(&mut *tx)
                .await?;
            if used.unwrap_or(0) + file.size > capacity {
                return Ok(false);
            }
            sqlx::query(&insert)
                .bind(&file.id)
                .bind(&file.user_id)
                .bind(&file.user_host)
                .bind(&file.folder_id)
                .bind(&file.name)
                .bind(&file.media_type)
                .bind(&file.md5)
                .bind(file.size)
                .bind(file.is_sensitive)
                .bind(&file.comment)
                .bind(&file.blurhash)
                .bind(file.width)
                .bind(file.height)
                .bind(&file.storage_key)
                .bind(&file.thumbnail_key)
                .bind(&file.thumbnail_type)
                .bind(&file.uri)
                .bind(file.created_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, super::StoreError>(true)
        })
    }

    /// Bytes of `user_id`'s files kept here.
    pub async fn drive_usage(&self, user_id: &str) -> Result<i64> {
        let used: Option<i64> = with_pool!(&self.read, |p| sqlx::query_scalar(USAGE)
            .bind(user_id)
            .fetch_one(p)
            .await)?;
        Ok(used.unwrap_or(0))
    }

    pub async fn drive_file(&self, id: &str) -> Result<Option<DriveFile>> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM drive_files WHERE id = $1");
        Ok(
            with_pool!(&self.read, |p| sqlx::query_as::<_, FileRow>(&sql)
                .bind(id)
                .fetch_optional(p)
                .await)?
            .map(DriveFile::from),
        )
    }

    /// The files among `ids` that exist, in no particular order.
    pub async fn drive_files_by_ids(&self, ids: &[String]) -> Result<Vec<DriveFile>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM drive_files WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        let rows = with_pool!(&self.read, |p| {
            let mut q = sqlx::query_as::<_, FileRow>(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(DriveFile::from).collect())
    }

    /// `user_id`'s file that is the remote file at `uri`.
    pub async fn drive_file_by_uri(&self, user_id: &str, uri: &str) -> Result<Option<DriveFile>> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM drive_files WHERE user_id = $1 AND uri = $2");
        Ok(
            with_pool!(&self.read, |p| sqlx::query_as::<_, FileRow>(&sql)
                .bind(user_id)
                .bind(uri)
                .fetch_optional(p)
                .await)?
            .map(DriveFile::from),
        )
    }

    /// The file stored (or thumbnailed) under blob `key`, with whether `key` is its
    /// thumbnail.
    pub async fn drive_file_by_key(&self, key: &str) -> Result<Option<(DriveFile, bool)>> {
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM drive_files WHERE storage_key = $1 \
             UNION ALL SELECT {FILE_COLUMNS} FROM drive_files WHERE thumbnail_key = $1"
        );
        Ok(
            with_pool!(&self.read, |p| sqlx::query_as::<_, FileRow>(&sql)
                .bind(key)
                .fetch_optional(p)
                .await)?
            .map(|row| {
                let file = DriveFile::from(row);
                let thumbnail = file.thumbnail_key.as_deref() == Some(key);
                (file, thumbnail)
            }),
        )
    }

    /// A page of one user's files.
    pub async fn drive_files_page(&self, q: FileQuery<'_>) -> Result<Vec<DriveFile>> {
        let mut sql = format!(
            "SELECT {FILE_COLUMNS} FROM drive_files WHERE user_id = $1 AND id > $2 AND id < $3"
        );
        let mut n = 3;
        let mut next = || {
            n += 1;
            n
        };
        let folder = match q.folder {
            InFolder::Any => None,
            InFolder::Root => {
                sql.push_str(" AND folder_id IS NULL");
                None
            }
            InFolder::Folder(id) => {
                sql.push_str(&format!(" AND folder_id = ${}", next()));
                Some(id)
            }
        };
        let media_type = q.media_type.map(|t| match t.strip_suffix('/') {
            Some(family) => {
                sql.push_str(&format!(" AND type LIKE ${}", next()));
                format!("{family}/%")
            }
            None => {
                sql.push_str(&format!(" AND type = ${}", next()));
                t.to_owned()
            }
        });
        if q.name.is_some() {
            sql.push_str(&format!(" AND name = ${}", next()));
        }
        if q.md5.is_some() {
            sql.push_str(&format!(" AND md5 = ${}", next()));
        }
        // With only `sinceId`, Misskey returns the oldest matching page.
        let order = if q.order == FileOrder::Newest && q.since_id.is_some() && q.until_id.is_none()
        {
            FileOrder::Oldest
        } else {
            q.order
        };
        sql.push_str(&format!(" ORDER BY {} LIMIT ${}", order.sql(), next()));
        let rows = with_pool!(&self.read, |p| {
            let mut query = sqlx::query_as::<_, FileRow>(&sql)
                .bind(q.user_id)
                .bind(q.since_id.unwrap_or(""))
                .bind(q.until_id.unwrap_or("~"));
            if let Some(folder) = folder {
                query = query.bind(folder);
            }
            if let Some(t) = &media_type {
                query = query.bind(t);
            }
            if let Some(name) = q.name {
                query = query.bind(name);
            }
            if let Some(md5) = q.md5 {
                query = query.bind(md5);
            }
            query.bind(q.limit).fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(DriveFile::from).collect())
    }

    /// Changes a file's details; false if there is no such file.
    pub async fn update_drive_file(&self, id: &str, patch: &DriveFilePatch) -> Result<bool> {
        let mut sets = Vec::new();
        let mut n = 1;
        let mut next = || {
            n += 1;
            n
        };
        if patch.name.is_some() {
            sets.push(format!("name = ${}", next()));
        }
        if patch.folder_id.is_some() {
            sets.push(format!("folder_id = ${}", next()));
        }
        if patch.is_sensitive.is_some() {
            sets.push(format!("is_sensitive = ${}", next()));
        }
        if patch.comment.is_some() {
            sets.push(format!("comment = ${}", next()));
        }
        if sets.is_empty() {
            return Ok(self.drive_file(id).await?.is_some());
        }
        let sql = format!("UPDATE drive_files SET {} WHERE id = $1", sets.join(", "));
        let changed = with_pool!(&self.write, |p| {
            let mut q = sqlx::query(&sql).bind(id);
            if let Some(name) = &patch.name {
                q = q.bind(name);
            }
            if let Some(folder) = &patch.folder_id {
                q = q.bind(folder);
            }
            if let Some(sensitive) = patch.is_sensitive {
                q = q.bind(sensitive);
            }
            if let Some(comment) = &patch.comment {
                q = q.bind(comment);
            }
            q.execute(p).await.map(|r| r.rows_affected())
        })?;
        Ok(changed > 0)
    }

    /// Points a remote file's record at its copy kept here (`file`'s type, size, digest,
    /// preview and keys); false if the record is gone or already has one.
    pub async fn fill_remote_drive_file(&self, file: &DriveFile) -> Result<bool> {
        let changed = with_pool!(&self.write, |p| sqlx::query(
            "UPDATE drive_files SET type = $2, md5 = $3, size = $4, blurhash = $5, \
             width = $6, height = $7, storage_key = $8, thumbnail_key = $9, thumbnail_type = $10 \
             WHERE id = $1 AND storage_key IS NULL"
        )
        .bind(&file.id)
        .bind(&file.media_type)
        .bind(&file.md5)
        .bind(file.size)
        .bind(&file.blurhash)
        .bind(file.width)
        .bind(file.height)
        .bind(&file.storage_key)
        .bind(&file.thumbnail_key)
        .bind(&file.thumbnail_type)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed > 0)
    }

    /// Which of `keys` a file record names (as its bytes or its thumbnail).
    pub async fn known_blob_keys(
        &self,
        keys: &[String],
    ) -> Result<std::collections::HashSet<String>> {
        let mut known = std::collections::HashSet::new();
        for chunk in keys.chunks(500) {
            let list = placeholders(1, chunk.len());
            let sql = format!(
                "SELECT storage_key FROM drive_files WHERE storage_key IN ({list}) \
                 UNION ALL SELECT thumbnail_key FROM drive_files WHERE thumbnail_key IN ({list})"
            );
            let found: Vec<String> = with_pool!(&self.read, |p| {
                let mut q = sqlx::query_scalar::<_, String>(&sql);
                for key in chunk {
                    q = q.bind(key);
                }
                q.fetch_all(p).await
            })?;
            known.extend(found);
        }
        Ok(known)
    }

    /// Puts those of `ids` that are `owner`'s files into `folder` (the root if `None`) and
    /// returns the ids of the files moved.
    pub async fn move_drive_files(
        &self,
        owner: &str,
        ids: &[String],
        folder: Option<&str>,
    ) -> Result<Vec<String>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "UPDATE drive_files SET folder_id = $1 WHERE user_id = $2 AND id IN ({}) RETURNING id",
            placeholders(3, ids.len())
        );
        Ok(with_pool!(&self.write, |p| {
            let mut q = sqlx::query_scalar::<_, String>(&sql)
                .bind(folder)
                .bind(owner);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await
        })?)
    }

    /// Deletes a file's record and returns it (its blobs are the caller's to remove).
    pub async fn delete_drive_file(&self, id: &str) -> Result<Option<DriveFile>> {
        let sql = format!("DELETE FROM drive_files WHERE id = $1 RETURNING {FILE_COLUMNS}");
        Ok(
            with_pool!(&self.write, |p| sqlx::query_as::<_, FileRow>(&sql)
                .bind(id)
                .fetch_optional(p)
                .await)?
            .map(DriveFile::from),
        )
    }

    pub async fn insert_drive_folder(&self, folder: &DriveFolder) -> Result<()> {
        with_pool!(&self.write, |p| sqlx::query(
            "INSERT INTO drive_folders (id, user_id, name, parent_id, created_at) \
             VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(&folder.id)
        .bind(&folder.user_id)
        .bind(&folder.name)
        .bind(&folder.parent_id)
        .bind(folder.created_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn drive_folder(&self, id: &str) -> Result<Option<DriveFolder>> {
        Ok(with_pool!(&self.read, |p| sqlx::query_as::<_, FolderRow>(
            "SELECT id, user_id, name, parent_id, created_at FROM drive_folders WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await)?
        .map(DriveFolder::from))
    }

    /// A page of the folders `user_id` keeps in `parent` (optionally only those named `name`).
    pub async fn drive_folders_page(
        &self,
        user_id: &str,
        parent: Option<&str>,
        name: Option<&str>,
        since_id: Option<&str>,
        until_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<DriveFolder>> {
        let order = if since_id.is_some() && until_id.is_none() {
            "ASC"
        } else {
            "DESC"
        };
        let parent_test = if parent.is_some() {
            "parent_id = $4"
        } else {
            "parent_id IS NULL AND CAST($4 AS TEXT) IS NULL"
        };
        let sql = format!(
            "SELECT id, user_id, name, parent_id, created_at FROM drive_folders \
             WHERE user_id = $1 AND id > $2 AND id < $3 AND {parent_test} \
             AND (CAST($5 AS TEXT) IS NULL OR name = $5) ORDER BY id {order} LIMIT $6"
        );
        let rows = with_pool!(&self.read, |p| sqlx::query_as::<_, FolderRow>(&sql)
            .bind(user_id)
            .bind(since_id.unwrap_or(""))
            .bind(until_id.unwrap_or("~"))
            .bind(parent)
            .bind(name)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(DriveFolder::from).collect())
    }

    /// How many folders and files are directly in folder `id`.
    pub async fn drive_folder_counts(&self, id: &str) -> Result<(i64, i64)> {
        Ok(with_pool!(&self.read, |p| {
            sqlx::query_as::<_, (i64, i64)>(
                "SELECT (SELECT COUNT(*) FROM drive_folders WHERE parent_id = $1), \
                    (SELECT COUNT(*) FROM drive_files WHERE folder_id = $1)",
            )
            .bind(id)
            .fetch_one(p)
            .await
        })?)
    }

    /// Renames folder `id` and puts it in `parent`; false if there is no such folder.
    pub async fn update_drive_folder(
        &self,
        id: &str,
        name: &str,
        parent: Option<&str>,
    ) -> Result<bool> {
        let changed = with_pool!(&self.write, |p| sqlx::query(
            "UPDATE drive_folders SET name = $2, parent_id = $3 WHERE id = $1"
        )
        .bind(id)
        .bind(name)
        .bind(parent)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed > 0)
    }

    /// Deletes folder `id` if nothing is in it, checked in the same transaction.
    pub async fn delete_drive_folder(&self, id: &str) -> Result<FolderRemoval> {
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let (folders, files) = sqlx::query_as::<_, (i64, i64)>(
                "SELECT (SELECT COUNT(*) FROM drive_folders WHERE parent_id = $1), \
                        (SELECT COUNT(*) FROM drive_files WHERE folder_id = $1)",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            if folders + files > 0 {
                return Ok(FolderRemoval::NotEmpty);
            }
            let gone = sqlx::query("DELETE FROM drive_folders WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok::<_, super::StoreError>(if gone == 0 {
                FolderRemoval::NotFound
            } else {
                FolderRemoval::Removed
            })
        })
    }
}
