//! Helpers shared by the store's integration tests.

use tsudoi_model::{Note, User, Visibility, ids};
use tsudoi_store::{NewLocalUser, NewNote, Store};

/// A new local user called `name`.
pub async fn user(store: &Store, name: &str) -> User {
    let id = ids::aidx();
    store
        .create_local_user(
            &NewLocalUser {
                id: &id,
                username: name,
                password_hash: "x",
                token: &format!("token-{name}"),
                is_admin: false,
                created_at: ids::now_ms(),
            },
            None,
        )
        .await
        .unwrap()
}

/// A note by `author` with text and no references, made `ago` ms before now.
pub fn note_ago(author: &User, visibility: Visibility, ago: i64) -> Note {
    tsudoi_testkit::note_at(&author.id, visibility, ids::now_ms() - ago)
}

/// Stores `note` (without a poll).
pub async fn insert(store: &Store, note: &Note) {
    store
        .insert_note(&NewNote {
            note: note.clone(),
            poll: None,
            jobs: vec![],
            notifications: vec![],
        })
        .await
        .unwrap();
}
