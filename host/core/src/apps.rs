//! Third-party apps: MiAuth and Misskey's legacy app authentication. Both end with an access
//! token that carries a set of permissions; the API checks each call against that set.

use sha2::{Digest, Sha256};
use tsudoi_model::{App, AuthSession, MiauthSession, User, ids};
use tsudoi_store::{NewAccessToken, StoreError};

use crate::{Core, Error, Result, random_token};

/// Every permission misskey-js knows. Requests for anything else are dropped.
pub const PERMISSIONS: &[&str] = &[
    "read:account",
    "write:account",
    "read:blocks",
    "write:blocks",
    "read:drive",
    "write:drive",
    "read:favorites",
    "write:favorites",
    "read:following",
    "write:following",
    "read:messaging",
    "write:messaging",
    "read:mutes",
    "write:mutes",
    "write:notes",
    "read:notifications",
    "write:notifications",
    "read:reactions",
    "write:reactions",
    "write:votes",
    "read:pages",
    "write:pages",
    "write:page-likes",
    "read:page-likes",
    "read:user-groups",
    "write:user-groups",
    "read:channels",
    "write:channels",
    "read:gallery",
    "write:gallery",
    "read:gallery-likes",
    "write:gallery-likes",
    "read:flash",
    "write:flash",
    "read:flash-likes",
    "write:flash-likes",
    "read:admin:abuse-user-reports",
    "write:admin:delete-account",
    "write:admin:delete-all-files-of-a-user",
    "read:admin:index-stats",
    "read:admin:table-stats",
    "read:admin:user-ips",
    "read:admin:meta",
    "write:admin:reset-password",
    "write:admin:resolve-abuse-user-report",
    "write:admin:send-email",
    "read:admin:server-info",
    "read:admin:show-moderation-log",
    "read:admin:show-user",
    "write:admin:suspend-user",
    "write:admin:unset-user-avatar",
    "write:admin:unset-user-banner",
    "write:admin:unsuspend-user",
    "write:admin:meta",
    "write:admin:user-note",
    "write:admin:roles",
    "read:admin:roles",
    "write:admin:relays",
    "read:admin:relays",
    "write:admin:invite-codes",
    "read:admin:invite-codes",
    "write:admin:announcements",
    "read:admin:announcements",
    "write:admin:avatar-decorations",
    "read:admin:avatar-decorations",
    "write:admin:federation",
    "write:admin:account",
    "read:admin:account",
    "write:admin:emoji",
    "read:admin:emoji",
    "write:admin:queue",
    "read:admin:queue",
    "write:admin:promo",
    "write:admin:drive",
    "read:admin:drive",
    "write:admin:ad",
    "read:admin:ad",
    "write:invite-codes",
    "read:invite-codes",
    "write:clip-favorite",
    "read:clip-favorite",
    "read:federation",
    "write:report-abuse",
    "write:chat",
    "read:chat",
];

/// Known permissions only, deduplicated; old names such as `account-read` become
/// `read:account` as Misskey rewrites them.
pub fn normalize_permissions<S: AsRef<str>>(requested: &[S]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in requested {
        let p = p.as_ref().trim();
        let p = match p.rsplit_once(['/', '-']) {
            Some((what, rw @ ("read" | "write"))) if !p.contains(':') => format!("{rw}:{what}"),
            _ => p.to_owned(),
        };
        if PERMISSIONS.contains(&p.as_str()) && !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// What a legacy app sends as its credential: sha256 of the access token and app secret.
pub fn legacy_token_hash(access_token: &str, app_secret: &str) -> String {
    hex::encode(Sha256::digest(format!("{access_token}{app_secret}")))
}

pub async fn create_app(
    core: &Core,
    owner: Option<&User>,
    name: &str,
    description: &str,
    permission: &[String],
    callback_url: Option<String>,
) -> Result<App> {
    let app = App {
        id: ids::aidx(),
        user_id: owner.map(|u| u.id.clone()),
        secret: random_token(32),
        name: name.to_owned(),
        description: description.to_owned(),
        permission: normalize_permissions(permission),
        callback_url,
        created_at: ids::now_ms(),
    };
    core.store().create_app(&app).await?;
    Ok(app)
}

/// Starts a legacy auth session; returns its token and the page the user must open.
pub async fn generate_session(core: &Core, app_secret: &str) -> Result<(String, String)> {
    let client = core
        .store()
        .app_by_secret(app_secret)
        .await?
        .ok_or(Error::NoSuchApp)?;
    let token = random_token(32);
    core.store()
        .create_auth_session(&AuthSession {
            id: ids::aidx(),
            token: token.clone(),
            app_id: client.id,
            user_id: None,
            created_at: ids::now_ms(),
        })
        .await?;
    let url = format!("{}/auth/{token}", core.settings().base_url());
    Ok((token, url))
}

pub async fn show_session(core: &Core, token: &str) -> Result<(AuthSession, App)> {
    let session = core
        .store()
        .auth_session_by_token(token)
        .await?
        .ok_or(Error::NoSuchSession)?;
    let client = core
        .store()
        .app_by_id(&session.app_id)
        .await?
        .ok_or(Error::NoSuchApp)?;
    Ok((session, client))
}

/// The user approves a legacy auth session: the app gets a token with the app's permissions.
pub async fn accept_session(core: &Core, me: &User, token: &str) -> Result<()> {
    let (session, client) = show_session(core, token).await?;
    let access = random_token(32);
    let hash = legacy_token_hash(&access, &client.secret);
    let id = ids::aidx();
    let result = core
        .store()
        .approve_auth_session(
            &session.id,
            &me.id,
            &NewAccessToken {
                id: &id,
                token: &access,
                hash: Some(&hash),
                user_id: &me.id,
                app_id: Some(&client.id),
                session: None,
                name: Some(&client.name),
                icon_url: None,
                permission: &client.permission,
                created_at: ids::now_ms(),
            },
        )
        .await;
    match result {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict(_)) => Err(Error::NoSuchSession),
        Err(e) => Err(e.into()),
    }
}

/// The app collects the access token of an approved session; the session ends.
pub async fn session_userkey(core: &Core, app_secret: &str, token: &str) -> Result<(String, User)> {
    let store = core.store();
    let client = store
        .app_by_secret(app_secret)
        .await?
        .ok_or(Error::NoSuchApp)?;
    let session = store
        .auth_session_by_token(token)
        .await?
        .filter(|s| s.app_id == client.id)
        .ok_or(Error::NoSuchSession)?;
    let user_id = session.user_id.clone().ok_or(Error::PendingSession)?;
    let access = store
        .access_token_for_app(&client.id, &user_id)
        .await?
        .ok_or(Error::PendingSession)?;
    let user = store.user_by_id(&user_id).await?.ok_or(Error::NoSuchUser)?;
    store.delete_auth_session(&session.id).await?;
    Ok((access, user))
}

/// What a MiAuth URL asks for, as the app put it in the query string.
#[derive(Debug, Default, Clone)]
pub struct MiauthRequest {
    pub name: Option<String>,
    pub icon: Option<String>,
    pub callback: Option<String>,
    pub permission: Vec<String>,
}

/// Whether `user` has already authorised `app` (an access token was issued to it).
pub async fn is_authorized(core: &Core, app: &App, user: &User) -> Result<bool> {
    Ok(core
        .store()
        .access_token_for_app(&app.id, &user.id)
        .await?
        .is_some())
}

/// Records (once) what a MiAuth session asks for, so the grant uses what the user saw.
pub async fn miauth_open(core: &Core, session: &str, req: &MiauthRequest) -> Result<MiauthSession> {
    if session.is_empty() || session.len() > 128 {
        return Err(Error::NoSuchSession);
    }
    core.store()
        .upsert_miauth_session(&MiauthSession {
            session: session.to_owned(),
            name: req.name.clone(),
            icon_url: req.icon.clone(),
            callback_url: req.callback.clone().filter(|c| safe_callback(c)),
            permission: normalize_permissions(&req.permission),
            user_id: None,
            token: None,
            created_at: ids::now_ms(),
        })
        .await?;
    core.store()
        .miauth_session(session)
        .await?
        .ok_or(Error::NoSuchSession)
}

/// A MiAuth session, as recorded when its page was opened.
pub async fn miauth_session(core: &Core, session: &str) -> Result<MiauthSession> {
    core.store()
        .miauth_session(session)
        .await?
        .ok_or(Error::NoSuchSession)
}

/// Only http(s) and app-specific schemes may be redirected to; never script or data URLs.
pub fn safe_callback(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    ![
        "javascript:",
        "file:",
        "data:",
        "mailto:",
        "tel:",
        "vbscript:",
    ]
    .iter()
    .any(|s| lower.starts_with(s))
        && url::Url::parse(url).is_ok()
}

/// The signed-in user grants a MiAuth session.
pub async fn miauth_grant(core: &Core, me: &User, session: &MiauthSession) -> Result<String> {
    let token = random_token(32);
    let id = ids::aidx();
    let result = core
        .store()
        .grant_miauth_session(&NewAccessToken {
            id: &id,
            token: &token,
            hash: None,
            user_id: &me.id,
            app_id: None,
            session: Some(&session.session),
            name: session.name.as_deref(),
            icon_url: session.icon_url.as_deref(),
            permission: &session.permission,
            created_at: ids::now_ms(),
        })
        .await;
    match result {
        Ok(()) => Ok(token),
        Err(StoreError::Conflict(_)) => Err(Error::NoSuchSession),
        Err(e) => Err(e.into()),
    }
}

/// The app collects a granted MiAuth token, once.
pub async fn miauth_check(core: &Core, session: &str) -> Result<Option<(String, User)>> {
    let store = core.store();
    let Some(row) = store.miauth_session(session).await? else {
        return Ok(None);
    };
    let (Some(token), Some(user_id)) = (row.token, row.user_id) else {
        return Ok(None);
    };
    let Some(user) = store.user_by_id(&user_id).await? else {
        return Ok(None);
    };
    if !store.delete_miauth_session(session).await? {
        return Ok(None);
    }
    Ok(Some((token, user)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_are_normalised() {
        assert_eq!(
            normalize_permissions(&[
                "account-read",
                "write:notes",
                "bogus",
                "write:notes",
                "notes/write"
            ]),
            vec!["read:account", "write:notes"]
        );
    }

    #[test]
    fn script_callbacks_are_refused() {
        assert!(safe_callback("https://app.example/cb"));
        assert!(safe_callback("myapp://callback"));
        assert!(!safe_callback("javascript:alert(1)"));
        assert!(!safe_callback("JavaScript:alert(1)"));
        assert!(!safe_callback("not a url"));
    }
}
