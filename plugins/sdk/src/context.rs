use arrow_schema::SchemaRef;
use serde::de::DeserializeOwned;

use crate::Error;
use crate::types::schema_from_wit;

/// Everything a plugin may know about the partition it computes.
#[derive(Debug, Clone)]
pub struct Context {
    /// `layer/name` of the dataset being produced, e.g. `silver/transactions`.
    pub dataset: String,
    /// The partition id, e.g. `date=2025-02-18`.
    pub partition: String,
    /// Start of the period this partition covers (RFC 3339); empty for an
    /// unpartitioned dataset.
    pub period_start: String,
    /// End of the period, exclusive (RFC 3339); empty for an unpartitioned
    /// dataset.
    pub period_end: String,
    /// The dataset's params from `pipeline.toml`.
    pub params: Params,
    /// The input datasets, in the order `process` refers to them by index.
    pub inputs: Vec<Input>,
}

/// One input dataset.
#[derive(Debug, Clone)]
pub struct Input {
    /// `layer/name`, e.g. `raw/transactions`.
    pub dataset: String,
    /// Its schema as the host announced it.
    pub schema: SchemaRef,
}

impl Context {
    pub(crate) fn from_wit(ctx: crate::__private::PartitionContext) -> Result<Context, Error> {
        let inputs = ctx
            .inputs
            .into_iter()
            .map(|input| {
                let schema = schema_from_wit(&input.fields, &format!("input `{}`", input.dataset))?;
                Ok(Input {
                    dataset: input.dataset,
                    schema,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Context {
            dataset: ctx.dataset,
            partition: ctx.partition,
            period_start: ctx.period_start,
            period_end: ctx.period_end,
            params: Params::new(ctx.params),
            inputs,
        })
    }
}

/// The dataset's params. String values arrive as they are; any other value
/// (number, bool, array, table) as JSON text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    entries: Vec<(String, String)>,
}

impl Params {
    /// Params from `(key, value)` pairs; the first of duplicate keys wins.
    pub fn new(entries: Vec<(String, String)>) -> Params {
        Params { entries }
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key`, or [`Error::BadParams`] naming the missing key.
    pub fn require(&self, key: &str) -> Result<&str, Error> {
        self.get(key)
            .ok_or_else(|| Error::BadParams(format!("missing required param `{key}`")))
    }

    /// The value of `key` parsed as JSON; `Ok(None)` if unset.
    pub fn parse_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        serde_json::from_str(value)
            .map(Some)
            .map_err(|e| Error::BadParams(format!("param `{key}`: {e} in `{value}`")))
    }

    /// The value of `key` as a list of strings: a JSON array of strings
    /// (`["a", "b"]`) or comma-separated text (`a, b`). Items are trimmed and
    /// empty ones dropped. Empty if unset.
    pub fn list(&self, key: &str) -> Result<Vec<String>, Error> {
        let Some(value) = self.get(key) else {
            return Ok(Vec::new());
        };
        let items: Vec<String> = if value.trim_start().starts_with('[') {
            serde_json::from_str(value).map_err(|e| {
                Error::BadParams(format!(
                    "param `{key}` must be a list of strings (a JSON array or comma-separated): {e}"
                ))
            })?
        } else {
            value.split(',').map(str::to_string).collect()
        };
        Ok(items
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect())
    }

    /// The value of `key` as a bool (`true`/`false`); `Ok(None)` if unset.
    pub fn flag(&self, key: &str) -> Result<Option<bool>, Error> {
        match self.get(key).map(str::trim) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(Error::BadParams(format!(
                "param `{key}` must be true or false, not `{other}`"
            ))),
        }
    }

    /// [`Error::BadParams`] if any key is not in `known`: catches typos that
    /// would otherwise be silently ignored.
    pub fn check_known(&self, known: &[&str]) -> Result<(), Error> {
        for (key, _) in &self.entries {
            if !known.contains(&key.as_str()) {
                return Err(Error::BadParams(format!(
                    "unknown param `{key}`; this plugin takes: {}",
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// All `(key, value)` pairs, in the order the host gave them.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Params {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Params {
        Params::new(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params() {
        let p: Params = [
            ("a", "x"),
            ("list", "a, b ,,c"),
            ("json", r#"["a","b"]"#),
            ("n", "3"),
        ]
        .into_iter()
        .collect();
        assert_eq!(p.get("a"), Some("x"));
        assert_eq!(p.require("a"), Ok("x"));
        assert_eq!(
            p.require("zz"),
            Err(Error::BadParams("missing required param `zz`".into()))
        );
        assert_eq!(p.list("list").unwrap(), ["a", "b", "c"]);
        assert_eq!(p.list("json").unwrap(), ["a", "b"]);
        assert!(p.list("missing").unwrap().is_empty());
        assert_eq!(p.parse_json::<u32>("n").unwrap(), Some(3));
        assert_eq!(p.parse_json::<u32>("missing").unwrap(), None);
        assert!(matches!(p.parse_json::<u32>("a"), Err(Error::BadParams(_))));
        assert!(p.check_known(&["a", "list", "json", "n"]).is_ok());
        assert!(p.check_known(&["a"]).is_err());
    }
}
