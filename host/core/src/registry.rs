//! The registry (`i/registry/*`): settings clients keep on the server. Misskey's web client
//! keeps its preferences here and reads them at start-up.
//!
//! Each app's token has a registry of its own (Misskey keys it by the token's id, so one app
//! cannot read another's); the account's own token may name a `domain`, or use the
//! account's registry. Changes to the account's registry are told to its streams
//! (`registryUpdated`), so a second browser picks up a preference at once; an app's are not,
//! since every client of the account would hear them.

use std::collections::BTreeMap;

use tsudoi_model::{AppGrant, Event, RegistryItem, RegistryScope, User, ids};

use crate::{Core, Error, Result};

/// Longest scope part and key accepted (Misskey's columns hold 1024 characters).
const MAX_NAME: usize = 1024;

/// The registry a call reaches: an app's token reaches its own; the account's token the one
/// `domain` names (none: the account's).
pub fn scope(
    me: &User,
    app: Option<&AppGrant>,
    domain: Option<String>,
    scope: Vec<String>,
) -> Result<RegistryScope> {
    if let Some(bad) = scope.iter().find(|part| {
        part.is_empty()
            || part.len() > MAX_NAME
            || !part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    }) {
        return Err(Error::InvalidParam {
            param: "scope",
            reason: format!("`{bad}` is not a scope name (letters, digits and _)"),
        });
    }
    let domain = match app {
        Some(app) => Some(app.token_id.clone()),
        // Misskey treats an empty domain as none when writing.
        None => domain.filter(|d| !d.is_empty()),
    };
    Ok(RegistryScope {
        user_id: me.id.clone(),
        domain,
        scope,
    })
}

pub async fn all(core: &Core, s: &RegistryScope) -> Result<Vec<RegistryItem>> {
    Ok(core.store().registry_items(s).await?)
}

/// The item under `key`, if there is one.
pub async fn get(core: &Core, s: &RegistryScope, key: &str) -> Result<Option<RegistryItem>> {
    Ok(core.store().registry_item(s, key).await?)
}

/// Sets `key` to `value` (JSON text).
pub async fn set(core: &Core, s: &RegistryScope, key: &str, value: String) -> Result<()> {
    if key.is_empty() || key.len() > MAX_NAME {
        return Err(Error::InvalidParam {
            param: "key",
            reason: format!("must be 1 to {MAX_NAME} characters"),
        });
    }
    let now = ids::now_ms();
    core.store()
        .set_registry_item(s, &ids::aidx_at(now), key, &value, now)
        .await?;
    if s.domain.is_none() {
        core.publish(Event::RegistryUpdated {
            user_id: s.user_id.clone(),
            scope: s.scope.clone(),
            key: key.to_owned(),
            value,
        });
    }
    Ok(())
}

/// Removes `key` (nothing to remove is not an error, as on Misskey).
pub async fn remove(core: &Core, s: &RegistryScope, key: &str) -> Result<()> {
    core.store().remove_registry_item(s, key).await?;
    Ok(())
}

/// Every scope the account keeps something under, by domain (`None`: the account's own).
pub async fn scopes(core: &Core, me: &User) -> Result<Vec<(Option<String>, Vec<Vec<String>>)>> {
    let mut by_domain: BTreeMap<Option<String>, Vec<Vec<String>>> = BTreeMap::new();
    for (domain, scope) in core.store().registry_scopes(&me.id).await? {
        by_domain.entry(domain).or_default().push(scope);
    }
    Ok(by_domain.into_iter().collect())
}
