//! `kv` and `http` for a plugin run outside a server (`tsudoi plugin test --grant kv`): a
//! key-value store in memory for the length of the run, charged and limited as a server's is
//! (see `KvKey::entry_bytes`), and HTTP answered from recorded answers only, never the
//! network.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tsudoi_model::{KvKey, KvRefusal, kv_exceeds_quota, kv_next_count};

use crate::services::{
    HttpClient, HttpFailure, HttpRequest, HttpResponse, KvFailure, KvStore, Services,
};

/// Services for an offline run: [`MemoryKv`] and [`RecordedHttp`] with `answers`.
pub fn offline_services(answers: RecordedHttp) -> Services {
    Services {
        kv: Arc::new(MemoryKv::default()),
        http: Arc::new(answers),
        kv_quota_bytes: crate::KV_QUOTA_BYTES,
    }
}

/// (plugin, bucket, key) → (value, expiry).
type Entries = BTreeMap<(String, String, String), (Vec<u8>, Option<i64>)>;

/// A key-value store in memory.
#[derive(Default)]
pub struct MemoryKv {
    entries: Mutex<Entries>,
}

fn owned(at: KvKey<'_>) -> (String, String, String) {
    (at.plugin.into(), at.bucket.into(), at.key.into())
}

fn live(expires_at: Option<i64>, now: i64) -> bool {
    expires_at.is_none_or(|t| t > now)
}

impl MemoryKv {
    /// Writes `value` at `at` unless the quota rule (`kv_exceeds_quota`) refuses it, the
    /// plugin's live entries charged as the server charges them.
    fn put(
        entries: &mut Entries,
        at: KvKey<'_>,
        value: Vec<u8>,
        expires_at: Option<i64>,
        now: i64,
        quota: i64,
    ) -> Result<(), KvRefusal> {
        let charged = |this: bool| -> i64 {
            entries
                .iter()
                .filter(|((p, b, k), (_, e))| {
                    p == at.plugin && live(*e, now) && (b == at.bucket && k == at.key) == this
                })
                .map(|((p, b, k), (v, _))| KvKey::new(p, b, k).entry_bytes(v.len()))
                .sum()
        };
        let (others, old) = (charged(false), charged(true));
        let after = others + at.entry_bytes(value.len());
        if kv_exceeds_quota(others + old, after, quota) {
            return Err(KvRefusal::QuotaExceeded);
        }
        entries.insert(owned(at), (value, expires_at));
        Ok(())
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl KvStore for MemoryKv {
    fn get(&self, at: KvKey<'_>, now: i64, _: Instant) -> Result<Option<Vec<u8>>, KvFailure> {
        Ok(self
            .entries()
            .get(&owned(at))
            .filter(|(_, e)| live(*e, now))
            .map(|(v, _)| v.clone()))
    }

    fn set(
        &self,
        at: KvKey<'_>,
        value: &[u8],
        expires_at: Option<i64>,
        now: i64,
        quota: i64,
        _: Instant,
    ) -> Result<(), KvFailure> {
        Self::put(
            &mut self.entries(),
            at,
            value.to_vec(),
            expires_at,
            now,
            quota,
        )
        .map_err(KvFailure::Refused)
    }

    fn delete(&self, at: KvKey<'_>, _: Instant) -> Result<(), KvFailure> {
        self.entries().remove(&owned(at));
        Ok(())
    }

    fn increment(
        &self,
        at: KvKey<'_>,
        delta: i64,
        expires_if_new: Option<i64>,
        now: i64,
        quota: i64,
        _: Instant,
    ) -> Result<i64, KvFailure> {
        let mut entries = self.entries();
        let stored = entries.get(&owned(at)).map(|(v, e)| (v.as_slice(), *e));
        let (next, expires_at) =
            kv_next_count(stored, delta, expires_if_new, now).map_err(KvFailure::Refused)?;
        Self::put(
            &mut entries,
            at,
            next.to_string().into_bytes(),
            expires_at,
            now,
            quota,
        )
        .map_err(KvFailure::Refused)?;
        Ok(next)
    }

    fn list_keys(
        &self,
        plugin: &str,
        bucket: &str,
        prefix: &str,
        limit: i64,
        now: i64,
        _: Instant,
    ) -> Result<Vec<String>, KvFailure> {
        Ok(self
            .entries()
            .iter()
            .filter(|((p, b, k), (_, e))| {
                p == plugin && b == bucket && k.starts_with(prefix) && live(*e, now)
            })
            .map(|((_, _, k), _)| k.clone())
            .take(usize::try_from(limit).unwrap_or(0))
            .collect())
    }
}

/// A recorded answer to a GET of one URL.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    #[serde(default = "ok")]
    pub status: u16,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: String,
}

fn ok() -> u16 {
    200
}

/// Outbound HTTP for an offline run: the recorded answer for the request's URL, and
/// "denied" for any other. An offline run must not depend on the network.
#[derive(Debug, Clone, Default)]
pub struct RecordedHttp(BTreeMap<String, Recorded>);

impl RecordedHttp {
    /// Answers by URL, as JSON: `{"https://example.com/x": {"status"?, "headers"?, "body"?}}`.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let recorded: BTreeMap<String, Recorded> =
            serde_json::from_str(json).map_err(|e| e.to_string())?;
        recorded
            .into_iter()
            .map(|(url, answer)| {
                // Keyed as requests are compared: the URL in its normal form.
                let url = url::Url::parse(&url).map_err(|e| format!("{url} is not a URL: {e}"))?;
                Ok((url.to_string(), answer))
            })
            .collect::<Result<_, String>>()
            .map(Self)
    }
}

impl HttpClient for RecordedHttp {
    fn fetch(
        &self,
        request: HttpRequest,
        _: Duration,
        max_body: usize,
    ) -> Result<HttpResponse, HttpFailure> {
        let recorded = self.0.get(request.url.as_str()).ok_or_else(|| {
            HttpFailure::Denied(format!(
                "{} has no recorded answer (offline runs do not reach the network)",
                request.url
            ))
        })?;
        if recorded.body.len() > max_body {
            return Err(HttpFailure::TooLarge);
        }
        Ok(HttpResponse {
            status: recorded.status,
            headers: recorded.headers.clone(),
            body: recorded.body.clone().into_bytes(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000;

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    #[test]
    fn recorded_answers_are_found_by_normal_url_and_nothing_else_is_reached() {
        let http = RecordedHttp::from_json(r#"{"https://example.com": {"body": "hi"}}"#).unwrap();
        let get = |url: &str| {
            http.fetch(
                HttpRequest {
                    method: crate::services::HttpMethod::Get,
                    url: url::Url::parse(url).unwrap(),
                    headers: vec![],
                    body: None,
                },
                Duration::from_secs(1),
                1 << 20,
            )
        };
        let answer = get("https://example.com/").unwrap();
        assert_eq!(
            (answer.status, answer.body.as_slice()),
            (200, b"hi".as_slice())
        );
        assert!(matches!(
            get("https://example.com/other"),
            Err(HttpFailure::Denied(_))
        ));
        assert!(RecordedHttp::from_json(r#"{"not a url": {}}"#).is_err());
    }

    #[test]
    fn a_scratch_store_keeps_counts_expiry_and_the_quota() {
        let kv = MemoryKv::default();
        let n = KvKey::new("p", "b", "n");
        for expected in 1..=3 {
            assert_eq!(
                kv.increment(n, 1, Some(NOW + 10), NOW, 1 << 20, far()),
                Ok(expected)
            );
        }
        assert_eq!(kv.get(n, NOW + 10, far()), Ok(None), "expired");
        assert_eq!(
            kv.increment(n, 1, None, NOW + 10, 1 << 20, far()),
            Ok(1),
            "a new count"
        );
        let quota = n.entry_bytes(1);
        assert_eq!(
            kv.set(KvKey::new("p", "b", "x"), b"", None, NOW, quota, far()),
            Err(KvFailure::Refused(KvRefusal::QuotaExceeded))
        );
        assert_eq!(
            kv.list_keys("p", "b", "", 10, NOW + 10, far()),
            Ok(vec!["n".to_owned()])
        );
    }
}
