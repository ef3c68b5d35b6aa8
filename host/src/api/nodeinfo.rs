//! NodeInfo 2.0 and 2.1: how crawlers and other servers learn what software this is.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use tsudoi_model::RegistrationMode;

use super::ApiState;

pub fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/.well-known/nodeinfo", get(links))
        .route("/nodeinfo/{version}", get(document))
}

#[derive(Serialize)]
struct Links {
    links: [Link; 2],
}

#[derive(Serialize)]
struct Link {
    rel: String,
    href: String,
}

async fn links(State(state): State<Arc<ApiState>>) -> Response {
    let base = state.core.settings().base_url();
    let link = |version: &str| Link {
        rel: format!("http://nodeinfo.diaspora.software/ns/schema/{version}"),
        href: format!("{base}/nodeinfo/{version}"),
    };
    axum::Json(Links {
        links: [link("2.1"), link("2.0")],
    })
    .into_response()
}

/// A NodeInfo document (2.0 and 2.1 share this shape).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NodeInfo<'a> {
    version: &'a str,
    software: Software,
    protocols: [&'static str; 1],
    services: Services,
    open_registrations: bool,
    usage: Usage,
    metadata: Metadata<'a>,
}

#[derive(Serialize)]
struct Software {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Services {
    inbound: [(); 0],
    outbound: [(); 0],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Usage {
    users: UserCount,
    local_posts: i64,
}

#[derive(Serialize)]
struct UserCount {
    total: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Metadata<'a> {
    node_name: &'a str,
    node_description: Option<&'a str>,
    max_note_text_length: usize,
}

async fn document(State(state): State<Arc<ApiState>>, Path(version): Path<String>) -> Response {
    let version = version.trim_end_matches(".json");
    if version != "2.0" && version != "2.1" {
        return (StatusCode::NOT_FOUND, "unknown NodeInfo version").into_response();
    }
    let (users, notes) = match tsudoi_core::admin::usage(&state.core).await {
        Ok(v) => v,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    };
    let settings = state.core.settings();
    let body = NodeInfo {
        version,
        software: Software {
            name: "tsudoi",
            version: env!("CARGO_PKG_VERSION"),
        },
        protocols: ["activitypub"],
        services: Services {
            inbound: [],
            outbound: [],
        },
        open_registrations: settings.registration == RegistrationMode::Open,
        usage: Usage {
            users: UserCount { total: users },
            local_posts: notes,
        },
        metadata: Metadata {
            node_name: &settings.instance_name,
            node_description: settings.instance_description.as_deref(),
            max_note_text_length: settings.max_note_length,
        },
    };
    let body = match serde_json::to_string(&body) {
        Ok(b) => b,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let profile = format!(
        "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/{version}#\""
    );
    ([(header::CONTENT_TYPE, profile)], body).into_response()
}
