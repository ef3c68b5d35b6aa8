//! Favourites, and what `notes/state` tells of a note: notes a user keeps for later. Only
//! notes the user may see can be kept; a kept note the user may no longer see is not shown.

use tsudoi_model::{Note, Page, User, ids};
use tsudoi_store::favorites::Favorite;

use crate::notes::{self, visible_to};
use crate::{Core, Error, Result};

/// `me` keeps `note_id`.
pub async fn add(core: &Core, me: &User, note_id: &str) -> Result<()> {
    let note = notes::view(core, note_id, Some(&me.id)).await?;
    let now = ids::now_ms();
    if !core
        .store()
        .add_favorite(&ids::aidx_at(now), &me.id, &note.id, now)
        .await?
    {
        return Err(Error::AlreadyFavorited);
    }
    Ok(())
}

/// `me` no longer keeps `note_id`.
pub async fn remove(core: &Core, me: &User, note_id: &str) -> Result<()> {
    let note = notes::show(core, note_id, Some(&me.id)).await?;
    if !core.store().remove_favorite(&me.id, &note.id).await? {
        return Err(Error::NotFavorited);
    }
    Ok(())
}

/// Whether `me` keeps `note_id` (which `me` must be able to see).
pub async fn is_favorite(core: &Core, me: &User, note_id: &str) -> Result<bool> {
    let note = notes::show(core, note_id, Some(&me.id)).await?;
    Ok(core.store().is_favorite(&me.id, &note.id).await?)
}

/// A page of `me`'s favourites with their notes, those `me` may still see.
pub async fn page(core: &Core, me: &User, page: &Page) -> Result<Vec<(Favorite, Note)>> {
    let favorites = core
        .store()
        .favorites_page(
            &me.id,
            page.since_id.as_deref(),
            page.until_id.as_deref(),
            page.limit,
        )
        .await?;
    let ids: Vec<String> = favorites.iter().map(|f| f.note_id.clone()).collect();
    let found = core.store().notes_by_ids(&ids).await?;
    let visible = visible_to(core, &found, Some(&me.id)).await?;
    let seen: Vec<Note> = found
        .into_iter()
        .zip(visible)
        .filter_map(|(n, ok)| ok.then_some(n))
        .collect();
    Ok(favorites
        .into_iter()
        .filter_map(|f| {
            let note = seen.iter().find(|n| n.id == f.note_id)?.clone();
            Some((f, note))
        })
        .collect())
}
