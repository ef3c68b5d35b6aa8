//! The job runners: one loop per queue claims due jobs from the database (on any node) and
//! runs them concurrently, within a limit per queue and, for deliveries, per server. A job
//! that fails is retried with exponential backoff (or when the server said); one that cannot
//! succeed, or has failed too often, is kept as dead.
//!
//! A claimed job is leased to its node for `job_lease`, renewed while it runs: a node that
//! dies mid-job (killed, its machine lost) loses nothing, since its jobs are due again on
//! every other node once their leases run out.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, mpsc};
use tsudoi_model::{ClaimedJob, Job, JobQueue, ids};

use crate::deliver::Delivery;
use crate::{Error, Federation, host_of};

/// How often an idle queue looks for new jobs.
const IDLE_POLL: Duration = Duration::from_millis(100);
/// Attempts before a job is given up: with a one-minute base, the last is about four days
/// after the first (Mastodon and Misskey retry for days too).
pub const MAX_ATTEMPTS: i64 = 12;
/// Attempts for processing an inbox activity: a failure there is usually the sender's
/// server being down while we fetch something.
const INBOX_ATTEMPTS: i64 = 3;

/// What running one job came to.
enum Outcome {
    Done,
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    GiveUp(String),
}

impl Federation {
    /// Starts the runners of every queue. They run until the process ends.
    pub fn run_workers(&self) {
        let concurrency = self.settings().delivery_concurrency.max(1);
        for (queue, limit) in [
            (JobQueue::Deliver, concurrency),
            (JobQueue::Inbox, concurrency),
            (JobQueue::Federate, 4),
        ] {
            let fed = self.clone();
            tokio::spawn(async move { fed.run_queue(queue, limit).await });
        }
    }

    async fn run_queue(self, queue: JobQueue, limit: usize) {
        let slots = Arc::new(Semaphore::new(limit));
        let hosts: Arc<Mutex<HashMap<String, Arc<Semaphore>>>> = Arc::default();
        let finished = self.spawn_finisher(queue);
        let running = self.spawn_lease_renewer(queue);
        let lease = self.settings().job_lease;
        let done = Arc::new(Notify::new());
        loop {
            let free = slots.available_permits();
            let busy = limit - free;
            // Claim in batches, when idle or once half the slots are free, rather than one
            // job (one claiming transaction) each time a job finishes.
            if free == 0 || (busy > 0 && free * 2 < limit) {
                done.notified().await;
                continue;
            }
            match self.store().has_due_jobs(queue, ids::now_ms()).await {
                Ok(true) => {}
                Ok(false) => {
                    tokio::time::sleep(IDLE_POLL).await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(queue = queue.as_str(), error = %e, "cannot look for jobs");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
            let claimed = match self
                .store()
                .claim_jobs(queue, free as i64, ids::now_ms(), lease.as_millis() as i64)
                .await
            {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(queue = queue.as_str(), error = %e, "cannot claim jobs");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if claimed.is_empty() {
                tokio::time::sleep(IDLE_POLL).await;
                continue;
            }
            lock(&running).extend(claimed.iter().map(|c| c.id));
            for job in claimed {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    return;
                };
                let host_slot = match &job.job {
                    Job::Deliver { inbox, .. } => Some(self.host_slot(&hosts, inbox)),
                    _ => None,
                };
                let fed = self.clone();
                let finished = finished.clone();
                let done = done.clone();
                let running = running.clone();
                tokio::spawn(async move {
                    let _host = match host_slot {
                        Some(s) => s.acquire_owned().await.ok(),
                        None => None,
                    };
                    fed.run_one(job, &finished, &running).await;
                    drop(slot);
                    done.notify_one();
                });
            }
        }
    }

    fn host_slot(
        &self,
        hosts: &Mutex<HashMap<String, Arc<Semaphore>>>,
        inbox: &str,
    ) -> Arc<Semaphore> {
        let host = host_of(inbox).unwrap_or_default();
        let mut hosts = lock(hosts);
        hosts
            .entry(host)
            .or_insert_with(|| {
                Arc::new(Semaphore::new(self.settings().per_host_concurrency.max(1)))
            })
            .clone()
    }

    /// Deletes finished jobs in batches. A job finished but not yet deleted when the
    /// process dies runs again after its lease: every job here can run twice harmlessly
    /// (a note is stored once, a delivery received twice is ignored by its id).
    fn spawn_finisher(&self, queue: JobQueue) -> mpsc::UnboundedSender<i64> {
        let (tx, mut rx) = mpsc::unbounded_channel::<i64>();
        let store = self.store().clone();
        tokio::spawn(async move {
            let mut ids = Vec::new();
            while rx.recv_many(&mut ids, 1000).await > 0 {
                if let Err(e) = store.finish_jobs(&ids).await {
                    tracing::warn!(queue = queue.as_str(), error = %e, "cannot delete finished jobs");
                }
                ids.clear();
            }
        });
        tx
    }

    /// Renews the leases of the jobs of `queue` running on this node, every third of a
    /// lease, so that no other node claims a job that is only slow. Returns the set the
    /// runner keeps them in.
    fn spawn_lease_renewer(&self, queue: JobQueue) -> Arc<Mutex<HashSet<i64>>> {
        let running: Arc<Mutex<HashSet<i64>>> = Arc::default();
        let lease = self.settings().job_lease;
        let store = self.store().clone();
        let watched = running.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(lease / 3);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let ids: Vec<i64> = lock(&watched).iter().copied().collect();
                if ids.is_empty() {
                    continue;
                }
                let until = ids::now_ms() + lease.as_millis() as i64;
                if let Err(e) = store.renew_job_leases(&ids, until).await {
                    tracing::warn!(queue = queue.as_str(), error = %e, "cannot renew job leases");
                }
            }
        });
        running
    }

    async fn run_one(
        &self,
        claimed: ClaimedJob,
        finished: &mpsc::UnboundedSender<i64>,
        running: &Mutex<HashSet<i64>>,
    ) {
        let span =
            tracing::debug_span!("job", id = claimed.id, queue = claimed.job.queue().as_str());
        let _enter = span.enter();
        let outcome = match &claimed.job {
            Job::Deliver {
                inbox,
                signer_id,
                activity,
            } => self.run_delivery(inbox, signer_id, activity).await,
            Job::Inbox {
                signer_uri,
                activity,
            } => match self.process(signer_uri, activity).await {
                Ok(()) => Outcome::Done,
                Err(e) if e.is_transient() && claimed.attempts < INBOX_ATTEMPTS => Outcome::Retry {
                    reason: e.to_string(),
                    after: None,
                },
                Err(e) => Outcome::GiveUp(e.to_string()),
            },
            Job::Federate { event } => match self.federate(event).await {
                Ok(()) => Outcome::Done,
                Err(e) if e.is_transient() => Outcome::Retry {
                    reason: e.to_string(),
                    after: None,
                },
                Err(e) => Outcome::GiveUp(e.to_string()),
            },
        };
        // No longer renewed: whatever is recorded next (a retry time) stands.
        lock(running).remove(&claimed.id);
        let now = ids::now_ms();
        let stored = match outcome {
            Outcome::Done => {
                let _ = finished.send(claimed.id);
                Ok(())
            }
            Outcome::Retry { reason, .. } if claimed.attempts >= MAX_ATTEMPTS => {
                self.store().bury_job(claimed.id, &reason, now).await
            }
            Outcome::Retry { reason, after } => {
                let wait = after
                    .unwrap_or_default()
                    .max(self.backoff(claimed.attempts));
                tracing::debug!(job = claimed.id, %reason, ?wait, "job will be retried");
                self.store()
                    .retry_job(claimed.id, now + wait.as_millis() as i64, &reason)
                    .await
            }
            Outcome::GiveUp(reason) => {
                tracing::info!(job = claimed.id, %reason, "job given up");
                self.store().bury_job(claimed.id, &reason, now).await
            }
        };
        if let Err(e) = stored {
            // The lease runs out and the job is claimed again.
            tracing::warn!(job = claimed.id, error = %e, "cannot record a job's outcome");
        }
    }

    async fn run_delivery(&self, inbox: &str, signer_id: &str, activity: &str) -> Outcome {
        let host = host_of(inbox).unwrap_or_default();
        let now = ids::now_ms();
        match self.check_not_blocked(inbox).await {
            Ok(()) => {}
            Err(e @ Error::Blocked(_)) => return Outcome::GiveUp(e.to_string()),
            Err(e) => {
                return Outcome::Retry {
                    reason: e.to_string(),
                    after: None,
                };
            }
        }
        match self.store().instance_suspended(&host).await {
            Ok(true) => {
                // The next request from it is news: it resumes deliveries at once.
                self.0.seen_hosts.forget(&host);
                return Outcome::GiveUp(format!(
                    "{host} is suspended: it has not answered for too long"
                ));
            }
            Ok(false) => {}
            Err(e) => {
                return Outcome::Retry {
                    reason: e.to_string(),
                    after: None,
                };
            }
        }
        let delivery = match self.deliver(inbox, signer_id, activity).await {
            Ok(d) => d,
            Err(e @ Error::ActorKey(_)) | Err(e @ Error::Store(_)) => {
                return Outcome::Retry {
                    reason: e.to_string(),
                    after: None,
                };
            }
            Err(e) => return Outcome::GiveUp(e.to_string()),
        };
        let dead_after = self.settings().dead_after.as_millis() as i64;
        // A server that answers, even with a refusal, is alive.
        let reachable = !matches!(delivery, Delivery::Failed { .. });
        match self
            .store()
            .record_delivery(&host, reachable, now, dead_after)
            .await
        {
            Ok(true) => self.0.seen_hosts.forget(&host),
            Ok(false) => {}
            Err(e) => tracing::warn!(%host, error = %e, "cannot record a delivery"),
        }
        match delivery {
            Delivery::Delivered => Outcome::Done,
            Delivery::Failed {
                reason,
                retry_after,
            } => Outcome::Retry {
                reason,
                after: retry_after,
            },
            Delivery::Refused { reason } => Outcome::GiveUp(reason),
        }
    }

    /// The wait before retry number `attempts`: the base, doubled each time.
    fn backoff(&self, attempts: i64) -> Duration {
        let doublings = (attempts - 1).clamp(0, 16) as u32;
        self.settings()
            .retry_base
            .saturating_mul(2u32.saturating_pow(doublings))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
