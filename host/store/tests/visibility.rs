//! The SQL half of the visibility rule agrees with `tsudoi_model::may_see` on every case, and
//! the SQL "pure renote" with `tsudoi_model::is_pure_renote`, on the backend of the test run
//! (SQLite by default, PostgreSQL in CI).

use tsudoi_model::{
    HostScope, Note, NoteFilter, NoteSearch, NoteSource, Page, User, Visibility, ids,
    is_pure_renote, may_see,
};
use tsudoi_store::Store;
use tsudoi_testkit::TestDatabase;

mod common;
use common::{insert, user};

fn note(author: &User, visibility: Visibility) -> Note {
    common::note_ago(author, visibility, 0)
}

/// The ids `author`'s notes listed for `viewer` through `filter`, newest first.
async fn listed(
    store: &Store,
    author: &User,
    viewer: Option<&str>,
    filter: &NoteFilter,
) -> Vec<String> {
    let source = NoteSource::User {
        user_id: author.id.clone(),
    };
    source_listed(store, source, viewer, filter).await
}

async fn source_listed(
    store: &Store,
    source: NoteSource,
    viewer: Option<&str>,
    filter: &NoteFilter,
) -> Vec<String> {
    store
        .list_notes(&source, viewer, filter, &Page::newest(500))
        .await
        .unwrap()
        .notes
        .into_iter()
        .map(|n| n.id)
        .collect()
}

#[tokio::test]
async fn the_sql_rule_agrees_with_may_see_on_every_case() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    let author = user(&store, "author").await;
    let follower = user(&store, "follower").await;
    let replied = user(&store, "replied").await;
    let mentioned = user(&store, "mentioned").await;
    let addressee = user(&store, "addressee").await;
    let stranger = user(&store, "stranger").await;
    let renoter = user(&store, "renoter").await;
    assert!(
        store
            .follow(
                &ids::aidx(),
                &follower.id,
                &author.id,
                ids::now_ms(),
                &[],
                &[]
            )
            .await
            .unwrap()
    );
    let root = note(&replied, Visibility::Public);
    insert(&store, &root).await;

    // Every visibility, with and without a reply, a mention and an addressee; and for each,
    // a public pure renote (which is listed only where its note may be seen).
    let mut notes = Vec::new();
    let mut renotes = Vec::new();
    for visibility in Visibility::ALL {
        for reply in [false, true] {
            for mention in [false, true] {
                for addressed in [false, true] {
                    let mut n = note(&author, *visibility);
                    if reply {
                        n.reply_id = Some(root.id.clone());
                        n.reply_user_id = Some(replied.id.clone());
                    }
                    if mention {
                        n.mentions = vec![mentioned.id.clone()];
                    }
                    if addressed {
                        n.visible_user_ids = vec![addressee.id.clone()];
                    }
                    insert(&store, &n).await;
                    let mut r = note(&renoter, Visibility::Public);
                    r.text = None;
                    r.renote_id = Some(n.id.clone());
                    r.renote_user_id = Some(author.id.clone());
                    insert(&store, &r).await;
                    notes.push(n);
                    renotes.push(r);
                }
            }
        }
    }

    let viewers = [
        None,
        Some(&author),
        Some(&follower),
        Some(&replied),
        Some(&mentioned),
        Some(&addressee),
        Some(&stranger),
    ];
    let mut checked = 0;
    for viewer in viewers {
        let viewer_id = viewer.map(|u| u.id.as_str());
        let follows_author = viewer.is_some_and(|u| u.id == follower.id);
        let by_sql = listed(&store, &author, viewer_id, &NoteFilter::default()).await;
        let renotes_by_sql = listed(&store, &renoter, viewer_id, &NoteFilter::default()).await;
        for (n, r) in notes.iter().zip(&renotes) {
            let rust_says = may_see(&n.audience(follows_author), viewer_id);
            let who = viewer.map(|u| u.username.as_str());
            assert_eq!(
                by_sql.contains(&n.id),
                rust_says,
                "{} note (reply {}, mentions {:?}, addressed to {:?}) for {who:?}",
                n.visibility,
                n.reply_id.is_some(),
                n.mentions,
                n.visible_user_ids,
            );
            assert_eq!(
                renotes_by_sql.contains(&r.id),
                rust_says,
                "a pure renote of a {} note for {who:?}",
                n.visibility
            );
            checked += 2;
        }
        // The public timelines list public notes only, which everyone may see.
        let local = source_listed(
            &store,
            NoteSource::LocalPublic,
            viewer_id,
            &NoteFilter::default(),
        )
        .await;
        for n in &notes {
            assert_eq!(
                local.contains(&n.id),
                n.visibility == Visibility::Public,
                "{} note in the local timeline of {:?}",
                n.visibility,
                viewer.map(|u| u.username.as_str()),
            );
            assert!(!local.contains(&n.id) || may_see(&n.audience(follows_author), viewer_id));
            checked += 1;
        }
        // A home timeline's rule, which knows that the viewer follows (or is) every author.
        if let Some(v) = viewer.filter(|v| v.id == author.id || v.id == follower.id) {
            let home = home_listed(&store, v).await;
            for n in &notes {
                let shown_reply = n.reply_id.is_none() || v.id == author.id;
                assert_eq!(
                    home.contains(&n.id),
                    may_see(&n.audience(true), Some(&v.id)) && shown_reply,
                    "{} note (reply {}, mentions {:?}, addressed to {:?}) in the home timeline of {}",
                    n.visibility,
                    n.reply_id.is_some(),
                    n.mentions,
                    n.visible_user_ids,
                    v.username,
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 7 * 32 * 3 + 2 * 32);
}

/// The home timeline of `viewer`, as a request that has just read their row lists it.
async fn home_listed(store: &Store, viewer: &User) -> Vec<String> {
    let me = store.user_by_id(&viewer.id).await.unwrap().unwrap();
    let source = NoteSource::Followed {
        user_id: me.id.clone(),
        following_version: me.following_version,
    };
    source_listed(store, source, Some(&me.id), &NoteFilter::default()).await
}

#[tokio::test]
async fn a_listing_carries_the_notes_its_page_refers_to_whoever_may_see_them() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    let author = user(&store, "author").await;
    let other = user(&store, "other").await;
    let stranger = user(&store, "stranger").await;
    let seen = note(&other, Visibility::Public);
    let hidden = note(&other, Visibility::Specified);
    let unrelated = note(&other, Visibility::Public);
    for n in [&seen, &hidden, &unrelated] {
        insert(&store, n).await;
    }
    // A millisecond apart, so their order is certain.
    let mut reply = common::note_ago(&author, Visibility::Public, 3);
    reply.reply_id = Some(hidden.id.clone());
    reply.reply_user_id = Some(other.id.clone());
    let mut quote = common::note_ago(&author, Visibility::Public, 2);
    quote.renote_id = Some(seen.id.clone());
    quote.renote_user_id = Some(other.id.clone());
    let plain = common::note_ago(&author, Visibility::Public, 1);
    for n in [&reply, &quote, &plain] {
        insert(&store, n).await;
    }

    let listing = store
        .list_notes(
            &NoteSource::User {
                user_id: author.id.clone(),
            },
            Some(&stranger.id),
            &NoteFilter::default(),
            &Page::newest(10),
        )
        .await
        .unwrap();
    let page: Vec<&str> = listing.notes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(
        page,
        [&plain.id, &quote.id, &reply.id],
        "the page, newest first"
    );
    let mut referenced: Vec<&str> = listing.referenced.iter().map(|n| n.id.as_str()).collect();
    referenced.sort();
    let mut expected = [seen.id.as_str(), hidden.id.as_str()];
    expected.sort();
    // The hidden note too: whether to show it is decided where notes are presented.
    assert_eq!(referenced, expected);

    // Oldest first, the same notes in the other order.
    let listing = store
        .list_notes(
            &NoteSource::User {
                user_id: author.id.clone(),
            },
            Some(&stranger.id),
            &NoteFilter::default(),
            &Page::new(Some(ids::time_prefix(0)), None, 10),
        )
        .await
        .unwrap();
    let page: Vec<&str> = listing.notes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(
        page,
        [&reply.id, &quote.id, &plain.id],
        "the page, oldest first"
    );
    assert_eq!(listing.referenced.len(), 2);
}

#[tokio::test]
async fn the_sql_pure_renote_agrees_with_is_pure_renote() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    let author = user(&store, "author").await;
    let target = note(&author, Visibility::Public);
    insert(&store, &target).await;
    let mut made = Vec::new();
    for bits in 0..32u8 {
        let [renote, text, cw, poll, files] = [1, 2, 4, 8, 16].map(|b| bits & b != 0);
        let mut n = note(&author, Visibility::Public);
        n.renote_id = renote.then(|| target.id.clone());
        n.renote_user_id = renote.then(|| author.id.clone());
        n.text = text.then(|| "text".to_owned());
        n.cw = cw.then(|| "cw".to_owned());
        n.has_poll = poll;
        n.file_ids = if files {
            vec!["somefile".to_owned()]
        } else {
            Vec::new()
        };
        insert(&store, &n).await;
        made.push(n);
    }
    // Without renotes, a listing keeps exactly the notes that are not pure renotes.
    let kept = listed(
        &store,
        &author,
        Some(&author.id),
        &NoteFilter {
            with_renotes: false,
            ..NoteFilter::default()
        },
    )
    .await;
    for n in &made {
        assert_eq!(
            kept.contains(&n.id),
            !is_pure_renote(
                n.renote_id.is_some(),
                n.text.is_some(),
                n.cw.is_some(),
                n.has_poll,
                !n.file_ids.is_empty()
            ),
            "{n:?}"
        );
        assert_eq!(n.is_pure_renote(), !kept.contains(&n.id));
    }
}

/// The Rust twins of the listing rules (what streaming decides with, note by note) agree
/// with the SQL on a varied set of notes: the home, local, global and a user's timeline,
/// under every filter switch, signed in and not.
#[tokio::test]
async fn the_rust_listing_rules_agree_with_the_sql() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    let me = user(&store, "me").await;
    let followed = user(&store, "followed").await;
    let other = user(&store, "other").await;
    store
        .follow(&ids::aidx(), &me.id, &followed.id, ids::now_ms(), &[], &[])
        .await
        .unwrap();
    let follows = |id: &str| id == followed.id;

    // Notes to reply to and renote: public, by each author, one of them from another server.
    let mut notes: Vec<Note> = Vec::new();
    let mut ago = 10_000;
    let mut next = |author: &User, visibility: Visibility| {
        ago -= 1;
        common::note_ago(author, visibility, ago)
    };
    let mut targets = Vec::new();
    for (author, remote) in [
        (&me, false),
        (&followed, false),
        (&other, false),
        (&other, true),
    ] {
        let mut t = next(author, Visibility::Public);
        if remote {
            t.user_host = Some("remote.example".to_owned());
        }
        targets.push(t);
    }
    notes.extend(targets.iter().cloned());
    for author in [&me, &followed, &other] {
        for visibility in [Visibility::Public, Visibility::Home, Visibility::Followers] {
            notes.push(next(author, visibility));
            for t in &targets {
                let mut reply = next(author, visibility);
                reply.reply_id = Some(t.id.clone());
                reply.reply_user_id = Some(t.user_id.clone());
                let mut renote = next(author, visibility);
                renote.text = None;
                renote.renote_id = Some(t.id.clone());
                renote.renote_user_id = Some(t.user_id.clone());
                let mut quote = next(author, visibility);
                quote.renote_id = Some(t.id.clone());
                quote.renote_user_id = Some(t.user_id.clone());
                // Files alone make a renote a quote.
                let mut with_files = next(author, visibility);
                with_files.text = None;
                with_files.renote_id = Some(t.id.clone());
                with_files.renote_user_id = Some(t.user_id.clone());
                with_files.file_ids = vec!["f1".to_owned()];
                notes.extend([reply, renote, quote, with_files]);
            }
            let mut pictures = next(author, visibility);
            pictures.file_ids = vec!["f1".to_owned(), "f2".to_owned()];
            pictures.text = Some("Pictures of the Sea".to_owned());
            pictures.tags = vec!["sea".to_owned(), "art".to_owned()];
            notes.push(pictures);
            let mut hidden = next(author, visibility);
            hidden.text = None;
            hidden.cw = Some("about the sea".to_owned());
            hidden.tags = vec!["sea".to_owned()];
            notes.push(hidden);
        }
    }
    for n in &notes {
        insert(&store, n).await;
    }
    let renote_of = |n: &Note| {
        n.renote_id
            .as_ref()
            .and_then(|id| notes.iter().find(|t| &t.id == id))
    };

    let filters = [
        NoteFilter::default(),
        NoteFilter {
            with_renotes: false,
            ..NoteFilter::default()
        },
        NoteFilter {
            with_replies: false,
            ..NoteFilter::default()
        },
        NoteFilter {
            include_my_renotes: false,
            include_renoted_my_notes: false,
            ..NoteFilter::default()
        },
        NoteFilter {
            include_local_renotes: false,
            ..NoteFilter::default()
        },
        NoteFilter {
            only_followed_authors: true,
            ..NoteFilter::default()
        },
        NoteFilter {
            visibility: Some(Visibility::Home),
            ..NoteFilter::default()
        },
        NoteFilter {
            only_with_files: true,
            ..NoteFilter::default()
        },
        NoteFilter {
            with_file: Some("f2".to_owned()),
            ..NoteFilter::default()
        },
        NoteFilter {
            reply: Some(true),
            renote: Some(false),
            ..NoteFilter::default()
        },
        NoteFilter {
            reply: Some(false),
            poll: Some(false),
            ..NoteFilter::default()
        },
    ];
    let me_now = store.user_by_id(&me.id).await.unwrap().unwrap();
    let sources = [
        NoteSource::Followed {
            user_id: me.id.clone(),
            following_version: me_now.following_version,
        },
        NoteSource::LocalPublic,
        NoteSource::GlobalPublic,
        NoteSource::User {
            user_id: followed.id.clone(),
        },
        // Indexed terms (three characters and more), and short ones, which SQLite scans for.
        NoteSource::Search(NoteSearch {
            terms: vec!["sea".to_owned(), "pict".to_owned()],
            user_id: None,
            host: None,
        }),
        NoteSource::Search(NoteSearch {
            terms: vec!["se".to_owned()],
            user_id: Some(followed.id.clone()),
            host: Some(HostScope::Local),
        }),
        NoteSource::Tags {
            any_of: vec![
                vec!["sea".to_owned(), "art".to_owned()],
                vec!["none".to_owned()],
            ],
        },
        // A list of one member whose replies are shown and one whose are not.
        NoteSource::List {
            owner_id: me.id.clone(),
            members: vec![
                tsudoi_model::ListMember {
                    user_id: followed.id.clone(),
                    with_replies: false,
                },
                tsudoi_model::ListMember {
                    user_id: other.id.clone(),
                    with_replies: true,
                },
            ],
        },
    ];
    let mut checked = 0;
    for source in &sources {
        for filter in &filters {
            for viewer in [None, Some(me.id.as_str())] {
                if viewer.is_none() && matches!(source, NoteSource::Followed { .. }) {
                    continue;
                }
                let follows = |id: &str| viewer.is_some() && follows(id);
                let mut by_sql = source_listed(&store, source.clone(), viewer, filter).await;
                by_sql.sort();
                let mut by_rust: Vec<String> = notes
                    .iter()
                    .filter(|n| {
                        source.admits(n, follows)
                            && filter.admits(n, renote_of(n), viewer, follows)
                            && tsudoi_model::may_list(n, renote_of(n), viewer, follows)
                    })
                    .map(|n| n.id.clone())
                    .collect();
                by_rust.sort();
                assert_eq!(by_sql, by_rust, "{source:?} {filter:?} for {viewer:?}");
                checked += 1;
            }
        }
    }
    // Every source twice (anonymous and signed in) but the home timeline, once.
    assert_eq!(checked, filters.len() * (2 * sources.len() - 1));
}

/// Blocks (either way), mutes (ended or not) and renote mutes hide the same notes in SQL as
/// `Exclusions::hides` says, on a public timeline and on a user's own page (where only
/// blocks hide).
#[tokio::test]
async fn the_sql_exclusions_agree_with_the_rust_ones() {
    use tsudoi_model::{Exclusions, MuteKind, Muting};
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    let me = user(&store, "me").await;
    let blocker = user(&store, "blocker").await;
    let blocked = user(&store, "blocked").await;
    let muted = user(&store, "muted").await;
    let ended = user(&store, "ended").await;
    let renoter = user(&store, "renoter").await;
    let plain = user(&store, "plain").await;
    let now = ids::now_ms();
    let block = |by: &User, of: &User| tsudoi_model::Block {
        id: ids::aidx(),
        blocker_id: by.id.clone(),
        blockee_id: of.id.clone(),
        created_at: now,
    };
    store
        .block(&block(&blocker, &me), None, |_| vec![])
        .await
        .unwrap();
    store
        .block(&block(&me, &blocked), None, |_| vec![])
        .await
        .unwrap();
    let mute = |mutee: &User, expires_at| Muting {
        id: ids::aidx(),
        muter_id: me.id.clone(),
        mutee_id: mutee.id.clone(),
        expires_at,
        created_at: now - 10_000,
    };
    store
        .mute(MuteKind::Notes, &mute(&muted, None))
        .await
        .unwrap();
    store
        .mute(MuteKind::Notes, &mute(&ended, Some(now - 1)))
        .await
        .unwrap();
    store
        .mute(MuteKind::Renotes, &mute(&renoter, None))
        .await
        .unwrap();

    let mut ex = Exclusions::default();
    ex.blocked.extend([blocker.id.clone(), blocked.id.clone()]);
    ex.muted.insert(muted.id.clone(), None);
    ex.muted.insert(ended.id.clone(), Some(now - 1));
    ex.renote_muted.insert(renoter.id.clone());

    let everyone = [&blocker, &blocked, &muted, &ended, &renoter, &plain];
    let mut notes = Vec::new();
    let mut ago = 5_000;
    for author in everyone {
        ago -= 1;
        let own = common::note_ago(author, Visibility::Public, ago);
        insert(&store, &own).await;
        // What `plain` and `renoter` do with it: reply, renote, quote.
        for by in [&plain, &renoter] {
            for kind in 0..3 {
                ago -= 1;
                let mut n = common::note_ago(by, Visibility::Public, ago);
                match kind {
                    0 => {
                        n.reply_id = Some(own.id.clone());
                        n.reply_user_id = Some(author.id.clone());
                    }
                    _ => {
                        n.renote_id = Some(own.id.clone());
                        n.renote_user_id = Some(author.id.clone());
                        if kind == 1 {
                            n.text = None;
                        }
                    }
                }
                insert(&store, &n).await;
                notes.push(n);
            }
        }
        notes.push(own);
    }
    let check = |source: NoteSource, with_mutes: bool, listed: Vec<String>| {
        for n in notes.iter().filter(|n| source.admits(n, |_| false)) {
            assert_eq!(
                listed.contains(&n.id),
                !ex.hides(n, ids::now_ms(), with_mutes),
                "{source:?}: note by {} (reply to {:?}, renote of {:?}, pure {})",
                n.user_id,
                n.reply_user_id,
                n.renote_user_id,
                n.is_pure_renote()
            );
        }
    };
    let global = source_listed(
        &store,
        NoteSource::GlobalPublic,
        Some(&me.id),
        &NoteFilter::default(),
    )
    .await;
    check(NoteSource::GlobalPublic, true, global);
    for author in [&renoter, &plain] {
        let source = NoteSource::User {
            user_id: author.id.clone(),
        };
        let page =
            source_listed(&store, source.clone(), Some(&me.id), &NoteFilter::default()).await;
        check(source, false, page);
    }
}
