//! Server-rendered pages a person opens in a browser: the instance, profiles and public notes
//! (what actor and note `url`s and shared links point at, with OpenGraph tags for previews),
//! granting an app access (MiAuth and the legacy flow), and the identicons that stand in for
//! avatars. No JavaScript is needed. Profiles and notes answer ActivityPub JSON instead when
//! asked for it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use tsudoi_core::{Error, accounts, apps, notes, render, users};
use tsudoi_model::{NoteFilter, NoteSource, Page, User, ids};

use super::ApiState;
use super::entities::iso;

pub fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/miauth/{session}", get(miauth_page).post(miauth_submit))
        .route("/auth/{token}", get(auth_page).post(auth_submit))
        .route("/identicon/{key}", get(identicon))
        .route("/notes/{id}", get(note_page))
        .route("/@{acct}", get(profile_page))
        .route("/tags/{tag}", get(tag_page))
        .route("/", get(home_page))
}

/// The instance: what it is, and how to use it from a Misskey app.
async fn home_page(State(state): State<Arc<ApiState>>) -> Response {
    let s = state.core.settings();
    let description = s
        .instance_description
        .as_deref()
        .map(|d| format!("<p>{}</p>", esc(d)))
        .unwrap_or_default();
    public_page(
        &s.instance_name,
        &OpenGraph {
            title: &s.instance_name,
            description: s.instance_description.as_deref().unwrap_or_default(),
            url: s.base_url(),
            kind: "website",
        },
        &format!(
            "<h1>{name}</h1>{description}\
             <p>This is a <a href=\"https://github.com/\">Tsudoi</a> server: a Misskey-compatible \
             part of the fediverse. To use it, add <code>{host}</code> as a server in a Misskey \
             app (Misskey's web client, Miria, Aria …): the app opens a page here to sign in.</p>\
             <p>People elsewhere in the fediverse can follow accounts here as \
             <code>@name@{host}</code>.</p>",
            name = esc(&s.instance_name),
            host = esc(s.host()),
        ),
    )
}

/// `GET /@user` (or `/@user@host`): the profile page, or the actor document when asked for
/// ActivityPub JSON.
async fn profile_page(
    State(state): State<Arc<ApiState>>,
    Path(acct): Path<String>,
    headers: HeaderMap,
) -> Response {
    let core = &state.core;
    let (username, host) = match acct.split_once('@') {
        Some((u, h)) if !core.settings().is_own_host(h) => (u, Some(h)),
        Some((u, _)) => (u, None),
        None => (acct.as_str(), None),
    };
    let user = match users::by_username(core, username, host).await {
        Ok(u) if !u.is_suspended => u,
        Ok(_) | Err(Error::NoSuchUser) => {
            return (
                StatusCode::NOT_FOUND,
                page("Not found", "<h1>No such user</h1>"),
            )
                .into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "profile page failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    if super::activitypub::wants_activity_json(&headers) {
        return match &user.remote {
            Some(remote) => Redirect::to(&remote.uri).into_response(),
            None => super::activitypub::actor_document(&state, &user).await,
        };
    }
    let acct = match &user.host {
        Some(h) => format!("@{}@{h}", user.username),
        None => format!("@{}@{}", user.username, core.settings().host()),
    };
    let name = user.name.clone().unwrap_or_else(|| user.username.clone());
    let bio = match &user.description {
        Some(d) => render::mfm_html(core, d).await,
        None => String::new(),
    };
    let listing = tsudoi_core::timelines::list(
        core,
        NoteSource::User {
            user_id: user.id.clone(),
        },
        None,
        &NoteFilter {
            with_renotes: false,
            with_replies: true,
            ..NoteFilter::default()
        },
        &Page {
            since_id: None,
            until_id: None,
            limit: 20,
            oldest_first: false,
        },
    )
    .await;
    let notes = note_articles(core, listing.map(|l| l.notes).unwrap_or_default(), false).await;
    let remote_link = user
        .remote
        .as_ref()
        .map(|r| {
            let url = r.url.as_deref().unwrap_or(&r.uri);
            format!("<p><a href=\"{0}\">{0}</a></p>", esc(url))
        })
        .unwrap_or_default();
    let page_url = format!(
        "{}/@{}",
        core.settings().base_url(),
        acct.trim_start_matches('@')
    );
    public_page(
        &format!("{name} ({acct})"),
        &OpenGraph {
            title: &format!("{name} ({acct})"),
            description: user.description.as_deref().unwrap_or_default(),
            url: &page_url,
            kind: "profile",
        },
        &format!(
            "<header><h1>{name}</h1><p>{acct}</p></header><div class=\"bio\">{bio}</div>{remote_link}\
             <p>{notes_count} notes · {following} following · {followers} followers</p>{notes}",
            name = esc(&name),
            acct = esc(&acct),
            notes_count = user.notes_count,
            following = user.following_count,
            followers = user.followers_count,
        ),
    )
}

/// What link previews show of a page.
/// Notes as `<article>`s, each linking to its page (and naming its author, when `authors`).
async fn note_articles(
    core: &tsudoi_core::Core,
    notes: Vec<tsudoi_model::Note>,
    authors: bool,
) -> String {
    let by: HashMap<String, User> = if authors {
        let ids: Vec<String> = notes.iter().map(|n| n.user_id.clone()).collect();
        users::by_ids(core, &ids)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect()
    } else {
        HashMap::new()
    };
    let mut out = String::new();
    for note in notes {
        let text = render::mfm_html(core, note.text.as_deref().unwrap_or_default()).await;
        let text = match &note.cw {
            Some(cw) => format!("<details><summary>{}</summary>{text}</details>", esc(cw)),
            None => text,
        };
        let link = note
            .url
            .clone()
            .or(note.uri.clone())
            .unwrap_or_else(|| format!("{}/notes/{}", core.settings().base_url(), note.id));
        let author = by
            .get(&note.user_id)
            .map(|u| {
                let acct = match &u.host {
                    Some(h) => format!("{}@{h}", u.username),
                    None => u.username.clone(),
                };
                format!(
                    "<header><a href=\"/@{acct}\">{name}</a> <span>@{acct}</span></header>",
                    acct = esc(&acct),
                    name = esc(u.name.as_deref().unwrap_or(&u.username)),
                )
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "<article class=\"note\">{author}<div class=\"content\">{text}</div>\
             <footer><a href=\"{link}\"><time datetime=\"{at}\">{at}</time></a></footer></article>",
            link = esc(&link),
            at = iso(note.created_at),
        ));
    }
    out
}

/// The newest public notes with a hashtag, from here and from other servers.
async fn tag_page(State(state): State<Arc<ApiState>>, Path(tag): Path<String>) -> Response {
    let core = &state.core;
    let tag = tsudoi_core::notes::create::normalize_hashtag(&tag);
    let listing = tsudoi_core::timelines::list(
        core,
        NoteSource::Tag { tag: tag.clone() },
        None,
        &NoteFilter {
            with_renotes: false,
            with_replies: true,
            visibility: Some(tsudoi_model::Visibility::Public),
            ..NoteFilter::default()
        },
        &Page::newest(20),
    )
    .await;
    let notes = match listing {
        Ok(l) => l.notes,
        Err(e) => {
            tracing::error!(error = %e, "tag page failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let empty = notes.is_empty();
    let articles = note_articles(core, notes, true).await;
    let title = format!("#{tag}");
    let url = format!(
        "{}/tags/{}",
        core.settings().base_url(),
        tsudoi_mfm::url_component(&tag)
    );
    public_page(
        &title,
        &OpenGraph {
            title: &title,
            description: &format!(
                "Public notes with #{tag} on {}",
                core.settings().instance_name
            ),
            url: &url,
            kind: "website",
        },
        &format!(
            "<header><h1>{title}</h1></header>{body}",
            title = esc(&title),
            body = if empty {
                "<p>No public notes with this hashtag yet.</p>".to_owned()
            } else {
                articles
            },
        ),
    )
}

struct OpenGraph<'a> {
    title: &'a str,
    description: &'a str,
    url: &'a str,
    kind: &'a str,
}

/// A public page with OpenGraph tags and the MFM stylesheet.
fn public_page(title: &str, og: &OpenGraph<'_>, body: &str) -> Response {
    let description: String = og.description.chars().take(300).collect();
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title}</title>\
         <meta property=\"og:title\" content=\"{og_title}\"><meta property=\"og:type\" content=\"{kind}\">\
         <meta property=\"og:url\" content=\"{url}\"><meta property=\"og:description\" content=\"{description}\">\
         <meta name=\"description\" content=\"{description}\">\
         <style>body{{font-family:sans-serif;max-width:40em;margin:3em auto;padding:0 1em}}\
         article{{border-top:1px solid #ddd;padding:.8em 0}}{css}</style></head><body>{body}</body></html>",
        title = esc(title),
        og_title = esc(og.title),
        kind = esc(og.kind),
        url = esc(og.url),
        description = esc(&description),
        css = tsudoi_mfm::STYLESHEET,
    ))
    .into_response()
}

/// A note as anyone may see it, its MFM rendered by the server (and its MFM plugins); its
/// `Note` document when asked for ActivityPub JSON.
async fn note_page(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let core = &state.core;
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            page("Not found", "<h1>No such note</h1>"),
        )
            .into_response()
    };
    if !ids::looks_like_id(&id) {
        return not_found();
    }
    if super::activitypub::wants_activity_json(&headers) {
        return super::activitypub::note_document(&state, &id).await;
    }
    let note = match notes::show(core, &id, None).await {
        Ok(n) => n,
        Err(Error::NoSuchNote) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "note page failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let author = match users::by_id(core, &note.user_id).await {
        Ok(u) => u,
        _ => return not_found(),
    };
    let body = render::mfm_html(core, note.text.as_deref().unwrap_or_default()).await;
    let body = match &note.cw {
        Some(cw) => format!("<details><summary>{}</summary>{body}</details>", esc(cw)),
        None => body,
    };
    let name = author.name.as_deref().unwrap_or(&author.username);
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title}</title><style>body{{font-family:sans-serif;max-width:40em;margin:3em auto;padding:0 1em}}{css}</style></head>\
         <body><article class=\"note\"><header><strong>{name}</strong> <span>@{user}</span></header>\
         <div class=\"content\">{body}</div><footer><time datetime=\"{at}\">{at}</time></footer></article></body></html>",
        title = esc(&format!("{name}: {}", note.text.as_deref().unwrap_or_default().chars().take(50).collect::<String>())),
        css = tsudoi_mfm::STYLESHEET,
        name = esc(name),
        user = esc(&author.username),
        at = iso(note.created_at),
    ))
    .into_response()
}

/// Escapes text for HTML element content and double-quoted attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    tsudoi_mfm::escape(s, &mut out);
    out
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{}</title><style>body{{font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em}}\
         label{{display:block;margin:.5em 0}}input{{width:100%;padding:.4em}}button{{padding:.5em 1.5em}}\
         .error{{color:#b00}}</style></head><body>{body}</body></html>",
        esc(title)
    ))
}

fn grant_form(
    instance: &str,
    app_name: &str,
    permissions: &[String],
    error: Option<&str>,
) -> Html<String> {
    let perms: String = if permissions.is_empty() {
        "<li>no permissions</li>".into()
    } else {
        permissions
            .iter()
            .map(|p| format!("<li><code>{}</code></li>", esc(p)))
            .collect()
    };
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>", esc(e)))
        .unwrap_or_default();
    page(
        "Allow access",
        &format!(
            "<h1>{}</h1><p><strong>{}</strong> asks for access to your account with these permissions:</p>\
             <ul>{perms}</ul>{error}<form method=\"post\">\
             <label>Username <input name=\"username\" autocomplete=\"username\" required></label>\
             <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
             <button type=\"submit\">Allow</button></form>",
            esc(instance),
            esc(app_name),
        ),
    )
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

/// Why a grant form did not sign the person in.
enum SignInRefused {
    /// Shown on the form again.
    Form(&'static str),
    /// The server's fault: an error page.
    Fault(Response),
}

/// Signs the person in from a grant form (failures counted against their address, as
/// `signin-flow` counts them).
async fn sign_in(state: &ApiState, ip: SocketAddr, c: &Credentials) -> Result<User, SignInRefused> {
    match accounts::sign_in(&state.core, &c.username, &c.password, &ip.ip().to_string()).await {
        Ok((user, _)) => Ok(user),
        Err(Error::RateLimited { .. }) => Err(SignInRefused::Form(
            "Too many failed attempts. Try again later.",
        )),
        Err(Error::SigninFailed) => Err(SignInRefused::Form("Incorrect username or password.")),
        Err(e) => {
            tracing::error!(error = %e, "sign-in failed");
            Err(SignInRefused::Fault(
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    page("Error", "Internal error."),
                )
                    .into_response(),
            ))
        }
    }
}

async fn miauth_page(
    State(state): State<Arc<ApiState>>,
    Path(session): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let req = apps::MiauthRequest {
        name: q.get("name").cloned(),
        icon: q.get("icon").cloned(),
        callback: q.get("callback").cloned(),
        permission: q
            .get("permission")
            .map(|p| p.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
    };
    match apps::miauth_open(&state.core, &session, &req).await {
        Ok(row) => grant_form(
            &state.core.settings().instance_name,
            row.name.as_deref().unwrap_or("An app"),
            &row.permission,
            row.token
                .is_some()
                .then_some("This session was already granted."),
        )
        .into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, page("Error", &esc(&e.to_string()))).into_response(),
    }
}

async fn miauth_submit(
    State(state): State<Arc<ApiState>>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Path(session): Path<String>,
    Form(c): Form<Credentials>,
) -> Response {
    let Ok(row) = apps::miauth_session(&state.core, &session).await else {
        return (StatusCode::NOT_FOUND, page("Error", "No such session.")).into_response();
    };
    let app_name = row.name.as_deref().unwrap_or("An app");
    let instance = &state.core.settings().instance_name;
    let user = match sign_in(&state, ip, &c).await {
        Ok(u) => u,
        Err(SignInRefused::Form(msg)) => {
            return (
                StatusCode::FORBIDDEN,
                grant_form(instance, app_name, &row.permission, Some(msg)),
            )
                .into_response();
        }
        Err(SignInRefused::Fault(resp)) => return resp,
    };
    if let Err(e) = apps::miauth_grant(&state.core, &user, &row).await {
        return (StatusCode::CONFLICT, page("Error", &esc(&e.to_string()))).into_response();
    }
    match row
        .callback_url
        .as_deref()
        .and_then(|c| url::Url::parse(c).ok())
    {
        Some(mut cb) => {
            cb.query_pairs_mut().append_pair("session", &session);
            Redirect::to(cb.as_str()).into_response()
        }
        None => page("Done", "<p>Access granted. You can return to the app.</p>").into_response(),
    }
}

async fn auth_page(State(state): State<Arc<ApiState>>, Path(token): Path<String>) -> Response {
    match apps::show_session(&state.core, &token).await {
        Ok((_, client)) => grant_form(
            &state.core.settings().instance_name,
            &client.name,
            &client.permission,
            None,
        )
        .into_response(),
        Err(e) => (StatusCode::NOT_FOUND, page("Error", &esc(&e.to_string()))).into_response(),
    }
}

async fn auth_submit(
    State(state): State<Arc<ApiState>>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    Form(c): Form<Credentials>,
) -> Response {
    let Ok((_, client)) = apps::show_session(&state.core, &token).await else {
        return (StatusCode::NOT_FOUND, page("Error", "No such session.")).into_response();
    };
    let instance = &state.core.settings().instance_name;
    let user = match sign_in(&state, ip, &c).await {
        Ok(u) => u,
        Err(SignInRefused::Form(msg)) => {
            return (
                StatusCode::FORBIDDEN,
                grant_form(instance, &client.name, &client.permission, Some(msg)),
            )
                .into_response();
        }
        Err(SignInRefused::Fault(resp)) => return resp,
    };
    if let Err(e) = apps::accept_session(&state.core, &user, &token).await {
        return (StatusCode::CONFLICT, page("Error", &esc(&e.to_string()))).into_response();
    }
    match client
        .callback_url
        .as_deref()
        .filter(|c| apps::safe_callback(c))
        .and_then(|c| url::Url::parse(c).ok())
    {
        Some(mut cb) => {
            cb.query_pairs_mut().append_pair("token", &token);
            Redirect::to(cb.as_str()).into_response()
        }
        None => page("Done", "<p>Access granted. You can return to the app.</p>").into_response(),
    }
}

/// A 5×5 mirrored pattern in a colour, both derived from a hash of the key: the same user
/// always gets the same picture, and no image library is needed.
async fn identicon(Path(key): Path<String>) -> Response {
    let hash = Sha256::digest(key.as_bytes());
    let hue = u16::from_be_bytes([hash[0], hash[1]]) % 360;
    let mut rects = String::new();
    for y in 0..5 {
        for x in 0..3 {
            let bit = hash[2 + y * 3 + x] & 1 == 1;
            if bit {
                for xx in [x, 4 - x] {
                    rects.push_str(&format!(
                        "<rect x=\"{}\" y=\"{}\" width=\"1\" height=\"1\"/>",
                        xx + 1,
                        y + 1
                    ));
                    if x == 2 {
                        break;
                    }
                }
            }
        }
    }
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 7 7\" width=\"128\" height=\"128\">\
         <rect width=\"7\" height=\"7\" fill=\"hsl({hue},30%,92%)\"/><g fill=\"hsl({hue},55%,50%)\">{rects}</g></svg>"
    );
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400, immutable"),
        ],
        svg,
    )
        .into_response()
}
