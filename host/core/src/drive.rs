//! The drive: uploading (sniffed, stripped of metadata, previewed, within the owner's
//! capacity), listing, changing and deleting files, and folders to sort them into.
//!
//! Bytes go to the blob store before the record is written, and are removed after the
//! record is: a process killed in between leaves an unreferenced blob, never a record
//! without its bytes.

use std::time::Duration;

use tsudoi_media::Kind;
use tsudoi_media::blobs::{BlobError, BlobRead};
use tsudoi_model::{
    DriveChange, DriveFile, DriveFilePatch, DriveFolder, Event, HostPolicyKind, User, ids,
    type_admitted,
};
use tsudoi_store::drive::{FileOrder, FileQuery, FolderRemoval, InFolder};

use crate::media_proxy::{self, Variant};
use crate::{Core, Error, Result, random_token};

/// What an admin allows uploads to be (Misskey's role policies `driveCapacityMb`,
/// `maxFileSizeMb` and `uploadableFileTypes`).
#[derive(Debug, Clone)]
pub struct DrivePolicy {
    /// Bytes each user's stored files may take.
    pub capacity_bytes: i64,
    /// The largest single file, in bytes.
    pub max_file_bytes: i64,
    /// `image/*`, `video/mp4`, `*`, …, matched against the type found in a file's content.
    pub uploadable_types: Vec<String>,
}

impl Default for DrivePolicy {
    /// Misskey's defaults: 100 MB of drive, 30 MB a file, text, JSON, images, video and
    /// audio.
    fn default() -> Self {
        DrivePolicy {
            capacity_bytes: 100 << 20,
            max_file_bytes: 30 << 20,
            uploadable_types: [
                "text/*",
                "application/json",
                "image/*",
                "video/*",
                "audio/*",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// The longest file and folder names, and alt text (Misskey's limits).
pub const NAME_MAX: usize = 200;
pub const COMMENT_MAX: usize = 512;
/// How long fetching a file by URL may take.
const URL_FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// A file to add to someone's drive.
#[derive(Debug, Default)]
pub struct NewFile {
    pub data: Vec<u8>,
    /// The name to give it (or the uploaded file's own name); `untitled` if neither.
    pub name: Option<String>,
    pub folder_id: Option<String>,
    pub comment: Option<String>,
    pub is_sensitive: bool,
    /// Store it even if the drive already has the same bytes (otherwise that file is
    /// returned, as Misskey does).
    pub force: bool,
}

/// A name as Misskey accepts it: trimmed, `blob` (what browsers call a nameless file) and
/// the empty string mean none; no path separators or `..`.
fn clean_name(name: Option<String>) -> Result<Option<String>> {
    let Some(name) = name.map(|n| n.trim().to_owned()) else {
        return Ok(None);
    };
    if name.is_empty() || name == "blob" {
        return Ok(None);
    }
    if name.chars().count() > NAME_MAX
        || name.contains('/')
        || name.contains('\\')
        || name.contains("..")
    {
        return Err(Error::InvalidFileName);
    }
    Ok(Some(name))
}

fn clean_comment(comment: Option<String>) -> Result<Option<String>> {
    match comment {
        Some(c) if c.chars().count() > COMMENT_MAX => Err(Error::InvalidParam {
            param: "comment",
            reason: format!("must be at most {COMMENT_MAX} characters"),
        }),
        other => Ok(other),
    }
}

/// The name with the extension its content calls for: kept if it already ends so (`.jpg`
/// and `.jpeg` alike), appended otherwise, as Misskey names files.
fn named_for(name: Option<&str>, extension: &str) -> String {
    let name = name.unwrap_or("untitled");
    if extension.is_empty() {
        return name.to_owned();
    }
    let same = |a: &str, b: &str| {
        let norm = |e: &str| match e.to_ascii_lowercase().as_str() {
            "jpeg" => "jpg".to_owned(),
            "tiff" => "tif".to_owned(),
            other => other.to_owned(),
        };
        norm(a) == norm(b)
    };
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && same(ext, extension) => name.to_owned(),
        _ => format!("{name}.{extension}"),
    }
}

/// Text has no magic number: its name tells JSON and CSV from plain text.
fn refine_text(kind: Kind, name: Option<&str>) -> Kind {
    let ext = name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    match (kind.media_type, ext.as_deref()) {
        ("text/plain", Some("json")) => Kind {
            media_type: "application/json",
            extension: "json",
        },
        ("text/plain", Some("csv")) => Kind {
            media_type: "text/csv",
            extension: "csv",
        },
        _ => kind,
    }
}

/// The folder `id` if it is `owner_id`'s.
async fn own_folder(core: &Core, owner_id: &str, id: &str) -> Result<DriveFolder> {
    core.store()
        .drive_folder(id)
        .await?
        .filter(|f| f.user_id == owner_id)
        .ok_or(Error::NoSuchFolder)
}

/// Adds a file to `me`'s drive. The checks are Misskey's: the size first (before any work
/// on the bytes; Misskey checks it after the next one), the same bytes already there
/// (returned, unless `force`), the type, then the free space. Admins are held to none of
/// them.
pub async fn upload(core: &Core, me: &User, new: NewFile) -> Result<DriveFile> {
    let name = clean_name(new.name)?;
    let comment = clean_comment(new.comment)?;
    if let Some(folder) = &new.folder_id {
        own_folder(core, &me.id, folder).await?;
    }
    let policy = &core.settings().drive;
    if !me.is_admin && new.data.len() as i64 > policy.max_file_bytes {
        return Err(Error::FileTooLarge);
    }
    let processed = process(core, new.data).await?;
    let kind = refine_text(processed.kind, name.as_deref());
    let media_type = kind.media_type;
    if !new.force
        && let Some(mut existing) = core
            .store()
            .drive_files_page(FileQuery {
                md5: Some(&processed.md5),
                limit: 1,
                ..FileQuery::all_of(&me.id)
            })
            .await?
            .pop()
    {
        if new.is_sensitive && !existing.is_sensitive {
            let patch = DriveFilePatch {
                is_sensitive: Some(true),
                ..Default::default()
            };
            core.store().update_drive_file(&existing.id, &patch).await?;
            existing.is_sensitive = true;
        }
        return Ok(existing);
    }
    if !me.is_admin && !type_admitted(media_type, &policy.uploadable_types) {
        return Err(Error::UnallowedFileType);
    }
    let now = ids::now_ms();
    let mut file = DriveFile {
        id: ids::aidx_at(now),
        user_id: me.id.clone(),
        user_host: None,
        folder_id: new.folder_id,
        name: named_for(name.as_deref(), kind.extension),
        media_type: String::new(),
        md5: None,
        size: 0,
        is_sensitive: new.is_sensitive,
        comment,
        blurhash: None,
        width: None,
        height: None,
        storage_key: None,
        thumbnail_key: None,
        thumbnail_type: None,
        uri: None,
        created_at: now,
    };
    keep(core, processed, kind, &mut file).await?;
    let capacity = if me.is_admin {
        i64::MAX
    } else {
        policy.capacity_bytes
    };
    let stored = match core.store().insert_drive_file(&file, capacity).await {
        Ok(stored) => stored,
        Err(e) => {
            remove_blobs(core, &file.blob_keys()).await;
            return Err(e.into());
        }
    };
    if !stored {
        remove_blobs(core, &file.blob_keys()).await;
        return Err(Error::NoFreeSpace);
    }
    core.publish(Event::DriveFileCreated {
        user_id: me.id.clone(),
        file_id: file.id.clone(),
    });
    Ok(file)
}

/// A file another server's note shows, as its `attachment` describes it.
#[derive(Debug, Clone, Default)]
pub struct RemoteFile {
    pub uri: String,
    /// What the other server says it is (checked again by the media proxy when served).
    pub media_type: Option<String>,
    /// Its description (alt text).
    pub comment: Option<String>,
    pub is_sensitive: bool,
    pub blurhash: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

/// The longest remote file URL kept (longer ones are dropped with their file).
const REMOTE_URI_MAX: usize = 2048;

/// Records a file of `owner`'s (a remote user) that stays on their server: shown through
/// the media proxy, never fetched into storage here. The same URL twice is one file.
pub async fn link_remote(core: &Core, owner: &User, remote: RemoteFile) -> Result<DriveFile> {
    let parsed = url::Url::parse(&remote.uri).map_err(|e| Error::BadFile(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || remote.uri.len() > REMOTE_URI_MAX {
        return Err(Error::BadFile(format!("{} is not a file URL", remote.uri)));
    }
    if let Some(file) = core
        .store()
        .drive_file_by_uri(&owner.id, &remote.uri)
        .await?
    {
        return Ok(file);
    }
    let media_type = remote
        .media_type
        .filter(|t| {
            t.len() <= 100
                && t.split_once('/')
                    .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !t.contains(' '))
        })
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let name = parsed
        .path_segments()
        .and_then(|mut s| s.next_back())
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(NAME_MAX).collect())
        .unwrap_or_else(|| "untitled".to_owned());
    let now = ids::now_ms();
    let file = DriveFile {
        id: ids::aidx_at(now),
        user_id: owner.id.clone(),
        user_host: owner.host.clone(),
        folder_id: None,
        name,
        media_type,
        md5: None,
        size: 0,
        is_sensitive: remote.is_sensitive,
        comment: remote
            .comment
            .map(|c| c.chars().take(COMMENT_MAX).collect()),
        blurhash: remote.blurhash.filter(|b| b.len() <= 128),
        width: remote.width.filter(|w| (1..=100_000).contains(w)),
        height: remote.height.filter(|h| (1..=100_000).contains(h)),
        storage_key: None,
        thumbnail_key: None,
        thumbnail_type: None,
        uri: Some(remote.uri),
        created_at: now,
    };
    // Not kept here: it takes none of the owner's capacity.
    core.store().insert_drive_file(&file, i64::MAX).await?;
    if let Some(host) = owner.host.as_deref()
        && crate::host_policy::host_policy(core)
            .await?
            .applies(HostPolicyKind::MediaCached, host)
    {
        cache_remote_later(core, file.clone());
    }
    Ok(file)
}

/// The most of a remote file kept when its server's files are cached here.
const CACHED_FILE_MAX: usize = 50 << 20;

/// Fetches a remote file whose server's files the admin chose to keep here, in the
/// background: cleaned and previewed as an upload is, then served from this server's
/// storage. Until then, or if fetching fails, it is shown through the media proxy as
/// before; a restart in between leaves it so.
fn cache_remote_later(core: &Core, file: DriveFile) {
    let core = core.clone();
    tokio::spawn(async move {
        if let Err(e) = cache_remote(&core, file.clone()).await {
            tracing::warn!(uri = ?file.uri, error = %e, "a remote file was not cached");
        }
    });
}

async fn cache_remote(core: &Core, mut file: DriveFile) -> Result<()> {
    let Some(uri) = file.uri.clone() else {
        return Ok(());
    };
    let fetched = core
        .http()
        .get_following_redirects(&uri, "*/*", URL_FETCH_TIMEOUT, CACHED_FILE_MAX)
        .await
        .map_err(|e| Error::BadFile(format!("cannot fetch {uri}: {e}")))?;
    if fetched.status != 200 {
        return Err(Error::BadFile(format!("{uri} answered {}", fetched.status)));
    }
    let processed = process(core, fetched.body).await?;
    let kind = processed.kind;
    // Pictures, video and sound only, as the media proxy passes them.
    if !["image/", "video/", "audio/"]
        .iter()
        .any(|family| kind.media_type.starts_with(family))
    {
        return Err(Error::BadFile(format!("{uri} is {}", kind.media_type)));
    }
    keep(core, processed, kind, &mut file).await?;
    if !core.store().fill_remote_drive_file(&file).await? {
        // Deleted meanwhile.
        remove_blobs(core, &file.blob_keys()).await;
    }
    Ok(())
}

/// Fetches `url` through the guarded client (following a few redirects, each checked) and
/// adds it to `me`'s drive, named after the URL's last segment.
pub async fn upload_from_url(core: &Core, me: &User, url: &str, new: NewFile) -> Result<DriveFile> {
    let max = core.settings().drive.max_file_bytes;
    let max = if me.is_admin { 1 << 30 } else { max as usize };
    let fetched = core
        .http()
        .get_following_redirects(url, "*/*", URL_FETCH_TIMEOUT, max)
        .await
        .map_err(|e| match e {
            tsudoi_net::FetchError::TooLarge(_) => Error::FileTooLarge,
            e => Error::BadFile(format!("cannot fetch {url}: {e}")),
        })?;
    if fetched.status != 200 {
        return Err(Error::BadFile(format!("{url} answered {}", fetched.status)));
    }
    let name = new.name.clone().or_else(|| {
        url::Url::parse(url).ok().and_then(|u| {
            u.path_segments()
                .and_then(|mut s| s.next_back())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        })
    });
    upload(
        core,
        me,
        NewFile {
            data: fetched.body,
            name,
            ..new
        },
    )
    .await
}

/// Checks `url` and adds the file behind it to `me`'s drive in the background (Misskey
/// answers at once); `urlUploadFinished`, with `marker`, tells the client when it is there.
pub fn upload_from_url_later(
    core: &Core,
    me: User,
    url: String,
    marker: Option<String>,
    new: NewFile,
) -> Result<()> {
    let parsed = url::Url::parse(&url).map_err(|e| Error::InvalidParam {
        param: "url",
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::InvalidParam {
            param: "url",
            reason: "must be an http or https URL".into(),
        });
    }
    clean_comment(new.comment.clone())?;
    let core = core.clone();
    tokio::spawn(async move {
        match upload_from_url(&core, &me, &url, new).await {
            Ok(file) => core.publish(Event::UrlUploadFinished {
                user_id: me.id,
                file_id: file.id,
                marker,
            }),
            Err(e) => tracing::info!(url, error = %e, "upload from a URL failed"),
        }
    });
    Ok(())
}

/// Removes stored bytes no file record names, written at least `min_age` ago: what a crash
/// between writing a file's bytes and its record (bytes go first, so no record ever lacks
/// them) or a failed removal left behind. `min_age` keeps uploads in flight safe: their
/// record follows their bytes within seconds. Returns how many were removed.
pub async fn sweep_orphans(core: &Core, min_age: Duration) -> Result<usize> {
    use futures_util::StreamExt;
    let cutoff = ids::now_ms() - min_age.as_millis() as i64;
    let mut listed = core.blobs().written_before(cutoff).chunks(500);
    let mut removed = 0;
    while let Some(page) = listed.next().await {
        let keys = page
            .into_iter()
            .collect::<std::result::Result<Vec<String>, _>>()
            .map_err(blob_error)?;
        let known = core.store().known_blob_keys(&keys).await?;
        for key in keys.iter().filter(|k| !known.contains(*k)) {
            match core.blobs().delete(key).await {
                Ok(()) => removed += 1,
                Err(e) => tracing::warn!(key, error = %e, "cannot remove an orphan file"),
            }
        }
    }
    Ok(removed)
}

/// Sniffs, cleans and previews `data` on the blocking pool, one file per core at a time.
async fn process(core: &Core, data: Vec<u8>) -> Result<tsudoi_media::Processed> {
    let _slot = core.media_slot().await;
    tokio::task::spawn_blocking(move || tsudoi_media::process(&data))
        .await
        .map_err(|e| Error::Internal(format!("processing a file failed: {e}")))?
        .map_err(|e| Error::BadFile(e.to_string()))
}

/// Puts `processed` (its bytes and thumbnail) in the blob store under fresh keys and fills
/// in what `file` says of them. Nothing is left in the store if it fails.
async fn keep(
    core: &Core,
    processed: tsudoi_media::Processed,
    kind: tsudoi_media::Kind,
    file: &mut DriveFile,
) -> Result<()> {
    let token = random_token(32);
    let storage_key = match kind.extension {
        "" => token.clone(),
        ext => format!("{token}.{ext}"),
    };
    let picture = processed.picture;
    let thumbnail = picture.as_ref().and_then(|p| p.thumbnail.as_ref());
    let thumbnail_key = thumbnail.map(|t| match t.media_type {
        "image/webp" => format!("thumbnail-{token}.webp"),
        _ => format!("thumbnail-{token}.jpg"),
    });
    file.media_type = kind.media_type.to_owned();
    file.md5 = Some(processed.md5);
    file.size = processed.data.len() as i64;
    file.thumbnail_type = thumbnail.map(|t| t.media_type.to_owned());
    if let Some(p) = &picture {
        file.blurhash = p.blurhash.clone();
        file.width = Some(i64::from(p.width));
        file.height = Some(i64::from(p.height));
    }
    let blobs = core.blobs();
    blobs
        .put(&storage_key, processed.data)
        .await
        .map_err(blob_error)?;
    if let (Some(key), Some(thumb)) = (&thumbnail_key, picture.and_then(|p| p.thumbnail))
        && let Err(e) = blobs.put(key, thumb.data).await
    {
        remove_blobs(core, &[&storage_key]).await;
        return Err(blob_error(e));
    }
    file.storage_key = Some(storage_key);
    file.thumbnail_key = thumbnail_key;
    Ok(())
}

fn blob_error(e: BlobError) -> Error {
    Error::Internal(format!("the file store failed: {e}"))
}

/// Removes blobs no record refers to any more; failures are logged (the blob is then an
/// orphan, which costs space, not data).
async fn remove_blobs(core: &Core, keys: &[&str]) {
    for key in keys {
        if let Err(e) = core.blobs().delete(key).await {
            tracing::warn!(key, error = %e, "cannot remove a stored file");
        }
    }
}

/// The file `id`, if `me` may manage it (their own, or any for an admin).
pub async fn show(core: &Core, me: &User, id: &str) -> Result<DriveFile> {
    let file = core
        .store()
        .drive_file(id)
        .await?
        .ok_or(Error::NoSuchFile)?;
    if file.user_id != me.id && !me.is_admin {
        return Err(Error::AccessDenied);
    }
    Ok(file)
}

/// The file whose served URL (or thumbnail URL) is `url`, if it is `me`'s.
pub async fn show_by_url(core: &Core, me: &User, url: &str) -> Result<DriveFile> {
    let key = url.rsplit('/').next().unwrap_or_default();
    let (file, _) = core
        .store()
        .drive_file_by_key(key)
        .await?
        .ok_or(Error::NoSuchFile)?;
    let shown = shown(core, file);
    if shown.url != url && shown.thumbnail_url.as_deref() != Some(url) {
        return Err(Error::NoSuchFile);
    }
    if shown.file.user_id != me.id && !me.is_admin {
        return Err(Error::AccessDenied);
    }
    Ok(shown.file)
}

/// A file with where clients fetch it and its thumbnail.
#[derive(Debug, Clone)]
pub struct ShownFile {
    pub file: DriveFile,
    pub url: String,
    pub thumbnail_url: Option<String>,
}

/// A file with its URLs: the blob store's public URL when it has one, else this server's
/// `/files/{key}`; a remote file not kept here goes through the media proxy.
pub fn shown(core: &Core, file: DriveFile) -> ShownFile {
    let base = core.settings().base_url();
    let served = |key: &str| {
        core.blobs()
            .public_url(key)
            .unwrap_or_else(|| format!("{base}/files/{key}"))
    };
    let (url, thumbnail_url) = match (&file.storage_key, &file.uri) {
        (Some(key), _) => (served(key), file.thumbnail_key.as_deref().map(served)),
        (None, Some(uri)) => (
            media_proxy::url(core, uri, Variant::Original),
            file.media_type
                .starts_with("image/")
                .then(|| media_proxy::url(core, uri, Variant::Static)),
        ),
        (None, None) => (String::new(), None),
    };
    ShownFile {
        file,
        url,
        thumbnail_url,
    }
}

/// Which files to list.
#[derive(Debug, Default)]
pub struct FileFilter {
    /// `None`: every folder (`drive/stream`); `Some(None)`: the root.
    pub folder: Option<Option<String>>,
    /// `image/png`, or `image/*` for a family.
    pub media_type: Option<String>,
    pub name: Option<String>,
    pub md5: Option<String>,
    pub order: FileOrder,
}

/// A page of `me`'s files.
pub async fn files(
    core: &Core,
    me: &User,
    filter: &FileFilter,
    page: &tsudoi_model::Page,
) -> Result<Vec<ShownFile>> {
    let folder = match &filter.folder {
        None => InFolder::Any,
        Some(None) => InFolder::Root,
        Some(Some(id)) => InFolder::Folder(id),
    };
    let media_type = filter
        .media_type
        .as_deref()
        .map(|t| t.strip_suffix('*').unwrap_or(t));
    Ok(core
        .store()
        .drive_files_page(FileQuery {
            folder,
            media_type,
            name: filter.name.as_deref(),
            md5: filter.md5.as_deref(),
            since_id: page.since_id.as_deref(),
            until_id: page.until_id.as_deref(),
            order: filter.order,
            limit: page.limit,
            ..FileQuery::all_of(&me.id)
        })
        .await?
        .into_iter()
        .map(|f| shown(core, f))
        .collect())
}

/// Bytes `me`'s files take, and how many they may.
pub async fn usage(core: &Core, me: &User) -> Result<(i64, i64)> {
    Ok((
        core.store().drive_usage(&me.id).await?,
        core.settings().drive.capacity_bytes,
    ))
}

/// Changes a file's name, folder, sensitivity or alt text.
pub async fn update(
    core: &Core,
    me: &User,
    id: &str,
    mut patch: DriveFilePatch,
) -> Result<DriveFile> {
    let file = show(core, me, id).await?;
    if let Some(name) = patch.name.take() {
        patch.name = Some(clean_name(Some(name))?.ok_or(Error::InvalidFileName)?);
    }
    if let Some(comment) = patch.comment.take() {
        patch.comment = Some(clean_comment(comment)?);
    }
    // The file goes in one of its owner's folders (an admin may be moving someone's file).
    if let Some(Some(folder)) = &patch.folder_id {
        own_folder(core, &file.user_id, folder).await?;
    }
    if !core.store().update_drive_file(&file.id, &patch).await? {
        return Err(Error::NoSuchFile);
    }
    let updated = core
        .store()
        .drive_file(&file.id)
        .await?
        .ok_or(Error::NoSuchFile)?;
    changed(
        core,
        &updated.user_id,
        DriveChange::FileUpdated {
            file_id: updated.id.clone(),
        },
    );
    Ok(updated)
}

/// Moves those of `ids` that are `me`'s files into `folder` (the root if `None`); others'
/// and unknown ids are passed over, as in Misskey. Each file moved is told as updated.
pub async fn move_files(
    core: &Core,
    me: &User,
    ids: &[String],
    folder: Option<&str>,
) -> Result<()> {
    if let Some(folder) = folder {
        own_folder(core, &me.id, folder).await?;
    }
    for file_id in core.store().move_drive_files(&me.id, ids, folder).await? {
        changed(core, &me.id, DriveChange::FileUpdated { file_id });
    }
    Ok(())
}

/// A page of the notes that show `me`'s file `id` (only notes `me` may see).
pub async fn attached_notes(
    core: &Core,
    me: &User,
    id: &str,
    page: &tsudoi_model::Page,
) -> Result<tsudoi_model::Listing> {
    let file = show(core, me, id).await?;
    // Only a file's owner can attach it, so its notes are the owner's.
    let source = tsudoi_model::NoteSource::User {
        user_id: file.user_id.clone(),
    };
    let filter = tsudoi_model::NoteFilter {
        with_file: Some(file.id),
        ..Default::default()
    };
    crate::timelines::list(core, source, Some(&me.id), &filter, page).await
}

/// Tells `user_id`'s `drive` streams.
fn changed(core: &Core, user_id: &str, change: DriveChange) {
    core.publish(Event::DriveChanged {
        user_id: user_id.to_owned(),
        change,
    });
}

/// Deletes a file and its bytes. Notes that showed it show it no more.
pub async fn delete(core: &Core, me: &User, id: &str) -> Result<()> {
    let file = show(core, me, id).await?;
    let Some(gone) = core.store().delete_drive_file(&file.id).await? else {
        return Err(Error::NoSuchFile);
    };
    remove_blobs(core, &gone.blob_keys()).await;
    changed(
        core,
        &gone.user_id,
        DriveChange::FileDeleted { file_id: gone.id },
    );
    Ok(())
}

/// A stored file's bytes (or its thumbnail's), for `/files/{key}`: the file, whether `key`
/// is its thumbnail, and the bytes asked for (`range` as in an HTTP Range header).
pub async fn open(
    core: &Core,
    key: &str,
    range: Option<(u64, Option<u64>)>,
) -> Result<Option<(DriveFile, bool, BlobRead)>> {
    let Some((file, thumbnail)) = core.store().drive_file_by_key(key).await? else {
        return Ok(None);
    };
    match core.blobs().get(key, range).await {
        Ok(Some(read)) => Ok(Some((file, thumbnail, read))),
        Ok(None) => Ok(None),
        Err(BlobError::BadRange) => Err(Error::RangeNotSatisfiable),
        Err(e) => Err(blob_error(e)),
    }
}

/// Creates a folder in `parent` (the root if `None`).
pub async fn create_folder(
    core: &Core,
    me: &User,
    name: Option<String>,
    parent: Option<String>,
) -> Result<DriveFolder> {
    let name = folder_name(name)?;
    if let Some(parent) = &parent {
        own_folder(core, &me.id, parent).await?;
    }
    let now = ids::now_ms();
    let folder = DriveFolder {
        id: ids::aidx_at(now),
        user_id: me.id.clone(),
        name,
        parent_id: parent,
        created_at: now,
    };
    core.store().insert_drive_folder(&folder).await?;
    changed(
        core,
        &me.id,
        DriveChange::FolderCreated {
            folder_id: folder.id.clone(),
        },
    );
    Ok(folder)
}

fn folder_name(name: Option<String>) -> Result<String> {
    let name = name.map(|n| n.trim().to_owned()).unwrap_or_default();
    if name.chars().count() > NAME_MAX {
        return Err(Error::InvalidParam {
            param: "name",
            reason: format!("must be at most {NAME_MAX} characters"),
        });
    }
    Ok(if name.is_empty() {
        "Untitled".to_owned()
    } else {
        name
    })
}

/// A folder with what Misskey's detailed folder shows: how many folders and files are in
/// it, and the folders it is in, nearest first.
pub struct FolderDetail {
    pub folder: DriveFolder,
    pub folders_count: i64,
    pub files_count: i64,
    pub ancestors: Vec<DriveFolder>,
}

/// How deep folders may nest (and how far up a parent chain is followed).
const MAX_DEPTH: usize = 32;

/// One of `me`'s folders.
pub async fn folder(core: &Core, me: &User, id: &str) -> Result<DriveFolder> {
    own_folder(core, &me.id, id).await
}

pub async fn folder_detail(core: &Core, me: &User, id: &str) -> Result<FolderDetail> {
    let folder = own_folder(core, &me.id, id).await?;
    let (folders_count, files_count) = core.store().drive_folder_counts(&folder.id).await?;
    let mut ancestors = Vec::new();
    let mut next = folder.parent_id.clone();
    while let Some(id) = next.take() {
        if ancestors.len() >= MAX_DEPTH {
            break;
        }
        if let Some(parent) = core.store().drive_folder(&id).await? {
            next = parent.parent_id.clone();
            ancestors.push(parent);
        }
    }
    Ok(FolderDetail {
        folder,
        folders_count,
        files_count,
        ancestors,
    })
}

/// Renames a folder or moves it into `parent` (`Some(None)`: the root), refusing to put a
/// folder inside itself or its own subfolders.
pub async fn update_folder(
    core: &Core,
    me: &User,
    id: &str,
    name: Option<String>,
    parent: Option<Option<String>>,
) -> Result<DriveFolder> {
    let mut folder = own_folder(core, &me.id, id).await?;
    if let Some(name) = name {
        folder.name = folder_name(Some(name))?;
    }
    if let Some(parent) = parent {
        if let Some(parent_id) = &parent {
            let mut cursor = Some(
                own_folder(core, &me.id, parent_id)
                    .await
                    .map_err(|_| Error::NoSuchParentFolder)?,
            );
            let mut depth = 0;
            while let Some(f) = cursor {
                if f.id == folder.id || depth > MAX_DEPTH {
                    return Err(Error::RecursiveNesting);
                }
                depth += 1;
                cursor = match f.parent_id {
                    Some(up) => core.store().drive_folder(&up).await?,
                    None => None,
                };
            }
        }
        folder.parent_id = parent;
    }
    if !core
        .store()
        .update_drive_folder(&folder.id, &folder.name, folder.parent_id.as_deref())
        .await?
    {
        return Err(Error::NoSuchFolder);
    }
    changed(
        core,
        &me.id,
        DriveChange::FolderUpdated {
            folder_id: folder.id.clone(),
        },
    );
    Ok(folder)
}

/// Deletes an empty folder.
pub async fn delete_folder(core: &Core, me: &User, id: &str) -> Result<()> {
    let folder = own_folder(core, &me.id, id).await?;
    match core.store().delete_drive_folder(&folder.id).await? {
        FolderRemoval::Removed => {
            changed(
                core,
                &me.id,
                DriveChange::FolderDeleted {
                    folder_id: folder.id,
                },
            );
            Ok(())
        }
        FolderRemoval::NotFound => Err(Error::NoSuchFolder),
        FolderRemoval::NotEmpty => Err(Error::HasChildFilesOrFolders),
    }
}

/// A page of `me`'s folders in `parent` (the root if `None`), optionally by name.
pub async fn folders(
    core: &Core,
    me: &User,
    parent: Option<&str>,
    name: Option<&str>,
    page: &tsudoi_model::Page,
) -> Result<Vec<DriveFolder>> {
    Ok(core
        .store()
        .drive_folders_page(
            &me.id,
            parent,
            name,
            page.since_id.as_deref(),
            page.until_id.as_deref(),
            page.limit,
        )
        .await?)
}

/// The files among `ids` that exist, in the order asked for (for notes).
pub async fn by_ids(core: &Core, ids: &[String]) -> Result<Vec<DriveFile>> {
    let found = core.store().drive_files_by_ids(ids).await?;
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|f| &f.id == id).cloned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_the_extension_their_content_calls_for() {
        assert_eq!(named_for(Some("cat.jpeg"), "jpg"), "cat.jpeg");
        assert_eq!(named_for(Some("cat.JPG"), "jpg"), "cat.JPG");
        assert_eq!(named_for(Some("cat.png"), "jpg"), "cat.png.jpg");
        assert_eq!(named_for(Some("cat"), "webp"), "cat.webp");
        assert_eq!(named_for(None, "png"), "untitled.png");
        assert_eq!(named_for(Some(".hidden"), "gif"), ".hidden.gif");
        assert_eq!(named_for(Some("notes"), ""), "notes");
    }

    #[test]
    fn names_with_paths_are_refused_and_browser_placeholders_mean_none() {
        assert_eq!(clean_name(Some("  blob ".into())).unwrap(), None);
        assert_eq!(clean_name(Some("".into())).unwrap(), None);
        assert_eq!(
            clean_name(Some(" a.png ".into())).unwrap().as_deref(),
            Some("a.png")
        );
        for bad in ["../etc/passwd", "a/b.png", "a\\b.png", &"x".repeat(201)] {
            assert!(
                matches!(clean_name(Some(bad.into())), Err(Error::InvalidFileName)),
                "{bad}"
            );
        }
    }
}
