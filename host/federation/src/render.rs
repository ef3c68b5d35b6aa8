//! Local users, notes and activities as ActivityPub documents, in the shapes Misskey sends
//! (its extensions included: `_misskey_content`, `_misskey_quote`, `isCat`) so Misskey and
//! Mastodon servers read them as they read each other's.

use serde::Serialize;
use tsudoi_model::{Note, User, Visibility};

use crate::ap::PUBLIC;
use crate::ids::LocalIds;

/// The `@context` of every document we send: ActivityStreams, security (public keys), and
/// the terms Misskey and Mastodon add.
pub fn context() -> serde_json::Value {
    serde_json::json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "sensitive": "as:sensitive",
            "Hashtag": "as:Hashtag",
            "quoteUrl": "as:quoteUrl",
            "toot": "http://joinmastodon.org/ns#",
            "Emoji": "toot:Emoji",
            "featured": "toot:featured",
            "discoverable": "toot:discoverable",
            "schema": "http://schema.org#",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value",
            "misskey": "https://misskey-hub.net/ns#",
            "_misskey_content": "misskey:_misskey_content",
            "_misskey_quote": "misskey:_misskey_quote",
            "_misskey_reaction": "misskey:_misskey_reaction",
            "_misskey_summary": "misskey:_misskey_summary",
            "isCat": "misskey:isCat",
        }
    ])
}

/// A document with its `@context`.
#[derive(Debug, Serialize)]
pub struct WithContext<T> {
    #[serde(rename = "@context")]
    pub context: serde_json::Value,
    #[serde(flatten)]
    pub inner: T,
}

impl<T: Serialize> WithContext<T> {
    pub fn new(inner: T) -> Self {
        WithContext {
            context: context(),
            inner,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub inbox: String,
    pub outbox: String,
    pub followers: String,
    pub following: String,
    pub featured: String,
    pub shared_inbox: String,
    pub endpoints: PersonEndpoints,
    pub url: String,
    pub preferred_username: String,
    pub name: Option<String>,
    pub summary: Option<String>,
    #[serde(rename = "_misskey_summary")]
    pub misskey_summary: Option<String>,
    pub published: String,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    pub is_cat: bool,
    pub attachment: Vec<PropertyValue>,
    pub tag: Vec<TagOut>,
    pub public_key: KeyOut,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonEndpoints {
    pub shared_inbox: String,
}

#[derive(Debug, Serialize)]
pub struct PropertyValue {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyOut {
    pub id: String,
    pub owner: String,
    pub public_key_pem: String,
}

/// `user` as an actor. `summary_html` is its description rendered; `instance_actor` makes it
/// the server's own `Application`.
pub fn person(
    ids: &LocalIds,
    user: &User,
    public_key_pem: &str,
    summary_html: Option<String>,
    instance_actor: bool,
) -> Person {
    let id = ids.user(&user.id);
    Person {
        kind: if instance_actor {
            "Application"
        } else if user.is_bot {
            "Service"
        } else {
            "Person"
        },
        inbox: ids.inbox(&user.id),
        outbox: ids.outbox(&user.id),
        followers: ids.followers(&user.id),
        following: ids.following(&user.id),
        featured: ids.featured(&user.id),
        shared_inbox: ids.shared_inbox(),
        endpoints: PersonEndpoints {
            shared_inbox: ids.shared_inbox(),
        },
        url: ids.profile_page(&user.username),
        preferred_username: user.username.clone(),
        name: user.name.clone(),
        summary: summary_html,
        misskey_summary: user.description.clone(),
        published: iso(user.created_at),
        manually_approves_followers: user.is_locked,
        discoverable: !instance_actor,
        is_cat: user.is_cat,
        attachment: user
            .fields
            .iter()
            .map(|f| PropertyValue {
                kind: "PropertyValue",
                name: f.name.clone(),
                value: f.value.clone(),
            })
            .collect(),
        tag: Vec::new(),
        public_key: KeyOut {
            id: ids.key(&user.id),
            owner: id.clone(),
            public_key_pem: public_key_pem.to_owned(),
        },
        id,
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteOut {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub attributed_to: String,
    pub content: String,
    #[serde(rename = "_misskey_content", skip_serializing_if = "Option::is_none")]
    pub misskey_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub sensitive: bool,
    pub published: String,
    pub url: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    #[serde(rename = "_misskey_quote", skip_serializing_if = "Option::is_none")]
    pub misskey_quote: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote_url: Option<String>,
    pub attachment: Vec<DocumentOut>,
    pub tag: Vec<Tag>,
    /// A poll makes the note a `Question` with its choices in `oneOf` (or `anyOf` when
    /// several may be chosen) and the votes so far in each choice's `replies`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<ChoiceOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub any_of: Option<Vec<ChoiceOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// When a poll that has ended ended (Mastodon's `closed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ChoiceOut {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub replies: CountOut,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CountOut {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub total_items: i64,
}

/// A note's poll with its votes per choice.
pub struct PollLinks {
    pub choices: Vec<String>,
    pub multiple: bool,
    pub expires_at: Option<i64>,
    pub votes: Vec<i64>,
}

/// A vote as Misskey sends it: a `Note` replying to the poll whose `name` is the choice,
/// addressed to the poll's author only.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VoteOut {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub attributed_to: String,
    pub to: Vec<String>,
    pub in_reply_to: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceOut {
    pub content: String,
    pub media_type: &'static str,
}

#[derive(Debug, Serialize)]
pub struct TagOut {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub href: String,
    pub name: String,
}

/// A `tag` entry of a note.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Tag {
    /// A Mention or Hashtag.
    Link(TagOut),
    Emoji(EmojiTag),
}

/// A custom emoji as Misskey and Mastodon describe the ones a note or reaction uses.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmojiTag {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `:name:`.
    pub name: String,
    pub updated: String,
    pub icon: ImageOut,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageOut {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub media_type: String,
    pub url: String,
}

/// Local emoji `e` as an `Emoji` object.
pub fn emoji(ids: &LocalIds, e: &tsudoi_model::Emoji) -> EmojiTag {
    EmojiTag {
        id: ids.emoji(&e.name),
        kind: "Emoji",
        name: format!(":{}:", e.name),
        updated: iso(e.updated_at.unwrap_or(e.created_at)),
        icon: ImageOut {
            kind: "Image",
            media_type: e.media_type.clone().unwrap_or_else(|| "image/png".into()),
            url: e.url(ids.base()),
        },
    }
}

/// A reaction as a `Like`: Misskey's form, the reaction in `_misskey_reaction` and
/// `content` (which Pleroma and Akkoma read), the custom emoji it uses in `tag`.
#[derive(Debug, Serialize)]
pub struct LikeOut {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub actor: String,
    pub object: String,
    pub content: String,
    #[serde(rename = "_misskey_reaction")]
    pub misskey_reaction: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tag: Vec<EmojiTag>,
}

/// A file a note shows, as Misskey and Mastodon describe one: its URL and type, its
/// description as `name`, and (Mastodon's extensions) blurhash and size.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentOut {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub media_type: String,
    pub url: String,
    pub name: Option<String>,
    pub sensitive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blurhash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
}

impl DocumentOut {
    pub fn of(shown: tsudoi_core::drive::ShownFile) -> Self {
        let f = shown.file;
        DocumentOut {
            kind: "Document",
            media_type: f.media_type,
            url: shown.url,
            name: f.comment,
            sensitive: f.is_sensitive,
            blurhash: f.blurhash,
            width: f.width,
            height: f.height,
        }
    }
}

/// What a note refers to, resolved to ActivityPub ids.
pub struct NoteLinks {
    /// The author's actor id and followers collection.
    pub author_uri: String,
    pub followers_uri: String,
    /// The replied-to and quoted notes' ids.
    pub in_reply_to: Option<String>,
    pub quote: Option<String>,
    /// Mentioned users: `(actor id, @user@host)`.
    pub mentions: Vec<(String, String)>,
    /// Actor ids a specified note is addressed to.
    pub addressed: Vec<String>,
    pub content_html: String,
    /// The custom emoji of this server its text uses.
    pub emojis: Vec<EmojiTag>,
    pub poll: Option<PollLinks>,
    /// The files it shows, in order.
    pub attachments: Vec<DocumentOut>,
}

/// Misskey's mapping of the four visibilities to `to` and `cc`: public to everyone with
/// followers in copy; home to followers with Public in copy (unlisted); followers to
/// followers only; specified to the addressees only. Mentioned users are always copied.
pub fn addressing(
    visibility: Visibility,
    followers: &str,
    mentioned: &[String],
    addressed: &[String],
) -> (Vec<String>, Vec<String>) {
    let mut cc: Vec<String> = Vec::new();
    let to = match visibility {
        Visibility::Public => {
            cc.push(followers.to_owned());
            vec![PUBLIC.to_owned()]
        }
        Visibility::Home => {
            cc.push(PUBLIC.to_owned());
            vec![followers.to_owned()]
        }
        Visibility::Followers => vec![followers.to_owned()],
        Visibility::Specified => addressed.to_vec(),
    };
    for m in mentioned {
        if !to.contains(m) && !cc.contains(m) {
            cc.push(m.clone());
        }
    }
    (to, cc)
}

/// A local note as a `Note` object.
pub fn note(ids: &LocalIds, note: &Note, links: NoteLinks, base_url: &str) -> NoteOut {
    let mentioned: Vec<String> = links.mentions.iter().map(|(u, _)| u.clone()).collect();
    let (to, cc) = addressing(
        note.visibility,
        &links.followers_uri,
        &mentioned,
        &links.addressed,
    );
    let mut tag: Vec<Tag> = links
        .mentions
        .iter()
        .map(|(href, name)| {
            Tag::Link(TagOut {
                kind: "Mention",
                href: href.clone(),
                name: name.clone(),
            })
        })
        .collect();
    tag.extend(note.tags.iter().map(|t| {
        Tag::Link(TagOut {
            kind: "Hashtag",
            href: format!("{base_url}/tags/{}", tsudoi_mfm::url_component(t)),
            name: format!("#{t}"),
        })
    }));
    tag.extend(links.emojis.into_iter().map(Tag::Emoji));
    // Servers that know no quotes see the quoted note's id after `RE:` (Misskey's fallback).
    let mut content = links.content_html;
    if let Some(q) = &links.quote {
        let mut escaped = String::new();
        tsudoi_mfm::escape(q, &mut escaped);
        content.push_str(&format!(
            "<p><span class=\"quote-inline\"><br><br>RE: <a href=\"{escaped}\">{escaped}</a></span></p>"
        ));
    }
    let (mut one_of, mut any_of, mut end_time, mut closed) = (None, None, None, None);
    if let Some(poll) = links.poll {
        let choices = poll
            .choices
            .into_iter()
            .enumerate()
            .map(|(i, name)| ChoiceOut {
                kind: "Note",
                name,
                replies: CountOut {
                    kind: "Collection",
                    total_items: poll.votes.get(i).copied().unwrap_or_default(),
                },
            })
            .collect();
        if poll.multiple {
            any_of = Some(choices);
        } else {
            one_of = Some(choices);
        }
        match poll.expires_at {
            Some(at) if at <= tsudoi_model::ids::now_ms() => closed = Some(iso(at)),
            Some(at) => end_time = Some(iso(at)),
            None => {}
        }
    }
    NoteOut {
        id: ids.note(&note.id),
        kind: if note.has_poll { "Question" } else { "Note" },
        attributed_to: links.author_uri,
        content,
        misskey_content: note.text.clone(),
        source: note.text.as_ref().map(|t| SourceOut {
            content: t.clone(),
            media_type: "text/x.misskeymarkdown",
        }),
        summary: note.cw.clone(),
        sensitive: note.cw.is_some() || links.attachments.iter().any(|d| d.sensitive),
        published: iso(note.created_at),
        url: ids.note(&note.id),
        to,
        cc,
        in_reply_to: links.in_reply_to,
        misskey_quote: links.quote.clone(),
        quote_url: links.quote,
        attachment: links.attachments,
        tag,
        one_of,
        any_of,
        end_time,
        closed,
    }
}

/// An activity: `actor` does `kind` to `object`.
#[derive(Debug, Serialize)]
pub struct Activity<O> {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub actor: String,
    pub object: O,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
}

impl<O: Serialize> Activity<O> {
    pub fn new(id: String, kind: &'static str, actor: String, object: O) -> Self {
        Activity {
            id,
            kind,
            actor,
            object,
            to: Vec::new(),
            cc: Vec::new(),
            published: None,
        }
    }
}

/// A Follow as it travels alone or inside an Accept, Reject or Undo.
#[derive(Debug, Clone, Serialize)]
pub struct FollowOut {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub actor: String,
    pub object: String,
}

impl FollowOut {
    pub fn new(id: String, actor: String, object: String) -> Self {
        FollowOut {
            id,
            kind: "Follow",
            actor,
            object,
        }
    }
}

/// Unix milliseconds as `xsd:dateTime` in UTC with milliseconds (as Misskey writes them).
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibilities_map_to_addressing_as_misskey_does() {
        let f = "https://h/users/a/followers";
        let m = vec!["https://r/users/b".to_owned()];
        assert_eq!(
            addressing(Visibility::Public, f, &m, &[]),
            (vec![PUBLIC.to_owned()], vec![f.to_owned(), m[0].clone()])
        );
        assert_eq!(
            addressing(Visibility::Home, f, &[], &[]),
            (vec![f.to_owned()], vec![PUBLIC.to_owned()])
        );
        assert_eq!(
            addressing(Visibility::Followers, f, &[], &[]),
            (vec![f.to_owned()], vec![])
        );
        assert_eq!(
            addressing(Visibility::Specified, f, &m, &m),
            (m.clone(), vec![])
        );
    }
}
