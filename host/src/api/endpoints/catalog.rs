//! `endpoints` and `endpoint`: what this server answers, read from the endpoint table itself,
//! so a client that gates features on the list (Miria refuses a server whose list lacks
//! `emojis`) is never told of an endpoint that is not there, nor left ignorant of one that is.

use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::NoParams;
use crate::api::{ApiResult, Ctx, Endpoint, Reply, json};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            "endpoints",
            "The names of every endpoint this server answers.",
            list,
        ),
        Endpoint::new(
            "endpoint",
            "The parameters of one endpoint, or null if there is no such endpoint.",
            show,
        ),
    ]
}

/// One parameter as Misskey's `endpoint` describes it: its name and its JSON type,
/// capitalised (`String`, `Integer`, `Array`, …).
#[derive(Debug, Serialize)]
struct Param {
    name: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Serialize)]
struct Described {
    params: Vec<Param>,
}

/// Every endpoint's name and parameters, sorted by name, worked out once from the table.
fn catalog() -> &'static [(&'static str, Described)] {
    static CATALOG: OnceLock<Vec<(&'static str, Described)>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
        let schemas: Vec<(&'static str, Value)> = super::all()
            .iter()
            .map(|e| (e.name, (e.params)(&mut generator).to_value()))
            .collect();
        let definitions = generator.take_definitions(true);
        let mut catalog: Vec<(&'static str, Described)> = schemas
            .into_iter()
            .map(|(name, schema)| {
                let schema = resolve(&schema, &definitions);
                let params = schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(name, property)| Param {
                        name: name.clone(),
                        kind: type_name(property, &definitions),
                    })
                    .collect();
                (name, Described { params })
            })
            .collect();
        catalog.sort_by_key(|(name, _)| *name);
        catalog
    })
}

/// The schema `schema` points at, if it is a `$ref` to one of the definitions.
fn resolve<'a>(schema: &'a Value, definitions: &'a Map<String, Value>) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| definitions.get(r.rsplit('/').next().unwrap_or(r)))
        .unwrap_or(schema)
}

/// A property's type as Misskey names it: its JSON type capitalised; an optional one by its
/// non-null variant; `string` when the schema does not say (Misskey's fallback).
fn type_name(property: &Value, definitions: &Map<String, Value>) -> String {
    let property = resolve(property, definitions);
    let declared = property.get("type").and_then(Value::as_str).or_else(|| {
        property
            .get("anyOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| resolve(v, definitions).get("type").and_then(Value::as_str))
            .find(|t| *t != "null")
    });
    match declared {
        Some(t) => {
            let mut chars = t.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        }
        None => "string".into(),
    }
}

async fn list(_: Ctx, _: NoParams) -> ApiResult<Reply> {
    json(catalog().iter().map(|(name, _)| *name).collect::<Vec<_>>())
}

#[derive(Deserialize, JsonSchema)]
struct ShowParams {
    endpoint: String,
}

async fn show(_: Ctx, p: ShowParams) -> ApiResult<Reply> {
    json(
        catalog()
            .binary_search_by_key(&p.endpoint.as_str(), |(name, _)| name)
            .ok()
            .map(|i| &catalog()[i].1),
    )
}
