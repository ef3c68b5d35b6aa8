//! The durable job queue, on the backend under test: jobs are enqueued with the write that
//! causes them (or not at all), claimed once per lease, retried, given up, and survive the
//! process (a lease that runs out makes a job due again).

// Only its users are needed here.
#[allow(dead_code)]
mod common;

use tsudoi_model::{FederationEvent, Job, JobQueue, ids};
use tsudoi_store::{QueueDepth, Store};
use tsudoi_testkit::TestDatabase;

fn delivery(n: usize) -> Job {
    Job::Deliver {
        inbox: format!("https://remote.example/inbox/{n}"),
        signer_id: "someone".into(),
        activity: format!("{{\"n\":{n}}}"),
    }
}

#[tokio::test]
async fn jobs_are_claimed_once_per_lease_retried_and_buried() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    let now = ids::now_ms();
    store
        .enqueue(&[delivery(1), delivery(2), delivery(3)], now)
        .await
        .unwrap();
    assert_eq!(
        store.queue_depth(JobQueue::Deliver).await.unwrap(),
        QueueDepth {
            waiting: 3,
            dead: 0
        }
    );
    assert!(
        store
            .claim_jobs(JobQueue::Inbox, 10, now, 60_000)
            .await
            .unwrap()
            .is_empty(),
        "queues are separate"
    );

    let first = store
        .claim_jobs(JobQueue::Deliver, 2, now, 60_000)
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].job, delivery(1));
    assert_eq!(first[0].attempts, 1);
    let rest = store
        .claim_jobs(JobQueue::Deliver, 10, now, 60_000)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1, "claimed jobs are not handed out again");
    assert_eq!(rest[0].job, delivery(3));

    // Done, retried later, given up.
    store.finish_jobs(&[first[0].id]).await.unwrap();
    store
        .retry_job(first[1].id, now + 5_000, "the inbox answered 500")
        .await
        .unwrap();
    store
        .bury_job(rest[0].id, "the inbox answered 410", now)
        .await
        .unwrap();
    assert!(
        store
            .claim_jobs(JobQueue::Deliver, 10, now + 4_999, 60_000)
            .await
            .unwrap()
            .is_empty(),
        "a retry waits for its time"
    );
    let again = store
        .claim_jobs(JobQueue::Deliver, 10, now + 5_000, 60_000)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, first[1].id);
    assert_eq!(again[0].attempts, 2);
    assert_eq!(
        store.queue_depth(JobQueue::Deliver).await.unwrap(),
        QueueDepth {
            waiting: 1,
            dead: 1
        }
    );
    let dead = store.dead_jobs(JobQueue::Deliver).await.unwrap();
    assert_eq!(
        dead,
        vec![(delivery(3), "the inbox answered 410".to_owned())]
    );

    // A worker that died holding a job: its lease runs out and the job is claimed again.
    assert!(
        store
            .claim_jobs(JobQueue::Deliver, 10, now + 64_999, 60_000)
            .await
            .unwrap()
            .is_empty()
    );
    let reclaimed = store
        .claim_jobs(JobQueue::Deliver, 10, now + 65_000, 60_000)
        .await
        .unwrap();
    assert_eq!(reclaimed.len(), 1);
    assert_eq!(reclaimed[0].attempts, 3);
}

#[tokio::test]
async fn a_job_is_enqueued_only_with_the_write_that_causes_it() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    let ann = common::user(&store, "ann").await;
    let ben = common::user(&store, "ben").await;
    let job = Job::federate(FederationEvent::Followed {
        follower_id: ann.id.clone(),
        followee_id: ben.id.clone(),
    });
    let now = ids::now_ms();
    assert!(
        store
            .follow(
                &ids::aidx(),
                &ann.id,
                &ben.id,
                now,
                std::slice::from_ref(&job),
                &[]
            )
            .await
            .unwrap()
    );
    // The same follow again writes nothing, so it enqueues nothing either.
    assert!(
        !store
            .follow(
                &ids::aidx(),
                &ann.id,
                &ben.id,
                now,
                std::slice::from_ref(&job),
                &[]
            )
            .await
            .unwrap()
    );
    let claimed = store
        .claim_jobs(JobQueue::Federate, 10, now, 60_000)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].job, job);
}

#[tokio::test]
async fn concurrent_claims_never_hand_out_a_job_twice() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    let now = ids::now_ms();
    let jobs: Vec<Job> = (0..200).map(delivery).collect();
    store.enqueue(&jobs, now).await.unwrap();
    let mut claimers = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        claimers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_jobs(JobQueue::Deliver, 7, now, 60_000)
                    .await
                    .unwrap();
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|c| c.id));
            }
        }));
    }
    let mut all = Vec::new();
    for c in claimers {
        all.extend(c.await.unwrap());
    }
    all.sort();
    let claimed = all.len();
    all.dedup();
    assert_eq!(claimed, 200, "every job claimed");
    assert_eq!(all.len(), 200, "none twice");
}
