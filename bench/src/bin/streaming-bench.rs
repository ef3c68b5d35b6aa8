//! `streaming-bench`: Misskey's streaming API under load on one node. Thousands of
//! WebSocket connections (half on the home timeline of users who follow the poster, half
//! on the local timeline), notes posted one at a time, and for each the time from the
//! `notes/create` call until every connection has it. The baseline, in the same run, is
//! the same note reaching a single connection: the floor set by the API call and the
//! node's own work. Also the memory an idle connection costs the server (its resident set
//! before and after they open).
//!
//! `cargo build --release -p tsudoi-bench && target/release/streaming-bench --data-dir D`
//! (the `tsudoi` next to it is the server measured).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tsudoi_bench::{make_user, ms, number_after, open_stream, percentile, start_server};
use tsudoi_model::ids;
use tsudoi_store::Store;

#[derive(Parser, Debug)]
#[command(name = "streaming-bench", about = "Tsudoi's streaming API under load")]
struct Args {
    /// Where the measured server keeps its data (made fresh each run).
    #[arg(long)]
    data_dir: PathBuf,
    /// Streaming connections open at once.
    #[arg(long, default_value_t = 5_000)]
    connections: usize,
    /// Users they belong to (each follows the poster).
    #[arg(long, default_value_t = 1_000)]
    users: usize,
    /// Notes posted and timed, one at a time.
    #[arg(long, default_value_t = 30)]
    notes: usize,
    /// Pause between notes.
    #[arg(long, default_value_t = 200)]
    interval_ms: u64,
}

/// When each timed note was sent, and the latencies seen, shared with the connections.
struct Clock {
    sent: Mutex<Vec<Option<Instant>>>,
    seen: Mutex<Vec<Duration>>,
    delivered: AtomicUsize,
}

impl Clock {
    fn new(notes: usize) -> Arc<Self> {
        Arc::new(Clock {
            sent: Mutex::new(vec![None; notes]),
            seen: Mutex::new(Vec::new()),
            delivered: AtomicUsize::new(0),
        })
    }

    /// A message a connection got: if it carries timed note `k` ("bench-k"), its latency.
    fn record(&self, text: &str) {
        let Some(k) = number_after(text, "\"text\":\"bench-") else {
            return;
        };
        let sent = self.sent.lock().unwrap().get(k).copied().flatten();
        if let Some(sent) = sent {
            self.seen.lock().unwrap().push(sent.elapsed());
            self.delivered.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Opens a connection for `token` on `channel` and waits until the server has connected
/// it; then records every timed note it gets.
async fn connect(
    origin: &str,
    token: &str,
    channel: &str,
    clock: Arc<Clock>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut ws = open_stream(origin, token, channel).await?;
    Ok(tokio::spawn(async move {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(t) = msg {
                clock.record(&t);
            }
        }
    }))
}

/// Posts timed notes `range` one at a time and waits, after each, until `expected`
/// connections have it. Returns the latencies, in order.
async fn post_timed(
    client: &reqwest::Client,
    origin: &str,
    token: &str,
    clock: &Clock,
    range: std::ops::Range<usize>,
    expected: usize,
    interval: Duration,
) -> anyhow::Result<Vec<Duration>> {
    for k in range {
        let before = clock.delivered.load(Ordering::Relaxed);
        clock.sent.lock().unwrap()[k] = Some(Instant::now());
        let res = client
            .post(format!("{origin}/api/notes/create"))
            .json(&serde_json::json!({"i": token, "text": format!("bench-{k}")}))
            .send()
            .await?;
        if !res.status().is_success() {
            bail!("notes/create answered {}", res.status());
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while clock.delivered.load(Ordering::Relaxed) < before + expected {
            if Instant::now() > deadline {
                bail!(
                    "note {k} reached {} of {expected} connections",
                    clock.delivered.load(Ordering::Relaxed) - before
                );
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(interval).await;
    }
    Ok(std::mem::take(&mut *clock.seen.lock().unwrap()))
}

/// The server's resident memory, in KiB.
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut server = start_server(&args.data_dir, &[]).await?;
    let pid = server.process.id().context("the server has no pid")?;
    let (origin, database_url) = (server.origin.clone(), server.database_url.clone());

    // The poster and the users, with tokens, straight into the database.
    let store = Store::connect(&database_url).await?;
    let make = |name: String| {
        let store = store.clone();
        async move {
            let token = format!("bench-token-{name}");
            anyhow::Ok((make_user(&store, &name, &token).await?, token))
        }
    };
    let (poster_id, poster) = make("poster".into()).await?;
    let mut users = Vec::with_capacity(args.users);
    for u in 0..args.users {
        let (id, token) = make(format!("u{u}")).await?;
        store
            .follow(&ids::aidx(), &id, &poster_id, ids::now_ms(), &[], &[])
            .await?;
        users.push(token);
    }
    let client = reqwest::Client::new();
    println!(
        "# streaming-bench: {} connections of {} users (half home, half local), {} notes",
        args.connections, args.users, args.notes
    );

    // Baseline: one connection, after a note that warms the server up (its first note
    // starts the streaming hub and fills its caches).
    let interval = Duration::from_millis(args.interval_ms);
    let clock = Clock::new(2 * args.notes + 1);
    let idle_before = rss_kib(pid)?;
    let one = connect(&origin, &users[0], "localTimeline", clock.clone()).await?;
    post_timed(&client, &origin, &poster, &clock, 0..1, 1, interval).await?;
    let mut base = post_timed(
        &client,
        &origin,
        &poster,
        &clock,
        1..args.notes + 1,
        1,
        interval,
    )
    .await?;
    one.abort();
    base.sort();

    // Every connection.
    let mut open = Vec::with_capacity(args.connections);
    let started = Instant::now();
    for batch in (0..args.connections).collect::<Vec<_>>().chunks(100) {
        let opening = batch.iter().map(|&c| {
            let channel = if c % 2 == 0 {
                "homeTimeline"
            } else {
                "localTimeline"
            };
            connect(&origin, &users[c % args.users], channel, clock.clone())
        });
        for handle in futures_util::future::join_all(opening).await {
            open.push(handle?);
        }
    }
    let opened_in = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_after = rss_kib(pid)?;
    let mut all = post_timed(
        &client,
        &origin,
        &poster,
        &clock,
        args.notes + 1..2 * args.notes + 1,
        args.connections,
        interval,
    )
    .await?;
    all.sort();

    let per_connection = (idle_after.saturating_sub(idle_before)) as f64 / args.connections as f64;
    println!(
        "opened {} connections in {:.1} s; server memory {} MiB -> {} MiB, {per_connection:.1} KiB per idle connection",
        args.connections,
        opened_in.as_secs_f64(),
        idle_before / 1024,
        idle_after / 1024
    );
    println!(
        "baseline, 1 connection: p50 {:.1} ms, p99 {:.1} ms ({} deliveries)",
        ms(percentile(&base, 0.5)),
        ms(percentile(&base, 0.99)),
        base.len()
    );
    println!(
        "{} connections: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} deliveries); p99 {:.1}x the baseline's",
        args.connections,
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.99)),
        ms(all.last().copied().unwrap_or_default()),
        all.len(),
        percentile(&all, 0.99).as_secs_f64() / percentile(&base, 0.99).as_secs_f64().max(1e-9)
    );
    for h in open {
        h.abort();
    }
    let _ = server.process.kill().await;
    Ok(())
}
