//! `meta`: what clients learn about the server before anything else.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tsudoi_model::RegistrationMode;

use crate::api::entities::{EmptyList, Policies};
use crate::api::{ApiResult, Ctx, Endpoint, Reply, json};

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(
        "meta",
        "Server name, limits and features.",
        meta,
    )]
}

#[derive(Deserialize, JsonSchema)]
struct MetaParams {
    /// Accepted for compatibility; the detailed form is always returned.
    #[serde(default)]
    #[allow(dead_code)]
    detail: Option<bool>,
}

/// Misskey's `MetaDetailed`, telling the truth about what this server has: features it does
/// not have yet are off, limits are the configured ones.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Meta<'a> {
    maintainer_name: (),
    maintainer_email: (),
    version: &'static str,
    provides_tarball: bool,
    name: &'a str,
    short_name: (),
    uri: &'a str,
    description: Option<&'a str>,
    langs: EmptyList,
    tos_url: (),
    repository_url: (),
    feedback_url: (),
    default_dark_theme: (),
    default_light_theme: (),
    client_options: ClientOptions,
    disable_registration: bool,
    email_required_for_signup: bool,
    enable_hcaptcha: bool,
    hcaptcha_site_key: (),
    enable_mcaptcha: bool,
    mcaptcha_site_key: (),
    mcaptcha_instance_url: (),
    enable_recaptcha: bool,
    recaptcha_site_key: (),
    enable_turnstile: bool,
    turnstile_site_key: (),
    enable_testcaptcha: bool,
    google_analytics_measurement_id: (),
    sw_publickey: (),
    mascot_image_url: String,
    banner_url: (),
    server_error_image_url: (),
    info_image_url: (),
    not_found_image_url: (),
    icon_url: (),
    max_note_text_length: usize,
    ads: EmptyList,
    notes_per_one_ad: u32,
    enable_email: bool,
    enable_service_worker: bool,
    translator_available: bool,
    sentry_for_frontend: (),
    media_proxy: String,
    enable_url_preview: bool,
    background_image_url: (),
    impressum_url: (),
    logo_image_url: (),
    privacy_policy_url: (),
    inquiry_url: (),
    server_rules: EmptyList,
    theme_color: (),
    policies: Policies,
    note_searchable_scope: &'static str,
    max_file_size: u64,
    federation: &'static str,
    features: Features,
    proxy_account_name: (),
    require_setup: bool,
    cache_remote_files: bool,
    cache_remote_sensitive_files: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClientOptions {
    entrance_page_style: &'static str,
    show_timeline_for_visitor: bool,
    show_activities_for_visitor: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Features {
    registration: bool,
    email_required_for_signup: bool,
    local_timeline: bool,
    global_timeline: bool,
    hcaptcha: bool,
    turnstile: bool,
    recaptcha: bool,
    object_storage: bool,
    service_worker: bool,
    miauth: bool,
}

async fn meta(ctx: Ctx, _: MetaParams) -> ApiResult<Reply> {
    let s = ctx.settings();
    let base = s.base_url();
    let registration_open = s.registration == RegistrationMode::Open;
    json(Meta {
        maintainer_name: (),
        maintainer_email: (),
        version: env!("CARGO_PKG_VERSION"),
        provides_tarball: false,
        name: &s.instance_name,
        short_name: (),
        uri: base,
        description: s.instance_description.as_deref(),
        langs: EmptyList,
        tos_url: (),
        repository_url: (),
        feedback_url: (),
        default_dark_theme: (),
        default_light_theme: (),
        client_options: ClientOptions {
            entrance_page_style: "classic",
            show_timeline_for_visitor: true,
            show_activities_for_visitor: true,
        },
        disable_registration: !registration_open,
        email_required_for_signup: false,
        enable_hcaptcha: false,
        hcaptcha_site_key: (),
        enable_mcaptcha: false,
        mcaptcha_site_key: (),
        mcaptcha_instance_url: (),
        enable_recaptcha: false,
        recaptcha_site_key: (),
        enable_turnstile: false,
        turnstile_site_key: (),
        enable_testcaptcha: false,
        google_analytics_measurement_id: (),
        sw_publickey: (),
        mascot_image_url: format!("{base}/identicon/tsudoi"),
        banner_url: (),
        server_error_image_url: (),
        info_image_url: (),
        not_found_image_url: (),
        icon_url: (),
        max_note_text_length: s.max_note_length,
        ads: EmptyList,
        notes_per_one_ad: 0,
        enable_email: false,
        enable_service_worker: false,
        translator_available: false,
        sentry_for_frontend: (),
        media_proxy: format!("{base}/proxy"),
        enable_url_preview: false,
        background_image_url: (),
        impressum_url: (),
        logo_image_url: (),
        privacy_policy_url: (),
        inquiry_url: (),
        server_rules: EmptyList,
        theme_color: (),
        policies: Policies::current(s),
        // Every note stored here is searched, other servers' included.
        note_searchable_scope: "global",
        max_file_size: s.drive.max_file_bytes as u64,
        federation: "none",
        features: Features {
            registration: registration_open,
            email_required_for_signup: false,
            local_timeline: true,
            global_timeline: true,
            hcaptcha: false,
            turnstile: false,
            recaptcha: false,
            object_storage: ctx.core.stores_files_remotely(),
            service_worker: false,
            miauth: true,
        },
        proxy_account_name: (),
        require_setup: false,
        cache_remote_files: false,
        cache_remote_sensitive_files: false,
    })
}
