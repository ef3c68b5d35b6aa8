//! RFC 9421 HTTP Message Signatures, as Fedify (and Mastodon from 4.5) send them:
//! `Signature-Input: sig1=("@method" "@target-uri" …);created=…;keyid="…"` and
//! `Signature: sig1=:base64:`. We verify; we sign with draft-cavage, which everyone reads.

use std::time::SystemTime;

use super::digest::check_content_digest;
use super::{
    Algorithm, PendingSignature, Policy, Request, Scheme, VerifyError, header_text, unix_seconds,
};

fn malformed(why: impl Into<String>) -> VerifyError {
    VerifyError::Malformed(why.into())
}

fn dictionary(request: &Request<'_>, name: &str) -> Result<sfv::Dictionary, VerifyError> {
    let text = header_text(request.headers, name)?.ok_or(VerifyError::Unsigned)?;
    sfv::Parser::new(&text)
        .parse()
        .map_err(|e| malformed(format!("{name}: {e}")))
}

/// The value of one covered component of `request`, as the signature base states it.
fn component(request: &Request<'_>, policy: &Policy, name: &str) -> Result<String, VerifyError> {
    let (path, query) = match request.path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (request.path_and_query, None),
    };
    Ok(match name {
        "@method" => request.method.as_str().to_owned(),
        // The URI the client used is the one we are reached at: our configured origin, never
        // a Host header the client chose.
        "@target-uri" => format!(
            "{}{}",
            policy.origin.origin().ascii_serialization(),
            request.path_and_query
        ),
        "@authority" => policy.authority().to_ascii_lowercase(),
        "@scheme" => policy.origin.scheme().to_owned(),
        "@request-target" => request.path_and_query.to_owned(),
        "@path" if path.is_empty() => "/".to_owned(),
        "@path" => path.to_owned(),
        "@query" => format!("?{}", query.unwrap_or_default()),
        derived if derived.starts_with('@') => {
            return Err(malformed(format!("unsupported component {derived}")));
        }
        field => header_text(request.headers, field)?
            .ok_or_else(|| VerifyError::MissingHeader(field.to_owned()))?,
    })
}

/// The signature base (RFC 9421 §2.5) of `covered`, the signature's inner list with its
/// parameters, for `request`: one line per component, then `@signature-params`.
fn signature_base(
    request: &Request<'_>,
    policy: &Policy,
    covered: &sfv::InnerList,
) -> Result<String, VerifyError> {
    let mut base = String::new();
    let mut seen = Vec::with_capacity(covered.items.len());
    for item in &covered.items {
        let name = item
            .bare_item
            .as_string()
            .ok_or_else(|| malformed("a covered component is not a string"))?
            .as_str();
        // `;sf`, `;key`, `;bs`, `;req`, `;name` change what a component means; no fediverse
        // signer uses them, and guessing would verify something else than was signed.
        if !item.params.is_empty() {
            return Err(malformed(format!("component parameters on {name}")));
        }
        if name.bytes().any(|b| b.is_ascii_uppercase()) || seen.contains(&name) {
            return Err(malformed(format!(
                "the component {name} is invalid or repeated"
            )));
        }
        seen.push(name);
        let value = component(request, policy, name)?;
        base.push_str(&format!("\"{name}\": {value}\n"));
    }
    let mut serializer = sfv::ListSerializer::new();
    serializer.members([&sfv::ListEntry::InnerList(covered.clone())]);
    let params = serializer
        .finish()
        .ok_or_else(|| malformed("empty signature parameters"))?;
    base.push_str(&format!("\"@signature-params\": {params}"));
    Ok(base)
}

/// The names of the components a signature covers.
fn covered_names(covered: &sfv::InnerList) -> Vec<&str> {
    covered
        .items
        .iter()
        .filter_map(|i| i.bare_item.as_string().map(|s| s.as_str()))
        .collect()
}

pub(super) fn inspect(
    request: &Request<'_>,
    policy: &Policy,
) -> Result<PendingSignature, VerifyError> {
    let inputs = dictionary(request, "signature-input")?;
    let signatures = dictionary(request, "signature")?;
    // The first signature that is both described and given (Fedify sends one, `sig1`).
    let (label, covered) = inputs
        .iter()
        .find(|(label, _)| signatures.contains_key(*label))
        .ok_or_else(|| malformed("no Signature matches a Signature-Input label"))?;
    let sfv::ListEntry::InnerList(covered) = covered else {
        return Err(malformed("a Signature-Input member is not an inner list"));
    };
    let signature = match &signatures[label] {
        sfv::ListEntry::Item(item) => item
            .bare_item
            .as_byte_sequence()
            .ok_or_else(|| malformed("the signature is not a byte sequence"))?
            .to_vec(),
        sfv::ListEntry::InnerList(_) => return Err(malformed("the signature is a list")),
    };
    let param = |name: &str| {
        covered
            .params
            .iter()
            .find(|(key, _)| key.as_str() == name)
            .map(|(_, value)| value)
    };
    let key_id = param("keyid")
        .and_then(|k| k.as_string())
        .ok_or_else(|| malformed("no keyid"))?
        .as_str()
        .to_owned();
    let algorithm = match param("alg") {
        None => Algorithm::RsaSha256,
        Some(alg) => match alg.as_string().map(|s| s.as_str()) {
            Some("rsa-v1_5-sha256") => Algorithm::RsaSha256,
            Some("rsa-pss-sha512") => Algorithm::RsaPssSha512,
            other => {
                return Err(VerifyError::UnsupportedAlgorithm(
                    other.unwrap_or("(not a string)").to_owned(),
                ));
            }
        },
    };
    let at = |name: &str| -> Result<Option<SystemTime>, VerifyError> {
        param(name)
            .map(|v| {
                let seconds = v
                    .as_integer()
                    .and_then(|n| u64::try_from(i64::from(n)).ok())
                    .ok_or_else(|| malformed(format!("{name} is not a time")))?;
                Ok(unix_seconds(seconds))
            })
            .transpose()
    };
    let created = at("created")?.ok_or(VerifyError::NotCovered("created"))?;
    policy.check_time(created)?;
    if let Some(expires) = at("expires")?
        && expires < policy.now
    {
        return Err(VerifyError::Expired);
    }

    let names = covered_names(covered);
    let covers = |name: &str| names.contains(&name);
    if !covers("@method") {
        return Err(VerifyError::NotCovered("@method"));
    }
    // The target: the whole URI, or its authority and path (a replay to another host or
    // path changes either).
    let target = covers("@target-uri")
        || (covers("@authority") && (covers("@request-target") || covers("@path")));
    if !target {
        return Err(VerifyError::NotCovered("@target-uri"));
    }
    if request.has_body() {
        if !covers("content-digest") {
            return Err(VerifyError::NotCovered("content-digest"));
        }
        let digest = header_text(request.headers, "content-digest")?
            .ok_or_else(|| VerifyError::MissingHeader("content-digest".into()))?;
        check_content_digest(&digest, request.body)?;
    }
    let signed = signature_base(request, policy, covered)?.into_bytes();
    Ok(PendingSignature {
        key_id,
        scheme: Scheme::Rfc9421,
        algorithm,
        signed,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use http::{HeaderMap, HeaderValue, Method};
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::signature::test_keys::{RFC9421_RSA_PSS_PUBLIC, rsa_test_key};
    use crate::signature::{PublicKey, authority, inspect as inspect_any};

    const BODY: &[u8] = br#"{"hello": "world"}"#;

    fn policy_at(origin: &str, unix: u64) -> Policy {
        Policy {
            origin: url::Url::parse(origin).unwrap(),
            now: unix_seconds(unix),
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn appendix_b_2_1_base_is_rebuilt_and_its_rsa_pss_signature_verifies() {
        let input = r#"sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd""#;
        let signature = "d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==";
        let map = headers(&[("signature-input", input)]);
        let request = Request {
            method: &Method::POST,
            path_and_query: "/foo?param=Value&Pet=dog",
            headers: &map,
            body: BODY,
        };
        let policy = policy_at("https://example.com", 1_618_884_473);
        let inputs = dictionary(&request, "signature-input").unwrap();
        let sfv::ListEntry::InnerList(covered) = &inputs["sig-b21"] else {
            panic!("an inner list")
        };
        let base = signature_base(&request, &policy, covered).unwrap();
        assert_eq!(
            base,
            r#""@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd""#
        );
        let key = PublicKey::from_pem(RFC9421_RSA_PSS_PUBLIC).unwrap();
        let signature = STANDARD.decode(signature).unwrap();
        assert!(key.verify(Algorithm::RsaPssSha512, base.as_bytes(), &signature));
        assert!(!key.verify(Algorithm::RsaSha256, base.as_bytes(), &signature));
        // Covering nothing binds nothing: as a request, it is refused before any key.
        let map = headers(&[
            ("signature-input", input),
            (
                "signature",
                &format!("sig-b21=:{}:", STANDARD.encode(&signature)),
            ),
        ]);
        let request = Request {
            headers: &map,
            ..request
        };
        assert_eq!(
            inspect_any(&request, &policy).unwrap_err(),
            VerifyError::NotCovered("@method")
        );
    }

    /// A POST to `path` of `origin` signed as Fedify signs: method, target URI, authority,
    /// host, date and content digest, `rsa-v1_5-sha256`, created at `created`.
    fn fedify_like(origin: &str, path: &str, body: &[u8], created: u64) -> HeaderMap {
        let url = url::Url::parse(origin).unwrap();
        let authority = authority(&url);
        let digest = format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)));
        let params = format!(
            r#"("@method" "@target-uri" "@authority" "host" "date" "content-digest");alg="rsa-v1_5-sha256";keyid="https://fedify.example/users/f#main-key";created={created}"#
        );
        let date = httpdate::fmt_http_date(unix_seconds(created));
        let base = format!(
            "\"@method\": POST\n\"@target-uri\": {}{path}\n\"@authority\": {authority}\n\"host\": {authority}\n\"date\": {date}\n\"content-digest\": {digest}\n\"@signature-params\": {params}",
            url.origin().ascii_serialization()
        );
        let signature = STANDARD.encode(rsa_test_key().sign(base.as_bytes()).unwrap());
        headers(&[
            ("host", &authority),
            ("date", &date),
            ("content-digest", &digest),
            ("signature-input", &format!("sig1={params}")),
            ("signature", &format!("sig1=:{signature}:")),
        ])
    }

    #[test]
    fn a_fedify_style_signature_verifies_and_tampering_is_refused() {
        let t = 1_700_000_000;
        let origin = "http://127.0.0.1:3000";
        let map = fedify_like(origin, "/inbox", BODY, t);
        let request = Request {
            method: &Method::POST,
            path_and_query: "/inbox",
            headers: &map,
            body: BODY,
        };
        let key = rsa_test_key().public_key().unwrap();
        let pending = inspect_any(&request, &policy_at(origin, t)).unwrap();
        assert_eq!(pending.scheme, Scheme::Rfc9421);
        assert_eq!(pending.key_id, "https://fedify.example/users/f#main-key");
        pending.verify(&key).unwrap();

        let tampered = Request {
            body: br#"{"hello": "World"}"#,
            ..request
        };
        assert_eq!(
            inspect_any(&tampered, &policy_at(origin, t)).unwrap_err(),
            VerifyError::DigestMismatch
        );
        // Replayed to another server, or another path: the target URI differs.
        for (origin, path) in [
            ("http://127.0.0.1:3001", "/inbox"),
            (origin, "/users/x/inbox"),
        ] {
            let moved = Request {
                path_and_query: path,
                ..request
            };
            assert_eq!(
                inspect_any(&moved, &policy_at(origin, t))
                    .unwrap()
                    .verify(&key),
                Err(VerifyError::BadSignature),
                "{origin}{path}"
            );
        }
        for offset in [-7200i64, 7200] {
            assert_eq!(
                inspect_any(&request, &policy_at(origin, (t as i64 + offset) as u64)).unwrap_err(),
                VerifyError::Expired
            );
        }
    }

    #[test]
    fn weak_or_broken_signature_inputs_are_refused() {
        let policy = policy_at("https://example.com", 1_700_000_000);
        let refused = |input: &str| {
            let map = headers(&[
                ("signature-input", input),
                ("signature", "sig1=:c2ln:"),
                (
                    "content-digest",
                    &format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(BODY))),
                ),
            ]);
            let request = Request {
                method: &Method::POST,
                path_and_query: "/inbox",
                headers: &map,
                body: BODY,
            };
            inspect_any(&request, &policy).unwrap_err()
        };
        let ok = r#"keyid="k";created=1700000000"#;
        assert_eq!(
            refused(&format!(r#"sig1=("@target-uri" "content-digest");{ok}"#)),
            VerifyError::NotCovered("@method")
        );
        assert_eq!(
            refused(&format!(
                r#"sig1=("@method" "@path" "content-digest");{ok}"#
            )),
            VerifyError::NotCovered("@target-uri")
        );
        assert_eq!(
            refused(&format!(r#"sig1=("@method" "@target-uri");{ok}"#)),
            VerifyError::NotCovered("content-digest")
        );
        assert_eq!(
            refused(r#"sig1=("@method" "@target-uri" "content-digest");keyid="k""#),
            VerifyError::NotCovered("created")
        );
        assert_eq!(
            refused(&format!(
                r#"sig1=("@method" "@target-uri" "content-digest");alg="hmac-sha256";{ok}"#
            )),
            VerifyError::UnsupportedAlgorithm("hmac-sha256".into())
        );
        for broken in [
            "sig2=(\"@method\");keyid=\"k\";created=1700000000".to_owned(),
            r#"sig1=("@method" "@target-uri" "content-digest");created=1700000000"#.to_owned(),
            format!(r#"sig1=("@method" "@target-uri" "content-digest" "@method");{ok}"#),
            format!(r#"sig1=("@method" "@target-uri" "content-digest";sf);{ok}"#),
            format!(r#"sig1=("@method" "@target-uri" "content-digest" "@query-param");{ok}"#),
            "sig1=not a list".to_owned(),
        ] {
            assert!(
                matches!(refused(&broken), VerifyError::Malformed(_)),
                "{broken}: {:?}",
                refused(&broken)
            );
        }
    }
}
