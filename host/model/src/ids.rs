//! Misskey's `aidx` ids: 8 base-36 digits of milliseconds since 2000-01-01, 4 digits of a
//! per-process node id and 4 digits of a counter. Sixteen lowercase characters that sort by
//! creation time, which is what `sinceId`/`untilId` paging relies on.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

const TIME_2000_MS: i64 = 946_684_800_000;
const TIME_LEN: usize = 8;
const NODE_LEN: usize = 4;
const NOISE_LEN: usize = 4;
/// Length of every id this server generates.
pub const ID_LEN: usize = TIME_LEN + NODE_LEN + NOISE_LEN;

static COUNTER: AtomicU64 = AtomicU64::new(0);
static NODE: OnceLock<String> = OnceLock::new();

fn base36(mut n: u64, width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    // Only ASCII digits were written.
    String::from_utf8(out).unwrap_or_default()
}

fn node_id() -> &'static str {
    NODE.get_or_init(|| base36(rand::random::<u64>() % 36u64.pow(NODE_LEN as u32), NODE_LEN))
}

/// A new id for an object created at `at_ms` (Unix milliseconds).
pub fn aidx_at(at_ms: i64) -> String {
    let since_2000 = (at_ms - TIME_2000_MS).max(0) as u64;
    let noise = COUNTER.fetch_add(1, Ordering::Relaxed) % 36u64.pow(NOISE_LEN as u32);
    let mut id = base36(since_2000, TIME_LEN);
    id.push_str(node_id());
    id.push_str(&base36(noise, NOISE_LEN));
    id
}

/// A new id for an object created now.
pub fn aidx() -> String {
    aidx_at(now_ms())
}

/// The smallest id that could have been generated at `at_ms`: turns `sinceDate`/`untilDate`
/// into id bounds so date paging uses the same index as id paging.
pub fn aidx_floor(at_ms: i64) -> String {
    let since_2000 = (at_ms - TIME_2000_MS).max(0) as u64;
    let mut id = base36(since_2000, TIME_LEN);
    id.push_str(&"0".repeat(NODE_LEN + NOISE_LEN));
    id
}

/// The eight-character time prefix of every id made at `at_ms`. As a bound it splits ids
/// cleanly by time: every id made at `at_ms` or later sorts after it (a prefix sorts before
/// its extensions) and every earlier id before it.
pub fn time_prefix(at_ms: i64) -> String {
    base36((at_ms - TIME_2000_MS).max(0) as u64, TIME_LEN)
}

/// The creation time encoded in an aidx id, if it is one.
pub fn aidx_time(id: &str) -> Option<i64> {
    if id.len() != ID_LEN
        || !id
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    {
        return None;
    }
    prefix_time(id)
}

/// The time an id or a time prefix ([`time_prefix`], [`aidx_floor`]) starts with: every id
/// that sorts after it was made at that time or later.
pub fn prefix_time(id: &str) -> Option<i64> {
    let prefix = id.get(..TIME_LEN)?;
    if !prefix
        .bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    {
        return None;
    }
    i64::from_str_radix(prefix, 36)
        .ok()
        .map(|t| t + TIME_2000_MS)
}

/// Whether `s` has the shape of an id (any of Misskey's id formats are 10–32 lowercase
/// alphanumerics); used to reject garbage before it reaches a query.
pub fn looks_like_id(s: &str) -> bool {
    (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sixteen_chars_and_sort_by_time() {
        let a = aidx_at(1_700_000_000_000);
        let b = aidx_at(1_700_000_000_001);
        assert_eq!(a.len(), ID_LEN);
        assert!(a < b);
        assert_eq!(aidx_time(&a), Some(1_700_000_000_000));
    }

    #[test]
    fn floor_sorts_before_every_id_of_that_millisecond() {
        let t = 1_700_000_000_000;
        assert!(aidx_floor(t) <= aidx_at(t));
        assert!(aidx_floor(t + 1) > aidx_at(t));
    }

    #[test]
    fn time_prefix_splits_ids_by_time() {
        let t = 1_700_000_000_000;
        let p = time_prefix(t);
        assert!(aidx_at(t - 1).as_str() < p.as_str());
        assert!(aidx_at(t).as_str() > p.as_str());
        assert!(aidx_at(t + 1).as_str() > p.as_str());
    }

    #[test]
    fn prefix_time_reads_ids_and_prefixes() {
        let t = 1_700_000_000_123;
        assert_eq!(prefix_time(&aidx_at(t)), Some(t));
        assert_eq!(prefix_time(&time_prefix(t)), Some(t));
        assert_eq!(prefix_time(&aidx_floor(t)), Some(t));
        assert_eq!(prefix_time("short"), None);
        assert_eq!(prefix_time("NOT-AN-ID-AT-ALL"), None);
    }

    #[test]
    fn ids_within_one_millisecond_are_distinct() {
        let ids: std::collections::HashSet<_> = (0..1000).map(|_| aidx_at(1)).collect();
        assert_eq!(ids.len(), 1000);
    }
}
