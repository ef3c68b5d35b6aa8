//! `/api.json`: an OpenAPI 3.1 document generated from the endpoint table, so it lists exactly
//! what is implemented, with the parameter schemas the handlers actually deserialise.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::ApiState;

pub async fn document(State(state): State<Arc<ApiState>>) -> Response {
    axum::Json(build(&state)).into_response()
}

fn build(state: &ApiState) -> Value {
    let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
    let mut names: Vec<&&str> = state.endpoints.keys().collect();
    names.sort();
    let error = json!({ "$ref": "#/components/schemas/Error" });
    let mut paths = serde_json::Map::new();
    for name in names {
        let e = &state.endpoints[*name];
        let params = (e.params)(&mut generator);
        let mut op = json!({
            "operationId": name,
            "summary": e.description,
            "description": format!(
                "{}{}{}",
                e.description,
                if e.credential { " Requires a credential." } else { "" },
                e.kind.map(|k| format!(" Permission: `{k}`.")).unwrap_or_default()
            ),
            "requestBody": { "required": true, "content": { "application/json": { "schema": params } } },
            "responses": {
                "200": { "description": "OK" },
                "204": { "description": "OK, no content" },
                "400": { "description": "Invalid parameters", "content": { "application/json": { "schema": error } } },
                "401": { "description": "Credential required or invalid", "content": { "application/json": { "schema": error } } },
                "403": { "description": "Forbidden", "content": { "application/json": { "schema": error } } },
                "404": { "description": "No such object", "content": { "application/json": { "schema": error } } },
                "429": { "description": "Rate limited", "content": { "application/json": { "schema": error } } },
                "500": { "description": "Internal error", "content": { "application/json": { "schema": error } } },
            },
        });
        if e.credential {
            op["security"] = json!([{ "bearerAuth": [] }]);
        }
        if let Some(kind) = e.kind {
            op["x-permission"] = json!(kind);
        }
        paths.insert(format!("/{name}"), json!({ "post": op }));
    }
    let mut schemas = serde_json::Map::new();
    for (k, v) in generator.take_definitions(true) {
        schemas.insert(k, v);
    }
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "required": ["error"],
            "properties": { "error": {
                "type": "object",
                "required": ["code", "message", "id"],
                "properties": {
                    "code": { "type": "string" }, "message": { "type": "string" },
                    "id": { "type": "string", "format": "uuid" }, "kind": { "type": "string" },
                    "info": { "type": "object" }
                }
            }}
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Tsudoi API (Misskey-compatible)", "version": env!("CARGO_PKG_VERSION") },
        "servers": [{ "url": format!("{}/api", state.core.settings().base_url()) }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": { "bearerAuth": { "type": "http", "scheme": "bearer" } }
        }
    })
}
