//! `tsudoi serve`, `tsudoi migrate`, `tsudoi config`: the server itself.

use std::net::SocketAddr;

use anyhow::Context;

use tsudoi::config::{Config, redact};

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.listen;
    let fed = tsudoi::wiring::open_federated(&config).await?;
    let core = fed.core().clone();
    tsudoi_core::node_sync::start(&core);
    tsudoi::workers::watch_plugins(&core);
    tsudoi::workers::clear_ended_mutes(&core);
    tsudoi::workers::announce_ended_polls(&core);
    tsudoi::workers::sweep_orphan_blobs(&core);
    fed.run_workers();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(address = %listen, url = %config.settings.base_url(), "tsudoi is listening");
    let router = tsudoi::api::router(fed).layer(tower_http::trace::TraceLayer::new_for_http());
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    core.close().await;
    tracing::info!("stopped");
    Ok(())
}

pub async fn migrate(config: Config) -> anyhow::Result<()> {
    let store = tsudoi_store::Store::connect(&config.database_url).await?;
    let applied = store
        .migrate_reporting(&tsudoi::progress::Migrations)
        .await?;
    println!("{applied} migration(s) applied");
    Ok(())
}

pub fn print_config(config: &Config) {
    let s = &config.settings;
    println!("listen = \"{}\"", config.listen);
    println!("url = \"{}\"", s.base_url());
    println!("data_dir = \"{}\"", config.data_dir.display());
    println!("database_url = \"{}\"", redact(&config.database_url));
    println!("registration = \"{:?}\"", s.registration);
    println!("max_note_length = {}", s.max_note_length);
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return ctrl_c.await.unwrap_or(()),
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
