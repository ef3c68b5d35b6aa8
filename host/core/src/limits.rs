//! Per-caller rate limits: a token bucket per (action, caller) that refills evenly over an
//! hour, so a burst up to the hourly allowance is accepted and then one call per interval.
//! The API limits its endpoints with it, and sign-in counts failed attempts with it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{Error, Result};

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
    /// Takes one call of `action` by `caller` from a bucket of `per_hour`; refused with the
    /// seconds to wait when the bucket is empty.
    pub fn take(&self, action: &'static str, caller: &str, per_hour: u32) -> Result<()> {
        self.take_at(action, caller, per_hour, Instant::now())
    }

    /// Refused (with the seconds to wait) if the bucket is empty, without taking from it: for
    /// limits that count only failures (sign-in), checked before the attempt and charged
    /// after it fails.
    pub fn check(&self, action: &'static str, caller: &str, per_hour: u32) -> Result<()> {
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let Some(b) = buckets.get(&(action, caller.to_owned())) else {
            return Ok(());
        };
        let rate = per_hour as f64 / HOUR;
        let tokens = (b.tokens + Instant::now().duration_since(b.updated).as_secs_f64() * rate)
            .min(per_hour as f64);
        if tokens < 1.0 {
            return Err(Error::RateLimited {
                retry_after_secs: (((1.0 - tokens) / rate).ceil() as u64).max(1),
            });
        }
        Ok(())
    }

    fn take_at(
        &self,
        action: &'static str,
        caller: &str,
        per_hour: u32,
        now: Instant,
    ) -> Result<()> {
        let capacity = per_hour as f64;
        let rate = capacity / HOUR;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            buckets.retain(|_, b| now.duration_since(b.updated) < FORGET_AFTER);
        }
        let bucket = buckets
            .entry((action, caller.to_owned()))
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
            Err(Error::RateLimited {
                retry_after_secs: wait.max(1),
            })
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
            l.take_at("x", "a", 10, t0).unwrap();
        }
        let err = l.take_at("x", "a", 10, t0).unwrap_err();
        assert!(
            matches!(err, Error::RateLimited { retry_after_secs } if retry_after_secs >= 359),
            "{err}"
        );
        // Another caller is not affected.
        l.take_at("x", "b", 10, t0).unwrap();
        // After a tenth of an hour one more call is allowed.
        l.take_at("x", "a", 10, t0 + Duration::from_secs(361))
            .unwrap();
    }
}
