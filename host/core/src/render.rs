//! MFM to HTML for what the server renders itself (note pages; federation's `content`
//! later). [`links`] is how this server links mentions and hashtags, the one place that
//! decides it. [`mfm_html`] renders through the MFM plugins the admin installed: the first
//! plugin that renders whole documents renders the note, otherwise the built-in renderer
//! does, handing each `$[fn]` a plugin declared to that plugin. A plugin that fails or runs
//! out of time costs its part only: the built-in rendering takes its place. Plugin HTML is
//! sanitised before use.

use tsudoi_plugin_host::Calls;
use tsudoi_plugin_host::hooks::mfm::{self as wit, RenderContext};
use tsudoi_plugin_host::registry::ChainedMfm;

use crate::{Core, Settings};

/// MFM as HTML with this server's links: mentions to profiles, hashtags to tag pages; `fns`
/// renders the `$[fn]` names MFM plugins handle.
pub fn links(
    settings: &Settings,
    tree: &[tsudoi_mfm::Node],
    fns: Option<&dyn tsudoi_mfm::FnRenderer>,
) -> String {
    let base = settings.base_url();
    let mention_url = |user: &str, host: Option<&str>| match host {
        Some(h) if !settings.is_own_host(h) => format!("{base}/@{user}@{h}"),
        _ => format!("{base}/@{user}"),
    };
    let hashtag_url = |tag: &str| format!("{base}/tags/{}", tsudoi_mfm::url_component(tag));
    let options = tsudoi_mfm::RenderOptions {
        mention_url: &mention_url,
        hashtag_url: &hashtag_url,
        emoji_url: &|_| None,
        search_url: "https://www.google.com/search?q=",
        fn_renderer: fns,
    };
    tsudoi_mfm::to_html(tree, &options)
}

/// Renders the `$[fn]` names plugins declared, each call counted by the funnel.
struct PluginFns<'a, 'c> {
    chain: &'a [ChainedMfm],
    ctx: &'a RenderContext,
    calls: &'a Calls<'c>,
}

impl tsudoi_mfm::FnRenderer for PluginFns<'_, '_> {
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
        let result = self.calls.call(&link.plugin, |p| {
            p.render_fn(&wit::fn_call(name, args), children_html, self.ctx)
        });
        if let Err(e) = &result {
            tracing::warn!(plugin = %link.plugin.name, error = %e, "MFM plugin failed; built-in rendering used");
        }
        result.ok()
    }
}

/// `text` (MFM) as sanitised HTML, with this server's links.
pub async fn mfm_html(core: &Core, text: &str) -> String {
    let tree = tsudoi_mfm::parse(text);
    let chain = core.plugins().registry().mfm();
    if chain.is_empty() {
        return links(core.settings(), &tree, None);
    }
    let settings = core.settings().clone();
    let rendered = core
        .plugins()
        .funnel()
        .run(move |calls| {
            let ctx = RenderContext {
                instance_url: settings.base_url().to_owned(),
                allow_animation: true,
            };
            let doc = wit::document(&tree);
            for link in chain.iter() {
                match calls.call(&link.plugin, |p| p.render_document(&doc, &ctx)) {
                    Ok(Some(html)) => return html,
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(plugin = %link.plugin.name, error = %e, "MFM plugin failed; built-in rendering used")
                    }
                }
            }
            let fns = PluginFns {
                chain: &chain,
                ctx: &ctx,
                calls,
            };
            links(&settings, &tree, Some(&fns))
        })
        .await;
    match rendered {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "MFM rendering failed; built-in rendering used");
            links(core.settings(), &tsudoi_mfm::parse(text), None)
        }
    }
}
