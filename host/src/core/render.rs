//! MFM to HTML for what the server renders itself (note pages; federation's `content`
//! later), through the MFM plugins the admin installed: the first plugin that renders whole
//! documents renders the note, otherwise the built-in renderer does, handing each `$[fn]` a
//! plugin declared to that plugin. A plugin that fails or runs out of time costs its part
//! only: the built-in rendering takes its place. Plugin HTML is sanitised before use.

use std::sync::Arc;
use std::time::Instant;

use crate::app::App;
use crate::plugins::mfm::{self as wit, RenderContext};
use crate::plugins::registry::ChainedMfm;
use crate::plugins::{CallError, Kind};

/// One plugin call's outcome, for metrics and the failure count.
struct Call {
    plugin: Arc<crate::plugins::mfm::MfmPlugin>,
    took: std::time::Duration,
    failed: bool,
}

struct PluginFns<'a> {
    chain: &'a [ChainedMfm],
    ctx: &'a RenderContext,
    calls: std::cell::RefCell<Vec<Call>>,
}

impl PluginFns<'_> {
    fn record<T>(&self, link: &ChainedMfm, started: Instant, r: &Result<T, CallError>) {
        if let Err(e) = r {
            tracing::warn!(plugin = %link.plugin.name, error = %e, "MFM plugin failed; built-in rendering used");
        }
        self.calls.borrow_mut().push(Call {
            plugin: link.plugin.clone(),
            took: started.elapsed(),
            failed: r.is_err(),
        });
    }
}

impl tsudoi_mfm::FnRenderer for PluginFns<'_> {
    fn handles(&self, name: &str) -> bool {
        self.chain
            .iter()
            .any(|l| l.handled_fns.iter().any(|f| f == name))
    }

    fn render(
        &self,
        name: &str,
        args: &[(String, tsudoi_mfm::FnArg)],
        children_html: &str,
    ) -> Option<String> {
        let link = self
            .chain
            .iter()
            .find(|l| l.handled_fns.iter().any(|f| f == name))?;
        let started = Instant::now();
        let result = link
            .plugin
            .render_fn(&wit::fn_call(name, args), children_html, self.ctx);
        self.record(link, started, &result);
        result.ok()
    }
}

/// `text` (MFM) as sanitised HTML, with this server's links.
pub async fn mfm_html(app: &App, text: &str) -> String {
    let tree = tsudoi_mfm::parse(text);
    let chain = app.plugins.mfm();
    if chain.is_empty() {
        return crate::api::entities::render_mfm(&app.config, &tree, None);
    }
    let shared = app.clone();
    let rendered = tokio::task::spawn_blocking(move || {
        let config = &shared.config;
        let ctx = RenderContext {
            instance_url: config.base_url(),
            allow_animation: true,
        };
        let fns = PluginFns {
            chain: &chain,
            ctx: &ctx,
            calls: Default::default(),
        };
        let doc = wit::document(&tree);
        let mut html = None;
        for link in chain.iter() {
            let started = Instant::now();
            let result = link.plugin.render_document(&doc, &ctx);
            fns.record(link, started, &result);
            if let Ok(Some(h)) = result {
                html = Some(h);
                break;
            }
        }
        let html =
            html.unwrap_or_else(|| crate::api::entities::render_mfm(config, &tree, Some(&fns)));
        (html, fns.calls.into_inner())
    })
    .await;
    match rendered {
        Ok((html, calls)) => {
            for c in calls {
                app.plugins
                    .metrics
                    .record(Kind::Mfm.as_str(), &c.plugin.name, c.took, c.failed);
                super::plugins::track_failures(
                    app,
                    Kind::Mfm,
                    &c.plugin.name,
                    &c.plugin.failures_in_a_row,
                    c.failed,
                )
                .await;
            }
            html
        }
        Err(e) => {
            tracing::error!(error = %e, "MFM rendering panicked; built-in rendering used");
            crate::api::entities::render_mfm(&app.config, &tsudoi_mfm::parse(text), None)
        }
    }
}
