//! A home timeline's window lists the same notes whether the store answers it from its copies
//! of who posted lately and whom the viewer follows, or from the database alone; a follow
//! shows at once, and a note another writer (another node) committed shows within seconds.

use std::time::Duration;

use tsudoi_model::{NoteFilter, NoteSource, Page, User, Visibility, ids};
use tsudoi_store::Store;
use tsudoi_testkit::TestDatabase;

mod common;
use common::{insert, note_ago, user};

const HOUR: i64 = 3_600_000;

/// A public note by `author` made `ago` ms before now.
async fn post(store: &Store, author: &User, ago: i64) -> String {
    let note = note_ago(author, Visibility::Public, ago);
    insert(store, &note).await;
    note.id
}

async fn follow(store: &Store, follower: &User, followee: &User) {
    assert!(
        store
            .follow(
                &ids::aidx(),
                &follower.id,
                &followee.id,
                ids::now_ms(),
                &[],
                &[]
            )
            .await
            .unwrap()
    );
}

/// The window of `me`'s home timeline since two hours ago, as a request that has just read
/// `me`'s row would ask for it.
async fn window(store: &Store, me: &User) -> Vec<String> {
    let me = store.user_by_id(&me.id).await.unwrap().unwrap();
    let since = ids::time_prefix(ids::now_ms() - 2 * HOUR);
    let mut listed: Vec<String> = store
        .list_notes(
            &NoteSource::Followed {
                user_id: me.id.clone(),
                following_version: me.following_version,
            },
            Some(&me.id),
            &NoteFilter::default(),
            &Page::new(
                Some(since),
                Some(ids::time_prefix(ids::now_ms() + HOUR)),
                100,
            ),
        )
        .await
        .unwrap()
        .notes
        .into_iter()
        .map(|n| n.id)
        .collect();
    listed.sort();
    listed
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn the_copies_list_what_the_database_lists() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    let me = user(&store, "me").await;
    let [busy, quiet, stranger, later] = [
        user(&store, "busy").await,
        user(&store, "quiet").await,
        user(&store, "stranger").await,
        user(&store, "later").await,
    ];
    for u in [&busy, &quiet] {
        follow(&store, &me, u).await;
    }
    let mine = post(&store, &me, HOUR).await;
    let busy_new = [
        post(&store, &busy, HOUR).await,
        post(&store, &busy, 10).await,
    ];
    post(&store, &busy, 3 * HOUR).await;
    post(&store, &quiet, 5 * HOUR).await;
    post(&store, &stranger, 10).await;
    let later_note = post(&store, &later, HOUR).await;
    let expected = sorted(vec![mine.clone(), busy_new[0].clone(), busy_new[1].clone()]);

    // The first read starts filling the copies and is answered by the database alone.
    assert_eq!(window(&store, &me).await, expected);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(window(&store, &me).await, expected, "from the copies");

    // A follow moves the version: the new followee's notes show at once.
    follow(&store, &me, &later).await;
    let mut with_later = expected.clone();
    with_later.push(later_note);
    assert_eq!(window(&store, &me).await, sorted(with_later.clone()));

    // Another writer on the same database (another node, or a command beside the server):
    // the quiet followee posts through it, and the note shows here within seconds.
    let other = Store::open(&db.url).await.unwrap();
    let from_elsewhere = post(&other, &quiet, 0).await;
    with_later.push(from_elsewhere);
    let with_elsewhere = sorted(with_later);
    let mut seen = false;
    for _ in 0..50 {
        if window(&store, &me).await == with_elsewhere {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "a note committed by another writer never showed");
}
