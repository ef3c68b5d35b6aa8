//! The endpoint table. Each module registers the endpoints of one area; `all()` is what the
//! router and the OpenAPI document are built from, so the two cannot disagree.

pub mod account;
pub mod admin;
pub mod auth;
pub mod blocking;
pub mod catalog;
pub mod charts;
pub mod drive;
pub mod emojis;
pub mod favorites;
pub mod federation;
pub mod following;
pub mod lists;
pub mod meta;
pub mod mutes;
pub mod notes;
pub mod notifications;
pub mod reactions;
pub mod registry;
pub mod search;
pub mod timelines;

use schemars::JsonSchema;
use serde::Deserialize;

use tsudoi_model::{Page, ids};

use super::{ApiError, ApiResult, Endpoint};

pub fn all() -> Vec<Endpoint> {
    let mut v = Vec::new();
    v.extend(account::endpoints());
    v.extend(admin::endpoints());
    v.extend(auth::endpoints());
    v.extend(blocking::endpoints());
    v.extend(catalog::endpoints());
    v.extend(charts::endpoints());
    v.extend(drive::endpoints());
    v.extend(emojis::endpoints());
    v.extend(favorites::endpoints());
    v.extend(federation::endpoints());
    v.extend(following::endpoints());
    v.extend(lists::endpoints());
    v.extend(notes::endpoints());
    v.extend(notifications::endpoints());
    v.extend(reactions::endpoints());
    v.extend(registry::endpoints());
    v.extend(search::endpoints());
    v.extend(timelines::endpoints());
    v.extend(meta::endpoints());
    v.extend(mutes::endpoints());
    v
}

/// The parameters of an endpoint that takes none (beside the token).
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct NoParams {}

/// Paging parameters shared by every list endpoint.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Paging {
    pub since_id: Option<String>,
    pub until_id: Option<String>,
    /// Unix milliseconds; `sinceId` wins when both are given.
    pub since_date: Option<i64>,
    pub until_date: Option<i64>,
    /// 1–100.
    pub limit: Option<i64>,
}

/// A list's `limit`: 1–100 (Misskey's bounds), `default` when absent.
pub fn limit(given: Option<i64>, default: i64) -> ApiResult<i64> {
    let limit = given.unwrap_or(default);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_param(
            "limit",
            "must be between 1 and 100",
        ));
    }
    Ok(limit)
}

/// A list's `offset`: 0 when absent, never negative.
pub fn offset(given: Option<i64>) -> ApiResult<i64> {
    match given.unwrap_or(0) {
        o if o < 0 => Err(ApiError::invalid_param("offset", "must not be negative")),
        o => Ok(o),
    }
}

impl Paging {
    pub fn page(&self, default_limit: i64) -> ApiResult<Page> {
        let limit = limit(self.limit, default_limit)?;
        let since_id = match (&self.since_id, self.since_date) {
            (Some(id), _) => Some(check_id("sinceId", id)?.to_owned()),
            (None, Some(d)) => Some(ids::aidx_floor(d)),
            (None, None) => None,
        };
        let until_id = match (&self.until_id, self.until_date) {
            (Some(id), _) => Some(check_id("untilId", id)?.to_owned()),
            (None, Some(d)) => Some(ids::aidx_floor(d)),
            (None, None) => None,
        };
        Ok(Page::new(since_id, until_id, limit))
    }
}

/// Misskey's `misskey:id` format: ASCII letters and digits.
pub fn check_id<'a>(param: &str, id: &'a str) -> ApiResult<&'a str> {
    if ids::looks_like_id(id) {
        Ok(id)
    } else {
        Err(ApiError::invalid_param(
            param,
            "must be an id (letters and digits)",
        ))
    }
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
