//! Storage behaviour, run on SQLite and (in CI) PostgreSQL: the visibility rule in SQL agrees
//! with the Rust one, the home timeline survives its cap, counters stay right, writes do not
//! collide.

mod common;

use tsudoi_core::accounts::{self, Origin};
use tsudoi_core::notes::{self, CreateNote};
use tsudoi_core::{follows, timelines};
use tsudoi_model::{Note, NoteFilter, NoteSource, Page, User, Visibility, ids};
use tsudoi_store::NewNote;

async fn user(db: &common::TestCore, name: &str) -> User {
    accounts::create_account(&db.core, name, "pw", Origin::Shell { admin: false })
        .await
        .unwrap()
        .0
}

fn note(text: &str, visibility: Visibility) -> CreateNote {
    CreateNote {
        text: Some(text.into()),
        cw: None,
        visibility,
        visible_user_ids: vec![],
        file_ids: vec![],
        local_only: false,
        reply_id: None,
        renote_id: None,
        poll: None,
        reaction_acceptance: None,
    }
}

fn page(limit: i64) -> Page {
    Page::newest(limit)
}

async fn listed(db: &common::TestCore, source: NoteSource, viewer: Option<&str>) -> Vec<String> {
    db.store
        .list_notes(&source, viewer, &NoteFilter::default(), &page(100))
        .await
        .unwrap()
        .notes
        .into_iter()
        .map(|n| n.id)
        .collect()
}

#[tokio::test]
async fn visibility_rule_in_sql_agrees_with_the_rust_rule() {
    let db = common::fresh().await;
    let author = user(&db, "author").await;
    let follower = user(&db, "follower").await;
    let mentioned = user(&db, "mentioned").await;
    let addressee = user(&db, "addressee").await;
    let stranger = user(&db, "stranger").await;
    follows::follow(&db.core, &follower, &author.id)
        .await
        .unwrap();
    let mut created: Vec<Note> = Vec::new();
    for v in [
        Visibility::Public,
        Visibility::Home,
        Visibility::Followers,
        Visibility::Specified,
    ] {
        created.push(
            notes::create(&db.core, &author, note("plain", v))
                .await
                .unwrap(),
        );
        let mut with_mention = note("hi @mentioned", v);
        if v == Visibility::Specified {
            with_mention.visible_user_ids = vec![addressee.id.clone()];
        }
        created.push(
            notes::create(&db.core, &author, with_mention)
                .await
                .unwrap(),
        );
    }
    // A reply to the stranger's note, followers-only: the stranger may see it.
    let theirs = notes::create(&db.core, &stranger, note("mine", Visibility::Public))
        .await
        .unwrap();
    let mut reply = note("re", Visibility::Followers);
    reply.reply_id = Some(theirs.id.clone());
    created.push(notes::create(&db.core, &author, reply).await.unwrap());

    for viewer in [
        None,
        Some(&author),
        Some(&follower),
        Some(&mentioned),
        Some(&addressee),
        Some(&stranger),
    ] {
        let viewer_id = viewer.map(|u| u.id.as_str());
        let by_rust = notes::visible_to(&db.core, &created, viewer_id)
            .await
            .unwrap();
        let by_sql = listed(
            &db,
            NoteSource::User {
                user_id: author.id.clone(),
            },
            viewer_id,
        )
        .await;
        for (n, rust_says) in created.iter().zip(by_rust) {
            assert_eq!(
                by_sql.contains(&n.id),
                rust_says,
                "note {:?} ({}) for viewer {:?}",
                n.text,
                n.visibility,
                viewer.map(|u| &u.username)
            );
        }
    }
    // And the expected answers, spelled out for the specified note with a mention.
    let specified = &created[7];
    let who: Vec<bool> = futures_like_all(
        &db,
        specified,
        &[&author, &follower, &mentioned, &addressee, &stranger],
    )
    .await;
    assert_eq!(who, vec![true, false, true, true, false]);
}

async fn futures_like_all(db: &common::TestCore, n: &Note, users: &[&User]) -> Vec<bool> {
    let mut out = Vec::new();
    for u in users {
        out.push(
            notes::visible_to(&db.core, std::slice::from_ref(n), Some(&u.id))
                .await
                .unwrap()[0],
        );
    }
    out
}

#[tokio::test]
async fn a_pure_renote_of_a_note_the_viewer_cannot_see_is_not_listed() {
    let db = common::fresh().await;
    let author = user(&db, "author").await;
    let addressee = user(&db, "addressee").await;
    let stranger = user(&db, "stranger").await;
    let mut direct = note("secret", Visibility::Specified);
    direct.visible_user_ids = vec![addressee.id.clone()];
    let direct = notes::create(&db.core, &author, direct).await.unwrap();
    // The API refuses such a renote; a remote server could still send one, so the read path
    // must hide it on its own.
    let now = ids::now_ms();
    let renote = Note {
        text: None,
        renote_id: Some(direct.id.clone()),
        renote_user_id: Some(author.id.clone()),
        ..tsudoi_testkit::note_at(&addressee.id, Visibility::Public, now)
    };
    db.store
        .insert_note(&NewNote {
            note: renote.clone(),
            poll: None,
            jobs: vec![],
            notifications: vec![],
        })
        .await
        .unwrap();
    for (viewer, expected) in [
        (None, false),
        (Some(&stranger.id), false),
        (Some(&addressee.id), true),
        (Some(&author.id), true),
    ] {
        let ltl = listed(&db, NoteSource::LocalPublic, viewer.map(String::as_str)).await;
        assert_eq!(ltl.contains(&renote.id), expected, "viewer {viewer:?}");
    }
}

/// A note by `author` made `ago_ms` before now, written straight to the store so its id
/// carries that time.
async fn backdated(db: &common::TestCore, author: &User, ago_ms: i64, text: &str) -> String {
    let row = Note {
        text: Some(text.into()),
        ..tsudoi_testkit::note_at(&author.id, Visibility::Public, ids::now_ms() - ago_ms)
    };
    let id = row.id.clone();
    db.store
        .insert_note(&NewNote {
            note: row,
            poll: None,
            jobs: vec![],
            notifications: vec![],
        })
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn home_timeline_pages_through_every_time_window_without_gaps() {
    let db = common::fresh().await;
    let reader = user(&db, "reader").await;
    let a = user(&db, "a").await;
    let b = user(&db, "b").await;
    let stranger = user(&db, "stranger").await;
    follows::follow(&db.core, &reader, &a.id).await.unwrap();
    follows::follow(&db.core, &reader, &b.id).await.unwrap();
    // Notes minutes, hours, days, months and years old, so the windows must widen.
    const HOUR: i64 = 3_600_000;
    let mut expected: Vec<(i64, String)> = Vec::new();
    let minutes = [
        1,
        30,
        90,
        3 * 60,
        20 * 60,
        50 * 60,
        200 * 60,
        2000 * 60,
        9000 * 60,
        30000 * 60,
    ];
    for (i, m) in minutes.iter().enumerate() {
        for (who, u) in [(0, &a), (1, &b), (2, &reader)] {
            if (i + who) % 2 == 0 {
                let ago = m * 60_000 + who as i64;
                let id = backdated(&db, u, ago, &format!("{i}-{who}")).await;
                expected.push((ago, id));
            }
        }
        backdated(&db, &stranger, m * 60_000, "not followed").await;
    }
    let very_old = backdated(&db, &a, 3 * 365 * 24 * HOUR, "years ago").await;
    expected.push((3 * 365 * 24 * HOUR, very_old));
    // Ids sort by creation time, newest last.
    let mut newest_first: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    newest_first.sort_by(|x, y| y.cmp(x));

    // Descending, page by page.
    let mut seen = Vec::new();
    let mut until = None;
    loop {
        let p = Page::new(None, until.clone(), 4);
        let rows = timelines::home(&db.core, &reader, &NoteFilter::default(), &p)
            .await
            .unwrap()
            .notes;
        if rows.is_empty() {
            break;
        }
        until = rows.last().map(|n| n.id.clone());
        seen.extend(rows.into_iter().map(|n| n.id));
    }
    assert_eq!(seen, newest_first);

    // Ascending from the oldest, page by page.
    let oldest_first: Vec<String> = newest_first.iter().rev().cloned().collect();
    let mut seen = Vec::new();
    let mut since = Some(ids::time_prefix(0));
    loop {
        let p = Page::new(since.clone(), None, 3);
        let rows = timelines::home(&db.core, &reader, &NoteFilter::default(), &p)
            .await
            .unwrap()
            .notes;
        if rows.is_empty() {
            break;
        }
        since = rows.last().map(|n| n.id.clone());
        seen.extend(rows.into_iter().map(|n| n.id));
    }
    assert_eq!(seen, oldest_first);

    // A window with both ends.
    let p = Page::new(
        Some(newest_first[8].clone()),
        Some(newest_first[2].clone()),
        100,
    );
    let rows: Vec<String> = timelines::home(&db.core, &reader, &NoteFilter::default(), &p)
        .await
        .unwrap()
        .notes
        .into_iter()
        .map(|n| n.id)
        .collect();
    assert_eq!(rows, newest_first[3..8].to_vec());
}

#[tokio::test]
async fn counters_follow_writes_and_deletes() {
    let db = common::fresh().await;
    let a = user(&db, "a").await;
    let b = user(&db, "b").await;
    follows::follow(&db.core, &b, &a.id).await.unwrap();
    let root = notes::create(&db.core, &a, note("root", Visibility::Public))
        .await
        .unwrap();
    let mut reply = note("reply", Visibility::Public);
    reply.reply_id = Some(root.id.clone());
    let reply = notes::create(&db.core, &b, reply).await.unwrap();
    let mut renote = note("", Visibility::Public);
    renote.text = None;
    renote.renote_id = Some(root.id.clone());
    notes::create(&db.core, &b, renote).await.unwrap();
    let root_now = db.store.note_by_id(&root.id).await.unwrap().unwrap();
    assert_eq!((root_now.replies_count, root_now.renote_count), (1, 1));
    let b_now = db.store.user_by_id(&b.id).await.unwrap().unwrap();
    assert_eq!((b_now.notes_count, b_now.following_count), (2, 1));
    notes::delete(&db.core, &b_now, &reply.id).await.unwrap();
    let root_now = db.store.note_by_id(&root.id).await.unwrap().unwrap();
    assert_eq!(root_now.replies_count, 0);
    follows::unfollow(&db.core, &b_now, &a.id).await.unwrap();
    let a_now = db.store.user_by_id(&a.id).await.unwrap().unwrap();
    assert_eq!(a_now.followers_count, 0);
}

#[tokio::test]
async fn concurrent_writers_do_not_collide() {
    let db = common::fresh().await;
    let mut authors = Vec::new();
    for i in 0..8 {
        authors.push(user(&db, &format!("w{i}")).await);
    }
    for a in &authors[1..] {
        follows::follow(&db.core, a, &authors[0].id).await.unwrap();
    }
    let mut tasks = Vec::new();
    for (i, a) in authors.iter().cycle().take(200).enumerate() {
        let app = db.core.clone();
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            notes::create(&app, &a, note(&format!("c{i}"), Visibility::Public)).await
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("no write fails under concurrency");
    }
    let total: i64 = db.store.count_local_notes().await.unwrap();
    assert_eq!(total, 200);
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let db = common::fresh().await;
    assert_eq!(db.store.migrate().await.unwrap(), 0);
}

#[tokio::test]
async fn a_failing_note_in_a_batch_does_not_take_the_others_down() {
    let db = common::fresh().await;
    let author = user(&db, "author").await;
    let now = ids::now_ms();
    let make = |i: usize, reply: Option<&str>| NewNote {
        note: Note {
            text: Some(format!("n{i}")),
            reply_id: reply.map(str::to_owned),
            reply_user_id: reply.map(|_| author.id.clone()),
            ..tsudoi_testkit::note_at(&author.id, Visibility::Public, now + i as i64)
        },
        poll: None,
        jobs: vec![],
        notifications: vec![],
    };
    // Submitted together so they share batches; note 10 replies to a note that does not exist
    // (as if it was deleted meanwhile) and violates a foreign key.
    let notes: Vec<NewNote> = (0..40)
        .map(|i| make(i, (i == 10).then_some("nosuchnote000000")))
        .collect();
    let results = futures_join(&db, &notes).await;
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.is_ok(), i != 10, "note {i}: {r:?}");
    }
    let author = db.store.user_by_id(&author.id).await.unwrap().unwrap();
    assert_eq!(
        author.notes_count, 39,
        "counters count only what was written"
    );
    assert!(
        db.store
            .note_by_id(&notes[10].note.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .note_by_id(&notes[11].note.id)
            .await
            .unwrap()
            .is_some()
    );
}

async fn futures_join(db: &common::TestCore, notes: &[NewNote]) -> Vec<Result<(), String>> {
    let handles: Vec<_> = notes
        .iter()
        .cloned()
        .map(|n| {
            let store = db.store.clone();
            tokio::spawn(async move { store.insert_note(&n).await.map_err(|e| e.to_string()) })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn plugin_kv_keeps_quota_expiry_and_atomic_counters() {
    use tsudoi_model::{KvKey, KvRefusal};
    let db = common::fresh().await;
    let s = &db.store;
    let now = 1_000_000;
    // A value that fits, one that would overflow the quota, and the first left intact. (Each
    // entry is charged its names, its value and 64 bytes for the row.)
    s.kv_set(KvKey::new("p", "b", "k"), b"hello", None, now, 300)
        .await
        .unwrap()
        .unwrap();
    let refused = s
        .kv_set(KvKey::new("p", "b", "big"), &[0u8; 200], None, now, 300)
        .await
        .unwrap();
    assert_eq!(refused, Err(KvRefusal::QuotaExceeded));
    assert_eq!(
        s.kv_get(KvKey::new("p", "b", "k"), now)
            .await
            .unwrap()
            .as_deref(),
        Some(b"hello".as_slice())
    );
    assert_eq!(
        s.kv_get(KvKey::new("p", "b", "big"), now).await.unwrap(),
        None
    );
    // Another plugin's namespace is its own.
    assert_eq!(
        s.kv_get(KvKey::new("q", "b", "k"), now).await.unwrap(),
        None
    );
    // Expiry: gone after its time, and no longer counted against the quota.
    s.kv_set(
        KvKey::new("p", "b", "tmp"),
        &[1u8; 80],
        Some(now + 10),
        now,
        300,
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        s.kv_get(KvKey::new("p", "b", "tmp"), now + 5)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.kv_get(KvKey::new("p", "b", "tmp"), now + 10)
            .await
            .unwrap()
            .is_none()
    );
    s.kv_set(
        KvKey::new("p", "b", "after"),
        &[2u8; 80],
        None,
        now + 20,
        300,
    )
    .await
    .unwrap()
    .unwrap();
    // Prefix listing.
    s.kv_set(KvKey::new("p", "b", "k2"), b"x", None, now, 1000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.kv_list_keys("p", "b", "k", 10, now + 20).await.unwrap(),
        vec!["k", "k2"]
    );
    // Counters: concurrent increments all count (the row is locked on PostgreSQL).
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                s.kv_increment(KvKey::new("p", "c", "n"), 1, None, now, 10_000)
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap().unwrap();
    }
    assert_eq!(
        s.kv_increment(KvKey::new("p", "c", "n"), 5, None, now, 10_000)
            .await
            .unwrap(),
        Ok(25)
    );
    assert_eq!(
        s.kv_increment(KvKey::new("p", "b", "k"), 1, None, now, 10_000)
            .await
            .unwrap(),
        Err(KvRefusal::NotANumber)
    );
    // A windowed counter: the expiry is set by the increment that starts the count, kept
    // by the next ones, and a new count starts after it.
    let window = KvKey::new("p", "c", "window");
    let count = async |at: i64| {
        s.kv_increment(window, 1, Some(at + 100), at, 10_000)
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(count(now).await, 1);
    assert_eq!(count(now + 50).await, 2);
    assert_eq!(count(now + 99).await, 3);
    assert_eq!(count(now + 100).await, 1);
    assert!(s.kv_get(window, now + 199).await.unwrap().is_some());
    assert!(s.kv_get(window, now + 200).await.unwrap().is_none());
    s.kv_clear("p").await.unwrap();
    assert!(
        s.kv_get(KvKey::new("p", "b", "k"), now)
            .await
            .unwrap()
            .is_none()
    );
}
