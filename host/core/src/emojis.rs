//! Custom emoji. This server's own are added, changed and removed by administrators (the
//! image uploaded or fetched from a URL, checked to be a raster image by its bytes, kept in
//! the database and served by the host); users write them as `:name:` and react with them.
//! Other servers' are learnt from the `Emoji` tags of what those servers send.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tsudoi_model::{Emoji, EmojiImage, EmojiPatch, ids};

use crate::{Core, Error, Result};

/// Largest emoji image accepted. Emoji are shown at text height: even animated ones are
/// rarely above a few hundred KiB, and every client downloads each one it shows.
pub const MAX_IMAGE_BYTES: usize = 1 << 20;

/// How long fetching an image from a URL may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(15);

/// Image types an emoji may be, by what their bytes say (never by a name or a header). SVG
/// is not among them: it can carry scripts.
const IMAGE_TYPES: &[&str] = &[
    "image/png",
    "image/apng",
    "image/gif",
    "image/webp",
    "image/jpeg",
    "image/avif",
];

/// Longest name, category, license and alias accepted (Misskey's names are short words).
const NAME_MAX: usize = 128;
const TEXT_MAX: usize = 1024;
const ALIASES_MAX: usize = 64;

/// This server's custom emoji, by name.
#[derive(Debug, Default)]
pub struct LocalEmojis {
    list: Vec<Emoji>,
    by_name: HashMap<String, usize>,
}

impl LocalEmojis {
    fn new(list: Vec<Emoji>) -> Self {
        let by_name = list
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        LocalEmojis { list, by_name }
    }

    pub fn all(&self) -> &[Emoji] {
        &self.list
    }

    pub fn get(&self, name: &str) -> Option<&Emoji> {
        self.by_name.get(name).map(|&i| &self.list[i])
    }
}

/// This server's custom emoji (read again at most every few seconds).
pub async fn local(core: &Core) -> Result<Arc<LocalEmojis>> {
    if let Some(emojis) = core.local_emoji_cache().get() {
        return Ok(emojis);
    }
    let emojis = Arc::new(LocalEmojis::new(core.store().local_emojis().await?));
    core.local_emoji_cache().keep(emojis.clone());
    Ok(emojis)
}

/// Where an emoji's image comes from.
#[derive(Debug)]
pub enum ImageSource {
    /// Bytes an administrator uploaded.
    Upload(Vec<u8>),
    /// A URL fetched through the guarded client.
    Url(String),
}

/// A new local emoji as an administrator describes it.
#[derive(Debug, Default)]
pub struct NewEmoji {
    pub name: String,
    pub category: Option<String>,
    pub aliases: Vec<String>,
    pub license: Option<String>,
    pub is_sensitive: bool,
    pub local_only: bool,
}

/// Misskey's rule for local emoji names: ASCII letters, digits and `_`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= NAME_MAX
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn check_name(name: &str) -> Result<()> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(Error::InvalidParam {
            param: "name",
            reason: format!(
                "must be 1 to {NAME_MAX} ASCII letters, digits or underscores (^[a-zA-Z0-9_]+$)"
            ),
        })
    }
}

/// Trims the free-text fields, drops blank ones and holds them to their limits.
fn clean_text(param: &'static str, v: Option<String>) -> Result<Option<String>> {
    let v = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if v.as_ref().is_some_and(|s| s.chars().count() > TEXT_MAX) {
        return Err(Error::InvalidParam {
            param,
            reason: format!("must be at most {TEXT_MAX} characters"),
        });
    }
    Ok(v)
}

fn clean_aliases(aliases: Vec<String>) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for a in aliases {
        let a = a.trim().to_owned();
        if a.is_empty() || out.contains(&a) {
            continue;
        }
        if a.chars().count() > NAME_MAX {
            return Err(Error::InvalidParam {
                param: "aliases",
                reason: format!("each alias must be at most {NAME_MAX} characters"),
            });
        }
        out.push(a);
    }
    if out.len() > ALIASES_MAX {
        return Err(Error::InvalidParam {
            param: "aliases",
            reason: format!("at most {ALIASES_MAX} aliases"),
        });
    }
    Ok(out)
}

/// The image's bytes, checked: not too large, and a raster image by its content.
async fn load_image(core: &Core, source: ImageSource) -> Result<EmojiImage> {
    let data = match source {
        ImageSource::Upload(data) => data,
        ImageSource::Url(url) => {
            let parsed = url::Url::parse(&url).map_err(|e| Error::InvalidImage(e.to_string()))?;
            let request = core
                .http()
                .request(reqwest::Method::GET, parsed.as_str())
                .header(reqwest::header::ACCEPT, "image/*")
                .build()
                .map_err(|e| Error::InvalidImage(e.to_string()))?;
            let fetched = core
                .http()
                .fetch(request, FETCH_TIMEOUT, MAX_IMAGE_BYTES)
                .await
                .map_err(|e| Error::InvalidImage(format!("cannot fetch {url}: {e}")))?;
            if fetched.status != 200 {
                return Err(Error::InvalidImage(format!(
                    "{url} answered {}",
                    fetched.status
                )));
            }
            fetched.body
        }
    };
    if data.len() > MAX_IMAGE_BYTES {
        return Err(Error::InvalidImage(format!(
            "the image is larger than {MAX_IMAGE_BYTES} bytes"
        )));
    }
    let media_type = infer::get(&data)
        .map(|t| t.mime_type())
        .filter(|t| IMAGE_TYPES.contains(t))
        .ok_or_else(|| {
            Error::InvalidImage("not a PNG, GIF, WebP, JPEG or AVIF image".to_owned())
        })?;
    Ok(EmojiImage {
        media_type: media_type.to_owned(),
        data,
    })
}

/// Adds a local emoji.
pub async fn add(core: &Core, new: NewEmoji, image: ImageSource) -> Result<Emoji> {
    check_name(&new.name)?;
    let category = clean_text("category", new.category)?;
    let license = clean_text("license", new.license)?;
    let aliases = clean_aliases(new.aliases)?;
    if local(core).await?.get(&new.name).is_some() {
        return Err(Error::EmojiNameTaken);
    }
    let image = load_image(core, image).await?;
    let now = ids::now_ms();
    let emoji = Emoji {
        id: ids::aidx_at(now),
        name: new.name,
        host: None,
        category,
        aliases,
        license,
        is_sensitive: new.is_sensitive,
        local_only: new.local_only,
        media_type: Some(image.media_type.clone()),
        image_id: Some(ids::aidx_at(now)),
        remote_url: None,
        uri: None,
        created_at: now,
        updated_at: Some(now),
    };
    match core.store().insert_emoji(&emoji, &image).await {
        Ok(()) => {}
        Err(e) if e.is_unique_violation() => return Err(Error::EmojiNameTaken),
        Err(e) => return Err(e.into()),
    }
    core.local_emoji_cache().forget();
    Ok(emoji)
}

/// Which local emoji an administrator means.
#[derive(Debug)]
pub enum EmojiRef {
    Id(String),
    Name(String),
}

/// Changes a local emoji's fields, and its image when `image` is given.
pub async fn update(
    core: &Core,
    which: EmojiRef,
    patch: EmojiPatch,
    image: Option<ImageSource>,
) -> Result<()> {
    let emojis = local(core).await?;
    let mut emoji = match &which {
        EmojiRef::Id(id) => emojis.all().iter().find(|e| &e.id == id),
        EmojiRef::Name(name) => emojis.get(name),
    }
    .cloned()
    .ok_or(Error::NoSuchEmoji)?;
    if let Some(name) = patch.name {
        check_name(&name)?;
        if name != emoji.name && emojis.get(&name).is_some() {
            return Err(Error::EmojiNameTaken);
        }
        emoji.name = name;
    }
    if let Some(category) = patch.category {
        emoji.category = clean_text("category", category)?;
    }
    if let Some(license) = patch.license {
        emoji.license = clean_text("license", license)?;
    }
    if let Some(aliases) = patch.aliases {
        emoji.aliases = clean_aliases(aliases)?;
    }
    if let Some(v) = patch.is_sensitive {
        emoji.is_sensitive = v;
    }
    if let Some(v) = patch.local_only {
        emoji.local_only = v;
    }
    let now = ids::now_ms();
    let image = match image {
        Some(source) => {
            let image = load_image(core, source).await?;
            emoji.image_id = Some(ids::aidx_at(now));
            emoji.media_type = Some(image.media_type.clone());
            Some(image)
        }
        None => None,
    };
    emoji.updated_at = Some(now);
    let updated = match core.store().update_emoji(&emoji, image.as_ref()).await {
        Ok(updated) => updated,
        Err(e) if e.is_unique_violation() => return Err(Error::EmojiNameTaken),
        Err(e) => return Err(e.into()),
    };
    core.local_emoji_cache().forget();
    if updated {
        Ok(())
    } else {
        Err(Error::NoSuchEmoji)
    }
}

/// Removes local emoji (notes and reactions that use them keep their `:name:` text).
/// Returns how many there were.
pub async fn delete(core: &Core, ids: &[String]) -> Result<u64> {
    let emojis = local(core).await?;
    let local_ids: Vec<String> = ids
        .iter()
        .filter(|id| emojis.all().iter().any(|e| &e.id == *id))
        .cloned()
        .collect();
    let deleted = core.store().delete_emojis(&local_ids).await?;
    core.local_emoji_cache().forget();
    Ok(deleted)
}

/// A local emoji's image, by the id in its URL.
pub async fn image(core: &Core, image_id: &str) -> Result<Option<EmojiImage>> {
    Ok(core.store().emoji_image(image_id).await?)
}

/// Other servers' emoji, by `(name, host)`.
pub async fn remote(core: &Core, wanted: &[(String, String)]) -> Result<Vec<Emoji>> {
    Ok(core.store().remote_emojis(wanted).await?)
}

/// An emoji another server uses, as its `Emoji` tag describes it.
#[derive(Debug, Clone)]
pub struct RemoteEmoji {
    /// Without colons.
    pub name: String,
    pub url: String,
    pub uri: Option<String>,
    pub media_type: Option<String>,
    pub is_sensitive: bool,
}

/// Custom emoji names as other servers send them and reactions carry them: Misskey's
/// `[\w+-]` (this server's own are stricter, see [`is_valid_name`]).
pub fn is_emoji_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= NAME_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-'))
}

/// Records the emoji `host` says it uses (malformed ones are skipped). Returns the names
/// recorded.
pub async fn learn_remote(
    core: &Core,
    host: &str,
    emojis: Vec<RemoteEmoji>,
) -> Result<Vec<String>> {
    let now = ids::now_ms();
    let mut names = Vec::new();
    let rows: Vec<Emoji> = emojis
        .into_iter()
        .filter(|e| {
            is_emoji_name(&e.name)
                && e.url.len() <= 2048
                && (e.url.starts_with("https://") || e.url.starts_with("http://"))
        })
        .filter(|e| {
            let new = !names.contains(&e.name);
            names.push(e.name.clone());
            new
        })
        .map(|e| Emoji {
            id: ids::aidx_at(now),
            name: e.name,
            host: Some(host.to_owned()),
            category: None,
            aliases: Vec::new(),
            license: None,
            is_sensitive: e.is_sensitive,
            local_only: false,
            media_type: e.media_type.filter(|t| t.len() <= 128),
            image_id: None,
            remote_url: Some(e.url),
            uri: e.uri.filter(|u| u.len() <= 2048),
            created_at: now,
            updated_at: Some(now),
        })
        .collect();
    core.store().upsert_remote_emojis(&rows).await?;
    Ok(rows.into_iter().map(|e| e.name).collect())
}
