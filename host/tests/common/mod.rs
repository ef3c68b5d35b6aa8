//! Shared set-up for the storage tests: a fresh database on the backend the run asks for.
//!
//! `TSUDOI_TEST_BACKEND=sqlite` (default): a new file in a temporary directory.
//! `TSUDOI_TEST_BACKEND=postgres`: a new database on `TSUDOI_TEST_POSTGRES_URL`, dropped when
//! the returned guard goes out of scope.

#![allow(dead_code)]

use tsudoi::app::App;
use tsudoi::config::Config;
use tsudoi::store::Store;

pub struct TestDb {
    pub app: App,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg.take() {
            // Drop on a fresh runtime: the test's own runtime may already be shutting down.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    use sqlx::Connection;
                    if let Ok(mut c) = sqlx::PgConnection::connect(&admin_url).await {
                        let _ = sqlx::query(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&mut c)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

pub fn backend() -> String {
    std::env::var("TSUDOI_TEST_BACKEND").unwrap_or_else(|_| "sqlite".into())
}

/// A fresh, migrated database and an `App` over it.
pub async fn fresh() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = if backend() == "postgres" {
        let admin = std::env::var("TSUDOI_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("tsudoi_t_{}_{}", std::process::id(), rand_suffix());
        let mut u = url::Url::parse(&admin).unwrap();
        u.set_path(&format!("/{name}"));
        (u.to_string(), Some((admin, name)))
    } else {
        (
            format!("sqlite://{}", dir.path().join("t.db").display()),
            None,
        )
    };
    let dir_str = dir.path().display().to_string();
    let env = [
        ("TSUDOI_DATA_DIR", dir_str),
        ("TSUDOI_DATABASE_URL", url.clone()),
    ];
    let config = Config::load_with_env(None, |k| {
        env.iter().find(|(ek, _)| *ek == k).map(|(_, v)| v.clone())
    })
    .unwrap();
    let store = Store::open(&url).await.expect("open test database");
    TestDb {
        app: App::with_store(config, store),
        _dir: dir,
        pg,
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{nanos:x}_{}", N.fetch_add(1, Ordering::Relaxed))
}
