//! Timelines. Most are one listing; the home timeline is read from its materialised table and
//! continues from `notes` below the owner's horizon, and the social (hybrid) timeline merges
//! the home and local timelines.

use super::Result;
use crate::app::App;
use crate::store::{NoteFilter, NoteRow, NoteSource, Page, UserRow};

pub async fn home(
    app: &App,
    me: &UserRow,
    filter: &NoteFilter,
    page: &Page,
) -> Result<Vec<NoteRow>> {
    // `me` was read for this request (authentication), so its horizon is current.
    let horizon = me.home_horizon.clone();
    let source = NoteSource::Home {
        user_id: me.id.clone(),
        above: horizon.clone(),
    };
    let mut notes = app
        .store
        .list_notes(&source, Some(&me.id), filter, page)
        .await?;
    let Some(horizon) = horizon else {
        return Ok(notes);
    };
    // Below the horizon the materialised timeline is incomplete: read the rest from `notes`.
    let want = page.limit.clamp(1, 100) as usize;
    let ascending = page.ascending();
    let needs_older = !ascending && notes.len() < want;
    let starts_below = ascending
        && page
            .since_id
            .as_deref()
            .is_some_and(|s| s < horizon.as_str());
    if needs_older || starts_below {
        let rest_page = Page {
            since_id: page.since_id.clone(),
            until_id: if ascending {
                None
            } else {
                match (notes.last(), &page.until_id) {
                    (Some(last), _) => Some(last.id.clone()),
                    (None, until) => until.clone(),
                }
            },
            limit: page.limit,
        };
        let source = NoteSource::Followed {
            user_id: me.id.clone(),
            at_most: horizon,
        };
        let older = app
            .store
            .list_notes(&source, Some(&me.id), filter, &rest_page)
            .await?;
        if ascending {
            // The older part comes first in ascending order.
            let mut merged = older;
            merged.extend(notes);
            merged.truncate(want);
            notes = merged;
        } else {
            notes.extend(older);
            notes.truncate(want);
        }
    }
    Ok(notes)
}

pub async fn local(
    app: &App,
    viewer: Option<&str>,
    filter: &NoteFilter,
    page: &Page,
) -> Result<Vec<NoteRow>> {
    Ok(app
        .store
        .list_notes(&NoteSource::LocalPublic, viewer, filter, page)
        .await?)
}

pub async fn global(
    app: &App,
    viewer: Option<&str>,
    filter: &NoteFilter,
    page: &Page,
) -> Result<Vec<NoteRow>> {
    Ok(app
        .store
        .list_notes(&NoteSource::GlobalPublic, viewer, filter, page)
        .await?)
}

/// Home plus local: what Misskey calls the social timeline.
pub async fn hybrid(
    app: &App,
    me: &UserRow,
    filter: &NoteFilter,
    page: &Page,
) -> Result<Vec<NoteRow>> {
    let (home, local) = tokio::try_join!(
        home(app, me, filter, page),
        local(app, Some(&me.id), filter, page)
    )?;
    Ok(merge(home, local, page))
}

/// Merges two pages sorted the same way into one, without duplicates.
fn merge(a: Vec<NoteRow>, b: Vec<NoteRow>, page: &Page) -> Vec<NoteRow> {
    let mut all: Vec<NoteRow> = a.into_iter().chain(b).collect();
    if page.ascending() {
        all.sort_by(|x, y| x.id.cmp(&y.id));
    } else {
        all.sort_by(|x, y| y.id.cmp(&x.id));
    }
    all.dedup_by(|x, y| x.id == y.id);
    all.truncate(page.limit.clamp(1, 100) as usize);
    all
}

pub async fn list(
    app: &App,
    source: NoteSource,
    viewer: Option<&str>,
    filter: &NoteFilter,
    page: &Page,
) -> Result<Vec<NoteRow>> {
    Ok(app.store.list_notes(&source, viewer, filter, page).await?)
}
