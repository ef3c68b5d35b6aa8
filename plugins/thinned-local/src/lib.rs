//! A "thinned" timeline: no author fills the page. Of the candidates (newest first), each
//! author keeps at most `max_per_author`; a note scores its age, lifted by
//! `boost_ms_per_interaction` for each reply and renote it received, so a discussed note can
//! stand above newer quiet ones.
//!
//! Configuration: `{"max_per_author": 2, "boost_ms_per_interaction": 0}` (both optional).
//!
//! The logic lives in [`thin`], plain Rust that also builds natively (the benchmark compares
//! the component with it).

use std::collections::HashMap;

#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default = "default_max")]
    pub max_per_author: u32,
    #[serde(default)]
    pub boost_ms_per_interaction: i64,
}

fn default_max() -> u32 {
    2
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_per_author: default_max(),
            boost_ms_per_interaction: 0,
        }
    }
}

/// One candidate as the ranker sees it.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    pub author: &'a str,
    pub created_at: i64,
    pub interactions: u32,
}

/// `(index, score)` of the candidates to keep.
pub fn thin<'a>(settings: &Settings, items: impl Iterator<Item = Item<'a>>) -> Vec<(u32, f64)> {
    let mut per_author: HashMap<&str, u32> = HashMap::new();
    let mut kept = Vec::new();
    for (i, item) in items.enumerate() {
        let seen = per_author.entry(item.author).or_insert(0);
        if *seen >= settings.max_per_author {
            continue;
        }
        *seen += 1;
        let boost = settings
            .boost_ms_per_interaction
            .saturating_mul(i64::from(item.interactions));
        kept.push((i as u32, item.created_at.saturating_add(boost) as f64));
    }
    kept
}

#[cfg(target_family = "wasm")]
mod component {
    use tsudoi_sdk::ranking::*;

    use super::{Item, Settings, thin};

    tsudoi_sdk::manifest!(include_bytes!("../tsudoi-plugin.toml"));

    static SETTINGS: tsudoi_sdk::Settings<Settings> = tsudoi_sdk::Settings::new(Settings {
        max_per_author: 2,
        boost_ms_per_interaction: 0,
    });

    struct ThinnedLocal;

    impl TimelineRanker for ThinnedLocal {
        fn info() -> PluginInfo {
            PluginInfo {
                name: "thinned-local".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                config_schema: Some(
                    r#"{"type":"object","additionalProperties":false,"properties":{"max_per_author":{"type":"integer","minimum":1},"boost_ms_per_interaction":{"type":"integer","minimum":0}}}"#.into(),
                ),
            }
        }

        fn configure(config_json: String) -> Result<(), String> {
            SETTINGS.configure(&config_json)
        }

        fn rank(
            _timeline: String,
            _viewer: Viewer,
            candidates: Vec<Candidate>,
        ) -> Result<Vec<Scored>, PluginError> {
            let settings = SETTINGS.get();
            let items = candidates.iter().map(|c| Item {
                author: &c.author_id,
                created_at: c.created_at,
                interactions: c.reply_count.saturating_add(c.renote_count),
            });
            Ok(thin(&settings, items)
                .into_iter()
                .map(|(index, score)| Scored { index, score })
                .collect())
        }
    }

    tsudoi_sdk::register_ranking!(ThinnedLocal);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_at_most_n_per_author_and_boosts_discussed_notes() {
        let items = [("a", 50, 0), ("a", 40, 0), ("a", 30, 0), ("b", 20, 3)];
        let settings = Settings {
            max_per_author: 2,
            boost_ms_per_interaction: 10,
        };
        let kept = thin(
            &settings,
            items
                .iter()
                .map(|&(author, created_at, interactions)| Item {
                    author,
                    created_at,
                    interactions,
                }),
        );
        assert_eq!(kept, vec![(0, 50.0), (1, 40.0), (3, 50.0)]);
    }
}
