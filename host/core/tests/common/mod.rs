//! Shared set-up for the core's tests: a fresh database on the backend the run asks for
//! (see `tsudoi-testkit`), and a core over it.

#![allow(dead_code)]

use tsudoi_core::{Core, Settings};
use tsudoi_model::Deadlines;
use tsudoi_store::Store;
use tsudoi_testkit::TestDatabase;

pub struct TestCore {
    pub core: Core,
    /// The same database, for tests that write or read below the rules.
    pub store: Store,
    _db: TestDatabase,
}

/// A fresh, migrated database and a core over it, with a server's default settings.
pub async fn fresh() -> TestCore {
    fresh_allowing(Vec::new()).await
}

/// [`fresh`], with plugins' HTTP allowed to reach the `allowed` private networks.
pub async fn fresh_allowing(allowed: Vec<ipnet::IpNet>) -> TestCore {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.expect("open test database");
    let settings = Settings {
        url: tsudoi_core::PublicUrl::new(&url::Url::parse("http://127.0.0.1:3000").unwrap()),
        instance_name: "Tsudoi".into(),
        instance_description: None,
        registration: tsudoi_model::RegistrationMode::Open,
        max_note_length: 3000,
        plugin_deadlines: Deadlines::default(),
        plugin_kv_quota_bytes: tsudoi_plugin_host::KV_QUOTA_BYTES,
        plugin_cache: db.dir().join("plugin-cache"),
        drive: tsudoi_core::drive::DrivePolicy::default(),
        search: tsudoi_core::search::SearchPolicy::default(),
    };
    let blobs = tsudoi_media::blobs::Blobs::open(&tsudoi_media::blobs::Backend::Local(
        db.dir().join("files"),
    ))
    .expect("open the file store");
    let http = tsudoi_net::GuardedClient::new(tsudoi_net::AddressPolicy {
        allowed_private: allowed,
    });
    TestCore {
        core: Core::new(
            settings,
            store.clone(),
            http,
            tsudoi_bus::Bus::in_process(),
            blobs,
        ),
        store,
        _db: db,
    }
}
