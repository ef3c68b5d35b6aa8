//! `i/registry/*`: settings clients keep on the server (see `tsudoi_core::registry`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tsudoi_core::registry;
use tsudoi_model::{RegistryItem, RegistryScope};

use super::NoParams;
use crate::api::entities::iso;
use crate::api::{ApiError, ApiResult, Ctx, Endpoint, Reply, json};

pub fn endpoints() -> Vec<Endpoint> {
    let read = |e: Endpoint| e.credential().kind("read:account");
    let write = |e: Endpoint| e.credential().kind("write:account");
    vec![
        read(Endpoint::new(
            "i/registry/get-all",
            "Every key of a registry scope with its value.",
            get_all,
        )),
        read(Endpoint::new("i/registry/get", "The value of a key.", get)),
        read(Endpoint::new(
            "i/registry/get-detail",
            "The value of a key and when it was last set.",
            get_detail,
        )),
        read(Endpoint::new(
            "i/registry/keys",
            "The keys of a registry scope.",
            keys,
        )),
        read(Endpoint::new(
            "i/registry/keys-with-type",
            "The keys of a registry scope with the JSON type of each value.",
            keys_with_type,
        )),
        write(Endpoint::new(
            "i/registry/set",
            "Sets a key to a JSON value.",
            set,
        )),
        write(Endpoint::new("i/registry/remove", "Removes a key.", remove)),
        Endpoint::new(
            "i/registry/scopes-with-domain",
            "Every scope you keep something under, by app.",
            scopes_with_domain,
        )
        .credential()
        .secure(),
    ]
}

#[derive(Deserialize, JsonSchema)]
struct ScopeParams {
    #[serde(default)]
    scope: Vec<String>,
    #[serde(default)]
    domain: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
struct KeyParams {
    key: String,
    #[serde(default)]
    scope: Vec<String>,
    #[serde(default)]
    domain: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
struct SetParams {
    key: String,
    /// Any JSON (kept as the client sent it).
    value: serde_json::Value,
    #[serde(default)]
    scope: Vec<String>,
    #[serde(default)]
    domain: Option<String>,
}

fn scope_of(ctx: &Ctx, domain: Option<String>, scope: Vec<String>) -> ApiResult<RegistryScope> {
    Ok(registry::scope(ctx.me()?, ctx.app.as_ref(), domain, scope)?)
}

/// A stored value as it was set (stored JSON is always valid JSON).
fn raw(item: &RegistryItem) -> ApiResult<&RawValue> {
    serde_json::from_str(&item.value).map_err(ApiError::internal)
}

async fn get_all(ctx: Ctx, p: ScopeParams) -> ApiResult<Reply> {
    let items = registry::all(&ctx.core, &scope_of(&ctx, p.domain, p.scope)?).await?;
    let map = items
        .iter()
        .map(|i| Ok((i.key.as_str(), raw(i)?)))
        .collect::<ApiResult<BTreeMap<_, _>>>()?;
    json(map)
}

async fn item(ctx: &Ctx, p: KeyParams, missing: &'static str) -> ApiResult<RegistryItem> {
    let s = scope_of(ctx, p.domain, p.scope)?;
    registry::get(&ctx.core, &s, &p.key)
        .await?
        .ok_or_else(|| ApiError::no_such_registry_key(missing))
}

async fn get(ctx: Ctx, p: KeyParams) -> ApiResult<Reply> {
    let item = item(&ctx, p, "ac3ed68a-62f0-422b-a7bc-d5e09e8f6a6a").await?;
    // Misskey answers a null value with no content.
    if item.value == "null" {
        return Ok(Reply::NoContent);
    }
    Ok(Reply::Json(item.value.into_bytes()))
}

async fn get_detail(ctx: Ctx, p: KeyParams) -> ApiResult<Reply> {
    let item = item(&ctx, p, "97a1e8e7-c0f7-47d2-957a-92e61256e01a").await?;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Detail<'a> {
        updated_at: String,
        value: &'a RawValue,
    }
    json(Detail {
        updated_at: iso(item.updated_at),
        value: raw(&item)?,
    })
}

async fn keys(ctx: Ctx, p: ScopeParams) -> ApiResult<Reply> {
    let items = registry::all(&ctx.core, &scope_of(&ctx, p.domain, p.scope)?).await?;
    json(items.iter().map(|i| i.key.as_str()).collect::<Vec<_>>())
}

async fn keys_with_type(ctx: Ctx, p: ScopeParams) -> ApiResult<Reply> {
    let items = registry::all(&ctx.core, &scope_of(&ctx, p.domain, p.scope)?).await?;
    // Misskey's names for JSON types, told from the value's first character.
    let type_of = |value: &str| match value.trim_start().as_bytes().first() {
        Some(b'n') => "null",
        Some(b'[') => "array",
        Some(b'{') => "object",
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        _ => "number",
    };
    json(
        items
            .iter()
            .map(|i| (i.key.as_str(), type_of(&i.value)))
            .collect::<BTreeMap<_, _>>(),
    )
}

async fn set(ctx: Ctx, p: SetParams) -> ApiResult<Reply> {
    let s = scope_of(&ctx, p.domain, p.scope)?;
    let value = serde_json::to_string(&p.value).map_err(ApiError::internal)?;
    registry::set(&ctx.core, &s, &p.key, value).await?;
    Ok(Reply::NoContent)
}

async fn remove(ctx: Ctx, p: KeyParams) -> ApiResult<Reply> {
    let s = scope_of(&ctx, p.domain, p.scope)?;
    registry::remove(&ctx.core, &s, &p.key).await?;
    Ok(Reply::NoContent)
}

async fn scopes_with_domain(ctx: Ctx, _: NoParams) -> ApiResult<Reply> {
    #[derive(Serialize)]
    struct Entry {
        domain: Option<String>,
        scopes: Vec<Vec<String>>,
    }
    let scopes = registry::scopes(&ctx.core, ctx.me()?).await?;
    json(
        scopes
            .into_iter()
            .map(|(domain, scopes)| Entry { domain, scopes })
            .collect::<Vec<_>>(),
    )
}
