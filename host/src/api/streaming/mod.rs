//! Misskey's streaming API: `GET /streaming`, a WebSocket per client, with the token in
//! `?i=` or `Authorization: Bearer` (a bad one gets 401 before the upgrade; an app token
//! needs `read:account`, as Misskey asks). Without a token only the public channels work.
//!
//! The node's [`hub::Hub`] prepares each event once; each [`connection`] keeps its
//! viewer's channels, note subscriptions and relations, and decides what to send.

mod connection;
mod hub;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tsudoi_core::accounts;

pub use hub::Hub;

use super::ApiState;

/// Largest message a client may send: its messages are a channel name, an id and a few
/// flags.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// The socket's read and write buffers. tungstenite's defaults (128 KiB each) made an idle
/// connection cost the server ~280 KiB; the messages both ways are a few KiB at most.
const BUFFER_BYTES: usize = 4 * 1024;

/// What may wait to be written to a client that does not read: past it the connection
/// fails instead of growing without bound.
const MAX_UNSENT_BYTES: usize = 1 << 20;

pub fn routes() -> Router<Arc<ApiState>> {
    Router::new().route("/streaming", get(upgrade))
}

async fn upgrade(
    State(state): State<Arc<ApiState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or(query.get("i").map(String::as_str));
    let user = match token {
        None => None,
        Some(token) => match accounts::authenticate(&state.core, token).await {
            Ok(Some(session)) if !session.user.is_suspended => {
                if session
                    .app
                    .as_ref()
                    .is_some_and(|app| !app.allows("read:account"))
                {
                    return (
                        StatusCode::FORBIDDEN,
                        "Your app does not have necessary permissions to use websocket API.",
                    )
                        .into_response();
                }
                Some(session.user)
            }
            Ok(_) => return StatusCode::UNAUTHORIZED.into_response(),
            Err(e) => {
                tracing::error!(error = %e, "cannot check a streaming token");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        },
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let core = state.core.clone();
    let hub = state.hub();
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .read_buffer_size(BUFFER_BYTES)
        .write_buffer_size(BUFFER_BYTES)
        .max_write_buffer_size(MAX_UNSENT_BYTES)
        .on_upgrade(move |socket| connection::run(socket, core, hub, user))
}
