//! The security-relevant parts of request handling, checked in process against the real
//! router (`tower::ServiceExt::oneshot`): which token a request acts with, who may send a
//! large body, and what an app's token may call.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;
use tsudoi::config::Config;
use tsudoi_core::Core;
use tsudoi_core::accounts::{self, Origin};
use tsudoi_core::apps::{self, MiauthRequest};
use tsudoi_testkit::TestDatabase;

struct Server {
    core: Core,
    fed: tsudoi_federation::Federation,
    _db: TestDatabase,
}

async fn server() -> Server {
    let db = TestDatabase::new();
    let env = [
        ("TSUDOI_DATA_DIR", db.dir().display().to_string()),
        ("TSUDOI_DATABASE_URL", db.url.clone()),
    ];
    let config = Config::load_with_env(None, |k| {
        env.iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    let fed = tsudoi::wiring::open_federated(&config).await.unwrap();
    Server {
        core: fed.core().clone(),
        fed,
        _db: db,
    }
}

/// A new account: its id and native token.
async fn account(s: &Server, name: &str, admin: bool) -> (String, String) {
    let (user, token) = accounts::create_account(&s.core, name, "pw", Origin::Shell { admin })
        .await
        .unwrap();
    (user.id, token)
}

/// A token an app got through MiAuth with `permission`, for the account `name`.
async fn app_token(s: &Server, name: &str, permission: &[&str]) -> String {
    let (id, _) = account(s, name, false).await;
    let user = tsudoi_core::users::by_id(&s.core, &id).await.unwrap();
    let session = apps::miauth_open(
        &s.core,
        &format!("session-{name}"),
        &MiauthRequest {
            name: Some("an app".into()),
            permission: permission.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    apps::miauth_grant(&s.core, &user, &session).await.unwrap()
}

/// POSTs `body` to `/api/{endpoint}`, with `bearer` as the Authorization header if given.
async fn call(
    s: &Server,
    endpoint: &str,
    bearer: Option<&str>,
    body: impl Into<Body>,
) -> (StatusCode, Value) {
    let mut request =
        Request::post(format!("/api/{endpoint}")).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = tsudoi::api::router(s.fed.clone())
        .oneshot(request.body(body.into()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, value)
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_header_token_wins_over_the_body_token_and_a_bad_one_is_refused() {
    let s = server().await;
    let (alice, alice_token) = account(&s, "alice", false).await;
    let (bob, bob_token) = account(&s, "bob", false).await;
    let body = |token: &str| json!({ "i": token }).to_string();

    // Either alone works.
    let (status, me) = call(&s, "i", Some(&alice_token), "{}").await;
    assert_eq!(
        (status, me["id"].as_str()),
        (StatusCode::OK, Some(alice.as_str()))
    );
    let (status, me) = call(&s, "i", None, body(&bob_token)).await;
    assert_eq!(
        (status, me["id"].as_str()),
        (StatusCode::OK, Some(bob.as_str()))
    );
    // Both: the request acts as the header's account.
    let (status, me) = call(&s, "i", Some(&alice_token), body(&bob_token)).await;
    assert_eq!(
        (status, me["id"].as_str()),
        (StatusCode::OK, Some(alice.as_str()))
    );
    // A bad header token is refused even when the body holds a good one.
    let (status, e) = call(&s, "i", Some("not-a-token"), body(&bob_token)).await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::UNAUTHORIZED, "AUTHENTICATION_FAILED")
    );
    let (status, e) = call(&s, "i", None, body("not-a-token")).await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::UNAUTHORIZED, "AUTHENTICATION_FAILED")
    );
    // No token at all, where one is needed.
    let (status, e) = call(&s, "i", None, "{}").await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::UNAUTHORIZED, "CREDENTIAL_REQUIRED")
    );
    // A token that is not a string is a bad parameter, not an anonymous call.
    let (status, e) = call(&s, "i", None, r#"{"i": 42}"#).await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::BAD_REQUEST, "INVALID_PARAM")
    );
}

#[tokio::test]
async fn bodies_over_a_mebibyte_are_read_only_from_an_administrator_with_a_header_token() {
    let s = server().await;
    let (_, admin_token) = account(&s, "root_admin", true).await;
    let (_, user_token) = account(&s, "carol", false).await;
    // Over 1 MiB of (invalid) base64: if the body is read, the handler refuses the wasm.
    let big = |token: Option<&str>| {
        let mut body = json!({ "wasm": "!".repeat((1 << 20) + 10) });
        if let Some(t) = token {
            body["i"] = json!(t);
        }
        body.to_string()
    };
    let (status, e) = call(&s, "admin/plugins/install", Some(&admin_token), big(None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["error"]["info"]["param"], "wasm");
    // The same body with the administrator's token inside it cannot be checked before it is
    // read: refused unread.
    let (status, e) = call(&s, "admin/plugins/install", None, big(Some(&admin_token))).await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE")
    );
    assert!(
        e["error"]["info"]["reason"]
            .as_str()
            .unwrap()
            .contains("Authorization")
    );
    // Nor from anyone else, nor anonymously.
    let (status, e) = call(&s, "admin/plugins/install", Some(&user_token), big(None)).await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE")
    );
    let (status, e) = call(&s, "admin/plugins/install", None, big(None)).await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE")
    );
    // Other endpoints never take more than a mebibyte, administrator or not.
    let long_note = json!({ "text": "a".repeat((1 << 20) + 10) }).to_string();
    let (status, e) = call(&s, "notes/create", Some(&admin_token), long_note).await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE")
    );
    // A small body to the same endpoint is an ordinary non-administrator refusal.
    let (status, e) = call(&s, "admin/plugins/list", Some(&user_token), "{}").await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::FORBIDDEN, "ROLE_PERMISSION_DENIED")
    );
}

#[tokio::test]
async fn an_app_token_calls_only_what_its_permissions_allow() {
    let s = server().await;
    let reader = app_token(&s, "dave", &["read:account"]).await;
    let nothing = app_token(&s, "erin", &[]).await;

    // Granted: reading the account.
    let (status, me) = call(&s, "i", Some(&reader), "{}").await;
    assert_eq!(
        (status, me["username"].as_str()),
        (StatusCode::OK, Some("dave"))
    );
    // Not granted: posting.
    let (status, e) = call(&s, "notes/create", Some(&reader), r#"{"text":"hi"}"#).await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::FORBIDDEN, "PERMISSION_DENIED")
    );
    // Only the account's own token may approve apps, whatever the app was granted.
    let (status, e) = call(&s, "auth/accept", Some(&reader), r#"{"token":"x"}"#).await;
    assert_eq!((status, code(&e)), (StatusCode::FORBIDDEN, "ACCESS_DENIED"));
    // An app without permissions still calls what needs no account.
    let (status, e) = call(&s, "i", Some(&nothing), "{}").await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::FORBIDDEN, "PERMISSION_DENIED")
    );
    let (status, meta) = call(&s, "meta", Some(&nothing), "{}").await;
    assert_eq!(status, StatusCode::OK);
    assert!(meta["name"].is_string());
    // Nothing was posted through the refused call.
    let (_, own) = account(&s, "frank", false).await;
    let (status, notes) = call(&s, "notes/local-timeline", Some(&own), "{}").await;
    assert_eq!((status, notes), (StatusCode::OK, json!([])));
}
