//! Stored JSON and enum columns are decoded where they are read: a row whose column does not
//! decode is an error naming the column, never an empty default (which would, say, silently
//! drop the capabilities an admin granted a plugin).

use tsudoi_model::{
    Capability, FailurePolicy, InstalledPlugin, Note, PluginKind, RankedTimeline, Visibility, ids,
};
use tsudoi_store::{NewLocalUser, NewNote, Store, StoreError};
use tsudoi_testkit::TestDatabase;

/// Runs `sql` on the database behind `url`, below the store.
async fn corrupt(url: &str, sql: &str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

fn is_corrupt(e: &StoreError, column: &str) -> bool {
    matches!(e, StoreError::Corrupt(m) if m.contains(column))
}

#[tokio::test]
async fn a_column_that_does_not_decode_is_an_error_not_an_empty_default() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    store
        .upsert_plugin(&InstalledPlugin {
            name: "filter".into(),
            kind: PluginKind::Ranking,
            version: "1".into(),
            wasm: vec![0],
            config: None,
            enabled: true,
            position: 0,
            failure_policy: FailurePolicy::FailClosed,
            updated_at: 1,
            manifest: None,
            grants: vec![Capability::Kv, Capability::Http("example.com".into())],
            timelines: vec![RankedTimeline::Local],
        })
        .await
        .unwrap();
    let read = store.plugin("filter").await.unwrap().unwrap();
    assert_eq!(
        read.grants,
        vec![Capability::Kv, Capability::Http("example.com".into())]
    );
    assert_eq!(read.timelines, vec![RankedTimeline::Local]);
    assert_eq!(read.failure_policy, FailurePolicy::FailClosed);

    for (sql, column) in [
        ("UPDATE plugins SET grants = 'kv'", "plugins.grants"),
        ("UPDATE plugins SET grants = '[\"fs\"]'", "plugins.grants"),
        (
            "UPDATE plugins SET timelines = '[\"home\"]'",
            "plugins.timelines",
        ),
        ("UPDATE plugins SET kind = 'spam'", "plugins.kind"),
        (
            "UPDATE plugins SET failure_policy = 'maybe'",
            "plugins.failure_policy",
        ),
    ] {
        corrupt(&db.url, sql).await;
        let err = store.plugin("filter").await.unwrap_err();
        assert!(is_corrupt(&err, column), "{sql}: {err}");
        let err = store.enabled_plugins().await.unwrap_err();
        assert!(is_corrupt(&err, column), "{sql}: {err}");
        // Put it right for the next case.
        corrupt(
            &db.url,
            "UPDATE plugins SET grants = '[]', timelines = '[]', kind = 'ranking', \
             failure_policy = 'fail-open'",
        )
        .await;
    }

    let id = ids::aidx();
    let user = store
        .create_local_user(
            &NewLocalUser {
                id: &id,
                username: "u",
                password_hash: "x",
                token: "t",
                is_admin: false,
                created_at: 0,
            },
            None,
        )
        .await
        .unwrap();
    let note = Note {
        id: ids::aidx(),
        text: Some("#tag".into()),
        tags: vec!["tag".into()],
        ..tsudoi_testkit::note_at(&user.id, Visibility::Public, 0)
    };
    store
        .insert_note(&NewNote {
            note: note.clone(),
            poll: None,
            jobs: vec![],
            notifications: vec![],
        })
        .await
        .unwrap();
    assert_eq!(
        store.note_by_id(&note.id).await.unwrap(),
        Some(note.clone())
    );
    corrupt(&db.url, "UPDATE notes SET tags = '{'").await;
    let err = store.note_by_id(&note.id).await.unwrap_err();
    assert!(is_corrupt(&err, "notes.tags"), "{err}");
    corrupt(&db.url, "UPDATE users SET fields = 'none'").await;
    let err = store.user_by_id(&user.id).await.unwrap_err();
    assert!(is_corrupt(&err, "users.fields"), "{err}");
}
