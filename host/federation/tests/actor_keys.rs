//! Each local actor gets one key pair, the first time it is asked for, whoever asks at once;
//! it survives in the store and signs what its public half verifies.

use http::{HeaderMap, Method};
use tsudoi_federation::actor_keys::{actor_key, public_key, signing_key};
use tsudoi_federation::signature::{Policy, Request, inspect, sign_request};
use tsudoi_model::ids;
use tsudoi_store::{NewLocalUser, Store};
use tsudoi_testkit::TestDatabase;

async fn user(store: &Store, username: &str) -> String {
    let id = ids::aidx();
    store
        .create_local_user(
            &NewLocalUser {
                id: &id,
                username,
                password_hash: "x",
                token: &format!("token-{username}"),
                is_admin: false,
                created_at: 0,
            },
            None,
        )
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn an_actor_gets_one_key_pair_however_many_ask_at_once() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    assert!(
        store.actor_key(&alice).await.unwrap().is_none(),
        "made only when needed"
    );

    let asked = futures_join(&store, &alice).await;
    assert!(
        asked.windows(2).all(|w| w[0] == w[1]),
        "every caller got the stored key"
    );
    assert_eq!(
        store.actor_key(&alice).await.unwrap().as_ref(),
        Some(&asked[0])
    );
    assert!(
        asked[0]
            .public_key_pem
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    assert!(
        asked[0]
            .private_key_pem
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    assert_ne!(
        actor_key(&store, &bob).await.unwrap(),
        asked[0],
        "one pair per actor"
    );

    // What the stored private half signs, the published public half verifies.
    let url = url::Url::parse("http://127.0.0.1:3000/inbox").unwrap();
    let mut headers = HeaderMap::new();
    let key = signing_key(&store, &alice).await.unwrap();
    let now = std::time::SystemTime::now();
    sign_request(
        &Method::POST,
        &url,
        &mut headers,
        b"{}",
        "alice#main-key",
        &key,
        now,
    )
    .unwrap();
    let request = Request {
        method: &Method::POST,
        path_and_query: "/inbox",
        headers: &headers,
        body: b"{}",
    };
    let policy = Policy {
        origin: url::Url::parse("http://127.0.0.1:3000").unwrap(),
        now,
    };
    let pending = inspect(&request, &policy).unwrap();
    pending
        .verify(&public_key(&store, &alice).await.unwrap())
        .unwrap();
    assert!(
        pending
            .verify(&public_key(&store, &bob).await.unwrap())
            .is_err()
    );
}

/// Four callers asking for `user_id`'s key at once.
async fn futures_join(store: &Store, user_id: &str) -> Vec<tsudoi_model::ActorKey> {
    let calls = (0..4).map(|_| {
        let (store, user_id) = (store.clone(), user_id.to_owned());
        tokio::spawn(async move { actor_key(&store, &user_id).await.unwrap() })
    });
    let mut keys = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        keys.push(call.await.unwrap());
    }
    keys
}
