//! Images the host serves: custom emoji, at an immutable URL per image, and at
//! `/emoji/{name}.webp` (where Misskey's web client looks for an emoji it has no URL for),
//! which redirects to the current image, this server's or the remote server's.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tsudoi_core::emojis;

use super::ApiState;

pub fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/files/emoji/{id}", get(emoji_image))
        .route("/emoji/{file}", get(emoji_by_name))
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
            let h = resp.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&image.media_type) {
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
            .and_then(|e| e.remote_url),
    };
    match url {
        Some(url) => Redirect::temporary(&url).into_response(),
        None => not_found(),
    }
}
