//! `meta`: what clients learn about the server before anything else.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::api::entities::default_policies;
use crate::api::{ApiResult, Ctx, Endpoint, Reply, json};
use crate::config::RegistrationMode;

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

async fn meta(ctx: Ctx, _: MetaParams) -> ApiResult<Reply> {
    let c = &ctx.app.config;
    let registration_open = c.registration == RegistrationMode::Open;
    json(json!({
        "maintainerName": null,
        "maintainerEmail": null,
        "version": env!("CARGO_PKG_VERSION"),
        "providesTarball": false,
        "name": c.instance_name,
        "shortName": null,
        "uri": c.base_url(),
        "description": c.instance_description,
        "langs": [],
        "tosUrl": null,
        "repositoryUrl": null,
        "feedbackUrl": null,
        "defaultDarkTheme": null,
        "defaultLightTheme": null,
        "clientOptions": { "entrancePageStyle": "classic", "showTimelineForVisitor": true, "showActivitiesForVisitor": true },
        "disableRegistration": !registration_open,
        "emailRequiredForSignup": false,
        "enableHcaptcha": false,
        "hcaptchaSiteKey": null,
        "enableMcaptcha": false,
        "mcaptchaSiteKey": null,
        "mcaptchaInstanceUrl": null,
        "enableRecaptcha": false,
        "recaptchaSiteKey": null,
        "enableTurnstile": false,
        "turnstileSiteKey": null,
        "enableTestcaptcha": false,
        "googleAnalyticsMeasurementId": null,
        "swPublickey": null,
        "mascotImageUrl": format!("{}/identicon/tsudoi", c.base_url()),
        "bannerUrl": null,
        "serverErrorImageUrl": null,
        "infoImageUrl": null,
        "notFoundImageUrl": null,
        "iconUrl": null,
        "maxNoteTextLength": c.max_note_length,
        "ads": [],
        "notesPerOneAd": 0,
        "enableEmail": false,
        "enableServiceWorker": false,
        "translatorAvailable": false,
        "sentryForFrontend": null,
        "mediaProxy": format!("{}/proxy", c.base_url()),
        "enableUrlPreview": false,
        "backgroundImageUrl": null,
        "impressumUrl": null,
        "logoImageUrl": null,
        "privacyPolicyUrl": null,
        "inquiryUrl": null,
        "serverRules": [],
        "themeColor": null,
        "policies": default_policies(),
        "noteSearchableScope": "local",
        "maxFileSize": 0,
        "federation": "none",
        "features": {
            "registration": registration_open,
            "emailRequiredForSignup": false,
            "localTimeline": true,
            "globalTimeline": true,
            "hcaptcha": false,
            "turnstile": false,
            "recaptcha": false,
            "objectStorage": false,
            "serviceWorker": false,
            "miauth": true
        },
        "proxyAccountName": null,
        "requireSetup": false,
        "cacheRemoteFiles": false,
        "cacheRemoteSensitiveFiles": false
    }))
}
