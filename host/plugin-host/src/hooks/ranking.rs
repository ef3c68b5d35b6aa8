//! Timeline rankers: given the candidate notes of a timeline page and their features, a
//! plugin says which to keep and how high each scores; the host sorts and pages.

use crate::plugin::Plugin;
use crate::sandbox::call_error;
use crate::wit::{since_v0_1_0, versioned_world};
use crate::{CallError, Kind};

pub use crate::wit::latest::ranking::exports::tsudoi::plugin::ranking::{
    Candidate, Scored, Viewer,
};

versioned_world!(
    /// A timeline ranker, by the WIT version it was built against.
    TimelineRanker, TimelineRankerPre, Kind::Ranking, {
        V0_1_0 => since_v0_1_0::TimelineRanker,
    }
);

/// Most candidates handed to a ranker at once (the benchmark size).
pub const MAX_CANDIDATES: usize = 500;

/// A loaded ranking plugin.
pub type RankingPlugin = Plugin<TimelineRanker>;

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
            let result = match instance {
                TimelineRanker::V0_1_0(w) => w
                    .tsudoi_plugin_ranking()
                    .call_rank(store, timeline, viewer, candidates),
            };
            result
                .map_err(|e| call_error(e, deadline))?
                .map_err(|e| CallError::Plugin(since_v0_1_0::plugin_error(&e)))
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
