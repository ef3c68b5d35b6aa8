//! The SQL half of the visibility rule, twin of `tsudoi_model::may_see` (the Rust half, for a
//! note in hand): every query that lists notes applies these fragments, and
//! `tests/visibility.rs` checks on every case that they agree with the Rust rule.

/// "This note is a pure renote" over the notes table aliased `a`: the SQL twin of
/// `tsudoi_model::is_pure_renote`.
pub fn pure_renote(a: &str) -> String {
    format!(
        "({a}.renote_id IS NOT NULL AND {a}.text IS NULL AND {a}.cw IS NULL AND NOT {a}.has_poll \
         AND {a}.file_ids = '[]')"
    )
}

/// The visibility rule as a boolean SQL expression over the notes table aliased `alias`.
/// `viewer` is the placeholder (e.g. `$1`) bound to the viewer's id, or `None` when nobody is
/// signed in. The subqueries are index lookups (`follows` by its unique pair,
/// `note_mentions`/`note_visible_users` by primary key).
pub fn sql_visible(alias: &str, viewer: Option<&str>) -> String {
    match viewer {
        None => format!("{alias}.visibility IN ('public', 'home')"),
        Some(me) => format!(
            "({a}.visibility IN ('public', 'home') OR {a}.user_id = {me} \
             OR ({a}.visibility = 'followers' AND ({a}.reply_user_id = {me} \
                 OR EXISTS (SELECT 1 FROM follows vf WHERE vf.follower_id = {me} AND vf.followee_id = {a}.user_id) \
                 OR EXISTS (SELECT 1 FROM note_mentions vm WHERE vm.note_id = {a}.id AND vm.user_id = {me}))) \
             OR ({a}.visibility = 'specified' \
                 AND EXISTS (SELECT 1 FROM note_visible_users vv WHERE vv.note_id = {a}.id AND vv.user_id = {me})))",
            a = alias
        ),
    }
}

/// The visibility rule for notes whose authors `viewer` follows or is (a home timeline), as
/// [`sql_visible`] says it when its `follows` lookup is known to be true: everything but
/// specified notes not addressed to the viewer. Without the lookup PostgreSQL no longer
/// hashes every followee of the viewer for each page.
pub fn sql_visible_by_followee(alias: &str, viewer: &str) -> String {
    format!(
        "({a}.visibility <> 'specified' OR {a}.user_id = {viewer} \
         OR EXISTS (SELECT 1 FROM note_visible_users vv WHERE vv.note_id = {a}.id AND vv.user_id = {viewer}))",
        a = alias
    )
}

/// A pure renote is listed only if the renoted note is visible too; a quote is listed, and
/// its embedded note is left out when the viewer may not see it.
///
/// Asked as a scalar subquery, not `EXISTS`: PostgreSQL may answer an `EXISTS` inside an `OR`
/// by hashing the ids of every note the viewer may see (a scan of the whole table) when it
/// expects many rows to be tested, though a page tests a few dozen; under load that made one
/// home timeline in ten take 200 ms. A scalar subquery is always one lookup by key per row.
pub fn sql_renote_visible(alias: &str, viewer: Option<&str>) -> String {
    format!(
        "(NOT {pure} OR COALESCE((SELECT {rule} FROM notes rv WHERE rv.id = {a}.renote_id), FALSE))",
        pure = pure_renote(alias),
        a = alias,
        rule = sql_visible("rv", viewer)
    )
}

/// What a signed-in viewer is not shown, over the notes table aliased `alias`: notes by,
/// replying to or renoting users who block `me` or whom `me` blocks, and with `with_mutes`
/// users `me` mutes (until the mute ends at `now`, a placeholder) and the pure renotes of
/// users whose renotes `me` mutes. The SQL twin of `tsudoi_model::Exclusions::hides`.
///
/// One `NOT EXISTS` over the block and mute tables together, each probed by its index on
/// the viewer: most viewers block and mute nobody, and then each row costs a few index
/// probes that find nothing.
pub fn sql_not_excluded(alias: &str, me: &str, now: &str, with_mutes: bool) -> String {
    let related = format!(
        "({a}.user_id, {a}.reply_user_id, {a}.renote_user_id)",
        a = alias
    );
    let mut hidden = format!(
        "SELECT 1 FROM blockings xb WHERE xb.blockee_id = {me} AND xb.blocker_id IN {related} \
         UNION ALL SELECT 1 FROM blockings xb WHERE xb.blocker_id = {me} AND xb.blockee_id IN {related}"
    );
    if !with_mutes {
        return format!("NOT EXISTS ({hidden})");
    }
    hidden.push_str(&format!(
        " UNION ALL SELECT 1 FROM mutings xm WHERE xm.muter_id = {me} AND xm.mutee_id IN {related} \
         AND (xm.expires_at IS NULL OR xm.expires_at > {now})"
    ));
    format!(
        "(NOT EXISTS ({hidden}) AND NOT ({pure} AND EXISTS \
         (SELECT 1 FROM renote_mutings xr WHERE xr.muter_id = {me} AND xr.mutee_id = {alias}.user_id)))",
        pure = pure_renote(alias)
    )
}
