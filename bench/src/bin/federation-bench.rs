//! `federation-bench`: Tsudoi's inbox and delivery under load, on loopback, each figure next
//! to a baseline taken in the same run.
//!
//! - Incoming: signed `Create(Note)` activities from 50 remote actors, 16 in flight, until
//!   every one is accepted (202) and stored (the inbox queue is empty), against the raw rate
//!   of the signature check itself on every core (its limit), and against a Fedify inbox fed
//!   the same load when `--fedify-node` is given.
//! - Outgoing: a note by a user with 10,000 remote followers behind 1,000 shared inboxes,
//!   timed until every inbox has it.
//!
//! `cargo build --release -p tsudoi-bench && target/release/federation-bench --data-dir D`
//! (the `tsudoi` next to it is the server measured).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use clap::Parser;
use tsudoi_bench::{free_port, start_server, wait_healthy};
use tsudoi_federation::signature::{Policy, PrivateKey, Request, inspect, sign_request};
use tsudoi_model::{JobQueue, ProfileField, RemoteActor, RemoteProfile, ids};

#[derive(Parser, Debug)]
#[command(
    name = "federation-bench",
    about = "Tsudoi's inbox and delivery under load"
)]
struct Args {
    /// Where the measured server keeps its data (made fresh each run).
    #[arg(long)]
    data_dir: PathBuf,
    /// Remote actors sending.
    #[arg(long, default_value_t = 50)]
    actors: usize,
    /// Activities sent to each inbox measured.
    #[arg(long, default_value_t = 20_000)]
    activities: usize,
    #[arg(long, default_value_t = 16)]
    in_flight: usize,
    /// Remote followers of the user whose note is delivered, and the shared inboxes they
    /// are behind.
    #[arg(long, default_value_t = 10_000)]
    followers: usize,
    #[arg(long, default_value_t = 1_000)]
    inboxes: usize,
    /// Node 22 and the Fedify peer (tests/peers/fedify/server.mjs), to feed its inbox the
    /// same load.
    #[arg(long)]
    fedify_node: Option<PathBuf>,
    #[arg(long)]
    fedify_server: Option<PathBuf>,
}

/// The fake remote server: actors with keys, and inboxes that count what they get.
struct Remote {
    origin: String,
    actors: Vec<(String, PrivateKey, String)>,
    received: Vec<AtomicUsize>,
}

async fn actor_doc(State(remote): State<Arc<Remote>>, Path(n): Path<usize>) -> impl IntoResponse {
    let Some((id, _, pem)) = remote.actors.get(n) else {
        return (StatusCode::NOT_FOUND, HeaderMap::new(), String::new());
    };
    let doc = serde_json::json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id,
        "type": "Person",
        "preferredUsername": format!("bench{n}"),
        "inbox": format!("{id}/inbox"),
        "followers": format!("{id}/followers"),
        "endpoints": {"sharedInbox": format!("{}/inbox", remote.origin)},
        "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": pem},
    });
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        "application/activity+json".parse().expect("a valid header"),
    );
    (StatusCode::OK, headers, doc.to_string())
}

async fn inbox(State(remote): State<Arc<Remote>>, Path(k): Path<usize>) -> StatusCode {
    if let Some(c) = remote.received.get(k) {
        c.fetch_add(1, Ordering::Relaxed);
    }
    StatusCode::ACCEPTED
}

async fn start_remote(actors: usize, inboxes: usize) -> anyhow::Result<Arc<Remote>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let origin = format!("http://{}", listener.local_addr()?);
    let keys = tokio::task::spawn_blocking(move || {
        (0..actors)
            .map(|_| PrivateKey::generate())
            .collect::<Result<Vec<_>, _>>()
    })
    .await??;
    let mut list = Vec::new();
    for (n, key) in keys.into_iter().enumerate() {
        let pem = key.public_key()?.to_pem();
        list.push((format!("{origin}/users/{n}"), key, pem));
    }
    let remote = Arc::new(Remote {
        origin,
        actors: list,
        received: (0..inboxes).map(|_| AtomicUsize::new(0)).collect(),
    });
    let app = Router::new()
        .route("/users/{n}", get(actor_doc))
        .route("/i/{k}/inbox", post(inbox))
        .with_state(remote.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(remote)
}

/// A signed POST of `body` to `inbox` by actor `n`.
fn signed(
    client: &reqwest::Client,
    remote: &Remote,
    n: usize,
    inbox: &url::Url,
    body: Vec<u8>,
) -> anyhow::Result<reqwest::Request> {
    let (id, key, _) = &remote.actors[n % remote.actors.len()];
    let mut request = client
        .post(inbox.as_str())
        .header("content-type", "application/activity+json")
        .body(body.clone())
        .build()?;
    sign_request(
        &http::Method::POST,
        inbox,
        request.headers_mut(),
        &body,
        &format!("{id}#main-key"),
        key,
        SystemTime::now(),
    )?;
    Ok(request)
}

/// A public note by actor `n`, the `i`-th of the run.
fn create_note(remote: &Remote, n: usize, i: usize, run: &str) -> Vec<u8> {
    let (id, _, _) = &remote.actors[n % remote.actors.len()];
    let note = format!("{}/notes/{run}-{i}", remote.origin);
    serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{note}/activity"),
        "type": "Create",
        "actor": id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": note,
            "type": "Note",
            "attributedTo": id,
            "content": format!("<p>note {i} of the benchmark</p>"),
            "published": tsudoi_federation::render::iso(ids::now_ms()),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
    })
    .to_string()
    .into_bytes()
}

/// `count` activities (`make(i)`) for `inbox`, signed beforehand so that signing (the
/// sender's work) is not timed.
fn prepare(
    client: &reqwest::Client,
    remote: &Remote,
    inbox: &url::Url,
    count: usize,
    make: impl Fn(usize) -> Vec<u8>,
) -> anyhow::Result<Vec<reqwest::Request>> {
    (0..count)
        .map(|i| signed(client, remote, i, inbox, make(i)))
        .collect()
}

/// Sends `requests`, `in_flight` at once; the time until all were answered, and how many
/// were refused.
async fn send_all(
    client: &reqwest::Client,
    requests: Vec<reqwest::Request>,
    in_flight: usize,
) -> anyhow::Result<(Duration, usize)> {
    let queue = Arc::new(std::sync::Mutex::new(requests.into_iter()));
    let refused = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..in_flight {
        let (client, queue, refused) = (client.clone(), queue.clone(), refused.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let next = queue.lock().expect("not poisoned").next();
                let Some(request) = next else { return };
                match client.execute(request).await {
                    Ok(r) if r.status().is_success() => {}
                    _ => {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    Ok((started.elapsed(), refused.load(Ordering::Relaxed)))
}

/// How many signature checks (parse, digest, date, RSA-2048) all cores do per second.
fn verification_rate(remote: &Remote, origin: &url::Url) -> anyhow::Result<f64> {
    let inbox = origin.join("/inbox")?;
    let body = create_note(remote, 0, 0, "verify");
    let (id, key, pem) = &remote.actors[0];
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/activity+json".parse()?);
    sign_request(
        &http::Method::POST,
        &inbox,
        &mut headers,
        &body,
        &format!("{id}#main-key"),
        key,
        SystemTime::now(),
    )?;
    let public = tsudoi_federation::signature::PublicKey::from_pem(pem)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let run_for = Duration::from_secs(2);
    let counts: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let started = Instant::now();
                    let mut n = 0;
                    while started.elapsed() < run_for {
                        let request = Request {
                            method: &http::Method::POST,
                            path_and_query: "/inbox",
                            headers: &headers,
                            body: &body,
                        };
                        let policy = Policy {
                            origin: origin.clone(),
                            now: SystemTime::now(),
                        };
                        let ok = inspect(&request, &policy)
                            .and_then(|p| p.verify(&public))
                            .is_ok();
                        assert!(ok, "the baseline's own signature verifies");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).collect()
    });
    Ok(counts.iter().sum::<usize>() as f64 / run_for.as_secs_f64())
}

/// Waits until the server's inbox queue is empty (everything received is stored).
async fn drain(store: &tsudoi_store::Store, queue: JobQueue) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if store.queue_depth(queue).await?.waiting == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the {} queue did not drain", queue.as_str());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let remote = start_remote(args.actors, args.inboxes).await?;
    let mut server = start_server(
        &args.data_dir,
        &[("TSUDOI_FEDERATION_ALLOW_PRIVATE", "true")],
    )
    .await?;
    let origin: url::Url = server.origin.parse()?;
    let database_url = server.database_url.clone();
    let store = tsudoi_store::Store::connect(&database_url).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;

    println!(
        "# federation-bench: {} actors, {} activities, {} in flight",
        args.actors, args.activities, args.in_flight
    );
    let verify = tokio::task::block_in_place(|| verification_rate(&remote, &origin))?;
    println!("signature check (parse, digest, date, RSA-2048), all cores: {verify:.0}/s");

    // Every actor once first, so their keys are fetched and stored before the clock runs.
    let inbox = origin.join("/inbox")?;
    let (_, refused) = send_all(
        &client,
        prepare(&client, &remote, &inbox, args.actors, |i| {
            create_note(&remote, i, i, "warm")
        })?,
        args.in_flight,
    )
    .await?;
    if refused > 0 {
        bail!("{refused} warm-up activities were refused");
    }
    drain(&store, JobQueue::Inbox).await?;

    let run = prepare(&client, &remote, &inbox, args.activities, |i| {
        create_note(&remote, i, i, "run")
    })?;
    let started = Instant::now();
    let (accepted_in, refused) = send_all(&client, run, args.in_flight).await?;
    drain(&store, JobQueue::Inbox).await?;
    let stored_in = started.elapsed();
    if refused > 0 {
        bail!("{refused} activities were refused");
    }
    let accepted = args.activities as f64 / accepted_in.as_secs_f64();
    let stored = args.activities as f64 / stored_in.as_secs_f64();
    println!(
        "tsudoi inbox: accepted {accepted:.0}/s, accepted and stored {stored:.0}/s ({:.2} of the signature check's rate)",
        stored / verify
    );

    if let (Some(node), Some(script)) = (&args.fedify_node, &args.fedify_server) {
        let fport = free_port().await?;
        let mut fedify = tokio::process::Command::new(node)
            .arg(script)
            .env("PORT", fport.to_string())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the Fedify peer")?;
        let forigin: url::Url = format!("http://127.0.0.1:{fport}").parse()?;
        wait_healthy(forigin.join("/_control/health")?.as_str()).await?;
        let finbox = forigin.join("/users/fedi/inbox")?;
        let warm = send_all(
            &client,
            prepare(&client, &remote, &finbox, args.actors, |i| {
                create_note(&remote, i, i, "fwarm")
            })?,
            args.in_flight,
        )
        .await?;
        if warm.1 > 0 {
            bail!("Fedify refused {} warm-up activities", warm.1);
        }
        let count = args.activities.min(5_000);
        let (took, refused) = send_all(
            &client,
            prepare(&client, &remote, &finbox, count, |i| {
                create_note(&remote, i, i, "frun")
            })?,
            args.in_flight,
        )
        .await?;
        if refused > 0 {
            bail!("Fedify refused {refused} activities");
        }
        let fedify_rate = count as f64 / took.as_secs_f64();
        println!(
            "fedify 2.3.6 inbox ({count} activities): accepted {fedify_rate:.0}/s; tsudoi stored {:.1}x that",
            stored / fedify_rate
        );
        let _ = fedify.kill().await;
    }

    // Outgoing: remote followers behind shared inboxes, seeded straight into the database.
    let signup: serde_json::Value = client
        .post(origin.join("/api/signup")?)
        .json(&serde_json::json!({"username": "star", "password": "a long benchmark password"}))
        .send()
        .await?
        .json()
        .await?;
    let star = (
        signup["id"]
            .as_str()
            .context("signup gave no id")?
            .to_owned(),
        signup["token"]
            .as_str()
            .context("signup gave no token")?
            .to_owned(),
    );
    let now = ids::now_ms();
    for f in 0..args.followers {
        let k = f % args.inboxes;
        let uri = format!("{}/followers/{f}", remote.origin);
        let shared = format!("{}/i/{k}/inbox", remote.origin);
        let user = store
            .upsert_remote_user(
                &ids::aidx(),
                &RemoteProfile {
                    username: format!("f{f}"),
                    host: format!("h{k}.{}", remote.origin.trim_start_matches("http://")),
                    name: None,
                    description: None,
                    fields: Vec::<ProfileField>::new(),
                    is_locked: false,
                    is_bot: false,
                    is_cat: false,
                    actor: RemoteActor {
                        uri: uri.clone(),
                        url: None,
                        inbox: shared.clone(),
                        shared_inbox: Some(shared),
                        followers_uri: None,
                        fetched_at: now,
                    },
                    public_key: None,
                },
                now,
            )
            .await?;
        store
            .follow(&ids::aidx(), &user.id, &star.0, now, &[], &[])
            .await?;
    }
    let started = Instant::now();
    let created = client
        .post(origin.join("/api/notes/create")?)
        .json(&serde_json::json!({"i": star.1, "text": "to ten thousand followers"}))
        .send()
        .await?;
    if !created.status().is_success() {
        bail!("notes/create answered {}", created.status());
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let reached = remote
            .received
            .iter()
            .filter(|c| c.load(Ordering::Relaxed) > 0)
            .count();
        if reached == args.inboxes {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {reached} of {} inboxes got the note", args.inboxes);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!(
        "delivery: a note to {} followers behind {} inboxes reached them all in {:.2} s",
        args.followers,
        args.inboxes,
        started.elapsed().as_secs_f64()
    );
    let _ = server.process.kill().await;
    Ok(())
}
