//! Per-plugin call metrics, served in Prometheus's text format on `/metrics`: calls,
//! failures and a latency histogram, labelled by plugin kind and name.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use crate::Kind;

/// Histogram bucket bounds in seconds: from a warm call (~µs) to the default deadlines (50 ms).
const BUCKETS: [f64; 10] = [
    0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.05, 0.1, 1.0,
];

#[derive(Default, Clone)]
struct Stats {
    calls: u64,
    failures: u64,
    sum: f64,
    /// Counts per bucket (not cumulative; summed when rendered).
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct PluginMetrics {
    by_plugin: Mutex<BTreeMap<(&'static str, String), Stats>>,
}

impl PluginMetrics {
    /// Counts one call of `plugin`, labelled by its kind.
    pub(crate) fn record(&self, kind: Kind, plugin: &str, elapsed: Duration, failed: bool) {
        let mut map = self.by_plugin.lock().unwrap_or_else(|p| p.into_inner());
        let s = map.entry((kind.as_str(), plugin.to_owned())).or_default();
        s.calls += 1;
        if failed {
            s.failures += 1;
        }
        let secs = elapsed.as_secs_f64();
        s.sum += secs;
        if let Some(i) = BUCKETS.iter().position(|&b| secs <= b) {
            s.buckets[i] += 1;
        }
    }

    /// The metrics in Prometheus's text exposition format.
    pub fn render(&self) -> String {
        let map = self
            .by_plugin
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut out = String::new();
        let label = |kind: &str, plugin: &str| {
            format!(
                "kind=\"{kind}\",plugin=\"{}\"",
                plugin.replace('\\', "\\\\").replace('"', "\\\"")
            )
        };
        out.push_str("# HELP tsudoi_plugin_calls_total Calls into a plugin.\n# TYPE tsudoi_plugin_calls_total counter\n");
        for ((kind, plugin), s) in &map {
            let _ = writeln!(
                out,
                "tsudoi_plugin_calls_total{{{}}} {}",
                label(kind, plugin),
                s.calls
            );
        }
        out.push_str("# HELP tsudoi_plugin_failures_total Calls that trapped, timed out or returned an error.\n# TYPE tsudoi_plugin_failures_total counter\n");
        for ((kind, plugin), s) in &map {
            let _ = writeln!(
                out,
                "tsudoi_plugin_failures_total{{{}}} {}",
                label(kind, plugin),
                s.failures
            );
        }
        out.push_str("# HELP tsudoi_plugin_call_seconds Time per call.\n# TYPE tsudoi_plugin_call_seconds histogram\n");
        for ((kind, plugin), s) in &map {
            let l = label(kind, plugin);
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(s.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "tsudoi_plugin_call_seconds_bucket{{{l},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "tsudoi_plugin_call_seconds_bucket{{{l},le=\"+Inf\"}} {}",
                s.calls
            );
            let _ = writeln!(out, "tsudoi_plugin_call_seconds_sum{{{l}}} {}", s.sum);
            let _ = writeln!(out, "tsudoi_plugin_call_seconds_count{{{l}}} {}", s.calls);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let m = PluginMetrics::default();
        m.record(Kind::Moderation, "kw", Duration::from_micros(3), false);
        m.record(Kind::Moderation, "kw", Duration::from_millis(60), true);
        let text = m.render();
        assert!(text.contains("tsudoi_plugin_calls_total{kind=\"moderation\",plugin=\"kw\"} 2"));
        assert!(text.contains("tsudoi_plugin_failures_total{kind=\"moderation\",plugin=\"kw\"} 1"));
        assert!(text.contains(
            "tsudoi_plugin_call_seconds_bucket{kind=\"moderation\",plugin=\"kw\",le=\"0.00001\"} 1"
        ));
        assert!(text.contains(
            "tsudoi_plugin_call_seconds_bucket{kind=\"moderation\",plugin=\"kw\",le=\"0.1\"} 2"
        ));
        assert!(
            text.contains("tsudoi_plugin_call_seconds_count{kind=\"moderation\",plugin=\"kw\"} 2")
        );
    }
}
