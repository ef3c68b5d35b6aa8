//! `EmojiSimple`, `EmojiDetailed` and `NoteReaction`.

use serde::Serialize;
use tsudoi_core::Settings;
use tsudoi_core::reactions::{self, ReactionPage};
use tsudoi_model::Emoji;

use super::{EmptyList, UserLite, iso};

/// What `emojis` lists: this server's emoji as the reaction picker needs them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmojiSimple<'a> {
    aliases: &'a [String],
    name: &'a str,
    category: Option<&'a str>,
    url: String,
    local_only: bool,
    is_sensitive: bool,
    role_ids_that_can_be_used_this_emoji_as_reaction: EmptyList,
}

impl<'a> EmojiSimple<'a> {
    pub fn pack(e: &'a Emoji, settings: &Settings) -> Self {
        EmojiSimple {
            aliases: &e.aliases,
            name: &e.name,
            category: e.category.as_deref(),
            url: e.url(settings.base_url()),
            local_only: e.local_only,
            is_sensitive: e.is_sensitive,
            role_ids_that_can_be_used_this_emoji_as_reaction: EmptyList,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct EmojisList<'a> {
    pub emojis: Vec<EmojiSimple<'a>>,
}

/// One emoji in full (`emoji`, the admin endpoints).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmojiDetailed<'a> {
    id: &'a str,
    aliases: &'a [String],
    name: &'a str,
    category: Option<&'a str>,
    host: Option<&'a str>,
    url: String,
    license: Option<&'a str>,
    is_sensitive: bool,
    local_only: bool,
    role_ids_that_can_be_used_this_emoji_as_reaction: EmptyList,
    /// Admin views also say when it last changed and what the image is.
    updated_at: Option<String>,
    #[serde(rename = "type")]
    media_type: Option<&'a str>,
}

impl<'a> EmojiDetailed<'a> {
    pub fn pack(e: &'a Emoji, settings: &Settings) -> Self {
        EmojiDetailed {
            id: &e.id,
            aliases: &e.aliases,
            name: &e.name,
            category: e.category.as_deref(),
            host: e.host.as_deref(),
            url: e.url(settings.base_url()),
            license: e.license.as_deref(),
            is_sensitive: e.is_sensitive,
            local_only: e.local_only,
            role_ids_that_can_be_used_this_emoji_as_reaction: EmptyList,
            updated_at: e.updated_at.map(iso),
            media_type: e.media_type.as_deref(),
        }
    }
}

/// One reaction to a note, with who gave it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteReaction<'a> {
    id: &'a str,
    created_at: String,
    user: Option<UserLite<'a>>,
    #[serde(rename = "type")]
    reaction: String,
}

impl<'a> NoteReaction<'a> {
    pub fn pack_all(page: &'a ReactionPage, settings: &Settings) -> Vec<Self> {
        page.reactions
            .iter()
            .map(|r| NoteReaction {
                id: &r.id,
                created_at: iso(r.created_at),
                user: page
                    .author(&r.user_id)
                    .map(|a| UserLite::of_author(a, settings)),
                reaction: reactions::shown(&r.reaction),
            })
            .collect()
    }
}
