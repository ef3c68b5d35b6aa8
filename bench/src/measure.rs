//! The measurements: a real `tsudoi serve` process on loopback, driven over HTTP, each figure
//! next to a baseline from the same run.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use tsudoi_core::{Core, timelines};
use tsudoi_model::{FollowSide, NoteFilter, NoteSource, Page, User, ids};
use tsudoi_store::Store;

use crate::seed::{Shape, token};

pub struct Plan {
    pub server: PathBuf,
    pub url: String,
    pub backend: String,
    /// The seed's name in the report (`standard`, `dense`).
    pub seed: String,
    /// Every figure, or only the concurrent reads.
    pub every_figure: bool,
    pub shape: Shape,
    pub requests: usize,
    pub create_seconds: u64,
    pub concurrency: usize,
    pub read_seconds: u64,
    pub read_connections: Vec<usize>,
    pub local: Local,
}

/// Where this run keeps what it makes besides the seed (compiled plugins, the server's data
/// directory).
pub fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("tsudoi-bench-data-{}", std::process::id()))
}

/// The seeded database, opened in this process for the in-process baselines: through the
/// rules (the same read as the API's) and straight to the store (the listing alone).
pub struct Local {
    pub core: Core,
    pub store: Store,
}

struct Row {
    figure: String,
    value: String,
    baseline: String,
    ratio: String,
    target: String,
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx.min(samples.len() - 1)]
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.1}×", a.as_secs_f64() / b.as_secs_f64().max(1e-9))
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// An axum server whose only handler returns `[]`: the floor for any API call over HTTP.
async fn empty_server() -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().route(
        "/api/empty",
        axum::routing::post(|| async { axum::Json(json!([])) }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}/api/empty"))
}

async fn post(client: &reqwest::Client, url: &str, body: &Value) -> anyhow::Result<Value> {
    let res = client.post(url).json(body).send().await?;
    let status = res.status();
    let text = res.text().await?;
    anyhow::ensure!(status.is_success(), "{url}: {status}: {text}");
    Ok(if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)?
    })
}

/// `n` sequential calls of `call(i)`, timed one by one.
async fn sample<F, Fut>(n: usize, mut call: F) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    // Warm up caches and connections first.
    for i in 0..(n / 10).max(1) {
        call(i).await?;
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        call(i).await?;
        out.push(t.elapsed());
    }
    Ok(out)
}

struct Sampled {
    user: User,
    token: String,
    /// The 100th note of the user's home timeline: where a deep page starts.
    deep_until: Option<String>,
    /// The 1000th.
    deeper_until: Option<String>,
}

pub async fn run(p: &Plan) -> anyhow::Result<()> {
    let mut rows: Vec<Row> = Vec::new();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let empty = empty_server().await?;

    // Cold start: spawn to first answered request, against the seeded database.
    let t = Instant::now();
    let status = std::process::Command::new(&p.server)
        .arg("--version")
        .stdout(Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "{} --version failed", p.server.display());
    let exec_baseline = t.elapsed();
    let port = free_port()?;
    let origin = format!("http://127.0.0.1:{port}");
    let t = Instant::now();
    let mut child = tokio::process::Command::new(&p.server)
        .arg("serve")
        .env("TSUDOI_LISTEN", format!("127.0.0.1:{port}"))
        .env("TSUDOI_DATABASE_URL", &p.url)
        .env("TSUDOI_DATA_DIR", scratch_dir())
        .env("TSUDOI_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .context("starting the server")?;
    let pid = child.id().context("server pid")?;
    loop {
        if let Ok(r) = client.get(format!("{origin}/healthz")).send().await
            && r.status().is_success()
        {
            break;
        }
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        if let Some(code) = child.try_wait()? {
            anyhow::bail!("server exited: {code}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let cold = t.elapsed();
    rows.push(Row {
        figure: "cold start to first served request".into(),
        value: ms(cold),
        baseline: format!("exec of `tsudoi --version` {}", ms(exec_baseline)),
        ratio: ratio(cold, exec_baseline),
        target: "≤ 1000 ms".into(),
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_kib(pid).unwrap_or(0);
    rows.push(Row {
        figure: "resident memory, idle".into(),
        value: format!("{:.1} MiB", idle as f64 / 1024.0),
        baseline: "".into(),
        ratio: "".into(),
        target: "≤ 50 MiB".into(),
    });

    let api = |e: &str| format!("{origin}/api/{e}");
    if !p.every_figure {
        rows.extend(concurrent_reads(p, &client, &origin).await?);
        child.start_kill()?;
        let _ = child.wait().await;
        print_rows(p, rows);
        return Ok(());
    }

    // Sample users and what their deep pages are.
    let mut rng = StdRng::seed_from_u64(7);
    let users = p.shape.users;
    let mut sampled = Vec::new();
    for _ in 0..200 {
        let i = rng.random_range(0..users);
        let user = p
            .local
            .store
            .user_by_username(&format!("u{i}"), None)
            .await?
            .context("seeded user missing")?;
        let deep_until = nth_home_note(&p.local.core, &user, 100).await?;
        let deeper_until = nth_home_note(&p.local.core, &user, 1000).await?;
        sampled.push(Sampled {
            user,
            token: token(i),
            deep_until,
            deeper_until,
        });
    }

    let mut http_empty = sample(p.requests, |_| {
        let (c, u) = (client.clone(), empty.clone());
        async move { post(&c, &u, &json!({})).await.map(|_| ()) }
    })
    .await?;
    let empty_p50 = percentile(&mut http_empty, 0.5);

    // Home timeline, first page.
    let mut store_home = sample(p.requests, |i| {
        let s = &sampled[i % sampled.len()];
        let (core, user) = (p.local.core.clone(), s.user.clone());
        async move {
            timelines::home(&core, &user, &NoteFilter::default(), &Page::newest(20)).await?;
            Ok(())
        }
    })
    .await?;
    let store_home_p50 = percentile(&mut store_home, 0.5);
    let mut home = sample(p.requests, |i| {
        let s = &sampled[i % sampled.len()];
        let (c, u, body) = (
            client.clone(),
            api("notes/timeline"),
            json!({ "i": s.token, "limit": 20 }),
        );
        async move {
            let v = post(&c, &u, &body).await?;
            anyhow::ensure!(
                v.as_array().is_some_and(|a| a.len() == 20),
                "short home page: {v}"
            );
            Ok(())
        }
    })
    .await?;
    let (h50, h99) = (percentile(&mut home, 0.5), percentile(&mut home, 0.99));
    rows.push(Row {
        figure: "home timeline, first page (limit 20) p50".into(),
        value: ms(h50),
        baseline: format!(
            "same read in-process {} + empty handler {}",
            ms(store_home_p50),
            ms(empty_p50)
        ),
        ratio: ratio(h50, store_home_p50 + empty_p50),
        target: "≤ 5 ms".into(),
    });
    rows.push(Row {
        figure: "home timeline, first page p99".into(),
        value: ms(h99),
        baseline: "".into(),
        ratio: "".into(),
        target: "≤ 25 ms".into(),
    });

    // Home timeline, deep pages: 100 and 1000 notes down.
    for (label, deeper) in [
        ("home timeline, untilId page 100 notes down", false),
        ("home timeline, untilId page 1000 notes down", true),
    ] {
        let chosen: Vec<(&Sampled, String)> = sampled
            .iter()
            .filter_map(|s| {
                let until = if deeper {
                    s.deeper_until.clone()
                } else {
                    s.deep_until.clone()
                };
                until.map(|u| (s, u))
            })
            .collect();
        if chosen.is_empty() {
            continue;
        }
        let mut lat = sample(p.requests, |i| {
            let (s, until) = &chosen[i % chosen.len()];
            let (c, u, body) = (
                client.clone(),
                api("notes/timeline"),
                json!({ "i": s.token, "limit": 20, "untilId": until }),
            );
            async move {
                let v = post(&c, &u, &body).await?;
                anyhow::ensure!(
                    v.as_array().is_some_and(|a| a.len() == 20),
                    "short deep page: {v}"
                );
                Ok(())
            }
        })
        .await?;
        let (l50, l99) = (percentile(&mut lat, 0.5), percentile(&mut lat, 0.99));
        rows.push(Row {
            figure: format!("{label} p50 / p99"),
            value: format!("{} / {}", ms(l50), ms(l99)),
            baseline: format!("first page p50 {}", ms(h50)),
            ratio: ratio(l50, h50),
            target: "p50 ≤ 5 ms, p99 ≤ 25 ms".into(),
        });
    }

    // Local timeline.
    let mut store_local = sample(p.requests, |i| {
        let s = &sampled[i % sampled.len()];
        let store = p.local.store.clone();
        let viewer = s.user.id.clone();
        async move {
            store
                .list_notes(
                    &NoteSource::LocalPublic,
                    Some(&viewer),
                    &NoteFilter {
                        with_replies: false,
                        ..NoteFilter::default()
                    },
                    &Page::newest(20),
                )
                .await?;
            Ok(())
        }
    })
    .await?;
    let store_local_p50 = percentile(&mut store_local, 0.5);
    let mut local = sample(p.requests, |i| {
        let s = &sampled[i % sampled.len()];
        let (c, u, body) = (
            client.clone(),
            api("notes/local-timeline"),
            json!({ "i": s.token, "limit": 20 }),
        );
        async move { post(&c, &u, &body).await.map(|_| ()) }
    })
    .await?;
    let (l50, l99) = (percentile(&mut local, 0.5), percentile(&mut local, 0.99));
    rows.push(Row {
        figure: "local timeline (limit 20) p50 / p99".into(),
        value: format!("{} / {}", ms(l50), ms(l99)),
        baseline: format!(
            "same read in-process {} + empty handler {}",
            ms(store_local_p50),
            ms(empty_p50)
        ),
        ratio: ratio(l50, store_local_p50 + empty_p50),
        target: "p50 ≤ 3 ms".into(),
    });

    rows.extend(concurrent_reads(p, &client, &origin).await?);

    // Sustained notes/create, many authors at once, each with ~200 followers.
    let seconds = p.create_seconds;
    let run = sustained_create(
        &client,
        &api("notes/create"),
        users,
        p.concurrency,
        seconds,
        0,
    )
    .await;
    let (created, errors, created_samples) = (run.created, run.errors, run.samples);
    let failed = run.failed;
    let rate = created as f64 / seconds as f64;
    // Each created note must be in its author's followers' home timelines: check one
    // follower per sampled note through the API.
    let mut reached = 0;
    for (author, note_id) in &created_samples {
        let author = p
            .local
            .store
            .user_by_username(&format!("u{author}"), None)
            .await?
            .context("author")?;
        let follower = p
            .local
            .store
            .follows_page(&author.id, FollowSide::Followers, None, None, 1)
            .await?
            .pop()
            .context("a follower")?;
        let follower = p
            .local
            .store
            .user_by_id(&follower.follower_id)
            .await?
            .context("follower")?;
        let follower_index: usize = follower.username.trim_start_matches('u').parse()?;
        let at = ids::aidx_time(note_id).context("note time")?;
        let page = post(
            &client,
            &api("notes/timeline"),
            &json!({ "i": token(follower_index), "sinceId": ids::time_prefix(at), "untilId": ids::time_prefix(at + 1), "limit": 100 }),
        )
        .await?;
        if page
            .as_array()
            .is_some_and(|a| a.iter().any(|n| n["id"] == note_id.as_str()))
        {
            reached += 1;
        }
    }
    // Baseline: the same concurrency against the empty handler.
    let base_done = Arc::new(AtomicU64::new(0));
    let base_deadline = Instant::now() + Duration::from_secs(3);
    let mut tasks = Vec::new();
    for _ in 0..p.concurrency {
        let (c, u, d) = (client.clone(), empty.clone(), base_done.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < base_deadline {
                if post(&c, &u, &json!({})).await.is_ok() {
                    d.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let base_rate = base_done.load(Ordering::Relaxed) as f64 / 3.0;
    rows.push(Row {
        figure: format!("notes/create sustained, {} in flight", p.concurrency),
        value: format!("{rate:.0} notes/s ({failed} failed)"),
        baseline: format!("empty handler {base_rate:.0} req/s"),
        ratio: format!("{:.2}", rate / base_rate.max(1.0)),
        target: "≥ 1000 notes/s".into(),
    });
    rows.push(Row {
        figure: "created notes found in a follower's home timeline".into(),
        value: format!("{reached}/{}", created_samples.len()),
        baseline: format!("~{} followers per author", p.shape.follows),
        ratio: "".into(),
        target: "all".into(),
    });
    rows.push(with_plugins(p, &client, &api("notes/create"), rate).await?);
    let loaded = rss_kib(pid).unwrap_or(0);
    rows.push(Row {
        figure: "resident memory after the load".into(),
        value: format!("{:.1} MiB", loaded as f64 / 1024.0),
        baseline: format!("idle {:.1} MiB", idle as f64 / 1024.0),
        ratio: "".into(),
        target: "".into(),
    });
    child.start_kill()?;
    let _ = child.wait().await;
    print_rows(p, rows);
    if let Some(e) = errors.first() {
        println!("\nfirst notes/create error: {e}");
    }
    Ok(())
}

fn print_rows(p: &Plan, rows: Vec<Row>) {
    println!(
        "\n### {} — {} seed: {} users, {} notes over {} h, {} follows each\n",
        p.backend, p.seed, p.shape.users, p.shape.notes, p.shape.span_hours, p.shape.follows
    );
    println!("| figure | value | baseline (same run) | ratio | target |");
    println!("|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            r.figure, r.value, r.baseline, r.ratio, r.target
        );
    }
}

/// What one concurrent-read figure measured.
struct Load {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    failed: u64,
}

impl Load {
    fn describe(&self) -> String {
        let failed = if self.failed > 0 {
            format!(", {} failed", self.failed)
        } else {
            String::new()
        };
        format!(
            "{:.0} req/s, p50 {} / p99 {}{failed}",
            self.per_second,
            ms(self.p50),
            ms(self.p99)
        )
    }
}

/// `connections` clients sending `request(i)` back to back for `seconds` (after half a
/// second of warm-up), each response body checked by `check`. The client does as little as
/// it can (the machine's two cores serve and load at once): bodies are checked without
/// building a JSON tree.
async fn load<R, C>(
    client: &reqwest::Client,
    connections: usize,
    seconds: u64,
    request: R,
    check: C,
) -> anyhow::Result<Load>
where
    R: Fn(usize) -> (String, Value) + Send + Sync + 'static,
    C: Fn(&[u8]) -> bool + Send + Sync + 'static,
{
    let (request, check) = (Arc::new(request), Arc::new(check));
    let started = Instant::now();
    let measure_from = started + Duration::from_millis(500);
    let until = measure_from + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for t in 0..connections {
        let (client, request, check) = (client.clone(), request.clone(), check.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0u64;
            let mut i = t;
            loop {
                let sent = Instant::now();
                if sent >= until {
                    break;
                }
                let (url, body) = request(i);
                i += connections;
                let ok = match client.post(&url).json(&body).send().await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok_and(|b| check(&b)),
                    _ => false,
                };
                if sent >= measure_from {
                    latencies.push(sent.elapsed());
                    if !ok {
                        failed += 1;
                    }
                }
            }
            (latencies, failed)
        }));
    }
    let mut all = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (latencies, f) = t.await?;
        all.extend(latencies);
        failed += f;
    }
    anyhow::ensure!(!all.is_empty(), "no request completed");
    Ok(Load {
        per_second: all.len() as f64 / seconds as f64,
        p50: percentile(&mut all, 0.5),
        p99: percentile(&mut all, 0.99),
        failed,
    })
}

/// `meta`, the local timeline and the home timeline under 8 and 32 concurrent connections:
/// throughput and latency, each next to `meta` (the floor any API call pays) in the same run.
async fn concurrent_reads(
    p: &Plan,
    client: &reqwest::Client,
    origin: &str,
) -> anyhow::Result<Vec<Row>> {
    let users = p.shape.users;
    let mut rows = Vec::new();
    for &connections in &p.read_connections {
        let meta_url = format!("{origin}/api/meta");
        let meta = load(
            client,
            connections,
            p.read_seconds,
            move |_| (meta_url.clone(), json!({})),
            |body| {
                #[derive(serde::Deserialize)]
                struct Named {
                    #[allow(dead_code)]
                    name: String,
                }
                serde_json::from_slice::<Named>(body).is_ok()
            },
        )
        .await?;
        rows.push(Row {
            figure: format!("meta, {connections} connections"),
            value: meta.describe(),
            baseline: String::new(),
            ratio: String::new(),
            target: String::new(),
        });
        for (label, endpoint, target, full_page) in [
            (
                "local timeline (limit 20)",
                "notes/local-timeline",
                4000.0,
                false,
            ),
            ("home timeline (limit 20)", "notes/timeline", 2000.0, true),
        ] {
            let url = format!("{origin}/api/{endpoint}");
            // Spread over every seeded user, in a fixed order.
            let figure = load(
                client,
                connections,
                p.read_seconds,
                move |i| {
                    let user = i.wrapping_mul(7919) % users;
                    (url.clone(), json!({ "i": token(user), "limit": 20 }))
                },
                move |body| {
                    serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(body).is_ok_and(|a| {
                        if full_page {
                            a.len() == 20
                        } else {
                            !a.is_empty()
                        }
                    })
                },
            )
            .await?;
            rows.push(Row {
                figure: format!("{label}, {connections} connections"),
                value: figure.describe(),
                baseline: format!("meta {:.0} req/s", meta.per_second),
                ratio: format!("{:.2}", figure.per_second / meta.per_second.max(1.0)),
                target: format!("≥ {target:.0} req/s, p99 ≤ 25 ms at 32 connections"),
            });
        }
    }
    Ok(rows)
}

/// The id of the `n`th note of `user`'s home timeline, newest first, if it has that many.
async fn nth_home_note(core: &Core, user: &User, n: usize) -> anyhow::Result<Option<String>> {
    let mut until: Option<String> = None;
    let mut seen = 0;
    while seen < n {
        let want = (n - seen).min(100) as i64;
        let rows = timelines::home(
            core,
            user,
            &NoteFilter::default(),
            &Page::new(None, until.clone(), want),
        )
        .await?
        .notes;
        if rows.is_empty() {
            return Ok(None);
        }
        seen += rows.len();
        until = rows.last().map(|r| r.id.clone());
    }
    Ok(until)
}

/// What one sustained notes/create run did.
struct CreateRun {
    created: u64,
    failed: u64,
    errors: Vec<String>,
    /// A few `(author, note id)` created, to check they reached followers.
    samples: Vec<(usize, String)>,
}

/// `concurrency` clients posting as many notes as they can for `seconds`, each note by a
/// different author. `round` keeps texts (and authors) of successive runs apart.
async fn sustained_create(
    client: &reqwest::Client,
    url: &str,
    users: usize,
    concurrency: usize,
    seconds: u64,
    round: usize,
) -> CreateRun {
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let (c, u, done, failed) = (client.clone(), url.to_owned(), done.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut j = 0usize;
            let mut first_error = None;
            let mut samples: Vec<(usize, String)> = Vec::new();
            while Instant::now() < deadline {
                let user = (t + j * 4099 + round * 7919) % users;
                j += 1;
                let body = json!({ "i": token(user), "text": format!("bench post {round}-{t}-{j} with some text #bench") });
                match post(&c, &u, &body).await {
                    Ok(v) => {
                        if samples.len() < 2
                            && let Some(id) = v["createdNote"]["id"].as_str()
                        {
                            samples.push((user, id.to_owned()));
                        }
                        done.fetch_add(1, Ordering::Relaxed)
                    }
                    Err(e) => {
                        first_error.get_or_insert(e.to_string());
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
            (first_error, samples)
        }));
    }
    let mut run = CreateRun {
        created: 0,
        failed: 0,
        errors: Vec::new(),
        samples: Vec::new(),
    };
    for t in tasks {
        if let Ok((error, samples)) = t.await {
            run.errors.extend(error);
            run.samples.extend(samples);
        }
    }
    run.created = done.load(Ordering::Relaxed);
    run.failed = failed.load(Ordering::Relaxed);
    run
}

/// notes/create with three moderation plugins in the chain (keyword filter, mention limit,
/// new-account guard with its key-value grant), against the rate without plugins measured
/// before and again after (their mean), so drift in the database does not pass for plugin
/// cost.
async fn with_plugins(
    p: &Plan,
    client: &reqwest::Client,
    url: &str,
    before: f64,
) -> anyhow::Result<Row> {
    use tsudoi_core::plugins;
    let target = std::env::current_exe()?
        .parent()
        .and_then(|d| d.parent())
        .context("target directory")?
        .to_owned();
    let installs = [
        (
            "keyword_filter",
            r#"{"keywords":["buy now","free crypto","limited offer","click here","casino"]}"#,
        ),
        ("mention_limit", r#"{"max_mentions": 5}"#),
        (
            "new_account_guard",
            r#"{"young_hours": 24, "max_notes_per_hour": 10}"#,
        ),
    ];
    let mut names = Vec::new();
    for (i, (file, config)) in installs.iter().enumerate() {
        let path = target.join(format!("wasm32-wasip2/plugin/{file}.wasm"));
        let wasm = std::fs::read(&path)
            .with_context(|| format!("{}: run scripts/build-plugins first", path.display()))?;
        let done = plugins::install(
            &p.local.core,
            plugins::Install {
                wasm,
                manifest: None,
                config: Some((*config).into()),
                failure_policy: tsudoi_model::FailurePolicy::FailOpen,
                position: i as i64,
            },
        )
        .await?;
        names.push(done.name);
    }
    plugins::update(
        &p.local.core,
        "new-account-guard",
        plugins::Change {
            grants: Some(vec![tsudoi_model::Capability::Kv]),
            ..Default::default()
        },
    )
    .await?;
    // Wait until the server runs them: a blocked keyword is refused.
    let t = Instant::now();
    loop {
        let probe = post(
            client,
            url,
            &json!({ "i": token(0), "text": "casino probe" }),
        )
        .await;
        if probe.is_err() {
            break;
        }
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(30),
            "plugins were not loaded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seconds = p.create_seconds;
    let run = sustained_create(client, url, p.shape.users, p.concurrency, seconds, 1).await;
    let rate = run.created as f64 / seconds as f64;
    for name in &names {
        plugins::remove(&p.local.core, name).await?;
    }
    // Let the server drop them, then measure without plugins once more.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again = sustained_create(client, url, p.shape.users, p.concurrency, seconds, 2).await;
    let after = again.created as f64 / seconds as f64;
    let without = (before + after) / 2.0;
    Ok(Row {
        figure: format!(
            "notes/create with 3 moderation plugins, {} in flight",
            p.concurrency
        ),
        value: format!("{rate:.0} notes/s ({} failed)", run.failed),
        baseline: format!("no plugins {without:.0} notes/s (before {before:.0}, after {after:.0})"),
        ratio: format!("{:.2}", rate / without.max(1.0)),
        target: "≥ 0.85".into(),
    })
}
