//! `cluster-bench`: one instance on one node and on three, in the same run, on PostgreSQL
//! and Redis. It measures the throughput of `notes/create` and of home timeline reads
//! (`notes/timeline`) with the load on node 1 alone, then spread round robin over three
//! nodes, then on node 1 alone again (so drift during the run shows), and prints each
//! three-node figure as a ratio of the one-node figures around it. Then the streaming
//! latency across nodes: connections on nodes 2 and 3 get notes posted through node 1,
//! against the baseline of connections on node 1 itself.
//!
//! The load generator runs on the same machine as the nodes, PostgreSQL and Redis. Plainly,
//! the ratios say what adding nodes gives on that machine, where they share its cores with
//! each other and with the database. With `--node-cpu F` (as root), each node is held to F
//! of a CPU (a cgroup of its own), as if it ran on a small machine of its own beside a
//! larger database: then the ratios say whether the work spreads over nodes.
//!
//! `cargo build --release -p tsudoi -p tsudoi-bench && target/release/cluster-bench`
//! (the `tsudoi` next to it is the server measured).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::StreamExt;
use rand::Rng;
use tokio_tungstenite::tungstenite::Message;
use tsudoi_bench::{Measured, make_user, ms, number_after, open_stream, percentile, start_server};
use tsudoi_model::ids;
use tsudoi_store::Store;

#[derive(Parser, Debug)]
#[command(name = "cluster-bench", about = "Tsudoi on one node and on three")]
struct Args {
    /// A PostgreSQL database to connect to while making the benchmark's own (dropped first).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    postgres: String,
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis: String,
    /// Where the nodes keep their files.
    #[arg(long, default_value = "/tmp/cluster-bench")]
    data_dir: PathBuf,
    /// Users posting and reading (each follows `follows` others). Enough of them that no
    /// one runs into `notes/create`'s hourly limit (300) over the run.
    #[arg(long, default_value_t = 1_000)]
    users: usize,
    #[arg(long, default_value_t = 20)]
    follows: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Length of each throughput phase.
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// Streaming connections per node for the latency part, and notes timed.
    #[arg(long, default_value_t = 200)]
    connections: usize,
    #[arg(long, default_value_t = 30)]
    notes: usize,
    /// Hold each node to this much of a CPU (0.25: a quarter), through a cgroup of its own.
    #[arg(long)]
    node_cpu: Option<f64>,
}

/// Holds process `pid` (node `n`) to `cpus` of CPU time, through the `cpu` controller
/// (cgroup v1, or v2 where that is how the machine mounts it). Needs root.
fn limit_cpu(n: usize, pid: u32, cpus: f64) -> anyhow::Result<PathBuf> {
    let period = 100_000u64;
    let quota = ((cpus * period as f64) as u64).max(1_000);
    let v1 = PathBuf::from("/sys/fs/cgroup/cpu");
    let (dir, settings) = if v1.join("cpu.cfs_quota_us").exists() {
        let dir = v1.join(format!("cluster-bench-node{n}"));
        let settings = vec![
            ("cpu.cfs_period_us", period.to_string()),
            ("cpu.cfs_quota_us", quota.to_string()),
        ];
        (dir, settings)
    } else {
        let dir = PathBuf::from(format!("/sys/fs/cgroup/cluster-bench-node{n}"));
        (dir, vec![("cpu.max", format!("{quota} {period}"))])
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot make {} (--node-cpu needs root)", dir.display()))?;
    for (file, value) in settings {
        std::fs::write(dir.join(file), value)
            .with_context(|| format!("cannot set {}", dir.join(file).display()))?;
    }
    std::fs::write(dir.join("cgroup.procs"), pid.to_string())?;
    Ok(dir)
}

const DATABASE: &str = "tsudoi_cluster_bench";

/// `base` (a PostgreSQL URL) with its database replaced by `name`.
fn with_database(base: &str, name: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(base).context("--postgres is not a URL")?;
    url.set_path(name);
    Ok(url.to_string())
}

async fn fresh_database(admin_url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// What a phase of load came to.
struct Throughput {
    requests: u64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

#[derive(Clone, Copy)]
enum Load {
    Create,
    HomeTimeline,
}

/// `concurrency` clients calling `load` for `seconds` on `origins` in turn, each call as a
/// random user.
async fn run_load(
    client: &reqwest::Client,
    origins: &[String],
    tokens: &Arc<Vec<String>>,
    load: Load,
    concurrency: usize,
    seconds: u64,
) -> anyhow::Result<Throughput> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let first_failure = Arc::new(std::sync::Mutex::new(None::<String>));
    let mut workers = Vec::new();
    let started = Instant::now();
    for _ in 0..concurrency {
        let (client, origins, tokens) = (client.clone(), origins.to_vec(), tokens.clone());
        let (next, failures) = (next.clone(), failures.clone());
        let first_failure = first_failure.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let origin = &origins[k % origins.len()];
                let token = &tokens[rand::rng().random_range(0..tokens.len())];
                let (path, body) = match load {
                    Load::Create => (
                        "notes/create",
                        serde_json::json!({"i": token, "text": format!("cluster bench {k}")}),
                    ),
                    Load::HomeTimeline => (
                        "notes/timeline",
                        serde_json::json!({"i": token, "limit": 20}),
                    ),
                };
                let at = Instant::now();
                let failed = match client
                    .post(format!("{origin}/api/{path}"))
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => None,
                    Ok(r) => Some(format!(
                        "{path} answered {}: {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    )),
                    Err(e) => Some(format!("{path}: {e}")),
                };
                match failed {
                    None => latencies.push(at.elapsed()),
                    Some(why) => {
                        failures.fetch_add(1, Ordering::Relaxed);
                        first_failure.lock().unwrap().get_or_insert(why);
                    }
                }
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await?);
    }
    let elapsed = started.elapsed();
    let failed = failures.load(Ordering::Relaxed);
    if failed > 0 {
        let why = first_failure.lock().unwrap().take().unwrap_or_default();
        bail!("{failed} requests failed; the first: {why}");
    }
    all.sort();
    Ok(Throughput {
        requests: all.len() as u64,
        per_second: all.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: ms(percentile(&all, 0.5)),
        p99_ms: ms(percentile(&all, 0.99)),
    })
}

fn report(label: &str, t: &Throughput) {
    println!(
        "  {label:<24} {:>8.1} req/s  p50 {:>6.1} ms  p99 {:>6.1} ms  ({} requests)",
        t.per_second, t.p50_ms, t.p99_ms, t.requests
    );
}

/// A streaming connection on the local timeline that reports when each timed note
/// ("cluster-stream-k") arrives.
async fn listen(
    origin: &str,
    token: &str,
    arrived: Arc<tokio::sync::mpsc::UnboundedSender<(usize, Instant)>>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut ws = open_stream(origin, token, "localTimeline").await?;
    Ok(tokio::spawn(async move {
        while let Some(Ok(msg)) = ws.next().await {
            let Message::Text(t) = msg else { continue };
            if let Some(k) = number_after(&t, "cluster-stream-") {
                let _ = arrived.send((k, Instant::now()));
            }
        }
    }))
}

/// Latencies from posting through `poster_origin` to each of `args.connections` listening
/// on `listen_origins`, over `args.notes` notes posted one at a time (numbered from `first`).
async fn stream_latency(
    client: &reqwest::Client,
    poster_origin: &str,
    poster: &str,
    listen_origins: &[String],
    tokens: &[String],
    args: &Args,
    first: usize,
) -> anyhow::Result<Vec<Duration>> {
    let (connections, notes) = (args.connections, args.notes);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let tx = Arc::new(tx);
    let mut open = Vec::new();
    for c in 0..connections {
        let origin = &listen_origins[c % listen_origins.len()];
        open.push(listen(origin, &tokens[c % tokens.len()], tx.clone()).await?);
    }
    let mut latencies = Vec::new();
    for k in first..first + notes {
        let sent = Instant::now();
        let res = client
            .post(format!("{poster_origin}/api/notes/create"))
            .json(&serde_json::json!({"i": poster, "text": format!("cluster-stream-{k}")}))
            .send()
            .await?;
        if !res.status().is_success() {
            bail!("notes/create answered {}", res.status());
        }
        let mut got = 0;
        while got < connections {
            let (n, at) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .context("a streamed note did not arrive")?
                .context("the listeners stopped")?;
            if n == k {
                latencies.push(at - sent);
                got += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for h in open {
        h.abort();
    }
    latencies.sort();
    Ok(latencies)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    fresh_database(&args.postgres).await?;
    let database_url = with_database(&args.postgres, DATABASE)?;
    let env = [
        ("TSUDOI_DATABASE_URL", database_url.as_str()),
        ("TSUDOI_REDIS_URL", args.redis.as_str()),
    ];
    let dirs: Vec<PathBuf> = (1..=3)
        .map(|n| args.data_dir.join(format!("node{n}")))
        .collect();
    let mut groups = Vec::new();
    let mut start = async |n: usize| -> anyhow::Result<Measured> {
        let node = start_server(&dirs[n], &env).await?;
        if let Some(cpus) = args.node_cpu {
            let pid = node.process.id().context("a node has no pid")?;
            groups.push(limit_cpu(n + 1, pid, cpus)?);
        }
        Ok(node)
    };
    let mut nodes: Vec<Measured> = vec![start(0).await?];

    // Users with tokens, each following a few others, straight into the database.
    let store = Store::connect(&database_url).await?;
    let mut users = Vec::with_capacity(args.users);
    for chunk in (0..args.users).collect::<Vec<_>>().chunks(50) {
        let made = chunk.iter().map(|u| {
            let store = store.clone();
            async move {
                let token = format!("cluster-bench-token-{u}");
                anyhow::Ok((make_user(&store, &format!("c{u}"), &token).await?, token))
            }
        });
        for user in futures_util::future::join_all(made).await {
            users.push(user?);
        }
    }
    let mut follows = Vec::new();
    let mut rng = rand::rng();
    for (id, _) in &users {
        for _ in 0..args.follows {
            let (other, _) = &users[rng.random_range(0..users.len())];
            if other != id {
                follows.push((id.clone(), other.clone()));
            }
        }
    }
    for chunk in follows.chunks(50) {
        let made = chunk.iter().map(|(follower, followee)| {
            let store = store.clone();
            async move {
                store
                    .follow(&ids::aidx(), follower, followee, ids::now_ms(), &[], &[])
                    .await
            }
        });
        for done in futures_util::future::join_all(made).await {
            done?;
        }
    }
    let tokens: Arc<Vec<String>> = Arc::new(users.iter().map(|(_, t)| t.clone()).collect());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    println!(
        "# cluster-bench: {} users following {} each, {} clients, {} s a phase, PostgreSQL + Redis{}",
        args.users,
        args.follows,
        args.concurrency,
        args.seconds,
        args.node_cpu
            .map(|c| format!(", each node held to {c} CPU"))
            .unwrap_or_default()
    );

    let one = vec![nodes[0].origin.clone()];
    let phase = |origins: Vec<String>, load: Load| {
        let (client, tokens) = (client.clone(), tokens.clone());
        let (concurrency, seconds) = (args.concurrency, args.seconds);
        async move { run_load(&client, &origins, &tokens, load, concurrency, seconds).await }
    };
    // Warm-up: notes for the timelines to show, and the node's caches.
    let warm = |origins: Vec<String>, load: Load| {
        let (client, tokens) = (client.clone(), tokens.clone());
        let concurrency = args.concurrency;
        let seconds = args.seconds.min(3);
        async move { run_load(&client, &origins, &tokens, load, concurrency, seconds).await }
    };
    warm(one.clone(), Load::Create).await?;
    warm(one.clone(), Load::HomeTimeline).await?;

    let create_1 = phase(one.clone(), Load::Create).await?;
    let read_1 = phase(one.clone(), Load::HomeTimeline).await?;
    nodes.push(start(1).await?);
    nodes.push(start(2).await?);
    let three: Vec<String> = nodes.iter().map(|n| n.origin.clone()).collect();
    warm(three.clone(), Load::HomeTimeline).await?; // the new nodes' caches
    let create_3 = phase(three.clone(), Load::Create).await?;
    let read_3 = phase(three.clone(), Load::HomeTimeline).await?;
    let create_1b = phase(one.clone(), Load::Create).await?;
    let read_1b = phase(one.clone(), Load::HomeTimeline).await?;

    println!("notes/create");
    report("1 node", &create_1);
    report("3 nodes", &create_3);
    report("1 node, again", &create_1b);
    println!("notes/timeline (home, 20 notes)");
    report("1 node", &read_1);
    report("3 nodes", &read_3);
    report("1 node, again", &read_1b);
    let ratio = |three: &Throughput, a: &Throughput, b: &Throughput| {
        three.per_second / ((a.per_second + b.per_second) / 2.0)
    };
    println!(
        "3 nodes / 1 node: notes/create {:.2}x, notes/timeline {:.2}x",
        ratio(&create_3, &create_1, &create_1b),
        ratio(&read_3, &read_1, &read_1b)
    );

    // Streaming: the baseline is the same node; then across nodes.
    let others = vec![nodes[1].origin.clone(), nodes[2].origin.clone()];
    let poster = &tokens[0];
    let same = stream_latency(&client, &nodes[0].origin, poster, &one, &tokens, &args, 0).await?;
    let across = stream_latency(
        &client,
        &nodes[0].origin,
        poster,
        &others,
        &tokens,
        &args,
        args.notes,
    )
    .await?;
    println!(
        "streaming, posted through node 1 to {} connections: on node 1 p50 {:.1} ms p99 {:.1} ms; on nodes 2-3 p50 {:.1} ms p99 {:.1} ms ({:.2}x)",
        args.connections,
        ms(percentile(&same, 0.5)),
        ms(percentile(&same, 0.99)),
        ms(percentile(&across, 0.5)),
        ms(percentile(&across, 0.99)),
        percentile(&across, 0.99).as_secs_f64() / percentile(&same, 0.99).as_secs_f64().max(1e-9)
    );
    for mut n in nodes {
        let _ = n.process.kill().await;
        let _ = n.process.wait().await;
    }
    for dir in groups {
        let _ = std::fs::remove_dir(dir);
    }
    fresh_database(&args.postgres).await?;
    Ok(())
}
