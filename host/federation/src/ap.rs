//! ActivityStreams documents as other servers send them, read leniently: a property may be
//! one value or a list, a reference may be an id or the object itself, unknown properties
//! and `@context` entries are ignored (JSON-LD contexts are never fetched). Only what Tsudoi
//! uses is read.

use serde::{Deserialize, Deserializer};

/// `as:Public`, in the three spellings servers use.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

pub fn is_public(address: &str) -> bool {
    matches!(address, PUBLIC | "as:Public" | "Public")
}

/// The media types an ActivityPub document may be served as.
pub const ACTIVITY_JSON: &str = "application/activity+json";
pub const LD_JSON_PROFILE: &str =
    r#"application/ld+json; profile="https://www.w3.org/ns/activitystreams""#;

/// Whether a `Content-Type` is one an ActivityPub document may come with. Anything else (an
/// HTML page, an uploaded file served as `application/json` or an image) is refused: a user
/// upload on a server must not pass for an actor there (CVE-2024-25623).
pub fn is_activity_content_type(value: &str) -> bool {
    let mut parts = value.split(';').map(str::trim);
    let media = parts.next().unwrap_or_default().to_ascii_lowercase();
    match media.as_str() {
        "application/activity+json" => true,
        "application/ld+json" => parts.any(|p| {
            p.strip_prefix("profile=")
                .map(|v| v.trim_matches('"'))
                .is_some_and(|v| {
                    v.split_whitespace()
                        .any(|p| p == "https://www.w3.org/ns/activitystreams")
                })
        }),
        _ => false,
    }
}

/// Whether an `Accept` header asks for ActivityPub JSON rather than a page.
pub fn accepts_activity_json(accept: &str) -> bool {
    accept.split(',').any(|a| {
        let a = a.trim();
        a.starts_with("application/activity+json") || a.starts_with("application/ld+json")
    })
}

/// One value or several, as JSON-LD allows any property to be.
#[derive(Debug, Clone, PartialEq)]
pub struct Many<T>(pub Vec<T>);

impl<T> Default for Many<T> {
    fn default() -> Self {
        Many(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Many<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany<T> {
            Many(Vec<T>),
            One(T),
            Null(()),
        }
        Ok(Many(match OneOrMany::deserialize(d)? {
            OneOrMany::Many(v) => v,
            OneOrMany::One(v) => vec![v],
            OneOrMany::Null(()) => vec![],
        }))
    }
}

impl<T> Many<T> {
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }
}

/// A reference to an object: its id, or the object itself (from which only the id is taken
/// unless the caller reads the rest).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Ref {
    Id(String),
    Object(Box<Object>),
    /// `{"href": …}` as Link objects give it.
    Link {
        href: String,
    },
}

impl Ref {
    pub fn id(&self) -> Option<&str> {
        match self {
            Ref::Id(id) => Some(id),
            Ref::Object(o) => o.id.as_deref(),
            Ref::Link { href } => Some(href),
        }
    }

    pub fn object(&self) -> Option<&Object> {
        match self {
            Ref::Object(o) => Some(o),
            _ => None,
        }
    }
}

/// Any object or activity: the union of the properties Tsudoi reads from either. An
/// activity's `object` is a [`Ref`], so an Undo of a Follow or a Create of a Note nests.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Object {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Many<String>,
    pub actor: Option<Ref>,
    pub object: Option<Ref>,
    pub attributed_to: Option<Many<Ref>>,
    pub to: Many<Ref>,
    pub cc: Many<Ref>,
    pub bto: Many<Ref>,
    pub bcc: Many<Ref>,
    pub audience: Many<Ref>,
    pub published: Option<String>,
    pub updated: Option<String>,
    pub content: Option<String>,
    pub summary: Option<String>,
    pub sensitive: Option<bool>,
    pub source: Option<Source>,
    #[serde(rename = "_misskey_content")]
    pub misskey_content: Option<String>,
    #[serde(rename = "_misskey_quote")]
    pub misskey_quote: Option<String>,
    /// A Like's reaction, as Misskey sends it (others put it in `content`).
    #[serde(rename = "_misskey_reaction")]
    pub misskey_reaction: Option<String>,
    /// An image's type (an `Emoji`'s `icon`).
    pub media_type: Option<String>,
    pub quote_url: Option<String>,
    pub quote_uri: Option<String>,
    pub in_reply_to: Option<Ref>,
    pub tag: Many<Tag>,
    pub url: Option<Many<Ref>>,
    pub name: Option<String>,
    // Actors.
    pub preferred_username: Option<String>,
    pub inbox: Option<String>,
    pub outbox: Option<String>,
    pub followers: Option<String>,
    pub following: Option<String>,
    pub endpoints: Option<Endpoints>,
    pub public_key: Option<Many<PublicKeyDoc>>,
    pub manually_approves_followers: Option<bool>,
    pub is_cat: Option<bool>,
    pub attachment: Many<Attachment>,
    #[serde(rename = "_misskey_summary")]
    pub misskey_summary: Option<String>,
    /// The actor's other accounts: a Move's target names the account it moves from here.
    pub also_known_as: Many<Ref>,
    /// A Move's new account.
    pub target: Option<Ref>,
    // Polls (`Question`).
    pub one_of: Many<PollOption>,
    pub any_of: Many<PollOption>,
    pub end_time: Option<String>,
    pub closed: Option<Closed>,
}

/// A poll's `closed`: when it closed, or (some servers) only that it did.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Closed {
    At(String),
    Flag(bool),
}

impl Object {
    /// Whether the object has `kind` among its types.
    pub fn is(&self, kind: &str) -> bool {
        self.kind.iter().any(|k| k == kind)
    }

    /// The first of its types, for messages.
    pub fn kind(&self) -> &str {
        self.kind.0.first().map(String::as_str).unwrap_or("?")
    }

    /// Who the object is addressed to, in `to` and `cc` (blind copies included).
    pub fn addressees(&self) -> impl Iterator<Item = &str> {
        [&self.to, &self.cc, &self.bto, &self.bcc, &self.audience]
            .into_iter()
            .flat_map(|m| m.iter())
            .filter_map(Ref::id)
    }

    /// The author: `attributedTo`, or `actor`.
    pub fn author(&self) -> Option<&str> {
        match &self.attributed_to {
            Some(list) => list.iter().find_map(Ref::id),
            None => self.actor.as_ref().and_then(Ref::id),
        }
    }

    /// The page it names as its `url` (the first link, if several).
    pub fn page_url(&self) -> Option<&str> {
        self.url.as_ref()?.iter().find_map(Ref::id)
    }

    /// When it says it was published, in Unix milliseconds; now if it does not say.
    pub fn published_ms(&self) -> i64 {
        self.published
            .as_deref()
            .and_then(parse_time)
            .unwrap_or_else(tsudoi_model::ids::now_ms)
    }

    pub fn shared_inbox(&self) -> Option<&str> {
        self.endpoints.as_ref()?.shared_inbox.as_deref()
    }
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Endpoints {
    pub shared_inbox: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PublicKeyDoc {
    pub id: String,
    pub owner: Option<String>,
    pub public_key_pem: String,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Source {
    pub content: Option<String>,
    pub media_type: Option<String>,
}

/// A `tag` entry: Mention, Hashtag or Emoji.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Tag {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub href: Option<String>,
    pub name: Option<String>,
    pub id: Option<String>,
    pub icon: Option<Box<Object>>,
}

/// An attachment: a profile field (`PropertyValue`: `name`, `value`) on an actor, a file
/// (`Document`, `Image`, …: `url`, `mediaType`, its description as `name`) on a note.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Attachment {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub value: Option<String>,
    pub url: Option<Ref>,
    pub media_type: Option<String>,
    pub sensitive: Option<bool>,
    pub blurhash: Option<String>,
    /// Numbers, but read leniently: a server that sends them as text loses only them.
    pub width: Option<serde_json::Value>,
    pub height: Option<serde_json::Value>,
}

/// One choice of a `Question`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PollOption {
    pub name: Option<String>,
    pub replies: Option<PollReplies>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PollReplies {
    pub total_items: Option<i64>,
}

/// Parses an `xsd:dateTime` (`2024-01-02T03:04:05Z`) as Unix milliseconds.
pub fn parse_time(value: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_may_be_one_value_or_several_and_references_ids_or_objects() {
        let o: Object = serde_json::from_str(
            r##"{"@context":["https://www.w3.org/ns/activitystreams",{"x":"y"}],
                "id":"https://a.example/1","type":"Create","actor":{"id":"https://a.example/u","type":"Person"},
                "to":"https://www.w3.org/ns/activitystreams#Public","cc":["https://a.example/u/followers"],
                "object":{"id":"https://a.example/n","type":"Note","content":"<p>hi</p>","tag":{"type":"Hashtag","name":"#x"}},
                "unknown":{"deep":[1,2,3]}}"##,
        )
        .unwrap();
        assert!(o.is("Create"));
        assert_eq!(
            o.actor.as_ref().and_then(Ref::id),
            Some("https://a.example/u")
        );
        assert_eq!(
            o.addressees().collect::<Vec<_>>(),
            [PUBLIC, "https://a.example/u/followers"]
        );
        let note = o.object.as_ref().and_then(Ref::object).unwrap();
        assert_eq!(note.tag.0.len(), 1);
    }

    #[test]
    fn only_activity_streams_media_types_are_documents() {
        assert!(is_activity_content_type(
            "application/activity+json; charset=utf-8"
        ));
        assert!(is_activity_content_type(LD_JSON_PROFILE));
        for refused in [
            "application/json",
            "text/html",
            "image/png",
            "application/ld+json",
            r#"application/ld+json; profile="https://evil.example""#,
        ] {
            assert!(!is_activity_content_type(refused), "{refused}");
        }
    }
}
