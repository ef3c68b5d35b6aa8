//! Progress of long work started from the shell: a bar or spinner on a terminal, and log lines
//! at a steady pace otherwise (CI logs, systemd journals), so nobody stares at silence.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counted work: `inc` as items are done.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    label: String,
    total: u64,
    done: AtomicU64,
}

impl Progress {
    pub fn new(label: impl Into<String>, total: u64) -> Self {
        let label = label.into();
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(total);
            b.set_style(
                indicatif::ProgressStyle::with_template("{msg:>16} {wide_bar} {pos}/{len} {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.set_message(label.clone());
            b
        });
        Self {
            bar,
            label,
            total,
            done: AtomicU64::new(0),
        }
    }

    pub fn inc(&self, n: u64) {
        let before = self.done.fetch_add(n, Ordering::Relaxed);
        match &self.bar {
            Some(b) => b.inc(n),
            None => {
                // A line at every tenth.
                let tenth = (self.total / 10).max(1);
                if (before + n) / tenth != before / tenth {
                    tracing::info!("{}: {}/{}", self.label, before + n, self.total);
                }
            }
        }
    }

    pub fn finish(&self) {
        match &self.bar {
            Some(b) => b.finish(),
            None => tracing::info!("{}: done", self.label),
        }
    }
}

/// Work of unknown length: a spinner on a terminal, a log line every ten seconds otherwise.
/// Dropping it ends the report.
pub struct Activity {
    bar: Option<indicatif::ProgressBar>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Activity {
    pub fn start(label: impl Into<String>) -> Self {
        let label = label.into();
        if std::io::stderr().is_terminal() {
            let b = indicatif::ProgressBar::new_spinner();
            b.set_message(label);
            b.enable_steady_tick(Duration::from_millis(120));
            return Self {
                bar: Some(b),
                ticker: None,
            };
        }
        let started = Instant::now();
        let ticker = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(10));
            tick.tick().await;
            loop {
                tick.tick().await;
                tracing::info!("{label}: still running ({} s)", started.elapsed().as_secs());
            }
        });
        Self {
            bar: None,
            ticker: Some(ticker),
        }
    }
}

impl Drop for Activity {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        if let Some(t) = &self.ticker {
            t.abort();
        }
    }
}

/// Shows each database migration as [`Activity`]: a long one (a rewrite of a large table)
/// shows a spinner on a terminal and a log line every ten seconds otherwise.
pub struct Migrations;

impl tsudoi_store::MigrationProgress for Migrations {
    fn started(&self, version: i64, description: &str) -> Box<dyn std::any::Any + Send> {
        Box::new(Activity::start(format!(
            "migration {version} ({description})"
        )))
    }
}
