//! The body's digest, which the signature covers in place of the body: `Digest` (RFC 3230,
//! with draft-cavage) and `Content-Digest` (RFC 9530, with RFC 9421). A digest that the
//! body does not match is the forgery Misskey once let through (CVE-2023-49079).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256, Sha512};

use super::VerifyError;

/// `SHA-256=…` of `body`, for the `Digest` header of a request we sign.
pub(super) fn digest_header(body: &[u8]) -> String {
    format!("SHA-256={}", STANDARD.encode(Sha256::digest(body)))
}

/// The hash of `body` by a digest algorithm's name, if it is one we compute.
fn hash(algorithm: &str, body: &[u8]) -> Option<Vec<u8>> {
    match algorithm.to_ascii_lowercase().as_str() {
        "sha-256" => Some(Sha256::digest(body).to_vec()),
        "sha-512" => Some(Sha512::digest(body).to_vec()),
        _ => None,
    }
}

/// The rule both headers follow: every entry whose algorithm we compute must match the body
/// (its value decoded only then), and there must be one. `what` names the header in errors.
fn check_entries<'a, V>(
    entries: impl IntoIterator<Item = Result<(&'a str, V), VerifyError>>,
    body: &[u8],
    what: &str,
) -> Result<(), VerifyError>
where
    V: FnOnce() -> Result<Vec<u8>, VerifyError>,
{
    let mut checked = false;
    for entry in entries {
        let (algorithm, value) = entry?;
        let Some(expected) = hash(algorithm, body) else {
            continue;
        };
        if value()? != expected {
            return Err(VerifyError::DigestMismatch);
        }
        checked = true;
    }
    if checked {
        Ok(())
    } else {
        Err(VerifyError::Malformed(format!(
            "no SHA-256 or SHA-512 {what}"
        )))
    }
}

/// Checks a `Digest` header (`SHA-256=base64[, other=…]`).
pub(super) fn check_digest(header: &str, body: &[u8]) -> Result<(), VerifyError> {
    let entries = header.split(',').map(|entry| {
        let (algorithm, value) = entry
            .trim()
            .split_once('=')
            .ok_or_else(|| VerifyError::Malformed("a Digest entry without `=`".into()))?;
        Ok((algorithm, move || {
            STANDARD
                .decode(value.trim())
                .map_err(|_| VerifyError::Malformed("a Digest value is not base64".into()))
        }))
    });
    check_entries(entries, body, "Digest")
}

/// Checks a `Content-Digest` header (`sha-256=:base64:`).
pub(super) fn check_content_digest(header: &str, body: &[u8]) -> Result<(), VerifyError> {
    let dictionary: sfv::Dictionary = sfv::Parser::new(header)
        .parse()
        .map_err(|e| VerifyError::Malformed(format!("Content-Digest: {e}")))?;
    let entries = dictionary.iter().map(|(algorithm, member)| {
        Ok((algorithm.as_str(), move || match member {
            sfv::ListEntry::Item(item) => item
                .bare_item
                .as_byte_sequence()
                .map(<[u8]>::to_vec)
                .ok_or_else(|| {
                    VerifyError::Malformed("a Content-Digest value is not a byte sequence".into())
                }),
            sfv::ListEntry::InnerList(_) => Err(VerifyError::Malformed(
                "a Content-Digest member is a list".into(),
            )),
        }))
    });
    check_entries(entries, body, "Content-Digest")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"hello": "world"}"#;

    #[test]
    fn digests_of_the_specifications_examples_match() {
        // draft-cavage Appendix C and RFC 9421 Appendix B.2's request body.
        assert_eq!(
            digest_header(BODY),
            "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
        );
        check_digest("SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", BODY).unwrap();
        check_content_digest(
            "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
            BODY,
        )
        .unwrap();
    }

    #[test]
    fn a_changed_body_or_an_unknown_algorithm_is_refused() {
        let tampered = br#"{"hello": "World"}"#;
        assert_eq!(
            check_digest(&digest_header(BODY), tampered),
            Err(VerifyError::DigestMismatch)
        );
        assert!(matches!(
            check_digest("MD5=abc", BODY),
            Err(VerifyError::Malformed(_))
        ));
        assert!(matches!(
            check_content_digest("md5=:AAAA:", BODY),
            Err(VerifyError::Malformed(_))
        ));
        let good = STANDARD.encode(Sha256::digest(BODY));
        assert_eq!(
            check_content_digest(&format!("sha-256=:{good}:"), tampered),
            Err(VerifyError::DigestMismatch)
        );
    }
}
