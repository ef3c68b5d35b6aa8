//! How an endpoint's parameters arrive: a JSON body (the usual way), a query string (the
//! endpoints Misskey also serves by GET) or a multipart form with an upload. Query strings
//! and forms carry text; parameters the endpoint's schema says are numbers or booleans are
//! read as such, as Misskey's validator coerces them.

use std::collections::HashMap;

use axum::body::Body;
use serde_json::{Map, Value};
use tsudoi_core::accounts::Session;

use super::error::ErrorInfo;
use super::{ApiError, ApiResult, ApiState, Endpoint, MAX_BODY_BYTES, lookup_token};

/// A parameter that is not text (the name is loose: lists and objects come as JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Integer,
    Number,
    Boolean,
    /// A list or an object, sent as JSON text.
    Json,
}

/// A file sent in a multipart form's `file` part.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The name the client gave it (never trusted for its type).
    pub name: Option<String>,
    pub data: Vec<u8>,
}

/// The parameters of `endpoint` that are numbers or booleans, from its schema.
fn scalars(endpoint: &Endpoint) -> &HashMap<String, Scalar> {
    endpoint.scalar_params.get_or_init(|| {
        let mut generator = schemars::generate::SchemaSettings::default()
            .with(|s| s.inline_subschemas = true)
            .into_generator();
        let schema = (endpoint.params)(&mut generator).to_value();
        let mut out = HashMap::new();
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            return out;
        };
        for (name, prop) in props {
            let types: Vec<&str> = match prop.get("type") {
                Some(Value::String(t)) => vec![t.as_str()],
                Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let kind = if types.contains(&"integer") {
                Some(Scalar::Integer)
            } else if types.contains(&"number") {
                Some(Scalar::Number)
            } else if types.contains(&"boolean") {
                Some(Scalar::Boolean)
            } else if types.contains(&"array") || types.contains(&"object") {
                Some(Scalar::Json)
            } else {
                None
            };
            if let Some(kind) = kind {
                out.insert(name.clone(), kind);
            }
        }
        out
    })
}

/// A text value as the parameter's type; text that is not one stays text, and the
/// endpoint's validation names the parameter.
fn coerce(endpoint: &Endpoint, name: &str, value: String) -> Value {
    let parsed = match scalars(endpoint).get(name) {
        Some(Scalar::Integer) => value.parse::<i64>().ok().map(Value::from),
        Some(Scalar::Number) => value.parse::<f64>().ok().map(Value::from),
        Some(Scalar::Boolean) => match value.as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        Some(Scalar::Json) => serde_json::from_str(&value).ok(),
        None if value == "null" => Some(Value::Null),
        None => None,
    };
    parsed.unwrap_or(Value::String(value))
}

/// The parameters of a GET request.
pub fn from_query(endpoint: &Endpoint, query: &str) -> Value {
    let mut params = Map::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let value = coerce(endpoint, &k, v.into_owned());
        params.insert(k.into_owned(), value);
    }
    Value::Object(params)
}

/// Whether a body larger than the usual limit may be read from this caller: only once the
/// caller is known (a token that came before the body) and may call the endpoint. An
/// anonymous client must not make the server buffer megabytes.
fn may_send_large(endpoint: &Endpoint, owner: Option<&Session>) -> bool {
    owner.is_some_and(|o| !endpoint.admin || o.user.is_admin)
}

fn too_large(endpoint: &Endpoint, limit: usize) -> ApiError {
    if limit < endpoint.max_body {
        ApiError::payload_too_large().with_info(ErrorInfo::Reason {
            reason: format!(
                "bodies over {MAX_BODY_BYTES} bytes are read only from a caller whose token \
                 comes first: as `Authorization: Bearer`, or as the form's first field `i`"
            ),
        })
    } else {
        ApiError::payload_too_large()
    }
}

/// The parameters of a JSON body.
pub async fn read_json(
    endpoint: &Endpoint,
    bearer_owner: Option<&Session>,
    body: Body,
) -> ApiResult<Value> {
    let limit = if may_send_large(endpoint, bearer_owner) {
        endpoint.max_body
    } else {
        endpoint.max_body.min(MAX_BODY_BYTES)
    };
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large(endpoint, limit))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid_param("", format!("body is not valid JSON: {e}")))
}

/// What a multipart form carried.
pub struct Form {
    pub params: Value,
    /// Whose token the form's `i` field was (checked as soon as it arrived).
    pub owner: Option<Session>,
    pub file: Option<Upload>,
}

fn bad_form(e: impl std::fmt::Display) -> ApiError {
    ApiError::invalid_param("", format!("the multipart form cannot be read: {e}"))
}

/// Reads a multipart form field by field. The token field `i` is checked when it arrives,
/// so a client that sends it first (as Misskey's clients do) may then upload up to the
/// endpoint's limit.
pub async fn read_multipart(
    state: &ApiState,
    endpoint: &Endpoint,
    bearer_owner: Option<&Session>,
    body: Body,
    boundary: String,
) -> ApiResult<Form> {
    let mut form = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut params = Map::new();
    let mut owner: Option<Session> = None;
    let mut file = None;
    let mut read = 0usize;
    while let Some(mut field) = form.next_field().await.map_err(bad_form)? {
        let name = field.name().unwrap_or_default().to_owned();
        let caller = bearer_owner.or(owner.as_ref());
        let limit = if may_send_large(endpoint, caller) {
            endpoint.max_body
        } else {
            endpoint.max_body.min(MAX_BODY_BYTES)
        };
        let file_name = field.file_name().map(str::to_owned);
        let mut data = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
            read += chunk.len();
            if read > limit {
                return Err(too_large(endpoint, limit));
            }
            data.extend_from_slice(&chunk);
        }
        if name == "file" {
            file = Some(Upload {
                name: file_name,
                data,
            });
            continue;
        }
        let text = String::from_utf8(data)
            .map_err(|_| ApiError::invalid_param(&name, "must be UTF-8 text"))?;
        if name == "i" && bearer_owner.is_none() {
            owner = Some(lookup_token(state, &text).await?);
            continue;
        }
        let value = coerce(endpoint, &name, text);
        params.insert(name, value);
    }
    Ok(Form {
        params: Value::Object(params),
        owner,
        file,
    })
}
