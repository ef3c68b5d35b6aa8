//! Misskey's registry: settings clients keep on the server, per account, app, scope and key.

/// One registry of an account: the account's own (`domain` `None`, what its own token uses)
/// or an app's (`domain` its access token's id), under a scope path such as
/// `["client", "base"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryScope {
    pub user_id: String,
    pub domain: Option<String>,
    pub scope: Vec<String>,
}

/// A key and its value, as JSON text (clients keep any JSON there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryItem {
    pub key: String,
    pub value: String,
    pub updated_at: i64,
}
