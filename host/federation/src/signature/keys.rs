//! RSA keys as actors publish them (PEM in `publicKey.publicKeyPem`) and as we keep our own.

use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256, Sha512};

use super::Algorithm;

/// Smallest RSA key we accept. Older software published 1024-bit keys, and a forged note is
/// no worse for them than for anyone; smaller ones are refused.
const MIN_BITS: usize = 1024;

/// Why a key could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not an RSA public key in PEM: {0}")]
    Public(String),
    #[error("not an RSA private key in PKCS#8 PEM: {0}")]
    Private(String),
    #[error("cannot generate a key: {0}")]
    Generate(String),
    #[error("cannot sign: {0}")]
    Sign(String),
}

/// A public key that signatures are verified with.
///
/// Keys of 2048 bits and more (every current server's) are checked by `ring`, several times
/// faster than the `rsa` crate (an inbox's limit is how many signatures it checks a second);
/// `ring` refuses smaller keys, which the `rsa` crate checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: rsa::RsaPublicKey,
    /// PKCS#1 DER of the key, for `ring`, when it is large enough for it.
    ring_der: Option<Vec<u8>>,
}

impl PublicKey {
    /// Reads `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo, what Mastodon and Misskey
    /// publish) or `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1, what some older servers do).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let pem = pem.trim();
        let key = rsa::RsaPublicKey::from_public_key_pem(pem)
            .or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(pem))
            .map_err(|e| KeyError::Public(e.to_string()))?;
        Self::from_rsa(key)
    }

    fn from_rsa(key: rsa::RsaPublicKey) -> Result<Self, KeyError> {
        let bits = key.size() * 8;
        if bits < MIN_BITS {
            return Err(KeyError::Public(format!("a {bits}-bit key is too small")));
        }
        let ring_der = (2048..=8192)
            .contains(&bits)
            .then(|| {
                use rsa::pkcs1::EncodeRsaPublicKey;
                key.to_pkcs1_der().ok().map(|d| d.as_bytes().to_vec())
            })
            .flatten();
        Ok(Self { key, ring_der })
    }

    /// The key as `-----BEGIN PUBLIC KEY-----` PEM, for an actor's `publicKeyPem`.
    pub fn to_pem(&self) -> String {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_default()
    }

    pub(super) fn verify(&self, algorithm: Algorithm, signed: &[u8], signature: &[u8]) -> bool {
        if let Some(der) = &self.ring_der {
            let scheme: &'static ring::signature::RsaParameters = match algorithm {
                Algorithm::RsaSha256 => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                Algorithm::RsaPssSha512 => &ring::signature::RSA_PSS_2048_8192_SHA512,
            };
            return ring::signature::UnparsedPublicKey::new(scheme, der)
                .verify(signed, signature)
                .is_ok();
        }
        match algorithm {
            Algorithm::RsaSha256 => self
                .key
                .verify(
                    rsa::Pkcs1v15Sign::new::<Sha256>(),
                    &Sha256::digest(signed),
                    signature,
                )
                .is_ok(),
            Algorithm::RsaPssSha512 => self
                .key
                .verify(
                    rsa::Pss::new::<Sha512>(),
                    &Sha512::digest(signed),
                    signature,
                )
                .is_ok(),
        }
    }
}

/// A private key requests are signed with. Signing goes through `ring`, whose RSA is
/// constant-time (the `rsa` crate's is not: RUSTSEC-2023-0071).
pub struct PrivateKey {
    pair: ring::rsa::KeyPair,
    pem: String,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(..)")
    }
}

impl PrivateKey {
    /// Makes a new 2048-bit key, what every local actor gets: the size Mastodon and Misskey
    /// use, verified everywhere. Takes about a tenth of a second: call it off the async
    /// runtime.
    pub fn generate() -> Result<Self, KeyError> {
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        Self::from_pkcs8_pem(&pem)
    }

    /// Reads `-----BEGIN PRIVATE KEY-----` (PKCS#8), as [`PrivateKey::to_pem`] writes it.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let der = rsa::pkcs8::SecretDocument::from_pem(pem.trim())
            .map_err(|e| KeyError::Private(e.to_string()))?
            .1;
        let pair = ring::rsa::KeyPair::from_pkcs8(der.as_bytes())
            .map_err(|e| KeyError::Private(e.to_string()))?;
        Ok(Self {
            pair,
            pem: pem.trim().to_owned() + "\n",
        })
    }

    /// The key as PKCS#8 PEM, to store.
    pub fn to_pem(&self) -> &str {
        &self.pem
    }

    /// The public half, for the actor document.
    pub fn public_key(&self) -> Result<PublicKey, KeyError> {
        let der = self.pair.public().as_ref();
        rsa::RsaPublicKey::from_pkcs1_der(der)
            .map_err(|e| KeyError::Public(e.to_string()))
            .and_then(PublicKey::from_rsa)
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    pub(super) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut signature = vec![0; self.pair.public().modulus_len()];
        let rng = ring::rand::SystemRandom::new();
        self.pair
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &rng,
                message,
                &mut signature,
            )
            .map_err(|e| KeyError::Sign(e.to_string()))?;
        Ok(signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::test_keys::{CAVAGE_PUBLIC, rsa_test_key};

    #[test]
    fn keys_survive_their_pem_and_sign_what_their_public_half_verifies() {
        let key = rsa_test_key();
        let again = PrivateKey::from_pkcs8_pem(key.to_pem()).unwrap();
        let public = PublicKey::from_pem(&key.public_key().unwrap().to_pem()).unwrap();
        assert_eq!(public, again.public_key().unwrap());
        assert!(public.to_pem().starts_with("-----BEGIN PUBLIC KEY-----"));
        let signature = again.sign(b"message").unwrap();
        assert_eq!(signature.len(), 256, "2048 bits");
        assert!(public.verify(Algorithm::RsaSha256, b"message", &signature));
        assert!(!public.verify(Algorithm::RsaSha256, b"massage", &signature));
    }

    #[test]
    fn public_keys_are_read_in_both_pem_forms_and_garbage_is_refused() {
        let spki = PublicKey::from_pem(CAVAGE_PUBLIC).unwrap();
        let pkcs1 = {
            use rsa::pkcs1::EncodeRsaPublicKey;
            spki.key.to_pkcs1_pem(LineEnding::LF).unwrap()
        };
        assert_eq!(PublicKey::from_pem(&pkcs1).unwrap(), spki);
        for bad in [
            "",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "ssh-rsa AAAA",
        ] {
            assert!(PublicKey::from_pem(bad).is_err(), "{bad}");
        }
        assert!(PrivateKey::from_pkcs8_pem(CAVAGE_PUBLIC).is_err());
    }
}
