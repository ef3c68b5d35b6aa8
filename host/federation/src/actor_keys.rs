//! The key pair each local actor signs with, made the first time the actor federates (not
//! at sign-up: a key takes a tenth of a second of CPU, and most accounts of a small server
//! never need one before their first follower from elsewhere).

use tsudoi_model::ActorKey;
use tsudoi_store::{Store, StoreError};

use crate::signature::{KeyError, PrivateKey, PublicKey};

#[derive(Debug, thiserror::Error)]
pub enum ActorKeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("key generation was cancelled: {0}")]
    Cancelled(String),
}

/// `user_id`'s key pair, made and stored if it has none yet. Concurrent callers (requests
/// or servers) all get the one stored first.
pub async fn actor_key(store: &Store, user_id: &str) -> Result<ActorKey, ActorKeyError> {
    if let Some(key) = store.actor_key(user_id).await? {
        return Ok(key);
    }
    let made = tokio::task::spawn_blocking(|| -> Result<ActorKey, KeyError> {
        let key = PrivateKey::generate()?;
        Ok(ActorKey {
            public_key_pem: key.public_key()?.to_pem(),
            private_key_pem: key.to_pem().to_owned(),
        })
    })
    .await
    .map_err(|e| ActorKeyError::Cancelled(e.to_string()))??;
    Ok(store
        .keep_actor_key(user_id, &made, tsudoi_model::ids::now_ms())
        .await?)
}

/// The private half of `user_id`'s key, ready to sign with.
pub async fn signing_key(store: &Store, user_id: &str) -> Result<PrivateKey, ActorKeyError> {
    let key = actor_key(store, user_id).await?;
    Ok(PrivateKey::from_pkcs8_pem(&key.private_key_pem)?)
}

/// The public half of `user_id`'s key, as its actor document publishes it.
pub async fn public_key(store: &Store, user_id: &str) -> Result<PublicKey, ActorKeyError> {
    let key = actor_key(store, user_id).await?;
    Ok(PublicKey::from_pem(&key.public_key_pem)?)
}
