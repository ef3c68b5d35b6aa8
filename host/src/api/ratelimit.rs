//! Per-caller rate limits: a token bucket per (endpoint, caller) that refills evenly over an
//! hour, so a burst up to the hourly allowance is accepted and then one call per interval.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::ApiError;

#[derive(Default)]
pub struct Limiter {
    buckets: Mutex<HashMap<(&'static str, String), Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

const HOUR: f64 = 3600.0;
/// Buckets untouched for this long are full again and can be forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);

impl Limiter {
    pub fn check(
        &self,
        endpoint: &'static str,
        caller: &str,
        per_hour: u32,
    ) -> Result<(), ApiError> {
        self.take(endpoint, caller, per_hour, Instant::now())
    }

    /// Seconds to wait if the bucket is empty, without taking from it: for limits that count
    /// only failures (sign-in), checked before the attempt and charged after it fails.
    pub fn blocked_for(&self, endpoint: &'static str, caller: &str, per_hour: u32) -> Option<u64> {
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = buckets.get(&(endpoint, caller.to_owned()))?;
        let rate = per_hour as f64 / HOUR;
        let tokens = (b.tokens + Instant::now().duration_since(b.updated).as_secs_f64() * rate)
            .min(per_hour as f64);
        (tokens < 1.0).then(|| (((1.0 - tokens) / rate).ceil() as u64).max(1))
    }

    fn take(
        &self,
        endpoint: &'static str,
        caller: &str,
        per_hour: u32,
        now: Instant,
    ) -> Result<(), ApiError> {
        let capacity = per_hour as f64;
        let rate = capacity / HOUR;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            buckets.retain(|_, b| now.duration_since(b.updated) < FORGET_AFTER);
        }
        let bucket = buckets
            .entry((endpoint, caller.to_owned()))
            .or_insert(Bucket {
                tokens: capacity,
                updated: now,
            });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - bucket.tokens) / rate).ceil() as u64;
            Err(ApiError::rate_limited(wait.max(1)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_hourly_burst_then_refuses_then_refills() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for _ in 0..10 {
            l.take("x", "a", 10, t0).unwrap();
        }
        let err = l.take("x", "a", 10, t0).unwrap_err();
        assert_eq!(err.status.as_u16(), 429);
        assert!(err.retry_after.unwrap() >= 359);
        // Another caller is not affected.
        l.take("x", "b", 10, t0).unwrap();
        // After a tenth of an hour one more call is allowed.
        l.take("x", "a", 10, t0 + Duration::from_secs(361)).unwrap();
    }
}
