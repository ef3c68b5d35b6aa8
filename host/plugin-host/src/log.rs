//! What a plugin writes to the server's log, within limits: lines of printable text, a few per
//! call, a steady rate per plugin, and a line in the log saying so when some were dropped.
//!
//! Why: a plugin could write 5 MB of log lines for one note without failing, and every note
//! of a spam wave passes through it. A line is also made one line (control characters become
//! spaces) so that a plugin cannot forge the server's own log lines.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Longest line passed on; longer ones are cut.
const MAX_LINE_BYTES: usize = 4096;

/// Lines and bytes one call may log: enough to explain a decision.
const LINES_PER_CALL: u32 = 20;
const BYTES_PER_CALL: usize = 16 << 10;

/// Lines a plugin may log per second, over all its calls and instances, and the burst it may
/// write above that rate. A filter logging each note of a spam wave is held to this.
const LINES_PER_SECOND: f64 = 20.0;
const BURST: f64 = 200.0;

/// How often dropped lines are reported, at most.
const REPORT_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
pub(crate) enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// One plugin's allowance, shared by all its instances.
pub(crate) struct PluginLog {
    state: Mutex<Allowance>,
    /// Lines dropped since the last report: outside the lock, so that a call that dropped
    /// nothing ends without taking it.
    dropped: AtomicU64,
}

struct Allowance {
    tokens: f64,
    refilled: Instant,
    reported: Option<Instant>,
}

impl Default for PluginLog {
    fn default() -> Self {
        Self {
            state: Mutex::new(Allowance {
                tokens: BURST,
                refilled: Instant::now(),
                reported: None,
            }),
            dropped: AtomicU64::new(0),
        }
    }
}

/// What one call has logged, and dropped, so far.
#[derive(Default)]
pub(crate) struct CallLog {
    lines: u32,
    bytes: usize,
    dropped: u64,
}

impl PluginLog {
    /// Writes `message` for `plugin`, or drops it if `call` or the plugin is over its
    /// allowance (counted, and reported by [`PluginLog::end_call`]).
    pub(crate) fn write(&self, plugin: &str, call: &mut CallLog, level: LogLevel, message: &str) {
        let line = printable_line(message);
        if call.lines >= LINES_PER_CALL
            || call.bytes + line.len() > BYTES_PER_CALL
            || !self.take(Instant::now())
        {
            call.dropped += 1;
            return;
        }
        call.lines += 1;
        call.bytes += line.len();
        match level {
            LogLevel::Trace => tracing::trace!(plugin, "{line}"),
            LogLevel::Debug => tracing::debug!(plugin, "{line}"),
            LogLevel::Info => tracing::info!(plugin, "{line}"),
            LogLevel::Warn => tracing::warn!(plugin, "{line}"),
            LogLevel::Error => tracing::error!(plugin, "{line}"),
        }
    }

    /// Takes one line from the plugin's rate, refilled evenly.
    fn take(&self, now: Instant) -> bool {
        let mut a = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let refill = now.duration_since(a.refilled).as_secs_f64() * LINES_PER_SECOND;
        a.tokens = (a.tokens + refill).min(BURST);
        a.refilled = now;
        if a.tokens < 1.0 {
            return false;
        }
        a.tokens -= 1.0;
        true
    }

    /// After a call: adds the lines it dropped to the plugin's count, and reports the count
    /// if there is one and the last report is at least [`REPORT_EVERY`] old. Returns what it
    /// reported.
    pub(crate) fn end_call(&self, plugin: &str, call: &CallLog, now: Instant) -> Option<u64> {
        if call.dropped > 0 {
            self.dropped.fetch_add(call.dropped, Ordering::Relaxed);
        }
        if self.dropped.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut a = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if a.reported
            .is_some_and(|at| now.duration_since(at) < REPORT_EVERY)
        {
            return None;
        }
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped == 0 {
            return None;
        }
        a.reported = Some(now);
        tracing::warn!(
            plugin,
            dropped,
            "plugin log lines dropped: a call may log {LINES_PER_CALL} lines or {BYTES_PER_CALL} \
             bytes, a plugin {LINES_PER_SECOND} lines a second (reported at most every {}s)",
            REPORT_EVERY.as_secs()
        );
        Some(dropped)
    }
}

/// `message` on one line of at most [`MAX_LINE_BYTES`]: control characters become spaces.
fn printable_line(message: &str) -> String {
    let mut line = String::with_capacity(message.len().min(MAX_LINE_BYTES));
    for c in message.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if line.len() + c.len_utf8() > MAX_LINE_BYTES {
            break;
        }
        line.push(c);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_logs_at_most_its_allowance() {
        let log = PluginLog::default();
        let mut call = CallLog::default();
        for _ in 0..LINES_PER_CALL + 5 {
            log.write("p", &mut call, LogLevel::Info, "line");
        }
        assert_eq!(call.lines, LINES_PER_CALL);
        let mut big = CallLog::default();
        for _ in 0..10 {
            log.write("p", &mut big, LogLevel::Info, &"x".repeat(MAX_LINE_BYTES));
        }
        assert_eq!(big.bytes, 4 * MAX_LINE_BYTES, "16 KiB a call");
    }

    #[test]
    fn a_plugin_logs_at_a_steady_rate_over_all_its_calls() {
        let log = PluginLog::default();
        let start = Instant::now();
        let taken = (0..1000).filter(|_| log.take(start)).count();
        assert_eq!(taken, BURST as usize);
        assert!(!log.take(start));
        assert!(log.take(start + Duration::from_millis(100)), "refilled");
    }

    #[test]
    fn dropped_lines_are_reported_after_the_call_at_most_every_few_seconds() {
        let log = PluginLog::default();
        let t = Instant::now();
        let mut call = CallLog::default();
        assert_eq!(log.end_call("p", &call, t), None, "nothing dropped");
        for _ in 0..LINES_PER_CALL + 30 {
            log.write("p", &mut call, LogLevel::Info, "line");
        }
        assert_eq!(log.end_call("p", &call, t), Some(30));
        let two = CallLog {
            dropped: 2,
            ..CallLog::default()
        };
        assert_eq!(log.end_call("p", &two, t + Duration::from_secs(1)), None);
        assert_eq!(log.end_call("p", &two, t + Duration::from_secs(2)), None);
        let quiet = CallLog::default();
        assert_eq!(log.end_call("p", &quiet, t + REPORT_EVERY), Some(4));
    }

    #[test]
    fn a_line_is_one_printable_line() {
        assert_eq!(printable_line("a\nb\r\u{1b}[31mc"), "a b  [31mc");
        let long = "é".repeat(MAX_LINE_BYTES);
        let cut = printable_line(&long);
        assert!(cut.len() <= MAX_LINE_BYTES && cut.len() > MAX_LINE_BYTES - 2);
    }
}
