//! One streaming connection: the channels its client connected, the notes it subscribed
//! to, and its viewer's relations; what the hub prepared goes out through here, filtered
//! for this viewer by the same rules as the REST timelines.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;
use tsudoi_core::notes::create::normalize_hashtag;
use tsudoi_core::stream::Viewer;
use tsudoi_core::{Core, accounts, drive, notifications, user_lists, users};
use tsudoi_model::{DriveChange, Event, ListChange, NoteFilter, NoteSource, User};

use super::hub::{Hub, Prepared, PreparedNote, pack_note};
use crate::api::entities::{
    DriveFile, DriveFolder, MeDetailed, Notification, UserDetailed, UserLite,
};

/// How often the server pings. Clients that answer nothing for [`IDLE_LIMIT`] are dropped
/// (Misskey drops them after two minutes without a pong).
const PING_EVERY: Duration = Duration::from_secs(60);
const IDLE_LIMIT: Duration = Duration::from_secs(150);

/// Most channels and note subscriptions one connection holds: a client shows a handful of
/// timelines and the notes on screen; more is a runaway client using memory.
const MAX_CHANNELS: usize = 64;
const MAX_SUBSCRIBED_NOTES: usize = 1_024;

pub async fn run(socket: WebSocket, core: Core, hub: Hub, me: Option<User>) {
    let viewer = match &me {
        Some(u) => match Viewer::load(&core, &u.id).await {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(error = %e, "cannot open a stream");
                // Clients reconnect at once; a second's pause keeps a database that is
                // away from being asked hundreds of times a second per client.
                tokio::time::sleep(Duration::from_secs(1)).await;
                return;
            }
        },
        None => None,
    };
    let mut conn = Connection {
        core,
        me,
        viewer,
        main: None,
        channels: HashMap::new(),
        notes: HashMap::new(),
        out: Vec::new(),
    };
    let mut prepared = hub.subscribe();
    let (mut sink, mut incoming) = socket.split();
    let mut keepalive =
        tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    let mut heard = Instant::now();
    loop {
        tokio::select! {
            msg = incoming.next() => match msg {
                Some(Ok(msg)) => {
                    heard = Instant::now();
                    match msg {
                        Message::Text(text) => conn.on_client(text.as_str()).await,
                        Message::Close(_) => break,
                        _ => {}
                    }
                }
                Some(Err(_)) | None => break,
            },
            p = prepared.recv() => match p {
                Ok(p) => conn.on_prepared(&p).await,
                Err(RecvError::Lagged(n)) => {
                    tracing::debug!(missed = n, "a streaming connection fell behind");
                }
                Err(RecvError::Closed) => break,
            },
            _ = keepalive.tick() => {
                if heard.elapsed() > IDLE_LIMIT || sink.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
        }
        for text in conn.out.drain(..) {
            if sink.send(Message::Text(text.into())).await.is_err() {
                return;
            }
        }
    }
    let _ = sink.close().await;
}

/// A channel the client connected, by the id it chose.
enum Channel {
    Timeline(Timeline, NoteFilter),
    /// Notes with all the tags of any one group (`q: [["a", "b"], ["c"]]`).
    Hashtag(Vec<Vec<String>>),
    /// What changes in the viewer's drive.
    Drive,
    /// The notes of one of the viewer's lists: its source holds the members, read again
    /// when they change.
    List {
        list_id: String,
        source: NoteSource,
        filter: NoteFilter,
    },
}

#[derive(Clone, Copy)]
enum Timeline {
    Home,
    Local,
    Hybrid,
    Global,
}

struct Connection {
    core: Core,
    me: Option<User>,
    viewer: Option<Viewer>,
    /// The id of the client's `main` channel (one per connection, as Misskey has it).
    main: Option<String>,
    channels: HashMap<String, Channel>,
    /// Notes subscribed to with `s`/`sr`, with how many times (each `un` takes one back).
    notes: HashMap<String, u32>,
    /// Messages to send once the current step is done.
    out: Vec<String>,
}

#[derive(Deserialize)]
#[serde(tag = "type", content = "body")]
enum ClientMessage {
    #[serde(rename = "connect")]
    Connect {
        channel: String,
        id: String,
        #[serde(default)]
        params: Option<Value>,
        #[serde(default)]
        pong: Option<bool>,
    },
    #[serde(rename = "disconnect")]
    Disconnect { id: String },
    #[serde(rename = "s", alias = "subNote", alias = "sr")]
    Subscribe { id: String },
    #[serde(rename = "un", alias = "unsubNote")]
    Unsubscribe { id: String },
    /// Marks every notification read (Misskey's `readNotification`, which takes no id).
    #[serde(rename = "readNotification")]
    ReadNotification(
        // Older clients name a notification; every one is marked read either way.
        #[serde(default)]
        #[allow(dead_code)]
        Option<serde::de::IgnoredAny>,
    ),
    /// A message for one connected channel. None of this server's channels takes any
    /// (Misskey's timelines and `main` take none either), so it is accepted and dropped.
    #[serde(rename = "ch", alias = "channel")]
    Channel {},
}

/// A timeline channel's parameters, with Misskey's defaults.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct TimelineParams {
    with_renotes: Option<bool>,
    with_replies: Option<bool>,
    with_files: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ListParams {
    list_id: String,
    #[serde(default)]
    with_files: bool,
    #[serde(default = "yes")]
    with_renotes: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Default)]
struct HashtagParams {
    #[serde(default)]
    q: Vec<Vec<String>>,
}

impl Connection {
    /// A message from the client. Anything unreadable (the web client's `h`, `ping`,
    /// message types this server does not know) is ignored without a reply: clients parse
    /// every message they get as JSON.
    async fn on_client(&mut self, text: &str) {
        let Ok(msg) = serde_json::from_str::<ClientMessage>(text) else {
            return;
        };
        match msg {
            ClientMessage::Connect {
                channel,
                id,
                params,
                pong,
            } => {
                if self.connect(&channel, &id, params).await && pong == Some(true) {
                    self.out.push(
                        serde_json::json!({"type": "connected", "body": {"id": id}}).to_string(),
                    );
                }
            }
            ClientMessage::Disconnect { id } => {
                if self.main.as_deref() == Some(id.as_str()) {
                    self.main = None;
                }
                self.channels.remove(&id);
            }
            ClientMessage::Subscribe { id } => {
                if self.notes.len() < MAX_SUBSCRIBED_NOTES || self.notes.contains_key(&id) {
                    *self.notes.entry(id).or_default() += 1;
                }
            }
            ClientMessage::ReadNotification(_) => {
                if let Some(me) = self.me.clone() {
                    let core = self.core.clone();
                    tokio::spawn(async move {
                        if let Err(e) = notifications::read_all(&core, &me).await {
                            tracing::warn!(error = %e, "cannot mark notifications read");
                        }
                    });
                }
            }
            ClientMessage::Channel {} => {}
            ClientMessage::Unsubscribe { id } => {
                if let Some(n) = self.notes.get_mut(&id) {
                    *n -= 1;
                    if *n == 0 {
                        self.notes.remove(&id);
                    }
                }
            }
        }
    }

    /// Connects channel `name` as `id`; false if it cannot be (unknown, needs a signed-in
    /// viewer, too many channels, or a second `main`).
    async fn connect(&mut self, name: &str, id: &str, params: Option<Value>) -> bool {
        let signed_in = self.me.is_some();
        if self.channels.len() >= MAX_CHANNELS {
            return false;
        }
        let params = params.unwrap_or(Value::Null);
        let timeline = |t: Timeline| {
            let p: TimelineParams = serde_json::from_value(params.clone()).unwrap_or_default();
            let filter = NoteFilter {
                with_renotes: p.with_renotes.unwrap_or(true),
                // The home timeline's own rule decides which replies it shows.
                with_replies: matches!(t, Timeline::Home) || p.with_replies.unwrap_or(false),
                only_with_files: p.with_files.unwrap_or(false),
                ..NoteFilter::default()
            };
            Channel::Timeline(t, filter)
        };
        let channel = match name {
            "main" if signed_in => {
                if self.main.is_some() {
                    return false;
                }
                self.main = Some(id.to_owned());
                return true;
            }
            "homeTimeline" if signed_in => timeline(Timeline::Home),
            "hybridTimeline" if signed_in => timeline(Timeline::Hybrid),
            "localTimeline" => timeline(Timeline::Local),
            "globalTimeline" => timeline(Timeline::Global),
            "drive" if signed_in => Channel::Drive,
            "userList" => {
                // Only the owner's own lists, as in Misskey; anything else connects nothing.
                let (Some(me), Ok(p)) = (&self.me, serde_json::from_value::<ListParams>(params))
                else {
                    return false;
                };
                let Ok(source) = user_lists::source(&self.core, me, &p.list_id).await else {
                    return false;
                };
                Channel::List {
                    list_id: p.list_id,
                    source,
                    filter: NoteFilter {
                        with_renotes: p.with_renotes,
                        only_with_files: p.with_files,
                        ..NoteFilter::default()
                    },
                }
            }
            "hashtag" => {
                let p: HashtagParams = serde_json::from_value(params).unwrap_or_default();
                Channel::Hashtag(
                    p.q.into_iter()
                        .map(|group| group.iter().map(|t| normalize_hashtag(t)).collect())
                        .filter(|group: &Vec<String>| !group.is_empty())
                        .collect(),
                )
            }
            _ => return false,
        };
        self.channels.insert(id.to_owned(), channel);
        true
    }

    async fn on_prepared(&mut self, p: &Prepared) {
        match p {
            Prepared::Note(note) => self.on_note(note).await,
            Prepared::NoteUpdated { note_id, message } => {
                if self.notes.contains_key(note_id) {
                    self.out.push(message.to_string());
                }
            }
            Prepared::Other(event) => self.on_event(event).await,
        }
    }

    async fn on_note(&mut self, p: &PreparedNote) {
        let viewer = self.viewer.as_ref();
        let note = &p.note;
        let mut sends: Vec<(&str, &'static str)> = Vec::new();
        for (id, channel) in &self.channels {
            let shown = match channel {
                Channel::Timeline(t, filter) => timeline_shows(*t, filter, p, viewer),
                Channel::Hashtag(q) => {
                    q.iter()
                        .any(|group| group.iter().all(|t| note.note.tags.contains(t)))
                        && note.visible_to(viewer)
                }
                Channel::List { source, filter, .. } => note.listed(source, filter, viewer),
                Channel::Drive => false,
            };
            if shown {
                sends.push((id, "note"));
            }
        }
        if let (Some(main), Some(v)) = (&self.main, viewer)
            && note.note.user_id != v.id()
        {
            let me = v.id();
            let n = &note.note;
            let kind = if n.reply_user_id.as_deref() == Some(me) {
                Some("reply")
            } else if n.is_pure_renote() && n.renote_user_id.as_deref() == Some(me) {
                Some("renote")
            } else if n.mentions.iter().any(|m| m == me) {
                Some("mention")
            } else {
                None
            };
            if let Some(kind) = kind.filter(|_| note.visible_to(viewer)) {
                sends.push((main, kind));
            }
        }
        if sends.is_empty() {
            return;
        }
        let body = match &p.packed {
            Some(packed) => packed.clone(),
            None => match pack_note(&self.core, note, viewer.map(Viewer::id)).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot pack a streamed note");
                    return;
                }
            },
        };
        let messages: Vec<String> = sends
            .into_iter()
            .map(|(id, kind)| channel_message(id, kind, &body))
            .collect();
        self.out.extend(messages);
    }

    /// Relation and account events: the viewer's relations are read again when they
    /// change, and `main` tells the client.
    async fn on_event(&mut self, event: &Event) {
        // Every connection hears every event: most are about someone else, and cost it
        // nothing more than this check.
        let Some(me) = self
            .me
            .as_ref()
            .filter(|u| event.names(&u.id))
            .map(|u| u.id.clone())
        else {
            return;
        };
        if event
            .relation_parties()
            .is_some_and(|parties| parties.contains(&me.as_str()))
        {
            match Viewer::load(&self.core, &me).await {
                Ok(v) => self.viewer = Some(v),
                Err(e) => tracing::warn!(error = %e, "cannot reload a stream's relations"),
            }
            // A block takes the blocker out of the blockee's lists.
            self.reload_lists(None).await;
        }
        if let Event::UserListChanged {
            list_id,
            user_id,
            change,
            ..
        } = event
        {
            self.on_list_changed(list_id, user_id.as_deref(), *change)
                .await;
            return;
        }
        if let Some((kind, body)) = self.drive_message(event).await {
            for (id, channel) in &self.channels {
                if matches!(channel, Channel::Drive) {
                    self.out.push(channel_message(id, kind, &body));
                }
            }
        }
        let Some(main) = self.main.clone() else {
            return;
        };
        let settings = self.core.settings().clone();
        let (kind, body) = match event {
            Event::Followed {
                follower_id,
                followee_id,
            } if *follower_id == me => {
                let Some(u) = self.user(followee_id).await else {
                    return;
                };
                ("follow", to_json(&UserDetailed::pack(&u, None, &settings)))
            }
            Event::Followed {
                follower_id,
                followee_id,
            } if *followee_id == me => {
                let Some(u) = self.user(follower_id).await else {
                    return;
                };
                ("followed", to_json(&UserLite::of_user(&u, &settings)))
            }
            Event::Unfollowed {
                follower_id,
                followee_id,
            } if *follower_id == me => {
                let Some(u) = self.user(followee_id).await else {
                    return;
                };
                (
                    "unfollow",
                    to_json(&UserDetailed::pack(&u, None, &settings)),
                )
            }
            Event::FollowRequested {
                follower_id,
                followee_id,
            } if *followee_id == me => {
                let Some(u) = self.user(follower_id).await else {
                    return;
                };
                (
                    "receiveFollowRequest",
                    to_json(&UserLite::of_user(&u, &settings)),
                )
            }
            Event::MeUpdated { user_id } if *user_id == me => {
                let Some(u) = self.user(&me).await else {
                    return;
                };
                let state = accounts::me_state(&self.core, &u).await.unwrap_or_default();
                (
                    "meUpdated",
                    to_json(&MeDetailed::pack(&u, &state, &settings)),
                )
            }
            Event::Notified {
                notifiee_id,
                notification_id,
            } if *notifiee_id == me => {
                let Some(user) = &self.me else { return };
                let page = match notifications::one(&self.core, user, notification_id).await {
                    Ok(Some(page)) => page,
                    Ok(None) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot stream a notification");
                        return;
                    }
                };
                let Some(n) = page.items.first() else { return };
                let body = to_json(&Notification::pack(n, &page, &settings));
                // Misskey tells a client about a new notification twice: as it happens
                // (`notification`) and as unread (`unreadNotification`, which web clients
                // show as a badge and a toast).
                self.out.push(channel_message(&main, "notification", &body));
                ("unreadNotification", body)
            }
            Event::NotificationsRead { user_id } if *user_id == me => {
                ("readAllNotifications", "null".to_owned())
            }
            Event::RegistryUpdated {
                user_id,
                scope,
                key,
                value,
            } if *user_id == me => (
                "registryUpdated",
                // `value` is JSON already.
                format!(
                    r#"{{"scope":{},"key":{},"value":{value}}}"#,
                    to_json(scope),
                    to_json(key)
                ),
            ),
            Event::DriveFileCreated { user_id, file_id } if *user_id == me => {
                let Some(file) = self.drive_file(file_id).await else {
                    return;
                };
                (
                    "driveFileCreated",
                    to_json(&DriveFile::pack(&file).anonymous()),
                )
            }
            Event::UrlUploadFinished {
                user_id,
                file_id,
                marker,
            } if *user_id == me => {
                let Some(file) = self.drive_file(file_id).await else {
                    return;
                };
                (
                    "urlUploadFinished",
                    format!(
                        r#"{{"marker":{},"file":{}}}"#,
                        to_json(marker),
                        to_json(&DriveFile::pack(&file))
                    ),
                )
            }
            _ => return,
        };
        self.out.push(channel_message(&main, kind, &body));
    }

    /// What the `drive` channel says of `event` (about the viewer's drive), if anything:
    /// files and folders packed as their owner sees them, ids of those deleted.
    async fn drive_message(&self, event: &Event) -> Option<(&'static str, String)> {
        if !self.channels.values().any(|c| matches!(c, Channel::Drive)) {
            return None;
        }
        let folder = |id| async move {
            let me = self.me.as_ref()?;
            let f = drive::folder(&self.core, me, id).await.ok()?;
            Some(to_json(&DriveFolder::pack(&f)))
        };
        Some(match event {
            Event::DriveFileCreated { file_id, .. } => (
                "fileCreated",
                to_json(&DriveFile::pack(&self.drive_file(file_id).await?)),
            ),
            Event::DriveChanged { change, .. } => match change {
                DriveChange::FileUpdated { file_id } => (
                    "fileUpdated",
                    to_json(&DriveFile::pack(&self.drive_file(file_id).await?)),
                ),
                DriveChange::FileDeleted { file_id } => ("fileDeleted", to_json(file_id)),
                DriveChange::FolderCreated { folder_id } => {
                    ("folderCreated", folder(folder_id).await?)
                }
                DriveChange::FolderUpdated { folder_id } => {
                    ("folderUpdated", folder(folder_id).await?)
                }
                DriveChange::FolderDeleted { folder_id } => ("folderDeleted", to_json(folder_id)),
            },
            _ => return None,
        })
    }

    /// Reads the members of the viewer's connected lists again (only `list_id`'s, if given).
    /// A list that is gone shows nothing more.
    async fn reload_lists(&mut self, list_id: Option<&str>) {
        let Some(me) = &self.me else { return };
        for channel in self.channels.values_mut() {
            let Channel::List {
                list_id: id,
                source,
                ..
            } = channel
            else {
                continue;
            };
            if list_id.is_some_and(|l| l != id) {
                continue;
            }
            match user_lists::source(&self.core, me, id).await {
                Ok(s) => *source = s,
                Err(tsudoi_core::Error::NoSuchList) => {
                    *source = NoteSource::List {
                        owner_id: me.id.clone(),
                        members: Vec::new(),
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot reload a streamed list"),
            }
        }
    }

    /// A list of the viewer's changed: its channels read its members again and tell the
    /// client who was added or removed (Misskey's `userAdded`/`userRemoved`).
    async fn on_list_changed(&mut self, list_id: &str, user_id: Option<&str>, change: ListChange) {
        self.reload_lists(Some(list_id)).await;
        let kind = match change {
            ListChange::Added => "userAdded",
            ListChange::Removed => "userRemoved",
            ListChange::Updated | ListChange::Deleted => return,
        };
        let Some(user) = (match user_id {
            Some(id) => self.user(id).await,
            None => None,
        }) else {
            return;
        };
        let body = to_json(&UserLite::of_user(&user, self.core.settings()));
        for (id, channel) in &self.channels {
            if matches!(channel, Channel::List { list_id: l, .. } if l == list_id) {
                self.out.push(channel_message(id, kind, &body));
            }
        }
    }

    async fn drive_file(&self, id: &str) -> Option<drive::ShownFile> {
        let file = drive::by_ids(&self.core, &[id.to_owned()])
            .await
            .ok()?
            .pop()?;
        Some(drive::shown(&self.core, file))
    }

    async fn user(&self, id: &str) -> Option<User> {
        users::by_id(&self.core, id).await.ok()
    }
}

/// Whether timeline channel `t` shows the note to `viewer`, as its REST twin lists it.
fn timeline_shows(
    t: Timeline,
    filter: &NoteFilter,
    p: &PreparedNote,
    viewer: Option<&Viewer>,
) -> bool {
    let home = |v: &Viewer| NoteSource::Followed {
        user_id: v.id().to_owned(),
        following_version: 0,
    };
    match (t, viewer) {
        (Timeline::Home, Some(v)) => p.note.listed(&home(v), filter, viewer),
        (Timeline::Hybrid, Some(v)) => {
            p.note.listed(&home(v), filter, viewer)
                || (p.on_local && p.note.listed(&NoteSource::LocalPublic, filter, viewer))
        }
        (Timeline::Local, _) => {
            p.on_local && p.note.listed(&NoteSource::LocalPublic, filter, viewer)
        }
        (Timeline::Global, _) => {
            p.on_global && p.note.listed(&NoteSource::GlobalPublic, filter, viewer)
        }
        _ => false,
    }
}

/// `{type: 'channel', body: {id, type, body}}` with `body` already JSON.
fn channel_message(id: &str, kind: &str, body: &str) -> String {
    let id = serde_json::to_string(id).unwrap_or_default();
    format!(r#"{{"type":"channel","body":{{"id":{id},"type":"{kind}","body":{body}}}}}"#)
}

fn to_json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_notification_and_channel_messages_are_understood_with_or_without_a_body() {
        for text in [
            r#"{"type":"readNotification"}"#,
            r#"{"type":"readNotification","body":{"id":"x"}}"#,
        ] {
            assert!(
                matches!(
                    serde_json::from_str::<ClientMessage>(text),
                    Ok(ClientMessage::ReadNotification(_))
                ),
                "{text}"
            );
        }
        let ch = r#"{"type":"ch","body":{"id":"1","type":"x","body":{}}}"#;
        assert!(matches!(
            serde_json::from_str::<ClientMessage>(ch),
            Ok(ClientMessage::Channel {})
        ));
    }
}
