//! Accounts: sign-up, sign-in, the credentials clients present, profile updates.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tsudoi_model::{
    AppGrant, Event, FederationEvent, FollowSide, Job, ProfilePatch, RegistrationMode, User, ids,
};
use tsudoi_store::{NewLocalUser, StoreError};

use crate::{Core, Error, Result, random_token};

/// Names Misskey refuses at sign-up by default, so nobody can pose as staff or the system.
const RESERVED_USERNAMES: &[&str] = &[
    "admin",
    "administrator",
    "root",
    "system",
    "maintainer",
    "host",
    "mod",
    "moderator",
    "owner",
    "superuser",
    "staff",
    "auth",
    "i",
    "me",
    "everyone",
    "all",
    "mention",
    "mentions",
    "example",
    "user",
    "users",
    "account",
    "accounts",
    "official",
    "help",
    "helps",
    "support",
    "supports",
    "info",
    "information",
    "informations",
    "announce",
    "announces",
    "announcement",
    "announcements",
    "notice",
    "notification",
    "notifications",
    "dev",
    "developer",
    "developers",
    "tech",
    "misskey",
    "tsudoi",
];

/// Misskey's rule for local usernames: 1–20 of `[A-Za-z0-9_]`.
pub fn validate_username(username: &str) -> Result<()> {
    if username.is_empty() || username.len() > 20 {
        return Err(Error::InvalidUsername("must be 1 to 20 characters"));
    }
    if !username
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(Error::InvalidUsername(
            "only letters, digits and underscores are allowed",
        ));
    }
    Ok(())
}

async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// How an account comes to exist: through the API (subject to the registration mode and the
/// reserved names) or from the shell by the operator.
pub enum Origin<'a> {
    Api { invitation_code: Option<&'a str> },
    Shell { admin: bool },
}

/// Creates a local account; returns it with its native token.
pub async fn create_account(
    core: &Core,
    username: &str,
    password: &str,
    origin: Origin<'_>,
) -> Result<(User, String)> {
    validate_username(username)?;
    if password.is_empty() {
        return Err(Error::InvalidParam {
            param: "password",
            reason: "must not be empty".into(),
        });
    }
    let (code, is_admin) = match origin {
        Origin::Api { invitation_code } => {
            if RESERVED_USERNAMES.contains(&username.to_lowercase().as_str()) {
                return Err(Error::InvalidUsername("this name is reserved"));
            }
            match core.settings().registration {
                RegistrationMode::Open => (None, false),
                RegistrationMode::Closed => return Err(Error::RegistrationClosed),
                RegistrationMode::InviteOnly => match invitation_code {
                    Some(c) if !c.is_empty() => (Some(c), false),
                    _ => return Err(Error::InvalidInvitationCode),
                },
            }
        }
        Origin::Shell { admin } => (None, admin),
    };
    if core
        .store()
        .user_by_username(username, None)
        .await?
        .is_some()
    {
        return Err(Error::UsernameTaken);
    }
    let hash = hash_password(password.to_owned()).await?;
    let token = random_token(16);
    let now = ids::now_ms();
    let id = ids::aidx_at(now);
    let new = NewLocalUser {
        id: &id,
        username,
        password_hash: &hash,
        token: &token,
        is_admin,
        created_at: now,
    };
    match core.store().create_local_user(&new, code).await {
        Ok(user) => Ok((user, token)),
        Err(e) if e.is_unique_violation() => Err(Error::UsernameTaken),
        Err(StoreError::Conflict(_)) => Err(Error::InvalidInvitationCode),
        Err(e) => Err(e.into()),
    }
}

/// Failed sign-ins allowed per hour from one address before it must wait.
const SIGNIN_FAILURES_PER_HOUR: u32 = 10;

/// Checks a local user's password; returns the user and their native token. Failed attempts
/// are counted per `client` (the caller's address) and, past
/// [`SIGNIN_FAILURES_PER_HOUR`], refused before the password is checked. Only a wrong
/// username or password counts as a failure, never a fault of the server's.
pub async fn sign_in(
    core: &Core,
    username: &str,
    password: &str,
    client: &str,
) -> Result<(User, String)> {
    core.rate("signin-failure", client, SIGNIN_FAILURES_PER_HOUR, false)
        .await?;
    let outcome = check_password(core, username, password).await;
    if let Err(Error::SigninFailed) = outcome {
        // Charged after the failure; a full bucket only ever refuses the next attempt.
        let _ = core
            .rate("signin-failure", client, SIGNIN_FAILURES_PER_HOUR, true)
            .await;
    }
    outcome
}

async fn check_password(core: &Core, username: &str, password: &str) -> Result<(User, String)> {
    let user = core
        .store()
        .user_by_username(username, None)
        .await?
        .ok_or(Error::SigninFailed)?;
    let (hash, token) = core
        .store()
        .credentials(&user.id)
        .await?
        .ok_or(Error::SigninFailed)?;
    if user.is_suspended || !verify_password(password.to_owned(), hash).await {
        return Err(Error::SigninFailed);
    }
    Ok((user, token))
}

/// Who presented a credential, and what they may do with it.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    /// The app's token; `None` for the account's own (native) token, which carries every
    /// permission.
    pub app: Option<AppGrant>,
}

/// The account a token (native, app, or a legacy app's hash) belongs to; `None` if it
/// belongs to nobody.
pub async fn authenticate(core: &Core, token: &str) -> Result<Option<Session>> {
    Ok(core.store().token_owner(token).await?.map(|o| Session {
        user: o.user,
        app: o.app,
    }))
}

/// What a user's own view of their account shows beyond the account: whether a follow
/// request waits for them, and how many notifications they have not read.
#[derive(Debug, Clone, Default)]
pub struct MeState {
    pub has_pending_follow_request: bool,
    pub unread_notifications: i64,
    pub word_mutes: tsudoi_model::WordMutes,
    pub achievements: Vec<tsudoi_model::Achievement>,
}

pub async fn me_state(core: &Core, user: &User) -> Result<MeState> {
    let (has_pending_follow_request, unread_notifications, word_mutes, achievements) = tokio::try_join!(
        has_pending_follow_request(core, user),
        crate::notifications::unread(core, user),
        crate::word_mutes::get(core, &user.id),
        crate::achievements::of(core, &user.id)
    )?;
    Ok(MeState {
        has_pending_follow_request,
        unread_notifications,
        word_mutes,
        achievements,
    })
}

/// Whether someone's request to follow `user` waits for their answer.
async fn has_pending_follow_request(core: &Core, user: &User) -> Result<bool> {
    Ok(!core
        .store()
        .follow_requests_page(&user.id, FollowSide::Followers, None, None, 1)
        .await?
        .is_empty())
}

/// Limits from Misskey's `i/update`.
pub const NAME_MAX: usize = 50;
pub const DESCRIPTION_MAX: usize = 1500;
pub const LOCATION_MAX: usize = 50;
pub const FIELDS_MAX: usize = 16;

fn check_len(param: &'static str, v: &Option<Option<String>>, max: usize) -> Result<()> {
    if let Some(Some(s)) = v
        && s.chars().count() > max
    {
        return Err(Error::InvalidParam {
            param,
            reason: format!("must be at most {max} characters"),
        });
    }
    Ok(())
}

/// Validates and applies a profile update; returns the updated user.
pub async fn update_profile(core: &Core, user: &User, up: ProfilePatch) -> Result<User> {
    check_len("name", &up.name, NAME_MAX)?;
    check_len("description", &up.description, DESCRIPTION_MAX)?;
    check_len("location", &up.location, LOCATION_MAX)?;
    if let Some(Some(b)) = &up.birthday
        && chrono::NaiveDate::parse_from_str(b, "%Y-%m-%d").is_err()
    {
        return Err(Error::InvalidParam {
            param: "birthday",
            reason: "must be a date as YYYY-MM-DD".into(),
        });
    }
    if let Some(Some(l)) = &up.lang
        && (l.is_empty()
            || l.len() > 16
            || !l
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        return Err(Error::InvalidParam {
            param: "lang",
            reason: "must be a language tag such as ja-JP".into(),
        });
    }
    if let Some(fields) = &up.fields
        && fields.len() > FIELDS_MAX
    {
        return Err(Error::InvalidParam {
            param: "fields",
            reason: format!("at most {FIELDS_MAX} fields"),
        });
    }
    // Misskey drops fields with an empty name.
    let fields = up.fields.map(|f| {
        f.into_iter()
            .filter(|f| !f.name.trim().is_empty())
            .collect::<Vec<_>>()
    });
    let blank_to_none = |v: Option<Option<String>>| v.map(|s| s.filter(|s| !s.trim().is_empty()));
    let patch = ProfilePatch {
        name: blank_to_none(up.name),
        description: blank_to_none(up.description),
        location: blank_to_none(up.location),
        birthday: blank_to_none(up.birthday),
        lang: blank_to_none(up.lang),
        fields,
        is_locked: up.is_locked,
        is_bot: up.is_bot,
        is_cat: up.is_cat,
    };
    // Servers whose users follow this one keep a copy of the profile: they get an Update.
    let update = (user.remote_followers_count > 0).then(|| {
        Job::federate(FederationEvent::ProfileUpdated {
            user_id: user.id.clone(),
        })
    });
    core.store()
        .update_profile(&user.id, &patch, ids::now_ms(), update.as_slice())
        .await?;
    core.authors().forget(&user.id);
    let updated = core
        .store()
        .user_by_id(&user.id)
        .await?
        .ok_or(Error::NoSuchUser)?;
    core.publish(Event::MeUpdated {
        user_id: user.id.clone(),
    });
    Ok(updated)
}
