//! ActivityPub over HTTP: discovery (WebFinger, host-meta), actor and note documents (the
//! same URLs as the pages a browser gets, told apart by `Accept`), collections, and the
//! inboxes. The documents and the inbox's rules live in `tsudoi_federation`; this module
//! only speaks HTTP.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tsudoi_core::{Error, users};
use tsudoi_federation::ap::{ACTIVITY_JSON, accepts_activity_json};
use tsudoi_federation::inbox::{InboxError, MAX_ACTIVITY_BYTES};
use tsudoi_federation::render::WithContext;
use tsudoi_federation::signature::Request as SignedRequest;
use tsudoi_model::{User, Visibility, ids};

use super::ApiState;

pub fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/.well-known/webfinger", get(webfinger))
        .route("/.well-known/host-meta", get(host_meta))
        .route("/.well-known/host-meta.json", get(host_meta_json))
        .route("/users/{id}", get(actor))
        .route("/users/{id}/followers", get(followers))
        .route("/users/{id}/following", get(following))
        .route("/users/{id}/outbox", get(outbox))
        .route("/users/{id}/collections/featured", get(featured))
        .route("/likes/{id}", get(like))
        .route("/emojis/{name}", get(emoji))
        .route("/users/{id}/inbox", post(user_inbox).layer(inbox_limit()))
        .route("/inbox", post(shared_inbox).layer(inbox_limit()))
}

/// The inboxes' body limit. A `Content-Length` over it is answered 413 before any of the
/// body is read (a sender waiting on `Expect: 100-continue` never sends it); a body that
/// grows past it without one is cut off at the limit.
fn inbox_limit() -> (DefaultBodyLimit, tower_http::limit::RequestBodyLimitLayer) {
    (
        DefaultBodyLimit::max(MAX_ACTIVITY_BYTES),
        tower_http::limit::RequestBodyLimitLayer::new(MAX_ACTIVITY_BYTES),
    )
}

/// An ActivityPub document, served as `application/activity+json`.
pub fn activity_json(body: String) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/activity+json; charset=utf-8"),
            ),
            // The same URL answers HTML to browsers: caches must keep both.
            (header::VARY, HeaderValue::from_static("Accept")),
        ],
        body,
    )
        .into_response()
}

/// Whether the request asks for ActivityPub JSON.
pub fn wants_activity_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(accepts_activity_json)
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not Found").into_response()
}

fn failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "ActivityPub request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

/// A local user who federates: not remote, not suspended.
async fn local_user(state: &ApiState, id: &str) -> Result<User, Response> {
    if !ids::looks_like_id(id) {
        return Err(not_found());
    }
    match users::by_id(&state.core, id).await {
        Ok(u) if u.is_local() && !u.is_suspended => Ok(u),
        Ok(_) | Err(Error::NoSuchUser) => Err(not_found()),
        Err(e) => Err(failed(e)),
    }
}

/// `GET /users/{id}`: the actor, or (to a browser) a redirect to the profile page.
async fn actor(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let user = match local_user(&state, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if !wants_activity_json(&headers) {
        return Redirect::to(&format!("/@{}", user.username)).into_response();
    }
    actor_document(&state, &user).await
}

/// `user`'s actor document.
pub async fn actor_document(state: &ApiState, user: &User) -> Response {
    match state.fed.person(user).await {
        Ok(person) => activity_json(WithContext::new(person).to_json()),
        Err(e) => failed(e),
    }
}

/// An `OrderedCollection` that says how many items it has, without listing them: who
/// follows whom is not published (as Misskey's default hides it from other servers'
/// crawlers), only the counts profiles show.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Counted {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    total_items: i64,
    ordered_items: [(); 0],
}

async fn collection(state: &ApiState, id: &str, which: &str, count: fn(&User) -> i64) -> Response {
    let user = match local_user(state, id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    activity_json(
        WithContext::new(Counted {
            id: format!("{}/{which}", state.fed.ids().user(&user.id)),
            kind: "OrderedCollection",
            total_items: count(&user),
            ordered_items: [],
        })
        .to_json(),
    )
}

async fn followers(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Response {
    collection(&state, &id, "followers", |u| u.followers_count).await
}

async fn following(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Response {
    collection(&state, &id, "following", |u| u.following_count).await
}

async fn outbox(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Response {
    collection(&state, &id, "outbox", |u| u.notes_count).await
}

async fn featured(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Response {
    collection(&state, &id, "collections/featured", |_| 0).await
}

async fn user_inbox(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = local_user(&state, &id).await {
        return r;
    }
    inbox(&state, method, uri, headers, body).await
}

async fn shared_inbox(
    State(state): State<Arc<ApiState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    inbox(&state, method, uri, headers, body).await
}

/// Verifies and queues an activity: 202 once queued, 401 for a signature that fails, 400
/// for a body that is no activity. (A body over the limit got 413 before this ran.)
async fn inbox(
    state: &ApiState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path_and_query = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or_else(|| uri.path());
    let request = SignedRequest {
        method: &method,
        path_and_query,
        headers: &headers,
        body: &body,
    };
    match state.fed.accept(&request).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e @ InboxError::Unauthorized(_)) => {
            tracing::info!(error = %e, "inbox request refused");
            (StatusCode::UNAUTHORIZED, e.to_string()).into_response()
        }
        Err(e @ InboxError::Forbidden(_)) => (StatusCode::FORBIDDEN, e.to_string()).into_response(),
        Err(e @ InboxError::BadRequest(_)) => {
            (StatusCode::BAD_REQUEST, e.to_string()).into_response()
        }
        Err(e @ InboxError::Unavailable(_)) => {
            tracing::warn!(error = %e, "inbox unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response()
        }
    }
}

#[derive(Deserialize)]
struct WebfingerQuery {
    resource: Option<String>,
}

#[derive(Serialize)]
struct Jrd {
    subject: String,
    aliases: Vec<String>,
    links: Vec<JrdLink>,
}

#[derive(Serialize)]
struct JrdLink {
    rel: &'static str,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    href: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<String>,
}

/// `GET /.well-known/webfinger?resource=acct:user@host` (or the actor's id or page).
async fn webfinger(
    State(state): State<Arc<ApiState>>,
    Query(q): Query<WebfingerQuery>,
) -> Response {
    let Some(resource) = q.resource else {
        return (StatusCode::BAD_REQUEST, "resource is required").into_response();
    };
    let settings = state.core.settings();
    let ids = state.fed.ids();
    let by_name = |name: &str| name.to_owned();
    let username = if let Some(acct) = resource.strip_prefix("acct:") {
        let acct = acct.trim_start_matches('@');
        match acct.rsplit_once('@') {
            Some((user, host)) if settings.is_own_host(host) => by_name(user),
            Some(_) => return not_found(),
            None => by_name(acct),
        }
    } else if let Some(id) = ids.user_id_of(&resource) {
        match local_user(&state, id).await {
            Ok(u) => u.username,
            Err(r) => return r,
        }
    } else if let Some(name) = resource.strip_prefix(&format!("{}/@", ids.base())) {
        by_name(name)
    } else {
        return not_found();
    };
    let user = match users::by_username(&state.core, &username, None).await {
        Ok(u) if !u.is_suspended => u,
        Ok(_) | Err(Error::NoSuchUser) => return not_found(),
        Err(e) => return failed(e),
    };
    let uri = ids.user(&user.id);
    let page = ids.profile_page(&user.username);
    let jrd = Jrd {
        subject: format!("acct:{}@{}", user.username, settings.host()),
        aliases: vec![uri.clone(), page.clone()],
        links: vec![
            JrdLink {
                rel: "self",
                kind: Some(ACTIVITY_JSON),
                href: Some(uri),
                template: None,
            },
            JrdLink {
                rel: "http://webfinger.net/rel/profile-page",
                kind: Some("text/html"),
                href: Some(page),
                template: None,
            },
            JrdLink {
                rel: "http://ostatus.org/schema/1.0/subscribe",
                kind: None,
                href: None,
                template: Some(format!("{}/authorize-follow?acct={{uri}}", ids.base())),
            },
        ],
    };
    (
        [
            (header::CONTENT_TYPE, "application/jrd+json; charset=utf-8"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        serde_json::to_string(&jrd).unwrap_or_default(),
    )
        .into_response()
}

async fn host_meta(State(state): State<Arc<ApiState>>) -> Response {
    let mut base = String::new();
    tsudoi_mfm::escape(state.fed.ids().base(), &mut base);
    (
        [(header::CONTENT_TYPE, "application/xrd+xml; charset=utf-8")],
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
             <Link rel=\"lrdd\" type=\"application/jrd+json\" \
             template=\"{base}/.well-known/webfinger?resource={{uri}}\"/>\n</XRD>\n"
        ),
    )
        .into_response()
}

async fn host_meta_json(State(state): State<Arc<ApiState>>) -> Response {
    let body = serde_json::json!({
        "links": [{
            "rel": "lrdd",
            "type": "application/jrd+json",
            "template": format!("{}/.well-known/webfinger?resource={{uri}}", state.fed.ids().base()),
        }]
    });
    (
        [(header::CONTENT_TYPE, "application/jrd+json")],
        body.to_string(),
    )
        .into_response()
}

/// `note` as a `Note` document if it may be shown to anyone (public or home, local).
pub async fn note_document(state: &ApiState, id: &str) -> Response {
    let note = match tsudoi_core::notes::show(&state.core, id, None).await {
        Ok(n)
            if n.user_host.is_none()
                && matches!(n.visibility, Visibility::Public | Visibility::Home) =>
        {
            n
        }
        Ok(_) | Err(Error::NoSuchNote) => return not_found(),
        Err(e) => return failed(e),
    };
    match state.fed.note_object(&note).await {
        Ok(object) => activity_json(WithContext::new(object).to_json()),
        Err(e) => failed(e),
    }
}

/// A local reaction as its `Like`, while it stands, on a note anyone may see.
async fn like(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Response {
    if !ids::looks_like_id(&id) {
        return not_found();
    }
    let reaction = match tsudoi_core::reactions::by_id(&state.core, &id).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(),
        Err(e) => return failed(e),
    };
    let note = match tsudoi_core::notes::show(&state.core, &reaction.note_id, None).await {
        Ok(n) if matches!(n.visibility, Visibility::Public | Visibility::Home) => n,
        Ok(_) | Err(Error::NoSuchNote) => return not_found(),
        Err(e) => return failed(e),
    };
    match users::by_id(&state.core, &reaction.user_id).await {
        Ok(u) if u.is_local() => {}
        Ok(_) => return not_found(),
        Err(e) => return failed(e),
    }
    match state.fed.like(&(&reaction).into(), &note).await {
        Ok(like) => activity_json(WithContext::new(like).to_json()),
        Err(e) => failed(e),
    }
}

/// A local custom emoji as an `Emoji` object (unless it is kept local).
async fn emoji(State(state): State<Arc<ApiState>>, Path(name): Path<String>) -> Response {
    let local = match tsudoi_core::emojis::local(&state.core).await {
        Ok(l) => l,
        Err(e) => return failed(e),
    };
    match local.get(&name).filter(|e| !e.local_only) {
        Some(e) => activity_json(
            WithContext::new(tsudoi_federation::render::emoji(state.fed.ids(), e)).to_json(),
        ),
        None => not_found(),
    }
}
