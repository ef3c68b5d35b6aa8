//! A fresh database for each test, on the backend the run asks for:
//!
//! `TSUDOI_TEST_BACKEND=sqlite` (default): a new file in a temporary directory.
//! `TSUDOI_TEST_BACKEND=postgres`: a new database on `TSUDOI_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped when the [`TestDatabase`] is.

use std::path::Path;

use tsudoi_model::{Note, User, Visibility, ids};

/// The backend this test run uses.
pub fn backend() -> String {
    std::env::var("TSUDOI_TEST_BACKEND").unwrap_or_else(|_| "sqlite".into())
}

/// A database URL nobody else uses, and a data directory beside it; both go away on drop.
pub struct TestDatabase {
    pub url: String,
    dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        if backend() == "postgres" {
            let admin = std::env::var("TSUDOI_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let name = format!("tsudoi_t_{}_{}", std::process::id(), unique_suffix());
            let mut url = url::Url::parse(&admin).expect("TSUDOI_TEST_POSTGRES_URL is a URL");
            url.set_path(&format!("/{name}"));
            Self {
                url: url.to_string(),
                dir,
                postgres: Some((admin, name)),
            }
        } else {
            Self {
                url: format!("sqlite://{}", dir.path().join("t.db").display()),
                dir,
                postgres: None,
            }
        }
    }

    /// A directory that lives as long as the database (for a server's data directory).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Dropped on a fresh runtime: the test's own may already be shutting down.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut c)
                            .await;
                }
            });
        })
        .join();
    }
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{nanos:x}_{}", N.fetch_add(1, Ordering::Relaxed))
}

/// A note by `author_id` with text and nothing else (no reply, renote, mentions or poll),
/// made at `at_ms`: its id carries that time, as tests that write straight to the store need.
pub fn note_at(author_id: &str, visibility: Visibility, at_ms: i64) -> Note {
    Note {
        id: ids::aidx_at(at_ms),
        user_id: author_id.to_owned(),
        user_host: None,
        text: Some("text".into()),
        cw: None,
        visibility,
        local_only: false,
        reply_id: None,
        reply_user_id: None,
        renote_id: None,
        renote_user_id: None,
        has_poll: false,
        reaction_acceptance: None,
        reaction_count: 0,
        emojis: vec![],
        tags: vec![],
        mentions: vec![],
        visible_user_ids: vec![],
        file_ids: vec![],
        replies_count: 0,
        renote_count: 0,
        uri: None,
        url: None,
        created_at: at_ms,
        updated_at: None,
    }
}

/// A local account `id` (its username too) with an empty profile and no counts, as tests that
/// need a [`User`] without a database make it.
pub fn local_user(id: &str) -> User {
    User {
        id: id.to_owned(),
        username: id.to_owned(),
        username_lower: id.to_lowercase(),
        host: None,
        name: None,
        description: None,
        location: None,
        birthday: None,
        lang: None,
        fields: vec![],
        is_locked: false,
        is_bot: false,
        is_cat: false,
        is_admin: false,
        is_suspended: false,
        followers_count: 0,
        following_count: 0,
        notes_count: 0,
        created_at: 0,
        updated_at: None,
        last_posted_at: None,
        following_version: 0,
        remote_followers_count: 0,
        remote: None,
    }
}
