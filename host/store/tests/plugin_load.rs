//! A server's record that it could not load a plugin belongs to the version it tried: the
//! listing shows it for that version only, and recording it does not make servers reload.

use tsudoi_model::{FailurePolicy, InstalledPlugin, PluginKind};
use tsudoi_store::Store;
use tsudoi_testkit::TestDatabase;

fn plugin(updated_at: i64) -> InstalledPlugin {
    InstalledPlugin {
        name: "filter".into(),
        kind: PluginKind::Moderation,
        version: "1".into(),
        wasm: vec![0],
        config: None,
        enabled: true,
        position: 0,
        failure_policy: FailurePolicy::FailOpen,
        updated_at,
        manifest: None,
        grants: vec![],
        timelines: vec![],
    }
}

async fn listed_error(store: &Store) -> Option<String> {
    store.list_plugins().await.unwrap()[0].load_error.clone()
}

#[tokio::test]
async fn a_load_error_is_shown_for_the_version_that_failed_only() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    store.upsert_plugin(&plugin(1)).await.unwrap();
    let fingerprint = store.plugins_fingerprint().await.unwrap();
    store
        .record_plugin_load("filter", 1, Some("ran past its deadline"))
        .await
        .unwrap();
    assert_eq!(
        listed_error(&store).await.as_deref(),
        Some("ran past its deadline")
    );
    assert_eq!(
        store.plugins_fingerprint().await.unwrap(),
        fingerprint,
        "servers do not reload for it"
    );
    // A late report about an older version changes nothing.
    store.upsert_plugin(&plugin(2)).await.unwrap();
    assert_eq!(
        listed_error(&store).await,
        None,
        "the new version is not known to fail"
    );
    store
        .record_plugin_load("filter", 1, Some("stale"))
        .await
        .unwrap();
    assert_eq!(listed_error(&store).await, None);
    // Loaded at last: the error is gone.
    store
        .record_plugin_load("filter", 2, Some("failed once"))
        .await
        .unwrap();
    store.record_plugin_load("filter", 2, None).await.unwrap();
    assert_eq!(listed_error(&store).await, None);
}
