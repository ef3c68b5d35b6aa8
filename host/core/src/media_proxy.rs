//! The media proxy: other servers' images, videos and sounds shown to this server's users
//! without being kept here (`/proxy/{name}?url=…`, Misskey's `mediaProxy`). Each is fetched
//! through the guarded client, capped in size and time, sniffed (only pictures, video and
//! audio pass; never markup), stripped of its metadata, and for the small variants turned
//! into a thumbnail.

use std::time::Duration;

use tsudoi_media::preview;

use crate::{Core, Error, Result};

/// The most the proxy reads of a remote file. Misskey allows 250 MB; a proxied file is held
/// in memory while it is served, and what timelines show is far smaller.
pub const MAX_BYTES: usize = 50 << 20;
const TIMEOUT: Duration = Duration::from_secs(30);

/// Which form of the remote file a client asks for (Misskey's query flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The file itself.
    Original,
    /// `static=1`: a still thumbnail (498×422).
    Static,
    /// `preview=1`: a small still thumbnail (200×200).
    Preview,
    /// `avatar=1`: an avatar (320 high).
    Avatar,
    /// `emoji=1`: a custom emoji, kept animated (as it is, if small enough).
    Emoji,
}

impl Variant {
    /// The flag and the cosmetic file name clients use for it.
    fn query(self) -> (&'static str, &'static str) {
        match self {
            Variant::Original => ("image.webp", ""),
            Variant::Static => ("static.webp", "&static=1"),
            Variant::Preview => ("preview.webp", "&preview=1"),
            Variant::Avatar => ("avatar.webp", "&avatar=1"),
            Variant::Emoji => ("emoji.webp", "&emoji=1"),
        }
    }

    /// The box a still variant fits in.
    fn still_box(self) -> Option<(u32, u32)> {
        match self {
            Variant::Static => Some(preview::THUMBNAIL_BOX),
            Variant::Preview => Some((200, 200)),
            Variant::Avatar => Some((u32::MAX, 320)),
            Variant::Original | Variant::Emoji => None,
        }
    }
}

/// This server's proxy URL for `remote`.
pub fn url(core: &Core, remote: &str, variant: Variant) -> String {
    let (name, flag) = variant.query();
    let encoded: String = url::form_urlencoded::byte_serialize(remote.as_bytes()).collect();
    format!(
        "{}/proxy/{name}?url={encoded}{flag}",
        core.settings().base_url()
    )
}

/// What the proxy serves.
pub struct Proxied {
    pub media_type: String,
    pub data: Vec<u8>,
}

/// Fetches `remote` and makes `variant` of it.
pub async fn fetch(core: &Core, remote: &str, variant: Variant) -> Result<Proxied> {
    let fetched = core
        .http()
        .get_following_redirects(remote, "image/*, video/*, audio/*", TIMEOUT, MAX_BYTES)
        .await
        .map_err(|e| Error::BadFile(format!("cannot fetch {remote}: {e}")))?;
    if fetched.status != 200 {
        return Err(Error::BadFile(format!(
            "{remote} answered {}",
            fetched.status
        )));
    }
    let _slot = core.media_slot().await;
    tokio::task::spawn_blocking(move || make(fetched.body, variant))
        .await
        .map_err(|e| Error::Internal(format!("proxying failed: {e}")))?
}

fn make(data: Vec<u8>, variant: Variant) -> Result<Proxied> {
    let bad = |e: tsudoi_media::MediaError| Error::BadFile(e.to_string());
    let media_type = tsudoi_media::sniff(&data).media_type;
    let is_media = ["image/", "video/", "audio/"]
        .iter()
        .any(|family| media_type.starts_with(family));
    if !is_media {
        return Err(Error::UnallowedFileType);
    }
    let Some((w, h)) = variant.still_box() else {
        return Ok(Proxied {
            media_type: media_type.to_owned(),
            data: tsudoi_media::clean::strip(media_type, &data).map_err(bad)?,
        });
    };
    let format = preview::format_of(media_type).ok_or(Error::UnallowedFileType)?;
    let picture = preview::decode(&data, format).map_err(bad)?;
    let thumb = preview::encode_still(&preview::fit(&picture.image, (w, h))).map_err(bad)?;
    Ok(Proxied {
        media_type: thumb.media_type.to_owned(),
        data: thumb.data,
    })
}
