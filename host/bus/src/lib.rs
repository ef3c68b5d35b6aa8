//! The bus between the writers (the core, after a commit) and the streaming connections.
//!
//! In one process it is a broadcast channel. When several nodes share one database, each
//! node also publishes to a Redis channel and forwards what the other nodes publish there
//! into its own broadcast, so a note posted through node A reaches a client connected to
//! node B. Events are told, not kept: the data itself is in the database, and a connection
//! that misses an event (Redis restarting, a slow client) misses a live update, never data.
//!
//! Publishing never waits: the core hands the event over and goes on; a background task
//! sends what piled up to Redis in one round trip.

mod buckets;

pub use buckets::SharedBuckets;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};
use tsudoi_model::Event;

/// Events a slow subscriber may fall behind by before it loses the oldest. A streaming
/// connection that lags this far is behind by seconds at any rate a node can write.
const CAPACITY: usize = 16_384;

/// The Redis channel every node publishes to and listens on.
const CHANNEL: &str = "tsudoi:events";

/// The longest wait between attempts to reach Redis again. Short: while Redis is away,
/// nodes do not hear each other.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("invalid Redis URL: {0}")]
    InvalidUrl(redis::RedisError),
}

/// The bus of this node. Cheap to clone.
#[derive(Clone)]
pub struct Bus(Arc<Inner>);

struct Inner {
    local: broadcast::Sender<Arc<Event>>,
    /// Events to send to the other nodes (unset in one process).
    remote: Option<mpsc::UnboundedSender<Event>>,
    /// Rate-limit buckets shared with the other nodes (unset in one process).
    buckets: Option<SharedBuckets>,
}

/// An event as it travels between nodes: with the node that sent it, which skips it on
/// the way back (it was delivered to that node's connections when published).
#[derive(Serialize, Deserialize)]
struct Envelope<E> {
    node: u64,
    event: E,
}

impl Bus {
    /// A bus for one process.
    pub fn in_process() -> Self {
        Bus(Arc::new(Inner {
            local: broadcast::channel(CAPACITY).0,
            remote: None,
            buckets: None,
        }))
    }

    /// A bus shared with every node that uses the Redis server at `url`. Connects in the
    /// background (and again whenever the connection drops), so a node starts while Redis
    /// is down and catches up when it is back. Must be called inside a Tokio runtime.
    pub fn redis(url: &str) -> Result<Self, BusError> {
        let client = redis::Client::open(url).map_err(BusError::InvalidUrl)?;
        let (local, _) = broadcast::channel(CAPACITY);
        let (remote, outgoing) = mpsc::unbounded_channel();
        let node = rand::random::<u64>();
        tokio::spawn(publish_loop(client.clone(), node, outgoing));
        tokio::spawn(listen_loop(client.clone(), node, local.clone()));
        Ok(Bus(Arc::new(Inner {
            local,
            remote: Some(remote),
            buckets: Some(SharedBuckets::new(client)),
        })))
    }

    /// Tells every subscriber, on this node at once and on the others through Redis.
    pub fn publish(&self, event: Event) {
        if let Some(remote) = &self.0.remote {
            let _ = remote.send(event.clone());
        }
        // No receiver (nobody connected) is not an error.
        let _ = self.0.local.send(Arc::new(event));
    }

    /// Tells only the other nodes (nothing in one process): for news about this node's own
    /// state, such as which cached rows it changed.
    pub fn tell_others(&self, event: Event) {
        if let Some(remote) = &self.0.remote {
            let _ = remote.send(event);
        }
    }

    /// Whether other nodes share this bus (Redis).
    pub fn is_shared(&self) -> bool {
        self.0.remote.is_some()
    }

    /// The rate-limit buckets the nodes share, when there are several (Redis).
    pub fn shared_buckets(&self) -> Option<&SharedBuckets> {
        self.0.buckets.as_ref()
    }

    /// Every event published from now on, on any node.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.0.local.subscribe()
    }
}

/// Sends this node's events to Redis, all that piled up in one pipeline. While Redis is
/// unreachable the events of that time are dropped (the other nodes' connections miss
/// them; this node's got them already).
async fn publish_loop(
    client: redis::Client,
    node: u64,
    mut outgoing: mpsc::UnboundedReceiver<Event>,
) {
    let mut backoff = Backoff::default();
    let mut batch = Vec::new();
    'connect: loop {
        let mut conn = match client.get_multiplexed_async_connection().await {
            Ok(c) => {
                backoff.reset();
                c
            }
            Err(e) => {
                tracing::warn!(error = %e, "bus: cannot reach Redis to publish");
                backoff.wait().await;
                // Whatever piled up meanwhile is stale.
                while outgoing.try_recv().is_ok() {}
                continue;
            }
        };
        loop {
            if outgoing.recv_many(&mut batch, 512).await == 0 {
                return; // the bus was dropped
            }
            let mut pipe = redis::pipe();
            for event in batch.drain(..) {
                match serde_json::to_string(&Envelope { node, event }) {
                    Ok(text) => {
                        pipe.publish(CHANNEL, text).ignore();
                    }
                    Err(e) => tracing::error!(error = %e, "bus: cannot encode an event"),
                }
            }
            if let Err(e) = pipe.query_async::<()>(&mut conn).await {
                tracing::warn!(error = %e, "bus: publishing to Redis failed; reconnecting");
                continue 'connect;
            }
        }
    }
}

/// Forwards what the other nodes publish into this node's broadcast, reconnecting
/// whenever the subscription drops.
async fn listen_loop(client: redis::Client, node: u64, local: broadcast::Sender<Arc<Event>>) {
    let mut backoff = Backoff::default();
    loop {
        let mut pubsub = match client.get_async_pubsub().await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "bus: cannot reach Redis to listen");
                backoff.wait().await;
                continue;
            }
        };
        if let Err(e) = pubsub.subscribe(CHANNEL).await {
            tracing::warn!(error = %e, "bus: cannot subscribe");
            backoff.wait().await;
            continue;
        }
        backoff.reset();
        tracing::info!("bus: listening on Redis");
        let mut messages = pubsub.on_message();
        while let Some(msg) = messages.next().await {
            let Ok(payload) = msg.get_payload::<Vec<u8>>() else {
                continue;
            };
            match serde_json::from_slice::<Envelope<Event>>(&payload) {
                Ok(env) if env.node != node => {
                    let _ = local.send(Arc::new(env.event));
                }
                Ok(_) => {}
                // A newer node may publish events this one does not know yet.
                Err(e) => tracing::debug!(error = %e, "bus: skipped an event it cannot read"),
            }
        }
        tracing::warn!("bus: lost the Redis subscription; reconnecting");
        backoff.wait().await;
    }
}

/// Waits a little longer after each failure, up to [`MAX_BACKOFF`].
#[derive(Default)]
struct Backoff(u32);

impl Backoff {
    async fn wait(&mut self) {
        let ms = (50u64 << self.0.min(6)).min(MAX_BACKOFF.as_millis() as u64);
        self.0 += 1;
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    fn reset(&mut self) {
        self.0 = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(id: &str) -> Event {
        Event::NoteCreated {
            note_id: id.to_owned(),
            user_id: "u".to_owned(),
        }
    }

    #[tokio::test]
    async fn in_process_subscribers_get_what_is_published_after_they_subscribe() {
        let bus = Bus::in_process();
        bus.publish(created("before"));
        let mut a = bus.subscribe();
        let mut b = bus.subscribe();
        bus.publish(created("after"));
        assert_eq!(*a.recv().await.unwrap(), created("after"));
        assert_eq!(*b.recv().await.unwrap(), created("after"));
        assert!(a.try_recv().is_err());
    }

    #[test]
    fn a_bad_redis_url_is_refused() {
        assert!(Bus::redis("not a url").is_err());
    }
}
