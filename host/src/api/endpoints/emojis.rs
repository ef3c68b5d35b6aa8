//! Custom emoji: the list clients load at start, one emoji, and the administrators'
//! endpoints to add (an uploaded image or one fetched from a URL), change and remove them.

use schemars::JsonSchema;
use serde::Deserialize;
use tsudoi_core::emojis::{self, EmojiRef, ImageSource, NewEmoji};
use tsudoi_model::EmojiPatch;

use super::{NoParams, check_id, double_option};
use crate::api::entities::{EmojiDetailed, EmojiSimple, EmojisList};
use crate::api::{ApiError, ApiResult, Ctx, Endpoint, Reply, json};

/// An emoji image of [`emojis::MAX_IMAGE_BYTES`] with the form around it.
const MAX_FORM_BYTES: usize = emojis::MAX_IMAGE_BYTES + (64 << 10);

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new("emojis", "This server's custom emoji.", list_public).get(),
        Endpoint::new("emoji", "One of this server's custom emoji, by name.", show).get(),
        Endpoint::new(
            "admin/emoji/add",
            "Add a custom emoji: its image as the multipart form's `file`, or fetched from `url`.",
            add,
        )
        .admin()
        .file(MAX_FORM_BYTES),
        Endpoint::new(
            "admin/emoji/update",
            "Change a custom emoji (found by `id`, or by `name` when there is no `id`); a new image as `file` or `url`.",
            update,
        )
        .admin()
        .file(MAX_FORM_BYTES),
        Endpoint::new("admin/emoji/delete", "Remove a custom emoji.", delete).admin(),
        Endpoint::new(
            "admin/emoji/delete-bulk",
            "Remove several custom emoji.",
            delete_bulk,
        )
        .admin(),
        Endpoint::new(
            "admin/emoji/list",
            "This server's custom emoji, newest first (`query` filters by name).",
            list_admin,
        )
        .admin(),
    ]
}

async fn list_public(ctx: Ctx, _: NoParams) -> ApiResult<Reply> {
    let local = emojis::local(&ctx.core).await?;
    json(EmojisList {
        emojis: local
            .all()
            .iter()
            .map(|e| EmojiSimple::pack(e, ctx.settings()))
            .collect(),
    })
}

#[derive(Deserialize, JsonSchema)]
struct NameParams {
    name: String,
}

async fn show(ctx: Ctx, p: NameParams) -> ApiResult<Reply> {
    let local = emojis::local(&ctx.core).await?;
    let emoji = local.get(&p.name).ok_or(tsudoi_core::Error::NoSuchEmoji)?;
    json(EmojiDetailed::pack(emoji, ctx.settings()))
}

/// The image an add or update names: the upload, or a URL. Misskey's `fileId` names a drive
/// file, which this server does not have yet.
fn image_source(
    ctx: &mut Ctx,
    url: Option<String>,
    file_id: Option<String>,
) -> ApiResult<Option<ImageSource>> {
    if file_id.is_some() {
        return Err(ApiError::invalid_param(
            "fileId",
            "this server has no drive yet: upload the image as the form's `file`, or give `url`",
        ));
    }
    match (ctx.file.take(), url) {
        (Some(_), Some(_)) => Err(ApiError::invalid_param(
            "url",
            "give either an uploaded `file` or a `url`, not both",
        )),
        (Some(upload), None) => Ok(Some(ImageSource::Upload(upload.data))),
        (None, Some(url)) => Ok(Some(ImageSource::Url(url))),
        (None, None) => Ok(None),
    }
}

/// Roles do not exist here yet; an emoji restricted to some would silently be open to all.
fn no_roles(roles: &Option<Vec<String>>) -> ApiResult<()> {
    if roles.as_ref().is_some_and(|r| !r.is_empty()) {
        return Err(ApiError::invalid_param(
            "roleIdsThatCanBeUsedThisEmojiAsReaction",
            "roles are not supported yet",
        ));
    }
    Ok(())
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct AddParams {
    name: String,
    url: Option<String>,
    file_id: Option<String>,
    category: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    license: Option<String>,
    #[serde(default)]
    is_sensitive: bool,
    #[serde(default)]
    local_only: bool,
    role_ids_that_can_be_used_this_emoji_as_reaction: Option<Vec<String>>,
}

async fn add(mut ctx: Ctx, p: AddParams) -> ApiResult<Reply> {
    no_roles(&p.role_ids_that_can_be_used_this_emoji_as_reaction)?;
    let image = image_source(&mut ctx, p.url, p.file_id)?.ok_or_else(|| {
        ApiError::invalid_param("file", "upload the image as `file`, or give `url`")
    })?;
    let emoji = emojis::add(
        &ctx.core,
        NewEmoji {
            name: p.name,
            category: p.category,
            aliases: p.aliases,
            license: p.license,
            is_sensitive: p.is_sensitive,
            local_only: p.local_only,
        },
        image,
    )
    .await?;
    json(EmojiDetailed::pack(&emoji, ctx.settings()))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateParams {
    id: Option<String>,
    name: Option<String>,
    url: Option<String>,
    file_id: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    category: Option<Option<String>>,
    aliases: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    license: Option<Option<String>>,
    is_sensitive: Option<bool>,
    local_only: Option<bool>,
    role_ids_that_can_be_used_this_emoji_as_reaction: Option<Vec<String>>,
}

async fn update(mut ctx: Ctx, p: UpdateParams) -> ApiResult<Reply> {
    no_roles(&p.role_ids_that_can_be_used_this_emoji_as_reaction)?;
    let image = image_source(&mut ctx, p.url, p.file_id)?;
    let (which, rename) = match (p.id, p.name) {
        (Some(id), name) => (EmojiRef::Id(check_id("id", &id)?.to_owned()), name),
        (None, Some(name)) => (EmojiRef::Name(name), None),
        (None, None) => return Err(ApiError::invalid_param("id", "give `id` or `name`")),
    };
    emojis::update(
        &ctx.core,
        which,
        EmojiPatch {
            name: rename,
            category: p.category,
            aliases: p.aliases,
            license: p.license,
            is_sensitive: p.is_sensitive,
            local_only: p.local_only,
        },
        image,
    )
    .await?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
struct IdParams {
    id: String,
}

async fn delete(ctx: Ctx, p: IdParams) -> ApiResult<Reply> {
    let id = check_id("id", &p.id)?.to_owned();
    if emojis::delete(&ctx.core, &[id]).await? == 0 {
        return Err(tsudoi_core::Error::NoSuchEmoji.into());
    }
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
struct IdsParams {
    ids: Vec<String>,
}

async fn delete_bulk(ctx: Ctx, p: IdsParams) -> ApiResult<Reply> {
    for id in &p.ids {
        check_id("ids", id)?;
    }
    emojis::delete(&ctx.core, &p.ids).await?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct AdminListParams {
    query: Option<String>,
    #[serde(flatten)]
    paging: super::Paging,
}

async fn list_admin(ctx: Ctx, p: AdminListParams) -> ApiResult<Reply> {
    let page = p.paging.page(10)?;
    let local = emojis::local(&ctx.core).await?;
    let query = p.query.as_deref().map(str::to_lowercase);
    let mut found: Vec<_> = local
        .all()
        .iter()
        .filter(|e| {
            query
                .as_deref()
                .is_none_or(|q| e.name.to_lowercase().contains(q))
        })
        .filter(|e| page.since_id.as_ref().is_none_or(|s| &e.id > s))
        .filter(|e| page.until_id.as_ref().is_none_or(|u| &e.id < u))
        .collect();
    if page.ascending() {
        found.sort_by(|a, b| a.id.cmp(&b.id));
    } else {
        found.sort_by(|a, b| b.id.cmp(&a.id));
    }
    found.truncate(page.limit as usize);
    json(
        found
            .into_iter()
            .map(|e| EmojiDetailed::pack(e, ctx.settings()))
            .collect::<Vec<_>>(),
    )
}
