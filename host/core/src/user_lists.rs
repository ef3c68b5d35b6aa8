//! User lists, as Misskey has them: a user picks accounts and reads their notes as a
//! timeline of its own (REST and the `userList` stream). A list is its owner's; a public one
//! may also be seen, favourited and copied by others. Its timeline goes through the same
//! listing rules as every other (`NoteSource::List`).

use tsudoi_model::{
    Event, ListChange, ListMembership, Listing, MemberAdded, NoteFilter, NoteSource, Page, User,
    UserList, ids,
};

use crate::{Core, Error, Interaction, Result, timelines, users};

/// Lists one user may have (Misskey's `userListLimit` policy default).
pub const LIST_LIMIT: i64 = 10;
/// Members one list may have (Misskey's `userEachUserListsLimit` policy default): a list
/// is read by probing each member's latest notes, so its size bounds a page's cost.
pub const MEMBER_LIMIT: i64 = 50;
/// Longest list name, in characters (Misskey's).
const NAME_MAX: usize = 100;

fn check_name(name: &str) -> Result<&str> {
    let n = name.chars().count();
    if n == 0 || n > NAME_MAX {
        return Err(Error::InvalidParam {
            param: "name",
            reason: format!("must be 1 to {NAME_MAX} characters"),
        });
    }
    Ok(name)
}

/// `me` makes a list named `name`.
pub async fn create(core: &Core, me: &User, name: &str) -> Result<UserList> {
    let now = ids::now_ms();
    let list = UserList {
        id: ids::aidx_at(now),
        user_id: me.id.clone(),
        name: check_name(name)?.to_owned(),
        is_public: false,
        created_at: now,
        member_ids: Vec::new(),
    };
    if !core.store().create_user_list(&list, LIST_LIMIT).await? {
        return Err(Error::TooManyUserLists);
    }
    Ok(list)
}

/// `me`'s list `list_id`.
pub async fn owned(core: &Core, me: &User, list_id: &str) -> Result<UserList> {
    match core.store().user_list(list_id).await? {
        Some(l) if l.user_id == me.id => Ok(l),
        _ => Err(Error::NoSuchList),
    }
}

/// List `list_id` as `viewer` may see it: their own (unless they ask for the public view),
/// or anyone's public one.
pub async fn shown(
    core: &Core,
    viewer: Option<&User>,
    list_id: &str,
    for_public: bool,
) -> Result<UserList> {
    match (core.store().user_list(list_id).await?, viewer) {
        (Some(l), Some(me)) if !for_public && l.user_id == me.id => Ok(l),
        (Some(l), _) if (for_public || viewer.is_none()) && l.is_public => Ok(l),
        _ => Err(Error::NoSuchList),
    }
}

/// How many favourited a public list, and whether `viewer` did.
pub async fn likes(core: &Core, list: &UserList, viewer: Option<&User>) -> Result<(i64, bool)> {
    Ok(core
        .store()
        .user_list_likes(&list.id, viewer.map(|v| v.id.as_str()))
        .await?)
}

/// `user_id`'s public lists (only local users have lists here), or `me`'s own lists.
pub async fn of_user(
    core: &Core,
    me: Option<&User>,
    user_id: Option<&str>,
) -> Result<Vec<UserList>> {
    match (user_id, me) {
        (Some(id), _) => {
            let user = users::by_id(core, id).await?;
            if user.host.is_some() {
                return Err(Error::RemoteUserNotAllowed);
            }
            Ok(core.store().user_lists_of(&user.id, true).await?)
        }
        (None, Some(me)) => Ok(core.store().user_lists_of(&me.id, false).await?),
        (None, None) => Err(Error::InvalidParam {
            param: "userId",
            reason: "required when not signed in".to_owned(),
        }),
    }
}

/// Renames `me`'s list or makes it public or private.
pub async fn update(
    core: &Core,
    me: &User,
    list_id: &str,
    name: Option<&str>,
    is_public: Option<bool>,
) -> Result<UserList> {
    let list = owned(core, me, list_id).await?;
    let name = name.map(check_name).transpose()?;
    core.store()
        .update_user_list(&list.id, name, is_public)
        .await?;
    owned(core, me, list_id).await
}

/// Deletes `me`'s list.
pub async fn delete(core: &Core, me: &User, list_id: &str) -> Result<()> {
    let list = owned(core, me, list_id).await?;
    core.store().delete_user_list(&list.id).await?;
    publish(core, &list, None, ListChange::Deleted);
    Ok(())
}

/// `me` adds `user_id` to their list.
pub async fn push(core: &Core, me: &User, list_id: &str, user_id: &str) -> Result<()> {
    let list = owned(core, me, list_id).await?;
    add(core, me, &list, user_id).await
}

/// Adds `user_id` to `list` (`me`'s): not someone who blocks `me`, not twice, not past
/// [`MEMBER_LIMIT`].
async fn add(core: &Core, me: &User, list: &UserList, user_id: &str) -> Result<()> {
    let user = users::by_id(core, user_id).await?;
    if user.id != me.id
        && core
            .store()
            .blocked_by_any(&me.id, &[user.id.as_str()])
            .await?
    {
        return Err(Error::YouHaveBeenBlocked(Interaction::List));
    }
    let now = ids::now_ms();
    let membership = ListMembership {
        id: ids::aidx_at(now),
        list_id: list.id.clone(),
        user_id: user.id.clone(),
        with_replies: false,
        created_at: now,
    };
    match core
        .store()
        .add_list_member(&membership, &me.id, MEMBER_LIMIT)
        .await?
    {
        MemberAdded::Added => {
            publish(core, list, Some(&user.id), ListChange::Added);
            Ok(())
        }
        MemberAdded::AlreadyMember => Err(Error::AlreadyAdded),
        MemberAdded::ListFull => Err(Error::TooManyUsers),
    }
}

/// `me` takes `user_id` out of their list (nothing happens if they were not in it, as in
/// Misskey).
pub async fn pull(core: &Core, me: &User, list_id: &str, user_id: &str) -> Result<()> {
    let list = owned(core, me, list_id).await?;
    let user = users::by_id(core, user_id).await?;
    if core.store().remove_list_member(&list.id, &user.id).await? {
        publish(core, &list, Some(&user.id), ListChange::Removed);
    }
    Ok(())
}

/// Whether `me`'s list shows `user_id`'s replies to others.
pub async fn set_replies(
    core: &Core,
    me: &User,
    list_id: &str,
    user_id: &str,
    with_replies: bool,
) -> Result<()> {
    let list = owned(core, me, list_id).await?;
    let user = users::by_id(core, user_id).await?;
    if !core
        .store()
        .set_list_member_replies(&list.id, &user.id, with_replies)
        .await?
    {
        return Err(Error::NotListMember);
    }
    publish(core, &list, Some(&user.id), ListChange::Updated);
    Ok(())
}

/// A public list, by id.
async fn public(core: &Core, list_id: &str) -> Result<UserList> {
    match core.store().user_list(list_id).await? {
        Some(l) if l.is_public => Ok(l),
        _ => Err(Error::NoSuchList),
    }
}

/// `me` favourites a public list (their own included).
pub async fn favorite(core: &Core, me: &User, list_id: &str) -> Result<()> {
    let list = public(core, list_id).await?;
    if !core
        .store()
        .favorite_user_list(&list.id, &me.id, ids::now_ms())
        .await?
    {
        return Err(Error::AlreadyFavorited);
    }
    Ok(())
}

pub async fn unfavorite(core: &Core, me: &User, list_id: &str) -> Result<()> {
    let list = public(core, list_id).await?;
    if !core.store().unfavorite_user_list(&list.id, &me.id).await? {
        return Err(Error::NotFavorited);
    }
    Ok(())
}

/// `me` copies a public list as a new list of their own named `name`. Members who block
/// `me` (or are gone) are left out rather than failing the copy half-way, which Misskey
/// does, leaving a half-filled list behind.
pub async fn copy_public(core: &Core, me: &User, list_id: &str, name: &str) -> Result<UserList> {
    let source = public(core, list_id).await?;
    let list = create(core, me, name).await?;
    for member in &source.member_ids {
        match add(core, me, &list, member).await {
            Ok(()) | Err(Error::NoSuchUser | Error::YouHaveBeenBlocked(_)) => {}
            Err(e) => return Err(e),
        }
    }
    owned(core, me, &list.id).await
}

/// A page of a list's memberships with their users, as `viewer` may see the list.
pub async fn memberships(
    core: &Core,
    viewer: Option<&User>,
    list_id: &str,
    for_public: bool,
    page: &Page,
) -> Result<Vec<(ListMembership, User)>> {
    let list = shown(core, viewer, list_id, for_public).await?;
    let members = core
        .store()
        .list_memberships_page(
            &list.id,
            page.since_id.as_deref(),
            page.until_id.as_deref(),
            page.limit,
        )
        .await?;
    users::with_users(core, members, |m| &m.user_id).await
}

/// Where `me`'s list's notes come from, for its timeline and its stream: read on every
/// page and every reload of a stream, so the list itself is only checked to be `me`'s.
pub async fn source(core: &Core, me: &User, list_id: &str) -> Result<NoteSource> {
    if core.store().user_list_owner(list_id).await?.as_deref() != Some(me.id.as_str()) {
        return Err(Error::NoSuchList);
    }
    Ok(NoteSource::List {
        owner_id: me.id.clone(),
        members: core.store().user_list_members(list_id).await?,
    })
}

/// A page of `me`'s list's timeline.
pub async fn timeline(
    core: &Core,
    me: &User,
    list_id: &str,
    filter: &NoteFilter,
    page: &Page,
) -> Result<Listing> {
    let source = source(core, me, list_id).await?;
    timelines::list(core, source, Some(&me.id), filter, page).await
}

/// Tells the owner's streams (on every node) that the list's members changed.
fn publish(core: &Core, list: &UserList, user_id: Option<&str>, change: ListChange) {
    core.publish(Event::UserListChanged {
        owner_id: list.user_id.clone(),
        list_id: list.id.clone(),
        user_id: user_id.map(str::to_owned),
        change,
    });
}
