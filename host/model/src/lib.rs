//! Tsudoi's vocabulary, shared by every layer of the host: ids, who may see a note, and the
//! records the store returns and the core, the API and the plugin host pass around. Plain
//! data with serde and no I/O, so depending on it costs nothing and rebuilds nothing.

pub mod achievement;
pub mod drive;
pub mod event;
pub mod ids;
pub mod job;
pub mod listing;
pub mod note;
pub mod notification;
pub mod plugin;
pub mod policy;
pub mod reaction;
pub mod registry;
pub mod user;
pub mod user_list;
pub mod visibility;
pub mod word_mute;

pub use achievement::{ACHIEVEMENTS, Achievement};
pub use drive::{DriveFile, DriveFilePatch, DriveFolder, type_admitted};
pub use event::{DriveChange, Event, ListChange};
pub use job::{ClaimedJob, FederationEvent, Job, JobQueue, ReactionEvent};
pub use listing::{
    Exclusions, FollowSide, HostScope, Listing, NoteFilter, NoteSearch, NoteSource, Page, may_list,
};
pub use note::{ChoiceTally, Note, Poll, is_pure_renote};
pub use notification::{Notification, NotificationKind};
pub use plugin::{
    Capability, Deadlines, FailurePolicy, Flag, InstalledPlugin, KvKey, KvRefusal, Notice,
    NoticeKind, PluginKind, PluginSummary, RankedTimeline, kv_exceeds_quota, kv_next_count,
};
pub use policy::{HostPolicy, HostPolicyKind};
pub use reaction::{Emoji, EmojiImage, EmojiPatch, Reaction, ReactionAcceptance};
pub use registry::{RegistryItem, RegistryScope};
pub use user::{
    ActorKey, App, AppGrant, AuthSession, Author, Block, Follow, MiauthSession, MuteKind, Muting,
    ProfileField, ProfilePatch, RegistrationMode, Relation, RemoteActor, RemoteProfile, Severed,
    User,
};
pub use user_list::{ListMember, ListMembership, MemberAdded, UserList};
pub use visibility::{NoteAudience, Visibility, may_see};
pub use word_mute::{MuteWord, WordMutes};

/// A value stored or received as text that is not one of the names a type knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    pub what: &'static str,
    pub name: String,
}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` is not a {}", self.name, self.what)
    }
}

impl std::error::Error for UnknownName {}

/// Implements `as_str`, `FromStr` (with [`UnknownName`]) and `Display` for a fieldless enum
/// from one table of names, so a name is written once.
macro_rules! named_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    _ => Err($crate::UnknownName { what: $what, name: s.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use named_enum;
