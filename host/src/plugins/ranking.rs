//! Timeline rankers: given the candidate notes of a timeline page and their features, a
//! plugin says which to keep and how high each scores; the host sorts and pages.

use super::instance::{Kind, Plugin};
use super::{CallError, call_error, host_imports};

wasmtime::component::bindgen!({
    path: "../wit/0.1.0",
    world: "timeline-ranker",
    with: {
        "tsudoi:plugin/log": host_imports::log,
        "tsudoi:plugin/kv": host_imports::kv,
        "tsudoi:plugin/http": host_imports::http,
        "tsudoi:plugin/types": super::moderation::tsudoi::plugin::types,
    },
    imports: { default: trappable },
});

pub use exports::tsudoi::plugin::ranking::{Candidate, Scored, Viewer};

/// Most candidates handed to a ranker at once (the benchmark size).
pub const MAX_CANDIDATES: usize = 500;

/// A loaded ranking plugin.
pub type RankingPlugin = Plugin<TimelineRanker>;

super::instance::impl_world!(TimelineRanker, TimelineRankerPre, Kind::Ranking);

impl Plugin<TimelineRanker> {
    /// Ranks `candidates` for `viewer`: the indices to keep, highest score first (ties keep
    /// the candidates' order). Indices out of range or repeated are an error: a ranker that
    /// answers nonsense is a failing ranker. Blocks: call it from a blocking thread.
    pub fn rank(
        &self,
        timeline: &str,
        viewer: &Viewer,
        candidates: &[Candidate],
    ) -> Result<Vec<usize>, CallError> {
        let deadline = self.deadline;
        let scored = self.with_instance(|store, instance| {
            instance
                .tsudoi_plugin_ranking()
                .call_rank(store, timeline, viewer, candidates)
                .map_err(|e| call_error(e, deadline))?
                .map_err(|e| CallError::Plugin(super::moderation::plugin_error(&e)))
        })?;
        order(scored, candidates.len())
    }
}

/// Sorts a ranker's answer by score, checking it refers to each candidate at most once.
pub fn order(mut scored: Vec<Scored>, candidates: usize) -> Result<Vec<usize>, CallError> {
    let mut seen = vec![false; candidates];
    for s in &scored {
        let i = s.index as usize;
        if i >= candidates || std::mem::replace(&mut seen[i], true) || s.score.is_nan() {
            return Err(CallError::Plugin(format!(
                "the ranker returned an invalid entry (index {}, score {})",
                s.index, s.score
            )));
        }
    }
    scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
    Ok(scored.into_iter().map(|s| s.index as usize).collect())
}
