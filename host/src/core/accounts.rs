//! Accounts: sign-up, sign-in, profile updates.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use super::{Error, Result, ids, random_token};
use crate::app::App;
use crate::config::RegistrationMode;
use crate::store::{NewLocalUser, ProfilePatch, UserRow};

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
    app: &App,
    username: &str,
    password: &str,
    origin: Origin<'_>,
) -> Result<(UserRow, String)> {
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
            match app.config.registration {
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
    if app.store.user_by_username(username, None).await?.is_some() {
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
    match app.store.create_local_user(&new, code).await {
        Ok(user) => Ok((user, token)),
        Err(e) if e.is_unique_violation() => Err(Error::UsernameTaken),
        Err(crate::store::StoreError::Conflict(_)) => Err(Error::InvalidInvitationCode),
        Err(e) => Err(e.into()),
    }
}

/// Checks a local user's password; returns the user and their native token.
pub async fn sign_in(app: &App, username: &str, password: &str) -> Result<(UserRow, String)> {
    let user = app
        .store
        .user_by_username(username, None)
        .await?
        .ok_or(Error::SigninFailed)?;
    let (hash, token) = app
        .store
        .credentials(&user.id)
        .await?
        .ok_or(Error::SigninFailed)?;
    if user.is_suspended || !verify_password(password.to_owned(), hash).await {
        return Err(Error::SigninFailed);
    }
    Ok((user, token))
}

/// One profile field as `i/update` takes and `i` returns it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ProfileField {
    pub name: String,
    pub value: String,
}

/// Limits from Misskey's `i/update`.
pub const NAME_MAX: usize = 50;
pub const DESCRIPTION_MAX: usize = 1500;
pub const LOCATION_MAX: usize = 50;
pub const FIELDS_MAX: usize = 16;

/// What `i/update` asks to change, before validation.
#[derive(Debug, Default)]
pub struct ProfileUpdate {
    pub name: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub location: Option<Option<String>>,
    pub birthday: Option<Option<String>>,
    pub lang: Option<Option<String>>,
    pub fields: Option<Vec<ProfileField>>,
    pub is_locked: Option<bool>,
    pub is_bot: Option<bool>,
    pub is_cat: Option<bool>,
}

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
pub async fn update_profile(app: &App, user: &UserRow, up: ProfileUpdate) -> Result<UserRow> {
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
        let kept: Vec<ProfileField> = f
            .into_iter()
            .filter(|f| !f.name.trim().is_empty())
            .collect();
        crate::store::to_json(&kept)
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
    app.store
        .update_profile(&user.id, &patch, ids::now_ms())
        .await?;
    app.store
        .user_by_id(&user.id)
        .await?
        .ok_or(Error::NoSuchUser)
}
