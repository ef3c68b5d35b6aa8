//! Rate-limit buckets every node shares, kept in Redis: a token bucket per key, refilled
//! evenly over an hour, taken from by one atomic script on Redis's own clock (so nodes
//! whose clocks differ agree). Without Redis each node keeps its own (`tsudoi_core::limits`).

use tokio::sync::Mutex;

/// Takes (or, with `take` 0, only looks at) one token of bucket KEYS[1], holding ARGV[1]
/// tokens at most and refilling ARGV[2] per hour. Returns 0 if a token was there, else the
/// milliseconds until one is.
const TAKE: &str = r"
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2]) / 3600000
local take = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or cap
local at = tonumber(b[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - at) * rate)
if tokens < 1 then
  return math.max(1, math.ceil((1 - tokens) / rate))
end
if take == 1 then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil(cap / rate))
end
return 0
";

/// The buckets in Redis. Cheap to clone.
#[derive(Clone)]
pub struct SharedBuckets {
    client: redis::Client,
    script: redis::Script,
    /// One multiplexed connection, made on first use and again after it fails.
    conn: std::sync::Arc<Mutex<Option<redis::aio::MultiplexedConnection>>>,
}

impl SharedBuckets {
    pub(crate) fn new(client: redis::Client) -> Self {
        SharedBuckets {
            client,
            script: redis::Script::new(TAKE),
            conn: Default::default(),
        }
    }

    /// Takes a token from bucket `key` (`per_hour` tokens, refilled over an hour), or with
    /// `take` false checks that one is there. `Ok(None)` if allowed, `Ok(Some(wait))` if
    /// not; `Err` if Redis cannot be asked (the caller decides what to do then).
    pub async fn take(
        &self,
        key: &str,
        per_hour: u32,
        take: bool,
    ) -> redis::RedisResult<Option<std::time::Duration>> {
        let mut slot = self.conn.lock().await;
        let conn = match slot.as_mut() {
            Some(c) => c,
            None => slot.insert(self.client.get_multiplexed_async_connection().await?),
        };
        let waited: redis::RedisResult<u64> = self
            .script
            .key(format!("tsudoi:rate:{key}"))
            .arg(per_hour)
            .arg(per_hour)
            .arg(u8::from(take))
            .invoke_async(conn)
            .await;
        match waited {
            Ok(0) => Ok(None),
            Ok(ms) => Ok(Some(std::time::Duration::from_millis(ms))),
            Err(e) => {
                // A broken connection is made again next time.
                *slot = None;
                Err(e)
            }
        }
    }
}
