//! The HTTP surface: Misskey's client API under `/api/*`, the MiAuth and legacy-auth pages,
//! NodeInfo, the OpenAPI document and a health check. Handlers parse, call `tsudoi_core`,
//! and shape entities through [`entities`]; they hold no rules of their own and never reach
//! the store.

mod activitypub;
mod endpoints;
pub mod entities;
mod error;
mod media;
mod nodeinfo;
mod openapi;
mod pages;
mod params;
mod streaming;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument;
use tsudoi_core::accounts::{self, Session};
use tsudoi_core::{Core, Settings};
use tsudoi_federation::Federation;
use tsudoi_model::{AppGrant, User};

pub use error::ApiError;

pub type ApiResult<T> = Result<T, ApiError>;

/// Largest request body the API reads (Misskey's limit too).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// What a handler returns: a JSON body (serialised once, straight from the typed entity),
/// or nothing (204) as Misskey does for void endpoints.
pub enum Reply {
    Json(Vec<u8>),
    NoContent,
}

pub fn json(v: impl serde::Serialize) -> ApiResult<Reply> {
    serde_json::to_vec(&v)
        .map(Reply::Json)
        .map_err(ApiError::internal)
}

/// Per-request context handed to every endpoint.
#[derive(Clone)]
pub struct Ctx {
    pub core: Core,
    pub fed: Federation,
    pub user: Option<User>,
    /// The app token the call came with; `None` for the account's own token (or none).
    pub app: Option<AppGrant>,
    pub ip: Option<std::net::IpAddr>,
    /// The file a multipart request carried (endpoints registered with `.file()`).
    pub file: Option<params::Upload>,
}

impl Ctx {
    /// The signed-in user; only called by endpoints registered with `.credential()`.
    pub fn me(&self) -> ApiResult<&User> {
        self.user.as_ref().ok_or_else(ApiError::credential_required)
    }

    pub fn viewer_id(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.id.as_str())
    }

    pub fn settings(&self) -> &Settings {
        self.core.settings()
    }

    /// Who is calling, for limits counted per caller when nobody is signed in: the address.
    pub fn client(&self) -> String {
        self.ip.map(|ip| ip.to_string()).unwrap_or_default()
    }
}

/// The top-level parameter of `params` holding a string with U+0000 anywhere inside it.
fn first_with_nul(params: &Value) -> Option<&str> {
    fn has_nul(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().any(has_nul),
            Value::Object(fields) => fields.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
            _ => false,
        }
    }
    match params {
        Value::Object(fields) => fields
            .iter()
            .find(|(k, v)| k.contains('\0') || has_nul(v))
            .map(|(k, _)| k.as_str()),
        other => has_nul(other).then_some(""),
    }
}

type BoxFut = Pin<Box<dyn Future<Output = ApiResult<Reply>> + Send>>;
type Handler = Arc<dyn Fn(Ctx, Value) -> BoxFut + Send + Sync>;

/// One API endpoint: its name, who may call it, and the handler.
pub struct Endpoint {
    pub name: &'static str,
    pub credential: bool,
    /// App-token permission needed (`write:notes` …); native tokens carry all of them.
    pub kind: Option<&'static str>,
    /// Only the account's own token may call it (not an app token).
    pub secure: bool,
    /// Calls allowed per hour per caller (user, or IP when anonymous).
    pub per_hour: Option<u32>,
    /// Only administrators may call it (with their own token, not an app's).
    pub admin: bool,
    /// Largest request body accepted.
    pub max_body: usize,
    /// Also answers GET, with the parameters in the query string (as Misskey serves
    /// `emojis`, `notes/reactions` and the other endpoints clients read without a body).
    pub get: bool,
    /// Takes a multipart form whose `file` part is an upload (beside the other parameters
    /// and the token `i` as form fields).
    pub file: bool,
    /// Its form may be as large as the drive's largest file (set when the table is built for
    /// a server's settings).
    sized_by_drive: bool,
    /// Names of the parameters that are numbers or booleans, which a query string or a
    /// form carries as text (worked out from the schema on first use).
    scalar_params: std::sync::OnceLock<std::collections::HashMap<String, params::Scalar>>,
    pub description: &'static str,
    pub params: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
    handler: Handler,
}

impl Endpoint {
    /// An endpoint whose JSON body deserialises into `P`.
    pub fn new<P, F, Fut>(name: &'static str, description: &'static str, f: F) -> Self
    where
        P: DeserializeOwned + schemars::JsonSchema + Send + 'static,
        F: Fn(Ctx, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ApiResult<Reply>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |ctx, body| match parse_params::<P>(body) {
            Ok(p) => Box::pin(f(ctx, p)),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        });
        Self {
            name,
            credential: false,
            kind: None,
            secure: false,
            per_hour: None,
            admin: false,
            max_body: MAX_BODY_BYTES,
            get: false,
            file: false,
            sized_by_drive: false,
            scalar_params: std::sync::OnceLock::new(),
            description,
            params: |g| g.subschema_for::<P>(),
            handler,
        }
    }

    pub fn credential(mut self) -> Self {
        self.credential = true;
        self
    }

    pub fn kind(mut self, kind: &'static str) -> Self {
        self.kind = Some(kind);
        self
    }

    pub fn secure(mut self) -> Self {
        self.secure = true;
        self
    }

    pub fn per_hour(mut self, n: u32) -> Self {
        self.per_hour = Some(n);
        self
    }

    /// Administrators only: implies a credential and the account's own token.
    pub fn admin(mut self) -> Self {
        self.admin = true;
        self.credential().secure()
    }

    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Answers GET too.
    pub fn get(mut self) -> Self {
        self.get = true;
        self
    }

    /// Takes an uploaded file, up to `max_body` bytes for the whole form.
    pub fn file(mut self, max_body: usize) -> Self {
        self.file = true;
        self.max_body(max_body)
    }

    /// Takes an upload to the drive: a form up to the drive's largest file.
    pub fn drive_upload(mut self) -> Self {
        self.file = true;
        self.sized_by_drive = true;
        self
    }
}

/// Deserialises the body into the endpoint's parameters; errors name the parameter at fault.
fn parse_params<P: DeserializeOwned>(body: Value) -> ApiResult<P> {
    serde_path_to_error::deserialize::<_, P>(body).map_err(|e| {
        let path = e.path().to_string();
        let param = if path == "." { String::new() } else { path };
        ApiError::invalid_param(&param, e.inner())
    })
}

pub struct ApiState {
    pub core: Core,
    pub fed: Federation,
    endpoints: HashMap<&'static str, Endpoint>,
    /// The node's streaming hub, started with the first streaming connection.
    hub: std::sync::OnceLock<streaming::Hub>,
}

impl ApiState {
    fn hub(&self) -> streaming::Hub {
        self.hub
            .get_or_init(|| streaming::Hub::start(self.core.clone()))
            .clone()
    }
}

/// The largest upload form: the largest file the drive takes, with room for the form's
/// other fields.
fn upload_form_limit(settings: &tsudoi_core::Settings) -> usize {
    const FORM_FIELDS: usize = 64 << 10;
    usize::try_from(settings.drive.max_file_bytes).unwrap_or(usize::MAX) + FORM_FIELDS
}

/// The whole HTTP application.
pub fn router(fed: Federation) -> Router {
    let drive_form = upload_form_limit(fed.core().settings());
    let endpoints = endpoints::all()
        .into_iter()
        .map(|mut e| {
            if e.sized_by_drive {
                e.max_body = drive_form;
            }
            (e.name, e)
        })
        .collect();
    let state = Arc::new(ApiState {
        core: fed.core().clone(),
        fed,
        endpoints,
        hub: std::sync::OnceLock::new(),
    });
    Router::new()
        .route("/api/{*endpoint}", any(dispatch))
        .route("/api.json", get(openapi::document))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .merge(nodeinfo::routes())
        .merge(activitypub::routes())
        .merge(pages::routes())
        .merge(media::routes())
        .merge(streaming::routes())
        .fallback(fallback)
        .with_state(state)
}

async fn health(State(state): State<Arc<ApiState>>) -> Response {
    match state.core.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

/// Prometheus metrics: the plugin runtime's calls, failures and latencies.
async fn metrics(State(state): State<Arc<ApiState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.core.plugin_metrics(),
    )
        .into_response()
}

async fn fallback() -> Response {
    (StatusCode::NOT_FOUND, "Not Found").into_response()
}

async fn dispatch(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let method = req.method().clone();
    let headers = req.headers().clone();
    let uri = req.uri().clone();
    let result = call(&state, &name, method, &uri, &headers, ip, req.into_body()).await;
    let mut resp = match result {
        Ok(Reply::Json(body)) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Ok(Reply::NoContent) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    };
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=0, must-revalidate"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

/// The account (and app permissions) a token belongs to; an unknown token is an error.
async fn lookup_token(state: &ApiState, token: &str) -> ApiResult<Session> {
    accounts::authenticate(&state.core, token)
        .await?
        .ok_or_else(ApiError::authentication_failed)
}

async fn call(
    state: &ApiState,
    name: &str,
    method: Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    ip: Option<std::net::IpAddr>,
    body: Body,
) -> ApiResult<Reply> {
    let name = name.trim_end_matches('/');
    // `miauth/{session}/check` carries its argument in the path.
    if let Some(session) = name
        .strip_prefix("miauth/")
        .and_then(|rest| rest.strip_suffix("/check"))
    {
        if method != Method::POST {
            return Err(ApiError::method_not_allowed());
        }
        return endpoints::auth::miauth_check(&state.core, session).await;
    }
    let endpoint = state
        .endpoints
        .get(name)
        .ok_or_else(ApiError::unknown_endpoint)?;
    if method == Method::OPTIONS {
        return Ok(Reply::NoContent);
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let bearer_owner = match bearer {
        Some(token) => Some(lookup_token(state, token).await?),
        None => None,
    };
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok());
    let (mut params, body_owner, file) = match (&method, multipart) {
        (&Method::GET, _) if endpoint.get => (
            params::from_query(endpoint, uri.query().unwrap_or_default()),
            None,
            None,
        ),
        (&Method::POST, Some(boundary)) if endpoint.file => {
            let form =
                params::read_multipart(state, endpoint, bearer_owner.as_ref(), body, boundary)
                    .await?;
            (form.params, form.owner, form.file)
        }
        (&Method::POST, _) => (
            params::read_json(endpoint, bearer_owner.as_ref(), body).await?,
            None,
            None,
        ),
        _ => return Err(ApiError::method_not_allowed()),
    };
    if let Some(param) = first_with_nul(&params) {
        // PostgreSQL cannot store U+0000 in text, and no client means to send it.
        return Err(ApiError::invalid_param(
            param,
            "must not contain the character U+0000",
        ));
    }
    let Some(obj) = params.as_object_mut() else {
        return Err(ApiError::invalid_param("", "body must be a JSON object"));
    };
    let body_token = match obj.remove("i") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(ApiError::invalid_param("i", "must be a string")),
    };
    // The header wins over a token in the body.
    let owner = match (bearer_owner, body_owner, body_token) {
        (Some(owner), _, _) | (None, Some(owner), _) => Some(owner),
        (None, None, Some(token)) => Some(lookup_token(state, &token).await?),
        (None, None, None) => None,
    };

    let (user, app) = match owner {
        Some(owner) => (Some(owner.user), owner.app),
        None => (None, None),
    };
    if endpoint.credential {
        let Some(u) = &user else {
            return Err(ApiError::credential_required());
        };
        if u.is_suspended {
            return Err(ApiError::suspended());
        }
    }
    if endpoint.admin && !user.as_ref().is_some_and(|u| u.is_admin) {
        return Err(ApiError::admin_only());
    }
    if let Some(grant) = &app {
        if endpoint.secure {
            return Err(ApiError::access_denied());
        }
        let allowed = match endpoint.kind {
            Some(kind) => grant.allows(kind),
            None => !endpoint.credential,
        };
        if !allowed {
            return Err(ApiError::permission_denied());
        }
    }
    if let Some(per_hour) = endpoint.per_hour {
        let key = match (&user, ip) {
            (Some(u), _) => u.id.clone(),
            (None, Some(ip)) => ip.to_string(),
            (None, None) => "unknown".to_owned(),
        };
        state.core.rate_limit(endpoint.name, &key, per_hour).await?;
    }
    let ctx = Ctx {
        core: state.core.clone(),
        fed: state.fed.clone(),
        user,
        app,
        ip,
        file,
    };
    let span = tracing::info_span!("api", endpoint = endpoint.name);
    (endpoint.handler)(ctx, params).instrument(span).await
}
