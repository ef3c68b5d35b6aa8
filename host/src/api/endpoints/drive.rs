//! The drive (see `tsudoi_core::drive`): uploads, files, folders and usage, with Misskey's
//! parameters and its error ids, which differ per endpoint.

use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tsudoi_core::drive::{self, FileFilter, NewFile, ShownFile};
use tsudoi_model::DriveFilePatch;
use tsudoi_store::drive::FileOrder;

use super::notes::respond;
use super::{Paging, check_id, double_option};
use crate::api::entities::{DriveFile, DriveFolder};
use crate::api::{ApiError, ApiResult, Ctx, Endpoint, Reply, json};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            "drive",
            "How much of your drive is used, of how much.",
            usage,
        )
        .credential()
        .kind("read:drive"),
        Endpoint::new(
            "drive/files",
            "Your files in one folder (the root by default).",
            files,
        )
        .credential()
        .kind("read:drive"),
        Endpoint::new(
            "drive/stream",
            "Your files in every folder, newest first.",
            stream,
        )
        .credential()
        .kind("read:drive"),
        Endpoint::new(
            "drive/files/create",
            "Upload a file (multipart: the file in `file`, the token in `i`). Its type is \
             found from its content; metadata such as EXIF and GPS is removed; pictures get a \
             thumbnail and a blurhash.",
            create,
        )
        .credential()
        .kind("write:drive")
        .per_hour(120)
        .drive_upload(),
        Endpoint::new(
            "drive/files/upload-from-url",
            "Add the file at a URL to your drive. Answers at once; `urlUploadFinished` on the \
             main stream carries the file (with `marker`) when it is stored.",
            upload_from_url,
        )
        .credential()
        .kind("write:drive")
        .per_hour(60),
        Endpoint::new("drive/files/show", "One of your files, by id or URL.", show)
            .credential()
            .kind("read:drive"),
        Endpoint::new(
            "drive/files/update",
            "Rename a file, move it, mark it sensitive or change its description.",
            update,
        )
        .credential()
        .kind("write:drive"),
        Endpoint::new("drive/files/delete", "Delete a file.", delete)
            .credential()
            .kind("write:drive"),
        Endpoint::new(
            "drive/files/attached-notes",
            "The notes that show one of your files.",
            attached_notes,
        )
        .credential()
        .kind("read:drive"),
        Endpoint::new(
            "drive/files/move-bulk",
            "Move up to 100 of your files into a folder (or the root).",
            move_bulk,
        )
        .credential()
        .kind("write:drive"),
        Endpoint::new("drive/files/find", "Your files with this name.", find)
            .credential()
            .kind("read:drive"),
        Endpoint::new(
            "drive/files/find-by-hash",
            "Your files with this MD5.",
            find_by_hash,
        )
        .credential()
        .kind("read:drive"),
        Endpoint::new(
            "drive/files/check-existence",
            "Whether your drive holds a file with this MD5.",
            check_existence,
        )
        .credential()
        .kind("read:drive"),
        Endpoint::new("drive/folders", "Your folders in one folder.", folders)
            .credential()
            .kind("read:drive"),
        Endpoint::new("drive/folders/create", "Create a folder.", folder_create)
            .credential()
            .kind("write:drive")
            .per_hour(10),
        Endpoint::new(
            "drive/folders/show",
            "A folder, with how many folders and files it holds and its parents.",
            folder_show,
        )
        .credential()
        .kind("read:drive"),
        Endpoint::new(
            "drive/folders/update",
            "Rename a folder or move it.",
            folder_update,
        )
        .credential()
        .kind("write:drive"),
        Endpoint::new(
            "drive/folders/delete",
            "Delete an empty folder.",
            folder_delete,
        )
        .credential()
        .kind("write:drive"),
        Endpoint::new(
            "drive/folders/find",
            "Your folders with this name.",
            folder_find,
        )
        .credential()
        .kind("read:drive"),
    ]
}

/// The ids Misskey gives one endpoint's "no such file" and "access denied".
struct FileIds {
    no_such_file: &'static str,
    access_denied: &'static str,
}

const SHOW: FileIds = FileIds {
    no_such_file: "067bc436-2718-4795-b0fb-ecbe43949e31",
    access_denied: "25b73c73-68b1-41d0-bad1-381cfdf6579f",
};
const UPDATE: FileIds = FileIds {
    no_such_file: "e7778c7e-3af9-49cd-9690-6dbc3e6c972d",
    access_denied: "01a53b27-82fc-445b-a0c1-b558465a8ed2",
};
const DELETE: FileIds = FileIds {
    no_such_file: "908939ec-e52b-4458-b395-1025195cea58",
    access_denied: "5eb8d909-2540-4970-90b8-dd6f86088121",
};

fn file_error(e: tsudoi_core::Error, ids: &FileIds) -> ApiError {
    use tsudoi_core::Error as E;
    match e {
        E::NoSuchFile => ApiError::new(
            StatusCode::BAD_REQUEST,
            "NO_SUCH_FILE",
            "No such file.",
            ids.no_such_file,
        ),
        E::AccessDenied => ApiError::new(
            StatusCode::FORBIDDEN,
            "ACCESS_DENIED",
            "Access denied.",
            ids.access_denied,
        ),
        other => other.into(),
    }
}

/// A file put in a folder that is not the caller's (`drive/files/update`'s id; Misskey's
/// `create` has none, failing with an internal error).
const NO_SUCH_TARGET_FOLDER: &str = "ea8fb7a5-af77-4a08-b608-c0218176cd73";

/// Misskey gives each folder endpoint its own "no such folder" id.
fn folder_error(e: tsudoi_core::Error, no_such_folder: &'static str) -> ApiError {
    match e {
        tsudoi_core::Error::NoSuchFolder => ApiError::new(
            StatusCode::BAD_REQUEST,
            "NO_SUCH_FOLDER",
            "No such folder.",
            no_such_folder,
        ),
        other => other.into(),
    }
}

#[derive(Serialize)]
struct Usage {
    capacity: i64,
    usage: i64,
}

async fn usage(ctx: Ctx, _: super::NoParams) -> ApiResult<Reply> {
    let (usage, capacity) = drive::usage(&ctx.core, ctx.me()?).await?;
    json(Usage { capacity, usage })
}

fn pack_all(files: &[ShownFile]) -> Vec<DriveFile<'_>> {
    files.iter().map(DriveFile::pack).collect()
}

/// `+createdAt` is newest first (Misskey's `+` is descending).
fn order(sort: Option<&str>) -> ApiResult<FileOrder> {
    Ok(match sort {
        None | Some("+createdAt") => FileOrder::Newest,
        Some("-createdAt") => FileOrder::Oldest,
        Some("+name") => FileOrder::NameDesc,
        Some("-name") => FileOrder::NameAsc,
        Some("+size") => FileOrder::Largest,
        Some("-size") => FileOrder::Smallest,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "sort",
                "must be one of +createdAt, -createdAt, +name, -name, +size, -size",
            ));
        }
    })
}

/// `image/png` or `image/*`: letters, `/`, `-` and `*` (Misskey's pattern).
fn check_type(t: Option<String>) -> ApiResult<Option<String>> {
    match t {
        Some(t)
            if !t
                .chars()
                .all(|c| c.is_ascii_alphabetic() || "/-*".contains(c)) =>
        {
            Err(ApiError::invalid_param(
                "type",
                "must be a media type such as image/png or image/*",
            ))
        }
        other => Ok(other),
    }
}

fn folder_param(folder: Option<String>) -> ApiResult<Option<String>> {
    folder
        .map(|f| check_id("folderId", &f).map(str::to_owned))
        .transpose()
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct FilesParams {
    #[serde(flatten)]
    paging: Paging,
    /// The folder to list; `null` (the default) for the root.
    folder_id: Option<String>,
    /// `image/png`, or `image/*` for a whole family.
    #[serde(rename = "type")]
    media_type: Option<String>,
    /// `+createdAt` (the default), `-createdAt`, `+name`, `-name`, `+size`, `-size`.
    sort: Option<String>,
}

async fn files(ctx: Ctx, p: FilesParams) -> ApiResult<Reply> {
    let filter = FileFilter {
        folder: Some(folder_param(p.folder_id)?),
        media_type: check_type(p.media_type)?,
        order: order(p.sort.as_deref())?,
        ..FileFilter::default()
    };
    let found = drive::files(&ctx.core, ctx.me()?, &filter, &p.paging.page(10)?).await?;
    json(pack_all(&found))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct StreamParams {
    #[serde(flatten)]
    paging: Paging,
    #[serde(rename = "type")]
    media_type: Option<String>,
}

async fn stream(ctx: Ctx, p: StreamParams) -> ApiResult<Reply> {
    let filter = FileFilter {
        media_type: check_type(p.media_type)?,
        ..FileFilter::default()
    };
    let found = drive::files(&ctx.core, ctx.me()?, &filter, &p.paging.page(10)?).await?;
    json(pack_all(&found))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct CreateParams {
    folder_id: Option<String>,
    /// Defaults to the uploaded file's own name.
    name: Option<String>,
    /// The description for those who cannot see it (at most 512 characters).
    comment: Option<String>,
    #[serde(default)]
    is_sensitive: bool,
    /// Store it even if your drive already holds the same bytes.
    #[serde(default)]
    force: bool,
}

async fn create(mut ctx: Ctx, p: CreateParams) -> ApiResult<Reply> {
    let Some(upload) = ctx.file.take() else {
        return Err(ApiError::invalid_param("file", "a file is required"));
    };
    let new = NewFile {
        data: upload.data,
        name: p.name.or(upload.name),
        folder_id: folder_param(p.folder_id)?,
        comment: p.comment,
        is_sensitive: p.is_sensitive,
        force: p.force,
    };
    let file = drive::upload(&ctx.core, ctx.me()?, new)
        .await
        .map_err(|e| folder_error(e, NO_SUCH_TARGET_FOLDER))?;
    json(DriveFile::pack(&drive::shown(&ctx.core, file)))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct FromUrlParams {
    url: String,
    folder_id: Option<String>,
    #[serde(default)]
    is_sensitive: bool,
    comment: Option<String>,
    /// Comes back with the file in `urlUploadFinished`.
    marker: Option<String>,
    #[serde(default)]
    force: bool,
}

async fn upload_from_url(ctx: Ctx, p: FromUrlParams) -> ApiResult<Reply> {
    let me = ctx.me()?.clone();
    let new = NewFile {
        folder_id: folder_param(p.folder_id)?,
        comment: p.comment,
        is_sensitive: p.is_sensitive,
        force: p.force,
        ..NewFile::default()
    };
    drive::upload_from_url_later(&ctx.core, me, p.url, p.marker, new)?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ShowParams {
    file_id: Option<String>,
    /// The file's URL or its thumbnail's.
    url: Option<String>,
}

async fn show(ctx: Ctx, p: ShowParams) -> ApiResult<Reply> {
    let me = ctx.me()?;
    let file = match (&p.file_id, &p.url) {
        (Some(id), _) => drive::show(&ctx.core, me, check_id("fileId", id)?).await,
        (None, Some(url)) => drive::show_by_url(&ctx.core, me, url).await,
        (None, None) => {
            return Err(ApiError::invalid_param(
                "fileId",
                "fileId or url is required",
            ));
        }
    }
    .map_err(|e| file_error(e, &SHOW))?;
    json(DriveFile::pack(&drive::shown(&ctx.core, file)))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateParams {
    file_id: String,
    /// `null` moves it to the root.
    #[serde(default, deserialize_with = "double_option")]
    folder_id: Option<Option<String>>,
    name: Option<String>,
    is_sensitive: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    comment: Option<Option<String>>,
}

async fn update(ctx: Ctx, p: UpdateParams) -> ApiResult<Reply> {
    let folder_id = match p.folder_id {
        Some(Some(f)) => Some(Some(check_id("folderId", &f)?.to_owned())),
        other => other,
    };
    let patch = DriveFilePatch {
        name: p.name,
        folder_id,
        is_sensitive: p.is_sensitive,
        comment: p.comment,
    };
    let id = check_id("fileId", &p.file_id)?;
    let file = drive::update(&ctx.core, ctx.me()?, id, patch)
        .await
        .map_err(|e| match e {
            tsudoi_core::Error::InvalidFileName => ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_FILE_NAME",
                "Invalid file name.",
                "395e7156-f9f0-475e-af89-53c3c23080c2",
            ),
            tsudoi_core::Error::NoSuchFolder => folder_error(e, NO_SUCH_TARGET_FOLDER),
            e => file_error(e, &UPDATE),
        })?;
    json(DriveFile::pack(&drive::shown(&ctx.core, file)))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct FileIdParams {
    file_id: String,
}

async fn delete(ctx: Ctx, p: FileIdParams) -> ApiResult<Reply> {
    let id = check_id("fileId", &p.file_id)?;
    drive::delete(&ctx.core, ctx.me()?, id)
        .await
        .map_err(|e| file_error(e, &DELETE))?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct AttachedParams {
    file_id: String,
    #[serde(flatten)]
    paging: Paging,
}

async fn attached_notes(ctx: Ctx, p: AttachedParams) -> ApiResult<Reply> {
    let id = check_id("fileId", &p.file_id)?;
    let page = p.paging.page(10)?;
    let notes = drive::attached_notes(&ctx.core, ctx.me()?, id, &page)
        .await
        .map_err(|e| match e {
            // Misskey looks among the caller's own files only: someone else's is not found.
            tsudoi_core::Error::NoSuchFile | tsudoi_core::Error::AccessDenied => ApiError::new(
                StatusCode::BAD_REQUEST,
                "NO_SUCH_FILE",
                "No such file.",
                "c118ece3-2e4b-4296-99d1-51756e32d232",
            ),
            e => e.into(),
        })?;
    respond(&ctx, notes).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct MoveBulkParams {
    /// 1 to 100, each once.
    file_ids: Vec<String>,
    /// `null` or absent: the root.
    folder_id: Option<String>,
}

async fn move_bulk(ctx: Ctx, p: MoveBulkParams) -> ApiResult<Reply> {
    if p.file_ids.is_empty() || p.file_ids.len() > 100 {
        return Err(ApiError::invalid_param("fileIds", "must hold 1 to 100 ids"));
    }
    let mut seen = std::collections::HashSet::new();
    for id in &p.file_ids {
        check_id("fileIds", id)?;
        if !seen.insert(id) {
            return Err(ApiError::invalid_param("fileIds", "must not repeat an id"));
        }
    }
    let folder = p
        .folder_id
        .as_deref()
        .map(|f| check_id("folderId", f))
        .transpose()?;
    drive::move_files(&ctx.core, ctx.me()?, &p.file_ids, folder)
        .await
        .map_err(|e| folder_error(e, NO_SUCH_TARGET_FOLDER))?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct FindParams {
    name: String,
    /// The folder to look in; `null` (the default) for the root.
    folder_id: Option<String>,
}

async fn find(ctx: Ctx, p: FindParams) -> ApiResult<Reply> {
    let filter = FileFilter {
        folder: Some(folder_param(p.folder_id)?),
        name: Some(p.name),
        ..FileFilter::default()
    };
    let page = tsudoi_model::Page::new(None, None, 100);
    let found = drive::files(&ctx.core, ctx.me()?, &filter, &page).await?;
    json(pack_all(&found))
}

#[derive(Deserialize, JsonSchema)]
struct HashParams {
    md5: String,
}

async fn by_hash(ctx: &Ctx, md5: String) -> ApiResult<Vec<ShownFile>> {
    let filter = FileFilter {
        md5: Some(md5.to_ascii_lowercase()),
        ..FileFilter::default()
    };
    let page = tsudoi_model::Page::new(None, None, 100);
    Ok(drive::files(&ctx.core, ctx.me()?, &filter, &page).await?)
}

async fn find_by_hash(ctx: Ctx, p: HashParams) -> ApiResult<Reply> {
    json(pack_all(&by_hash(&ctx, p.md5).await?))
}

async fn check_existence(ctx: Ctx, p: HashParams) -> ApiResult<Reply> {
    json(!by_hash(&ctx, p.md5).await?.is_empty())
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct FoldersParams {
    #[serde(flatten)]
    paging: Paging,
    /// The folder whose folders to list; `null` (the default) for the root.
    folder_id: Option<String>,
}

async fn folders(ctx: Ctx, p: FoldersParams) -> ApiResult<Reply> {
    let parent = folder_param(p.folder_id)?;
    let found = drive::folders(
        &ctx.core,
        ctx.me()?,
        parent.as_deref(),
        None,
        &p.paging.page(10)?,
    )
    .await?;
    json(found.iter().map(DriveFolder::pack).collect::<Vec<_>>())
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct FolderCreateParams {
    /// At most 200 characters; `Untitled` if absent.
    name: Option<String>,
    parent_id: Option<String>,
}

async fn folder_create(ctx: Ctx, p: FolderCreateParams) -> ApiResult<Reply> {
    let parent = p
        .parent_id
        .map(|f| check_id("parentId", &f).map(str::to_owned))
        .transpose()?;
    let folder = drive::create_folder(&ctx.core, ctx.me()?, p.name, parent)
        .await
        .map_err(|e| folder_error(e, "53326628-a00d-40a6-a3cd-8975105c0f95"))?;
    json(DriveFolder::pack(&folder))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct FolderIdParams {
    folder_id: String,
}

async fn folder_show(ctx: Ctx, p: FolderIdParams) -> ApiResult<Reply> {
    let id = check_id("folderId", &p.folder_id)?;
    let detail = drive::folder_detail(&ctx.core, ctx.me()?, id)
        .await
        .map_err(|e| folder_error(e, "d74ab9eb-bb09-4bba-bf24-fb58f761e1e9"))?;
    json(DriveFolder::detailed(&detail))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct FolderUpdateParams {
    folder_id: String,
    name: Option<String>,
    /// `null` moves it to the root.
    #[serde(default, deserialize_with = "double_option")]
    parent_id: Option<Option<String>>,
}

async fn folder_update(ctx: Ctx, p: FolderUpdateParams) -> ApiResult<Reply> {
    let id = check_id("folderId", &p.folder_id)?;
    let parent = match p.parent_id {
        Some(Some(f)) => Some(Some(check_id("parentId", &f)?.to_owned())),
        other => other,
    };
    let folder = drive::update_folder(&ctx.core, ctx.me()?, id, p.name, parent)
        .await
        .map_err(|e| folder_error(e, "f7974dac-2c0d-4a27-926e-23583b28e98e"))?;
    json(DriveFolder::pack(&folder))
}

async fn folder_delete(ctx: Ctx, p: FolderIdParams) -> ApiResult<Reply> {
    let id = check_id("folderId", &p.folder_id)?;
    drive::delete_folder(&ctx.core, ctx.me()?, id)
        .await
        .map_err(|e| folder_error(e, "1069098f-c281-440f-b085-f9932edbe091"))?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct FolderFindParams {
    name: String,
    parent_id: Option<String>,
}

async fn folder_find(ctx: Ctx, p: FolderFindParams) -> ApiResult<Reply> {
    let parent = p
        .parent_id
        .map(|f| check_id("parentId", &f).map(str::to_owned))
        .transpose()?;
    let page = tsudoi_model::Page::new(None, None, 100);
    let found = drive::folders(
        &ctx.core,
        ctx.me()?,
        parent.as_deref(),
        Some(&p.name),
        &page,
    )
    .await?;
    json(found.iter().map(DriveFolder::pack).collect::<Vec<_>>())
}
