//! The owner of a token is kept at hand between requests, but never outlives a change to their
//! row made through this store: every count, the follow version and the profile read back as
//! the database holds them right after the write that changed them.

use tsudoi_model::{AppGrant, MiauthSession, ProfilePatch, User, Visibility, ids};
use tsudoi_store::{NewAccessToken, Store, TokenOwner};
use tsudoi_testkit::TestDatabase;

mod common;
use common::{insert, note_ago, user};

/// Who `token` belongs to, as a request would find out.
async fn owner(store: &Store, token: &str) -> TokenOwner {
    store
        .token_owner(token)
        .await
        .unwrap()
        .expect("a known token")
}

/// The row of `u` as the database holds it, bypassing any copy.
async fn row(store: &Store, u: &User) -> User {
    store.user_by_id(&u.id).await.unwrap().unwrap()
}

async fn assert_current(store: &Store, token: &str, u: &User) {
    assert_eq!(owner(store, token).await.user, row(store, u).await);
}

#[tokio::test]
async fn the_owner_of_a_token_follows_every_change_to_their_row() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    let amy = user(&store, "amy").await;
    let bob = user(&store, "bob").await;
    // Both are read once, so any copy is warm before each change.
    assert_eq!(owner(&store, "token-amy").await.user, amy);
    assert_eq!(owner(&store, "token-bob").await.user, bob);

    let note = note_ago(&amy, Visibility::Public, 0);
    insert(&store, &note).await;
    let after_post = owner(&store, "token-amy").await.user;
    assert_eq!(after_post.notes_count, 1);
    assert_eq!(after_post.last_posted_at, Some(note.created_at));
    assert_current(&store, "token-amy", &amy).await;

    assert!(
        store
            .follow(&ids::aidx(), &amy.id, &bob.id, ids::now_ms(), &[], &[])
            .await
            .unwrap()
    );
    let after_follow = owner(&store, "token-amy").await.user;
    assert_eq!(after_follow.following_count, 1);
    assert_eq!(after_follow.following_version, amy.following_version + 1);
    assert_eq!(owner(&store, "token-bob").await.user.followers_count, 1);

    assert!(
        store
            .unfollow(&amy.id, &bob.id, ids::now_ms(), &[])
            .await
            .unwrap()
    );
    assert_eq!(owner(&store, "token-amy").await.user.following_count, 0);
    assert_eq!(owner(&store, "token-bob").await.user.followers_count, 0);
    assert_current(&store, "token-bob", &bob).await;

    store
        .update_profile(
            &amy.id,
            &ProfilePatch {
                name: Some(Some("Amy".into())),
                is_locked: Some(true),
                ..Default::default()
            },
            ids::now_ms(),
            &[],
        )
        .await
        .unwrap();
    let after_edit = owner(&store, "token-amy").await.user;
    assert_eq!(after_edit.name.as_deref(), Some("Amy"));
    assert!(after_edit.is_locked);

    store.delete_note(&note, &[]).await.unwrap();
    assert_eq!(owner(&store, "token-amy").await.user.notes_count, 0);
    assert_current(&store, "token-amy", &amy).await;
}

#[tokio::test]
async fn an_app_token_keeps_its_permissions_and_follows_its_user() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    let amy = user(&store, "amy").await;
    let permission = vec!["read:account".to_owned(), "write:notes".to_owned()];
    // An app's token, granted through MiAuth.
    store
        .upsert_miauth_session(&MiauthSession {
            session: "session".into(),
            name: Some("an app".into()),
            icon_url: None,
            callback_url: None,
            permission: permission.clone(),
            user_id: None,
            token: None,
            created_at: ids::now_ms(),
        })
        .await
        .unwrap();
    let token_id = ids::aidx();
    store
        .grant_miauth_session(&NewAccessToken {
            id: &token_id,
            token: "app-token",
            hash: None,
            user_id: &amy.id,
            app_id: None,
            session: Some("session"),
            name: Some("an app"),
            icon_url: None,
            permission: &permission,
            created_at: ids::now_ms(),
        })
        .await
        .unwrap();
    let first = owner(&store, "app-token").await;
    let grant = Some(AppGrant {
        token_id: token_id.clone(),
        permission: permission.clone(),
    });
    assert_eq!(first.app, grant);
    assert_eq!(first.user, amy);
    // The account's own token is the same user, with every permission.
    assert_eq!(owner(&store, "token-amy").await.app, None);

    insert(&store, &note_ago(&amy, Visibility::Public, 0)).await;
    let second = owner(&store, "app-token").await;
    assert_eq!(second.user.notes_count, 1);
    assert_eq!(second.app, grant);

    assert!(store.token_owner("no-such-token").await.unwrap().is_none());
}
