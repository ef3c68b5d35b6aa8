//! A plugin's key-value quota charges what its entries really keep (their row, names and
//! value), is refused exactly where the charged bytes would pass it, follows every write,
//! delete and expiry, and costs a write the same whether the plugin keeps ten entries or a
//! hundred thousand.

use std::time::{Duration, Instant};

use tsudoi_model::{KvKey, KvRefusal};
use tsudoi_store::{KvUsage, Store};
use tsudoi_testkit::TestDatabase;

const NOW: i64 = 1_000_000;

#[tokio::test]
async fn the_quota_charges_each_entry_its_row_names_and_value() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    // Empty values under short keys: what a plugin flooding tiny rows writes.
    let quota = 100 * (KvKey::ENTRY_OVERHEAD + 20);
    let mut charged = 0;
    let mut kept = 0;
    let refused_at = loop {
        let key = format!("k{kept}");
        let at = KvKey::new("flood", "b", &key);
        match store.kv_set(at, b"", None, NOW, quota).await.unwrap() {
            Ok(()) => {
                charged += at.entry_bytes(0);
                kept += 1;
            }
            Err(refusal) => {
                assert_eq!(refusal, KvRefusal::QuotaExceeded);
                break at.entry_bytes(0);
            }
        }
    };
    assert!(
        charged <= quota && charged + refused_at > quota,
        "{charged} of {quota}"
    );
    assert!(
        (100..200).contains(&kept),
        "{kept} empty entries within the quota"
    );
    assert_eq!(
        store.kv_usage("flood").await.unwrap(),
        KvUsage {
            bytes: charged,
            entries: kept
        }
    );

    // Overwriting charges the difference; a write that shrinks is allowed even when full.
    let first = KvKey::new("flood", "b", "k0");
    assert_eq!(
        store
            .kv_set(first, &[1; 500], None, NOW, quota)
            .await
            .unwrap(),
        Err(KvRefusal::QuotaExceeded)
    );
    store
        .kv_delete(KvKey::new("flood", "b", "k1"))
        .await
        .unwrap();
    store
        .kv_delete(KvKey::new("flood", "b", "k2"))
        .await
        .unwrap();
    let freed = 2 * KvKey::new("flood", "b", "k1").entry_bytes(0);
    assert_eq!(
        store.kv_usage("flood").await.unwrap().bytes,
        charged - freed
    );
    store
        .kv_set(first, b"12345", None, NOW, quota)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.kv_usage("flood").await.unwrap().bytes,
        charged - freed + 5
    );
    store
        .kv_set(first, b"", None, NOW, 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.kv_usage("flood").await.unwrap().bytes,
        charged - freed
    );

    // Counters are charged as the number they hold.
    let counter = KvKey::new("count", "c", "n");
    assert_eq!(
        store
            .kv_increment(counter, 12345, None, NOW, quota)
            .await
            .unwrap(),
        Ok(12345)
    );
    assert_eq!(
        store.kv_usage("count").await.unwrap(),
        KvUsage {
            bytes: counter.entry_bytes(5),
            entries: 1
        }
    );
    assert_eq!(
        store
            .kv_increment(counter, 1, None, NOW, counter.entry_bytes(5))
            .await
            .unwrap(),
        Ok(12346),
        "same length, same charge"
    );
    assert_eq!(
        store
            .kv_increment(counter, 100_000, None, NOW, counter.entry_bytes(5))
            .await
            .unwrap(),
        Err(KvRefusal::QuotaExceeded),
        "one more digit would pass the quota"
    );

    // Expired entries stop counting once a write sweeps them.
    let temp = KvKey::new("count", "c", "temp");
    store
        .kv_set(temp, &[0; 100], Some(NOW + 10), NOW, quota)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.kv_usage("count").await.unwrap().entries, 2);
    store
        .kv_increment(counter, 1, None, NOW + 10, quota)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.kv_usage("count").await.unwrap(),
        KvUsage {
            bytes: counter.entry_bytes(5),
            entries: 1
        }
    );

    store.kv_clear("flood").await.unwrap();
    assert_eq!(store.kv_usage("flood").await.unwrap(), KvUsage::default());
}

/// Rows written below the store: `n` entries of `plugin`, and its usage to match.
async fn seed_entries(url: &str, plugin: &str, n: i64) {
    let rows = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
         INSERT INTO plugin_kv (plugin, bucket, key, value, expires_at) \
         SELECT '{plugin}', 'b', 'seeded' || i, {{empty}}, NULL FROM n"
    );
    let usage = format!(
        "INSERT INTO plugin_kv_usage (plugin, bytes, entries) VALUES ('{plugin}', {n} * 80, {n})"
    );
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        for sql in [rows.replace("{empty}", "X''"), usage] {
            sqlx::query(&sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        for sql in [rows.replace("{empty}", "''::bytea"), usage] {
            sqlx::query(&sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
}

/// The median time of `n` writes by `plugin`.
async fn median_write(store: &Store, plugin: &str, n: usize) -> Duration {
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let key = format!("w{i}");
        let started = Instant::now();
        store
            .kv_set(KvKey::new(plugin, "b", &key), b"v", None, NOW, i64::MAX)
            .await
            .unwrap()
            .unwrap();
        times.push(started.elapsed());
    }
    times.sort();
    times[n / 2]
}

#[tokio::test]
async fn a_write_costs_the_same_however_many_entries_the_plugin_keeps() {
    let db = TestDatabase::new();
    let store = Store::open(&db.url).await.unwrap();
    seed_entries(&db.url, "few", 10).await;
    seed_entries(&db.url, "many", 100_000).await;
    let listed = store
        .kv_list_keys("many", "b", "seeded9999", 1000, NOW)
        .await
        .unwrap();
    assert_eq!(listed.len(), 11, "seeded9999 and seeded99990..seeded99999");
    // Warm both plugins' pages, then alternate.
    median_write(&store, "few", 5).await;
    median_write(&store, "many", 5).await;
    let few = median_write(&store, "few", 30).await;
    let many = median_write(&store, "many", 30).await;
    // Summing 100,000 entries took tens of milliseconds a write; a constant-cost write stays
    // within a small factor of the small plugin's.
    assert!(
        many < few * 5 + Duration::from_millis(5),
        "a write with 100,000 entries took {many:?}, with 10 {few:?}"
    );
}
