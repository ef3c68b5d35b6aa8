//! Media the host serves: drive files and their thumbnails (`/files/{key}`, with ranges for
//! video), other servers' media through the proxy (`/proxy/{name}?url=…`), and custom emoji,
//! at an immutable URL per image and at `/emoji/{name}.webp` (where Misskey's web client
//! looks for an emoji it has no URL for), which redirects to the current image.
//!
//! Everything is served with the type found in its content, `nosniff`, and a sandboxing
//! content security policy, so an upload can never run as a page of this origin.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tsudoi_core::media_proxy::{self, Variant};
use tsudoi_core::{drive, emojis};

use super::ApiState;

pub fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/files/emoji/{id}", get(emoji_image))
        .route("/files/{key}", get(drive_file))
        .route("/proxy/{name}", get(proxy))
        .route("/emoji/{file}", get(emoji_by_name))
}

/// The headers every served file carries: its type, and nothing that lets a browser treat
/// it as a page of this origin; cacheable for good (URLs change with the content).
fn media_headers(h: &mut HeaderMap, media_type: &str) {
    if let Ok(v) = HeaderValue::from_str(media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
}

/// Whether browsers may show a file of this type in place; anything else is downloaded.
fn shown_inline(media_type: &str) -> bool {
    ["image/", "video/", "audio/"]
        .iter()
        .any(|f| media_type.starts_with(f))
        || media_type == "text/plain"
}

/// `bytes=a-b` or `bytes=a-`: the one range clients (video players) ask for. Other forms
/// are ignored, and the whole file is sent, as HTTP allows.
fn byte_range(headers: &HeaderMap) -> Option<(u64, Option<u64>)> {
    let spec = headers
        .get(header::RANGE)?
        .to_str()
        .ok()?
        .strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end = match end.trim() {
        "" => None,
        e => Some(e.parse::<u64>().ok().filter(|&e| e >= start)?),
    };
    Some((start, end))
}

/// RFC 8187 encoding of a file name for `Content-Disposition`.
fn encoded_filename(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A drive file or its thumbnail. Keys are the random names the drive gave them.
async fn drive_file(
    State(state): State<Arc<ApiState>>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let valid = key.len() <= 100
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if !valid {
        return not_found();
    }
    let range = byte_range(&headers);
    match drive::open(&state.core, &key, range).await {
        Ok(Some((file, thumbnail, read))) => {
            let media_type = if thumbnail {
                file.thumbnail_type.as_deref().unwrap_or("image/jpeg")
            } else {
                &file.media_type
            };
            let partial = range.is_some();
            let length = read.range.end - read.range.start;
            let mut resp = Body::from_stream(read.body).into_response();
            if partial {
                *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
                if let Ok(v) = HeaderValue::from_str(&format!(
                    "bytes {}-{}/{}",
                    read.range.start,
                    read.range.end.saturating_sub(1),
                    read.size
                )) {
                    resp.headers_mut().insert(header::CONTENT_RANGE, v);
                }
            }
            let h = resp.headers_mut();
            media_headers(h, media_type);
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
            h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            let disposition = if shown_inline(media_type) {
                "inline"
            } else {
                "attachment"
            };
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{disposition}; filename*=UTF-8''{}",
                encoded_filename(&file.name)
            )) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            resp
        }
        Ok(None) => not_found(),
        Err(tsudoi_core::Error::RangeNotSatisfiable) => {
            (StatusCode::RANGE_NOT_SATISFIABLE, "Range Not Satisfiable").into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot serve a drive file");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Misskey's media proxy flags (any value means set).
#[derive(Deserialize)]
struct ProxyQuery {
    url: Option<String>,
    #[serde(rename = "static")]
    still: Option<String>,
    preview: Option<String>,
    avatar: Option<String>,
    emoji: Option<String>,
    badge: Option<String>,
}

/// Another server's picture, video or sound, fetched for the client and never kept. The
/// name in the path is cosmetic, as in Misskey.
async fn proxy(
    State(state): State<Arc<ApiState>>,
    Path(_name): Path<String>,
    Query(q): Query<ProxyQuery>,
    headers: HeaderMap,
) -> Response {
    // Another server's proxy (or this one) fetching through this one would loop.
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if agent.contains("misskey/") || agent.contains("tsudoi/") {
        return (StatusCode::FORBIDDEN, "Forbidden").into_response();
    }
    let Some(url) = q.url.filter(|u| !u.is_empty()) else {
        return (StatusCode::BAD_REQUEST, "url is required").into_response();
    };
    if q.badge.is_some() {
        // Monochrome badges are not made here; clients fall back to the icon.
        return not_found();
    }
    let variant = if q.still.is_some() {
        Variant::Static
    } else if q.preview.is_some() {
        Variant::Preview
    } else if q.avatar.is_some() {
        Variant::Avatar
    } else if q.emoji.is_some() {
        Variant::Emoji
    } else {
        Variant::Original
    };
    match media_proxy::fetch(&state.core, &url, variant).await {
        Ok(proxied) => {
            let mut resp = proxied.data.into_response();
            media_headers(resp.headers_mut(), &proxied.media_type);
            resp
        }
        Err(tsudoi_core::Error::UnallowedFileType) => {
            (StatusCode::FORBIDDEN, "Not a picture, video or sound").into_response()
        }
        Err(e) => {
            tracing::debug!(url, error = %e, "cannot proxy");
            not_found()
        }
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not Found").into_response()
}

/// A local emoji's image. Its URL changes with each new image, so it is cached for good; it
/// is served with its sniffed type and nothing that would let a browser run it.
async fn emoji_image(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Response {
    if !tsudoi_model::ids::looks_like_id(&id) {
        return not_found();
    }
    match emojis::image(&state.core, &id).await {
        Ok(Some(image)) => {
            let mut resp = image.data.into_response();
            media_headers(resp.headers_mut(), &image.media_type);
            resp
        }
        Ok(None) => not_found(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read an emoji image");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `/emoji/name.webp` (this server's) or `/emoji/name@host.webp` (another's): a redirect to
/// the image.
async fn emoji_by_name(State(state): State<Arc<ApiState>>, Path(file): Path<String>) -> Response {
    let stem = file.rsplit_once('.').map_or(file.as_str(), |(s, _)| s);
    let url = match stem.split_once('@') {
        None => match emojis::local(&state.core).await {
            Ok(local) => local
                .get(stem)
                .map(|e| e.url(state.core.settings().base_url())),
            Err(_) => None,
        },
        Some((name, host)) => emojis::remote(&state.core, &[(name.to_owned(), host.to_owned())])
            .await
            .ok()
            .and_then(|found| found.into_iter().next())
            .and_then(|e| e.remote_url)
            .map(|url| media_proxy::url(&state.core, &url, Variant::Emoji)),
    };
    match url {
        Some(url) => Redirect::temporary(&url).into_response(),
        None => not_found(),
    }
}
