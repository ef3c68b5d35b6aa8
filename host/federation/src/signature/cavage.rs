//! draft-cavage-http-signatures (version 12, as the fediverse profile uses it): a `Signature`
//! header naming the key, the algorithm, the covered headers and the signature over their
//! signing string.

use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue, Method};

use super::digest::{check_digest, digest_header};
use super::{
    Algorithm, KeyError, PendingSignature, Policy, PrivateKey, Request, Scheme, VerifyError,
    authority, header_text, unix_seconds,
};

/// The parameters of a `Signature` header.
#[derive(Debug, Default, PartialEq, Eq)]
struct Params {
    key_id: Option<String>,
    algorithm: Option<String>,
    headers: Option<String>,
    signature: Option<String>,
    created: Option<u64>,
    expires: Option<u64>,
}

/// Reads `keyId="…",algorithm="…",headers="…",signature="…"` (values quoted, or bare
/// numbers for `created` and `expires`); unknown parameters are ignored, repeated ones
/// refused.
fn parse_params(header: &str) -> Result<Params, VerifyError> {
    let malformed = |why: &str| VerifyError::Malformed(why.to_owned());
    let mut params = Params::default();
    let mut rest = header.trim();
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once('=')
            .ok_or_else(|| malformed("a parameter without `=`"))?;
        let name = name.trim();
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or_else(|| malformed("an unterminated quoted value"))?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| malformed("created and expires are whole seconds"))
        };
        let slot_taken = match name {
            "keyId" => params.key_id.replace(value.to_owned()).is_some(),
            "algorithm" => params.algorithm.replace(value.to_owned()).is_some(),
            "headers" => params.headers.replace(value.to_owned()).is_some(),
            "signature" => params.signature.replace(value.to_owned()).is_some(),
            "created" => params.created.replace(number()?).is_some(),
            "expires" => params.expires.replace(number()?).is_some(),
            _ => false,
        };
        if slot_taken {
            return Err(VerifyError::Malformed(format!("{name} is given twice")));
        }
        rest = after.trim_start();
        rest = match rest.strip_prefix(',') {
            Some(next) => next.trim_start(),
            None if rest.is_empty() => rest,
            None => return Err(malformed("parameters are not separated by commas")),
        };
    }
    Ok(params)
}

/// The signing string of `covered` (lowercase names) for `request`.
fn signing_string(
    request: &Request<'_>,
    covered: &[&str],
    params: &Params,
) -> Result<String, VerifyError> {
    let mut lines = Vec::with_capacity(covered.len());
    for name in covered {
        let value = match *name {
            "(request-target)" => format!(
                "{} {}",
                request.method.as_str().to_ascii_lowercase(),
                request.path_and_query
            ),
            "(created)" => params
                .created
                .ok_or(VerifyError::Malformed(
                    "(created) is covered but not given".into(),
                ))?
                .to_string(),
            "(expires)" => params
                .expires
                .ok_or(VerifyError::Malformed(
                    "(expires) is covered but not given".into(),
                ))?
                .to_string(),
            header => header_text(request.headers, header)?
                .ok_or_else(|| VerifyError::MissingHeader(header.to_owned()))?,
        };
        lines.push(format!("{name}: {value}"));
    }
    Ok(lines.join("\n"))
}

pub(super) fn inspect(
    request: &Request<'_>,
    policy: &Policy,
) -> Result<PendingSignature, VerifyError> {
    let header = header_text(request.headers, "signature")?.ok_or(VerifyError::Unsigned)?;
    let params = parse_params(&header)?;
    let key_id = params
        .key_id
        .clone()
        .ok_or(VerifyError::Malformed("no keyId".into()))?;
    let signature = STANDARD
        .decode(params.signature.as_deref().unwrap_or_default())
        .map_err(|_| VerifyError::Malformed("the signature is not base64".into()))?;
    if signature.is_empty() {
        return Err(VerifyError::Malformed("no signature".into()));
    }
    let algorithm = match params.algorithm.as_deref() {
        None | Some("rsa-sha256" | "hs2019") => Algorithm::RsaSha256,
        Some(other) => return Err(VerifyError::UnsupportedAlgorithm(other.to_owned())),
    };
    // Without `headers`, the draft signs only the date: too little to bind the request.
    let covered_text = params
        .headers
        .as_deref()
        .unwrap_or("date")
        .to_ascii_lowercase();
    let covered: Vec<&str> = covered_text.split_ascii_whitespace().collect();
    let covers = |name: &str| covered.contains(&name);

    if !covers("(request-target)") {
        return Err(VerifyError::NotCovered("(request-target)"));
    }
    if !covers("host") {
        return Err(VerifyError::NotCovered("host"));
    }
    let host = header_text(request.headers, "host")?
        .ok_or_else(|| VerifyError::MissingHeader("host".into()))?;
    if !host.eq_ignore_ascii_case(&policy.authority()) {
        return Err(VerifyError::WrongHost);
    }
    if covers("date") {
        let date = header_text(request.headers, "date")?
            .ok_or_else(|| VerifyError::MissingHeader("date".into()))?;
        let at = httpdate::parse_http_date(&date)
            .map_err(|_| VerifyError::Malformed("the Date header is not an HTTP date".into()))?;
        policy.check_time(at)?;
    } else if covers("(created)") {
        let created = params.created.ok_or(VerifyError::Malformed(
            "(created) is covered but not given".into(),
        ))?;
        policy.check_time(unix_seconds(created))?;
    } else {
        return Err(VerifyError::NotCovered("date"));
    }
    if let Some(expires) = params.expires
        && unix_seconds(expires) < policy.now
    {
        return Err(VerifyError::Expired);
    }
    if request.has_body() {
        if !covers("digest") {
            return Err(VerifyError::NotCovered("digest"));
        }
        let digest = header_text(request.headers, "digest")?
            .ok_or_else(|| VerifyError::MissingHeader("digest".into()))?;
        check_digest(&digest, request.body)?;
    }
    let signed = signing_string(request, &covered, &params)?.into_bytes();
    Ok(PendingSignature {
        key_id,
        scheme: Scheme::Cavage,
        algorithm,
        signed,
        signature,
    })
}

/// Signs a request we send to `url` as `key_id`: sets `Host`, `Date` and, for a POST,
/// `Digest`, then `Signature` over `(request-target) host date [digest]`, what Mastodon and
/// Misskey sign and require.
pub fn sign_request(
    method: &Method,
    url: &url::Url,
    headers: &mut HeaderMap,
    body: &[u8],
    key_id: &str,
    key: &PrivateKey,
    now: SystemTime,
) -> Result<(), KeyError> {
    let value = |text: String| {
        HeaderValue::from_str(&text).map_err(|e| KeyError::Sign(format!("{text}: {e}")))
    };
    headers.insert(http::header::HOST, value(authority(url))?);
    headers.insert(http::header::DATE, value(httpdate::fmt_http_date(now))?);
    let mut covered = vec!["(request-target)", "host", "date"];
    if method == Method::POST {
        headers.insert("digest", value(digest_header(body))?);
        covered.push("digest");
    }
    let path_and_query = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let request = Request {
        method,
        path_and_query: &path_and_query,
        headers,
        body,
    };
    let signed = signing_string(&request, &covered, &Params::default())
        .map_err(|e| KeyError::Sign(e.to_string()))?;
    let signature = STANDARD.encode(key.sign(signed.as_bytes())?);
    let header = format!(
        r#"keyId="{key_id}",algorithm="rsa-sha256",headers="{}",signature="{signature}""#,
        covered.join(" ")
    );
    headers.insert("signature", value(header)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::test_keys::{CAVAGE_PUBLIC, rsa_test_key};
    use crate::signature::{PublicKey, inspect as inspect_any};

    const BODY: &[u8] = br#"{"hello": "world"}"#;
    const PATH: &str = "/foo?param=value&pet=dog";

    /// draft-cavage Appendix C's request, with `signature` as its Signature header.
    fn appendix_c(signature: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("host", "example.com"),
            ("date", "Sun, 05 Jan 2014 21:31:40 GMT"),
            ("content-type", "application/json"),
            (
                "digest",
                "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
            ),
            ("content-length", "18"),
            ("signature", signature),
        ] {
            headers.insert(name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn policy_at(origin: &str, unix: u64) -> Policy {
        Policy {
            origin: url::Url::parse(origin).unwrap(),
            now: unix_seconds(unix),
        }
    }

    /// 2014-01-05T21:31:40Z, the date of Appendix C.
    const APPENDIX_C_TIME: u64 = 1_388_957_500;

    #[test]
    fn appendix_c_signatures_verify() {
        let key = PublicKey::from_pem(CAVAGE_PUBLIC).unwrap();
        // C.3 covers every header, the digest among them; C.2 covers no digest, so as a POST
        // it is refused before any key is used.
        let c3 = r#"keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date content-type digest content-length",signature="vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEUHFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE=""#;
        let c2 = r#"keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",signature="qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0=""#;
        let policy = policy_at("https://example.com", APPENDIX_C_TIME);
        let headers = appendix_c(c3);
        let request = Request {
            method: &Method::POST,
            path_and_query: PATH,
            headers: &headers,
            body: BODY,
        };
        let pending = inspect_any(&request, &policy).unwrap();
        assert_eq!(pending.key_id, "Test");
        assert_eq!(pending.scheme, Scheme::Cavage);
        pending.verify(&key).unwrap();

        let headers = appendix_c(c2);
        let post = Request {
            headers: &headers,
            ..request
        };
        assert_eq!(
            inspect_any(&post, &policy).unwrap_err(),
            VerifyError::NotCovered("digest")
        );
        // C.2's signing string is the one we build, and its signature verifies over it.
        let signed = signing_string(
            &post,
            &["(request-target)", "host", "date"],
            &Params::default(),
        )
        .unwrap();
        assert_eq!(
            signed,
            "(request-target): post /foo?param=value&pet=dog\nhost: example.com\ndate: Sun, 05 Jan 2014 21:31:40 GMT"
        );
        let params = parse_params(c2).unwrap();
        let signature = STANDARD.decode(params.signature.unwrap()).unwrap();
        assert!(key.verify(Algorithm::RsaSha256, signed.as_bytes(), &signature));
    }

    fn signed_post(origin: &str, body: &[u8], now: SystemTime) -> (HeaderMap, String) {
        let key = rsa_test_key();
        let url = url::Url::parse(&format!("{origin}/users/a/inbox?x=1")).unwrap();
        let mut headers = HeaderMap::new();
        sign_request(
            &Method::POST,
            &url,
            &mut headers,
            body,
            "https://remote.example/users/m#main-key",
            key,
            now,
        )
        .unwrap();
        (headers, "/users/a/inbox?x=1".to_owned())
    }

    #[test]
    fn what_we_sign_we_verify_and_a_change_anywhere_breaks_it() {
        let now = unix_seconds(1_700_000_000);
        let key = rsa_test_key();
        let public = key.public_key().unwrap();
        let policy = policy_at("http://127.0.0.1:3000", 1_700_000_000);
        let (headers, path) = signed_post("http://127.0.0.1:3000", BODY, now);
        let request = Request {
            method: &Method::POST,
            path_and_query: &path,
            headers: &headers,
            body: BODY,
        };
        let pending = inspect_any(&request, &policy).unwrap();
        assert_eq!(pending.key_id, "https://remote.example/users/m#main-key");
        pending.verify(&public).unwrap();

        // The body changed after signing: the digest no longer matches.
        let tampered = Request {
            body: br#"{"hello": "World"}"#,
            ..request
        };
        assert_eq!(
            inspect_any(&tampered, &policy).unwrap_err(),
            VerifyError::DigestMismatch
        );
        // Another path: the signature no longer matches.
        let moved = Request {
            path_and_query: "/inbox",
            ..request
        };
        assert_eq!(
            inspect_any(&moved, &policy).unwrap().verify(&public),
            Err(VerifyError::BadSignature)
        );
        // Replayed to another server.
        let elsewhere = policy_at("http://127.0.0.1:3001", 1_700_000_000);
        assert_eq!(
            inspect_any(&request, &elsewhere).unwrap_err(),
            VerifyError::WrongHost
        );
        // Two hours late, or two hours early; half an hour late is fine.
        for (offset, ok) in [(-7200i64, false), (7200, false), (1800, true)] {
            let at = policy_at("http://127.0.0.1:3000", (1_700_000_000 + offset) as u64);
            assert_eq!(inspect_any(&request, &at).is_ok(), ok, "{offset}");
        }
        // Another key.
        let other = PublicKey::from_pem(crate::signature::test_keys::CAVAGE_PUBLIC).unwrap();
        assert_eq!(pending.verify(&other), Err(VerifyError::BadSignature));
    }

    #[test]
    fn weak_or_broken_signature_headers_are_refused() {
        let policy = policy_at("https://example.com", APPENDIX_C_TIME);
        let refused = |signature: &str, method: &Method| {
            let headers = appendix_c(signature);
            let request = Request {
                method,
                path_and_query: PATH,
                headers: &headers,
                body: if method == Method::POST { BODY } else { b"" },
            };
            inspect_any(&request, &policy).unwrap_err()
        };
        let sig = "c2ln";
        assert_eq!(
            refused(
                &format!(r#"keyId="k",headers="host date",signature="{sig}""#),
                &Method::GET
            ),
            VerifyError::NotCovered("(request-target)")
        );
        assert_eq!(
            refused(
                &format!(r#"keyId="k",headers="(request-target) date",signature="{sig}""#),
                &Method::GET
            ),
            VerifyError::NotCovered("host")
        );
        assert_eq!(
            refused(
                &format!(r#"keyId="k",headers="(request-target) host",signature="{sig}""#),
                &Method::GET
            ),
            VerifyError::NotCovered("date")
        );
        assert_eq!(
            refused(&format!(r#"keyId="k",signature="{sig}""#), &Method::GET),
            VerifyError::NotCovered("(request-target)")
        );
        assert_eq!(
            refused(
                &format!(
                    r#"keyId="k",algorithm="hmac-sha256",headers="(request-target) host date",signature="{sig}""#
                ),
                &Method::GET
            ),
            VerifyError::UnsupportedAlgorithm("hmac-sha256".into())
        );
        for broken in [
            r#"keyId="k",headers="(request-target) host date""#,
            r#"headers="(request-target) host date",signature="c2ln""#,
            r#"keyId="k,signature="c2ln""#,
            r#"keyId="k" signature="c2ln""#,
            r#"keyId="a",keyId="b",headers="(request-target) host date",signature="c2ln""#,
            r#"keyId="k",headers="(request-target) host date",signature="%%%""#,
        ] {
            assert!(
                matches!(refused(broken, &Method::GET), VerifyError::Malformed(_)),
                "{broken}"
            );
        }
    }
}
