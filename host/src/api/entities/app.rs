//! Third-party apps and signing in: `App`, `AuthSession`, what `signin-flow` and MiAuth's
//! check answer.

use serde::Serialize;
use tsudoi_model::{App, AuthSession};

use super::UserDetailed;

/// What `app/create` answers: the app with its secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppCreated<'a> {
    id: &'a str,
    name: &'a str,
    callback_url: Option<&'a str>,
    permission: &'a [String],
    secret: &'a str,
}

impl<'a> AppCreated<'a> {
    pub fn pack(app: &'a App) -> Self {
        AppCreated {
            id: &app.id,
            name: &app.name,
            callback_url: app.callback_url.as_deref(),
            permission: &app.permission,
            secret: &app.secret,
        }
    }
}

/// What `auth/session/show` answers.
#[derive(Debug, Serialize)]
pub struct AuthSessionShown<'a> {
    id: &'a str,
    app: SessionApp<'a>,
    token: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionApp<'a> {
    id: &'a str,
    name: &'a str,
    callback_url: Option<&'a str>,
    permission: &'a [String],
    /// Only for a signed-in caller: whether they already authorised the app.
    #[serde(skip_serializing_if = "Option::is_none")]
    is_authorized: Option<bool>,
}

impl<'a> AuthSessionShown<'a> {
    pub fn pack(session: &'a AuthSession, app: &'a App, is_authorized: Option<bool>) -> Self {
        AuthSessionShown {
            id: &session.id,
            app: SessionApp {
                id: &app.id,
                name: &app.name,
                callback_url: app.callback_url.as_deref(),
                permission: &app.permission,
                is_authorized,
            },
            token: &session.token,
        }
    }
}

/// What `signin-flow` answers: the next step, or the account's token.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum SignedIn<'a> {
    Next {
        finished: bool,
        next: &'static str,
    },
    Done {
        finished: bool,
        id: &'a str,
        i: &'a str,
    },
}

/// What `miauth/{session}/check` answers: the token once the user granted it.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum MiauthChecked<'a> {
    Granted {
        ok: bool,
        token: &'a str,
        user: Box<UserDetailed<'a>>,
    },
    Pending {
        ok: bool,
    },
}
