//! Listing notes: timelines, a user's notes, mentions, replies and renotes. Every listing goes
//! through [`Store::list_notes`], which applies the visibility rule and the paging, so no list
//! can forget either.

use tsudoi_model::{HostScope, Listing, NoteFilter, NoteSearch, NoteSource, Page, ids};

use super::followings::List;
use super::notes::{NOTE_COLUMNS, NoteRow};
use super::search::like;
use super::visibility::{
    pure_renote, sql_not_excluded, sql_renote_visible, sql_visible, sql_visible_by_followee,
};
use super::{Backend, Pool, Result, Store, with_pool};

/// Most notes one listing returns: clients get at most 100 a page, and a timeline ranker
/// looks at a few hundred candidates to fill one.
pub const MAX_LISTING: usize = 500;

/// Positional arguments collected while a statement is assembled.
#[derive(Default)]
struct Args(Vec<Arg>);

enum Arg {
    Text(String),
    Int(i64),
    /// A list of strings: an array on PostgreSQL, JSON text on SQLite.
    Texts(Vec<String>),
}

impl Args {
    fn push(&mut self, v: String) -> String {
        self.0.push(Arg::Text(v));
        format!("${}", self.0.len())
    }

    fn push_i64(&mut self, v: i64) -> String {
        self.0.push(Arg::Int(v));
        format!("${}", self.0.len())
    }

    /// "`column` is one of `v`", as `backend` says it with one placeholder for the list (so
    /// the statement is the same whatever the list's length, and prepared once).
    fn push_in(&mut self, backend: Backend, column: &str, v: Vec<String>) -> String {
        self.0.push(Arg::Texts(v));
        let k = self.0.len();
        match backend {
            Backend::Postgres => format!("{column} = ANY(${k})"),
            Backend::Sqlite => format!("{column} IN (SELECT value FROM json_each(${k}))"),
        }
    }
}

/// Binds `$args` to the query `$q` in order, a list through `$texts` (its backend's form of
/// [`Arg::Texts`]).
macro_rules! bind_args {
    ($q:expr, $args:expr, |$v:ident| $texts:expr) => {{
        let mut q = $q;
        for a in &$args.0 {
            q = match a {
                Arg::Text(t) => q.bind(t),
                Arg::Int(i) => q.bind(i),
                Arg::Texts($v) => q.bind($texts),
            };
        }
        q
    }};
}

/// The shortest term the SQLite search index finds (it indexes three characters at a time);
/// shorter ones are matched by scanning.
const TRIGRAM: usize = 3;

/// The SQL of a search of notes, twin of `NoteSearch::matches`. SQLite finds terms of three
/// characters or more in its FTS5 trigram index and checks shorter ones with LIKE (which
/// folds ASCII case only); PostgreSQL serves ILIKE from its trigram index over text and CW.
fn search_conditions(backend: Backend, s: &NoteSearch, args: &mut Args) -> Vec<String> {
    let mut conds = Vec::new();
    match backend {
        Backend::Sqlite => {
            let (indexed, short): (Vec<&String>, Vec<&String>) =
                s.terms.iter().partition(|t| t.chars().count() >= TRIGRAM);
            if !indexed.is_empty() {
                // FTS5 syntax: each term a quoted string (quotes doubled), all of them required.
                let query: Vec<String> = indexed
                    .iter()
                    .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
                    .collect();
                conds.push(format!(
                    "n.id IN (SELECT si.note_id FROM notes_fts f JOIN note_search_ids si \
                     ON si.search_id = f.rowid WHERE notes_fts MATCH {})",
                    args.push(query.join(" "))
                ));
            }
            for t in short {
                let p = args.push(like(t, true));
                conds.push(format!(
                    "(n.text LIKE {p} ESCAPE '\\' OR n.cw LIKE {p} ESCAPE '\\')"
                ));
            }
        }
        Backend::Postgres => {
            for t in &s.terms {
                // The expression of the `notes_search` index, so the index serves it.
                conds.push(format!(
                    "(COALESCE(n.text, '') || ' ' || COALESCE(n.cw, '')) ILIKE {} ESCAPE '\\'",
                    args.push(like(t, true))
                ));
            }
        }
    }
    if let Some(user) = &s.user_id {
        conds.push(format!("n.user_id = {}", args.push(user.clone())));
    }
    match &s.host {
        None => {}
        Some(HostScope::Local) => conds.push("n.user_host IS NULL".to_owned()),
        Some(HostScope::Remote(h)) => conds.push(format!("n.user_host = {}", args.push(h.clone()))),
    }
    conds
}

/// A row of a listing: a note of the page, or one they refer to.
#[derive(sqlx::FromRow)]
struct ListedRow {
    #[sqlx(flatten)]
    note: NoteRow,
    referenced: bool,
}

/// How many more pages a filtered listing reads to fill its page before it answers short,
/// and the fewest notes each of them reads.
const MAX_REFILLS: usize = 4;
const REFILL_MIN: usize = 20;

impl Store {
    /// [`Store::list_notes`] keeping only the notes `keep` accepts (given what the page
    /// refers to), reading on past the ones it drops so the page is as full as an
    /// unfiltered one would be, within [`MAX_REFILLS`] more reads of a page each. For filters
    /// SQL cannot say (a viewer's muted words, regular expressions included).
    pub async fn list_notes_where(
        &self,
        source: &NoteSource,
        viewer: Option<&str>,
        filter: &NoteFilter,
        page: &Page,
        keep: &(dyn Fn(&tsudoi_model::Note, &[tsudoi_model::Note]) -> bool + Send + Sync),
    ) -> Result<Listing> {
        let want = page.limit.max(1) as usize;
        let mut out = Listing::default();
        let mut cursor = page.clone();
        for _ in 0..=MAX_REFILLS {
            let got = self.list_notes(source, viewer, filter, &cursor).await?;
            let exhausted = (got.notes.len() as i64) < cursor.limit;
            let last = got.notes.last().map(|n| n.id.clone());
            let Listing { notes, referenced } = got;
            out.notes
                .extend(notes.into_iter().filter(|n| keep(n, &referenced)));
            out.referenced.extend(referenced);
            let Some(last) = last else { break };
            if exhausted || out.notes.len() >= want {
                break;
            }
            // The next read continues where this one stopped, in the page's direction.
            if page.ascending() {
                cursor.since_id = Some(last);
            } else {
                cursor.until_id = Some(last);
            }
            // A full page (twenty notes at least) each time: where one read dropped
            // notes, the next likely drops more.
            cursor.limit = want.max(REFILL_MIN) as i64;
        }
        out.notes.truncate(want);
        Ok(out)
    }

    /// One page of notes from `source` that `viewer` may see, newest first (or oldest first
    /// for a `sinceId`-only page), with the notes they refer to.
    pub async fn list_notes(
        &self,
        source: &NoteSource,
        viewer: Option<&str>,
        filter: &NoteFilter,
        page: &Page,
    ) -> Result<Listing> {
        let pure = pure_renote("n");
        let posters = match source {
            NoteSource::Followed {
                user_id,
                following_version,
            } => {
                self.posted_in_window(user_id, *following_version, page)
                    .await?
            }
            _ => None,
        };
        let mut args = Args::default();
        let me = viewer.map(|v| args.push(v.to_owned()));
        let me = me.as_deref();
        // `key` is the column the listing is ordered and paged by: the index's own column, so
        // the database walks the index instead of sorting (it equals `n.id` in every case).
        let (from, key, mut conds) = match source {
            NoteSource::Followed { user_id, .. } => {
                let u = args.push(user_id.clone());
                let authors = match posters {
                    Some(posters) => args.push_in(self.backend(), "n.user_id", posters),
                    // Without the cache, a page with a lower bound (a time window) still
                    // probes only the followees who posted since it, by their
                    // `last_posted_at`, which only ever moves forward.
                    None => {
                        let followees = match page.since_id.as_deref().and_then(ids::prefix_time) {
                            Some(since) => format!(
                                "SELECT f.followee_id FROM follows f JOIN users fu ON fu.id = f.followee_id \
                                 WHERE f.follower_id = {u} AND fu.last_posted_at >= {}",
                                args.push_i64(since)
                            ),
                            None => {
                                format!("SELECT followee_id FROM follows WHERE follower_id = {u}")
                            }
                        };
                        format!("n.user_id IN ({followees} UNION ALL SELECT {u})")
                    }
                };
                (
                    "notes n".to_owned(),
                    "n.id",
                    vec![
                        authors,
                        format!(
                            "(n.reply_id IS NULL OR n.reply_user_id = n.user_id OR n.reply_user_id = {u} OR n.user_id = {u})"
                        ),
                    ],
                )
            }
            NoteSource::LocalPublic => (
                "notes n".to_owned(),
                "n.id",
                vec!["n.visibility = 'public' AND n.user_host IS NULL".to_owned()],
            ),
            NoteSource::GlobalPublic => (
                "notes n".to_owned(),
                "n.id",
                vec!["n.visibility = 'public'".to_owned()],
            ),
            NoteSource::User { user_id } => (
                "notes n".to_owned(),
                "n.id",
                vec![format!("n.user_id = {}", args.push(user_id.clone()))],
            ),
            NoteSource::Mentions { user_id } => (
                "note_mentions m JOIN notes n ON n.id = m.note_id".to_owned(),
                "m.note_id",
                vec![format!("m.user_id = {}", args.push(user_id.clone()))],
            ),
            NoteSource::Tag { tag } => (
                "note_tags t JOIN notes n ON n.id = t.note_id".to_owned(),
                "t.note_id",
                vec![format!("t.tag = {}", args.push(tag.clone()))],
            ),
            NoteSource::Tags { any_of } => {
                let groups: Vec<String> = any_of
                    .iter()
                    .map(|all| {
                        let each: Vec<String> = all
                            .iter()
                            .map(|tag| {
                                format!(
                                    "EXISTS (SELECT 1 FROM note_tags tt WHERE tt.tag = {} AND tt.note_id = n.id)",
                                    args.push(tag.clone())
                                )
                            })
                            .collect();
                        format!("({})", each.join(" AND "))
                    })
                    .collect();
                (
                    "notes n".to_owned(),
                    "n.id",
                    vec![format!("({})", groups.join(" OR "))],
                )
            }
            NoteSource::Search(search) => (
                "notes n".to_owned(),
                "n.id",
                search_conditions(self.backend(), search, &mut args),
            ),
            NoteSource::List { owner_id, members } => {
                let authors = members.iter().map(|m| m.user_id.clone()).collect();
                let repliers = members
                    .iter()
                    .filter(|m| m.with_replies)
                    .map(|m| m.user_id.clone())
                    .collect();
                let authors = args.push_in(self.backend(), "n.user_id", authors);
                let repliers = args.push_in(self.backend(), "n.user_id", repliers);
                let o = args.push(owner_id.clone());
                (
                    "notes n".to_owned(),
                    "n.id",
                    vec![
                        authors,
                        format!(
                            "(n.reply_id IS NULL OR n.reply_user_id = n.user_id OR n.reply_user_id = {o} OR n.user_id = {o} OR {repliers})"
                        ),
                    ],
                )
            }
            NoteSource::Replies { note_id } => (
                "notes n".to_owned(),
                "n.id",
                vec![format!("n.reply_id = {}", args.push(note_id.clone()))],
            ),
            NoteSource::Renotes { note_id } => (
                "notes n".to_owned(),
                "n.id",
                vec![format!("n.renote_id = {}", args.push(note_id.clone()))],
            ),
            NoteSource::Children { note_id } => {
                let id = args.push(note_id.clone());
                (
                    "notes n".to_owned(),
                    "n.id",
                    vec![format!(
                        "(n.reply_id = {id} OR (n.renote_id = {id} AND NOT {pure}))"
                    )],
                )
            }
        };
        // The visibility rule, as short as the source allows: PostgreSQL sets up every
        // subquery of a statement each time it runs it, used or not, and on the public
        // timelines that cost as much as reading the page.
        match (source, me) {
            // Public notes only, which everyone may see.
            (NoteSource::LocalPublic | NoteSource::GlobalPublic, _) => {}
            // Every author of a home timeline is the viewer or someone they follow.
            (NoteSource::Followed { user_id, .. }, Some(me))
                if viewer == Some(user_id.as_str()) =>
            {
                conds.push(sql_visible_by_followee("n", me))
            }
            _ => conds.push(sql_visible("n", me)),
        }
        conds.push(sql_renote_visible("n", me));
        if let Some(me) = me {
            // A user's own page shows what they wrote whoever the viewer mutes.
            let with_mutes = !matches!(source, NoteSource::User { .. });
            let now = args.push_i64(ids::now_ms());
            conds.push(sql_not_excluded("n", me, &now, with_mutes));
        }
        if !filter.with_renotes {
            conds.push(format!("NOT {pure}"));
        }
        for (wanted, column) in [(filter.reply, "n.reply_id"), (filter.renote, "n.renote_id")] {
            match wanted {
                Some(true) => conds.push(format!("{column} IS NOT NULL")),
                Some(false) => conds.push(format!("{column} IS NULL")),
                None => {}
            }
        }
        match filter.poll {
            Some(true) => conds.push("n.has_poll".to_owned()),
            Some(false) => conds.push("NOT n.has_poll".to_owned()),
            None => {}
        }
        if !filter.with_replies {
            let to_me = me
                .map(|m| format!(" OR n.reply_user_id = {m} OR n.user_id = {m}"))
                .unwrap_or_default();
            conds.push(format!(
                "(n.reply_id IS NULL OR n.reply_user_id = n.user_id{to_me})"
            ));
        }
        if let Some(me) = me {
            if !filter.include_my_renotes {
                conds.push(format!("NOT ({pure} AND n.user_id = {me})"));
            }
            if !filter.include_renoted_my_notes {
                conds.push(format!(
                    "NOT ({pure} AND n.renote_user_id = {me} AND n.user_id <> {me})"
                ));
            }
            if filter.only_followed_authors {
                conds.push(format!(
                    "(n.user_id = {me} OR EXISTS (SELECT 1 FROM follows af WHERE af.follower_id = {me} AND af.followee_id = n.user_id))"
                ));
            }
        }
        if !filter.include_local_renotes {
            // A scalar subquery for the reason given at `sql_renote_visible`.
            conds.push(format!(
                "NOT ({pure} AND COALESCE((SELECT lr.user_host IS NULL FROM notes lr WHERE lr.id = n.renote_id), FALSE))"
            ));
        }
        if let Some(v) = filter.visibility {
            conds.push(format!(
                "n.visibility = {}",
                args.push(v.as_str().to_owned())
            ));
        }
        if let Some(file) = &filter.with_file {
            // Ids are letters and digits: the quoted id is found only as a whole entry of
            // the JSON list.
            conds.push(format!(
                "n.file_ids LIKE {}",
                args.push(format!("%\"{file}\"%"))
            ));
        }
        if filter.only_with_files {
            conds.push("n.file_ids <> '[]'".to_owned());
        }
        if let Some(since) = &page.since_id {
            conds.push(format!("{key} > {}", args.push(since.clone())));
        }
        if let Some(until) = &page.until_id {
            conds.push(format!("{key} < {}", args.push(until.clone())));
        }
        let order = if page.ascending() { "ASC" } else { "DESC" };
        // The page, then what its notes reply to or renote, in one statement (see
        // [`Listing`]). MATERIALIZED: the page is read once though named twice.
        let sql = format!(
            "WITH listed AS MATERIALIZED (\
               SELECT {NOTE_COLUMNS} FROM {from} WHERE {} ORDER BY {key} {order} LIMIT {}) \
             SELECT listed.*, FALSE AS referenced FROM listed \
             UNION ALL \
             SELECT {NOTE_COLUMNS}, TRUE FROM notes n \
             WHERE n.id IN (SELECT reply_id FROM listed UNION SELECT renote_id FROM listed)",
            conds.join(" AND "),
            page.limit.clamp(1, MAX_LISTING as i64)
        );
        let rows = match &self.read {
            Pool::Sqlite(p) => {
                let q = sqlx::query_as::<_, ListedRow>(&sql);
                bind_args!(q, args, |v| serde_json::Value::from(v.as_slice())
                    .to_string())
                .fetch_all(p)
                .await
            }
            Pool::Postgres(p) => {
                let q = sqlx::query_as::<_, ListedRow>(&sql);
                bind_args!(q, args, |v| v).fetch_all(p).await
            }
        }?;
        let mut listing = Listing::default();
        for row in rows {
            let note = row.note.decode()?;
            if row.referenced {
                listing.referenced.push(note);
            } else {
                listing.notes.push(note);
            }
        }
        // A union keeps no order: put the page back in its own (the key equals the id).
        if page.ascending() {
            listing.notes.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        } else {
            listing.notes.sort_unstable_by(|a, b| b.id.cmp(&a.id));
        }
        Ok(listing)
    }

    /// For a home timeline's page with a lower bound: the followees of `user_id` who posted
    /// since it, and `user_id`, from the copies of who posted lately and whom `user_id`
    /// follows (at `following_version`); `None` when those do not cover the page (the query
    /// then asks the users table).
    async fn posted_in_window(
        &self,
        user_id: &str,
        following_version: i64,
        page: &Page,
    ) -> Result<Option<Vec<String>>> {
        let Some(since) = page.since_id.as_deref().and_then(ids::prefix_time) else {
            return Ok(None);
        };
        self.recent_posters.start(&self.read);
        if !self.recent_posters.covers(since) {
            return Ok(None);
        }
        let followees = self.followees(user_id, following_version).await?;
        let posters = self
            .recent_posters
            .posted_since(followees.ids().chain([user_id]), since);
        Ok(posters)
    }

    /// How far back (ms since the epoch) the home timeline of `user_id` should hold `notes`
    /// notes before any filter, by what the store knows of its followees' latest notes; `None`
    /// when it does not know that many. Lets the first window of a page reach exactly as far
    /// as a page needs: a few minutes for someone following busy accounts, a day for someone
    /// following quiet ones.
    pub async fn home_reach(
        &self,
        user_id: &str,
        following_version: i64,
        notes: usize,
    ) -> Result<Option<i64>> {
        self.recent_posters.start(&self.read);
        if !self.recent_posters.loaded() {
            return Ok(None);
        }
        let followees = self.followees(user_id, following_version).await?;
        Ok(self
            .recent_posters
            .nth_latest(followees.ids().chain([user_id]), notes))
    }

    /// Whom `user_id` follows, from the copy for `following_version` or the database.
    async fn followees(&self, user_id: &str, following_version: i64) -> Result<List> {
        if let Some(list) = self.followings.get(user_id, following_version) {
            return Ok(list);
        }
        // One row holding the whole list: a row per followee cost more to hand over than
        // the lookup itself.
        let sql = match self.backend() {
            Backend::Postgres => {
                "SELECT COALESCE(string_agg(followee_id, ' '), '') FROM follows WHERE follower_id = $1"
            }
            Backend::Sqlite => {
                "SELECT COALESCE(group_concat(followee_id, ' '), '') FROM follows WHERE follower_id = $1"
            }
        };
        let joined: String = with_pool!(&self.read, |p| sqlx::query_scalar(sql)
            .bind(user_id)
            .fetch_one(p)
            .await)?;
        Ok(self.followings.put(user_id, following_version, joined))
    }
}
