//! Two buses on one real Redis server, as two nodes: what one publishes reaches the other's
//! subscribers once, and its own subscribers once (not again on the way back).
//!
//! Needs `TSUDOI_TEST_REDIS_URL` (`.ci/run` sets it to the machine's Redis); without it the
//! test says so and passes, since the default suite needs nothing but SQLite.

use std::time::Duration;

use tsudoi_bus::Bus;
use tsudoi_model::Event;

fn created(id: &str) -> Event {
    Event::NoteCreated {
        note_id: id.to_owned(),
        user_id: "u".to_owned(),
    }
}

#[tokio::test]
async fn an_event_published_on_one_node_reaches_the_other_once() {
    let Ok(url) = std::env::var("TSUDOI_TEST_REDIS_URL") else {
        eprintln!("TSUDOI_TEST_REDIS_URL is not set: skipping the Redis bus test");
        return;
    };
    let a = Bus::redis(&url).unwrap();
    let b = Bus::redis(&url).unwrap();
    let mut on_a = a.subscribe();
    let mut on_b = b.subscribe();
    // Both must be listening before the event that counts: retry a probe until b hears a.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        a.publish(created("probe"));
        if tokio::time::timeout(Duration::from_millis(200), on_b.recv())
            .await
            .is_ok()
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "b never heard a");
    }

    a.publish(created("n1"));
    assert_eq!(
        next_real(&mut on_b).await,
        Some(created("n1")),
        "b heard nothing"
    );
    assert_eq!(next_real(&mut on_a).await, Some(created("n1")));
    // Nothing comes back to a from Redis, nor twice to b.
    assert_eq!(
        next_real(&mut on_a).await,
        None,
        "a got its own event twice"
    );
    assert_eq!(next_real(&mut on_b).await, None, "b got the event twice");
}

/// The next event other than a probe (late probes may still be arriving), if one comes
/// within a second.
async fn next_real(
    rx: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<Event>>,
) -> Option<Event> {
    loop {
        let got = tokio::time::timeout(Duration::from_secs(1), rx.recv())
            .await
            .ok()?
            .ok()?;
        if *got != created("probe") {
            return Some((*got).clone());
        }
    }
}

#[tokio::test]
async fn two_nodes_take_from_one_bucket_and_a_check_takes_nothing() {
    let Ok(url) = std::env::var("TSUDOI_TEST_REDIS_URL") else {
        eprintln!("TSUDOI_TEST_REDIS_URL is not set: skipping the shared buckets test");
        return;
    };
    let (a, b) = (Bus::redis(&url).unwrap(), Bus::redis(&url).unwrap());
    let (a, b) = (a.shared_buckets().unwrap(), b.shared_buckets().unwrap());
    let key = format!("test:{}", rand::random::<u64>());
    // Three an hour: one through a, two through b, then none for either.
    assert_eq!(a.take(&key, 3, true).await.unwrap(), None);
    assert_eq!(b.take(&key, 3, false).await.unwrap(), None, "a check");
    assert_eq!(b.take(&key, 3, true).await.unwrap(), None);
    assert_eq!(b.take(&key, 3, true).await.unwrap(), None);
    let wait = a
        .take(&key, 3, true)
        .await
        .unwrap()
        .expect("the bucket is empty");
    // A token every twenty minutes.
    assert!(
        wait > Duration::from_secs(19 * 60) && wait <= Duration::from_secs(20 * 60),
        "{wait:?}"
    );
    assert!(b.take(&key, 3, false).await.unwrap().is_some());
}
