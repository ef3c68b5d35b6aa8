//! The drive's records: the capacity check holds when uploads race, folders are deleted only
//! when empty, and listings filter by folder, type and name (on the backend of the test run).

use tsudoi_model::{DriveFile, DriveFolder, ids};
use tsudoi_store::Store;
use tsudoi_store::drive::{FileQuery, FolderRemoval, InFolder};
use tsudoi_testkit::TestDatabase;

// Only its users are needed here.
#[allow(dead_code)]
mod common;
use common::user;

fn file(user_id: &str, name: &str, media_type: &str, size: i64) -> DriveFile {
    let id = ids::aidx();
    DriveFile {
        storage_key: Some(format!("key-{id}")),
        id,
        user_id: user_id.to_owned(),
        user_host: None,
        folder_id: None,
        name: name.to_owned(),
        media_type: media_type.to_owned(),
        md5: Some(format!("md5-{name}")),
        size,
        is_sensitive: false,
        comment: None,
        blurhash: None,
        width: None,
        height: None,
        thumbnail_key: None,
        thumbnail_type: None,
        uri: None,
        created_at: ids::now_ms(),
    }
}

#[tokio::test]
async fn uploads_racing_for_the_last_free_space_cannot_both_get_it() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    let ann = user(&store, "ann").await;
    // 1000 bytes of room; eight uploads of 300 at once: exactly three fit.
    let tries: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let f = file(&ann.id, &format!("f{i}"), "image/png", 300);
            tokio::spawn(async move { store.insert_drive_file(&f, 1000).await.unwrap() })
        })
        .collect();
    let mut stored = 0;
    for t in tries {
        stored += usize::from(t.await.unwrap());
    }
    assert_eq!(stored, 3);
    assert_eq!(store.drive_usage(&ann.id).await.unwrap(), 900);
    // A remote file kept elsewhere takes no room.
    let mut linked = file(&ann.id, "remote", "image/png", 0);
    linked.storage_key = None;
    linked.uri = Some("https://elsewhere.example/a.png".into());
    assert!(store.insert_drive_file(&linked, 1000).await.unwrap());
    assert_eq!(store.drive_usage(&ann.id).await.unwrap(), 900);
}

async fn names(store: &Store, q: FileQuery<'_>) -> Vec<String> {
    let files = store.drive_files_page(q).await.unwrap();
    files.into_iter().map(|f| f.name).collect()
}

#[tokio::test]
async fn folders_hold_files_and_go_only_when_empty() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    let ann = user(&store, "ann").await;
    let folder = DriveFolder {
        id: ids::aidx(),
        user_id: ann.id.clone(),
        name: "pics".into(),
        parent_id: None,
        created_at: ids::now_ms(),
    };
    store.insert_drive_folder(&folder).await.unwrap();
    let mut inside = file(&ann.id, "in.png", "image/png", 1);
    inside.folder_id = Some(folder.id.clone());
    store.insert_drive_file(&inside, i64::MAX).await.unwrap();
    let root = file(&ann.id, "notes.txt", "text/plain", 1);
    store.insert_drive_file(&root, i64::MAX).await.unwrap();

    let all = FileQuery::all_of(&ann.id);
    assert_eq!(names(&store, all).await, ["notes.txt", "in.png"]);
    let in_folder = FileQuery {
        folder: InFolder::Folder(&folder.id),
        ..all
    };
    assert_eq!(names(&store, in_folder).await, ["in.png"]);
    let at_root = FileQuery {
        folder: InFolder::Root,
        ..all
    };
    assert_eq!(names(&store, at_root).await, ["notes.txt"]);
    let images = FileQuery {
        media_type: Some("image/"),
        ..all
    };
    assert_eq!(names(&store, images).await, ["in.png"]);
    let named = FileQuery {
        name: Some("notes.txt"),
        ..all
    };
    assert_eq!(names(&store, named).await, ["notes.txt"]);
    assert_eq!(store.drive_folder_counts(&folder.id).await.unwrap(), (0, 1));

    assert_eq!(
        store.delete_drive_folder(&folder.id).await.unwrap(),
        FolderRemoval::NotEmpty
    );
    let gone = store.delete_drive_file(&inside.id).await.unwrap().unwrap();
    assert_eq!(gone.storage_key, inside.storage_key);
    assert_eq!(
        store.delete_drive_folder(&folder.id).await.unwrap(),
        FolderRemoval::Removed
    );
    assert_eq!(
        store.delete_drive_folder(&folder.id).await.unwrap(),
        FolderRemoval::NotFound
    );
}
