//! The JSON Schema of `pipeline.toml` (`host schema`), derived from the
//! very types [`super::parse`] deserializes the file into, so the two
//! cannot drift: their doc comments are the descriptions, `deny_unknown_fields`
//! becomes `additionalProperties: false`.

use schemars::generate::SchemaSettings;
use serde_json::Value;

use super::RawConfig;

/// The schema's `$id`. Versioned with the file format, not the host: a
/// host that reads the same keys writes the same schema.
pub const SCHEMA_ID: &str = "urn:strata:pipeline.toml:v1";

/// `pipeline.toml`'s JSON Schema (draft 2020-12).
pub fn json_schema() -> Value {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<RawConfig>();
    let mut value = schema.to_value();
    if let Value::Object(root) = &mut value {
        root.insert("$id".into(), SCHEMA_ID.into());
        root.insert("title".into(), "Strata pipeline.toml".into());
    }
    drop_null(&mut value);
    describe_tags(&mut value, None);
    value
}

/// An internally tagged enum (`check = "range"`, `kind = "http"`,
/// `style = "cursor"`) puts its tag in each variant's schema as a property
/// with a `const` and no description; the variant's own description (its
/// doc comment) tells what that value means, so the tag gets it, prefixed
/// with the key as it is written.
fn describe_tags(value: &mut Value, parent_description: Option<&str>) {
    match value {
        Value::Object(map) => {
            let own = map
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if let Some(Value::Object(properties)) = map.get_mut("properties") {
                for (key, property) in properties.iter_mut() {
                    let Value::Object(p) = property else { continue };
                    if p.contains_key("description") {
                        continue;
                    }
                    if let Some(Value::String(tag)) = p.get("const") {
                        let what = own.as_deref().or(parent_description).unwrap_or("");
                        let text = format!("`{key} = \"{tag}\"`: {what}");
                        p.insert(
                            "description".into(),
                            text.trim_end_matches([':', ' ']).into(),
                        );
                    }
                }
            }
            for (_, v) in map.iter_mut() {
                describe_tags(v, own.as_deref().or(parent_description));
            }
        }
        Value::Array(items) => {
            for v in items {
                describe_tags(v, parent_description);
            }
        }
        _ => {}
    }
}

/// TOML has no null: an optional key is one that may be left out, and
/// schemars' `null` alternative for an `Option` would only tell an editor
/// that a null is fine. `{"type": ["string", "null"]}` becomes
/// `{"type": "string"}`; an `anyOf` with `{"type": "null"}` loses it, and
/// one left with a single alternative is merged into its parent.
fn drop_null(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(alternatives)) = map.get_mut("anyOf") {
                alternatives.retain(|a| a.get("type").and_then(Value::as_str) != Some("null"));
                if alternatives.len() == 1
                    && let Some(Value::Object(only)) = alternatives.pop()
                {
                    map.remove("anyOf");
                    for (k, v) in only {
                        map.entry(k).or_insert(v);
                    }
                }
            }
            map.values_mut().for_each(drop_null);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check kinds the parser names in its messages are the variants
    /// of the type it deserializes a check into, which the schema lists.
    #[test]
    fn the_check_kinds_in_messages_are_the_schemas() {
        let schema = json_schema();
        let kinds: Vec<&str> = schema["$defs"]["RawCheck"]["oneOf"]
            .as_array()
            .expect("oneOf")
            .iter()
            .map(|v| v["properties"]["check"]["const"].as_str().expect("const"))
            .collect();
        assert_eq!(kinds.join(", "), super::super::checks::KINDS);
    }

    #[test]
    fn header_and_no_nulls() {
        let schema = json_schema();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["$id"], SCHEMA_ID);
        assert_eq!(schema["additionalProperties"], false);
        let text = schema.to_string();
        assert!(!text.contains("\"null\""), "TOML has no null: {text}");
    }
}
