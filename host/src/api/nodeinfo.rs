//! NodeInfo 2.0 and 2.1: how crawlers and other servers learn what software this is.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::ApiState;
use crate::config::RegistrationMode;

pub fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/.well-known/nodeinfo", get(links))
        .route("/nodeinfo/{version}", get(document))
}

async fn links(State(state): State<Arc<ApiState>>) -> Response {
    let base = state.app.config.base_url();
    axum::Json(json!({
        "links": [
            { "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": format!("{base}/nodeinfo/2.1") },
            { "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": format!("{base}/nodeinfo/2.0") },
        ]
    }))
    .into_response()
}

async fn document(State(state): State<Arc<ApiState>>, Path(version): Path<String>) -> Response {
    let version = version.trim_end_matches(".json");
    if version != "2.0" && version != "2.1" {
        return (StatusCode::NOT_FOUND, "unknown NodeInfo version").into_response();
    }
    let app = &state.app;
    let (users, notes) =
        match tokio::try_join!(app.store.count_local_users(), app.store.count_local_notes()) {
            Ok(v) => v,
            Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
        };
    let software = json!({ "name": "tsudoi", "version": env!("CARGO_PKG_VERSION") });
    let body = json!({
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": { "inbound": [], "outbound": [] },
        "openRegistrations": app.config.registration == RegistrationMode::Open,
        "usage": { "users": { "total": users }, "localPosts": notes },
        "metadata": {
            "nodeName": app.config.instance_name,
            "nodeDescription": app.config.instance_description,
            "maxNoteTextLength": app.config.max_note_length,
        }
    });
    let profile = format!(
        "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/{version}#\""
    );
    ([(header::CONTENT_TYPE, profile)], body.to_string()).into_response()
}
