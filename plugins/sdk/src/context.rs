use arrow_schema::SchemaRef;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

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
    /// The dataset's params from `pipeline.toml`; [`Context::params`]
    /// reads them all into a struct of yours.
    pub params: Params,
    /// The input datasets, in the order `process` refers to them by index.
    pub inputs: Vec<Input>,
}

/// One input dataset.
#[derive(Debug, Clone)]
pub struct Input {
    /// `layer/name`, e.g. `raw/transactions`.
    pub dataset: String,
    /// Its schema as the host announced it: every column it has, before
    /// any projection the plugin's [`Plan`](crate::Plan) asks for.
    pub schema: SchemaRef,
    /// The input partitions this partition reads (one for a same-period
    /// input, a window's or all for the others), oldest first. `process`
    /// names the one a batch comes from by index into this list.
    pub partitions: Vec<String>,
}

impl Context {
    /// Every param, read into `T` (any `serde::Deserialize` type, typically
    /// a struct of the params this plugin takes). A param that is missing,
    /// of the wrong type or (with `#[serde(deny_unknown_fields)]`) unknown
    /// is an [`Error::BadParams`] naming it.
    ///
    /// ```ignore
    /// #[derive(serde::Deserialize)]
    /// #[serde(deny_unknown_fields)]
    /// struct Params { column: String, #[serde(default)] factor: i64 }
    /// let params: Params = ctx.params()?;
    /// ```
    pub fn params<T: DeserializeOwned>(&self) -> Result<T, Error> {
        self.params.deserialize()
    }

    pub(crate) fn from_wit(ctx: crate::__private::PartitionContext) -> Result<Context, Error> {
        let inputs = ctx
            .inputs
            .into_iter()
            .map(|input| {
                let schema = schema_from_wit(&input.fields, &format!("input `{}`", input.dataset))?;
                Ok(Input {
                    dataset: input.dataset,
                    schema,
                    partitions: input.partitions,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let params = match serde_json::from_str(&ctx.params) {
            Ok(Value::Object(map)) => Params::new(map),
            Ok(other) => {
                return Err(Error::BadParams(format!(
                    "the params are not a JSON object but {other}"
                )));
            }
            Err(e) => {
                return Err(Error::BadParams(format!("the params are not JSON: {e}")));
            }
        };
        Ok(Context {
            dataset: ctx.dataset,
            partition: ctx.partition,
            period_start: ctx.period_start,
            period_end: ctx.period_end,
            params,
            inputs,
        })
    }
}

/// The dataset's params, as `pipeline.toml` gives them: a JSON object whose
/// values keep their types (`3` is a number, `"3"` a string).
///
/// Read them all at once into a struct with [`Context::params`], or one by
/// one with the accessors here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    map: Map<String, Value>,
}

impl Params {
    /// Params from a JSON object.
    pub fn new(map: Map<String, Value>) -> Params {
        Params { map }
    }

    /// Every param, read into `T`; see [`Context::params`].
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_path_to_error::deserialize(&Value::Object(self.map.clone())).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                Error::BadParams(inner.to_string())
            } else {
                Error::BadParams(format!("param `{path}`: {inner}"))
            }
        })
    }

    /// The JSON value of `key`, if set.
    pub fn value(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    /// The text of `key` if it is set to a string (`None` for any other
    /// value: use [`Params::parse`] for those).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).and_then(Value::as_str)
    }

    /// The text of the string param `key`, or [`Error::BadParams`] saying
    /// it is missing or not a string.
    pub fn require(&self, key: &str) -> Result<&str, Error> {
        match self.map.get(key) {
            None => Err(Error::BadParams(format!("missing required param `{key}`"))),
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(Error::BadParams(format!(
                "param `{key}` must be a string, not {other}"
            ))),
        }
    }

    /// The value of `key` read into `T`; `Ok(None)` if unset.
    pub fn parse<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        let Some(value) = self.map.get(key) else {
            return Ok(None);
        };
        T::deserialize(value)
            .map(Some)
            .map_err(|e| Error::BadParams(format!("param `{key}`: {e}, not {value}")))
    }

    /// The value of `key` as a list of strings: a list of strings
    /// (`["a", "b"]`) or one string of comma-separated items (`"a, b"`).
    /// Items are trimmed and empty ones dropped. Empty if unset.
    pub fn list(&self, key: &str) -> Result<Vec<String>, Error> {
        Ok(self.parse::<Columns>(key)?.unwrap_or_default().0)
    }

    /// The value of `key` as a bool; `Ok(None)` if unset.
    pub fn flag(&self, key: &str) -> Result<Option<bool>, Error> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(Error::BadParams(format!(
                "param `{key}` must be true or false, not {other}"
            ))),
        }
    }

    /// [`Error::BadParams`] if any key is not in `known`: catches typos that
    /// would otherwise be silently ignored.
    pub fn check_known(&self, known: &[&str]) -> Result<(), Error> {
        for key in self.map.keys() {
            if !known.contains(&key.as_str()) {
                return Err(Error::BadParams(format!(
                    "unknown param `{key}`; this plugin takes: {}",
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Every `(key, value)` pair.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// Column names in a param: a list (`["a", "b"]`) or one string of
/// comma-separated names (`"a, b"`), each trimmed, empty ones dropped. For
/// typed params (`key: Columns` in a `Deserialize` struct), and what
/// [`Params::list`] reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns(pub Vec<String>);

impl<'de> serde::Deserialize<'de> for Columns {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged, expecting = "a list of column names or comma-separated text")]
        enum Form {
            List(Vec<String>),
            Text(String),
        }
        let items = match Form::deserialize(d)? {
            Form::List(items) => items,
            Form::Text(text) => text.split(',').map(str::to_string).collect(),
        };
        Ok(Columns(
            items
                .into_iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        ))
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Params {
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
    use serde_json::json;

    use super::*;

    fn params(value: Value) -> Params {
        let Value::Object(map) = value else {
            panic!("an object")
        };
        Params::new(map)
    }

    #[test]
    fn accessors_keep_json_types_apart() {
        let p = params(json!({
            "a": "x",
            "list": "a, b ,,c",
            "json": ["a", "b"],
            "n": 3,
            "s": "3",
            "on": true,
        }));
        assert_eq!(p.get("a"), Some("x"));
        assert_eq!(p.require("a"), Ok("x"));
        assert_eq!(
            p.require("zz"),
            Err(Error::BadParams("missing required param `zz`".into()))
        );
        assert!(matches!(p.require("n"), Err(Error::BadParams(m)) if m.contains("string")));
        assert_eq!(p.get("n"), None);
        assert_eq!(p.list("list").unwrap(), ["a", "b", "c"]);
        assert_eq!(p.list("json").unwrap(), ["a", "b"]);
        assert!(p.list("missing").unwrap().is_empty());
        assert!(p.list("n").is_err());
        assert_eq!(p.parse::<u32>("n").unwrap(), Some(3));
        assert!(p.parse::<u32>("s").is_err(), "\"3\" is not the number 3");
        assert_eq!(p.parse::<u32>("missing").unwrap(), None);
        assert_eq!(p.flag("on").unwrap(), Some(true));
        assert!(p.flag("a").is_err());
        assert!(
            p.check_known(&["a", "list", "json", "n", "s", "on"])
                .is_ok()
        );
        assert!(p.check_known(&["a"]).is_err());
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Typed {
        column: String,
        #[serde(default)]
        factor: i64,
        nested: Option<Vec<Inner>>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    #[test]
    fn typed_params_name_the_param_that_is_wrong() {
        let ok: Typed = params(json!({"column": "c", "factor": 3}))
            .deserialize()
            .unwrap();
        assert_eq!((ok.column.as_str(), ok.factor), ("c", 3));
        let message = |value| match params(value).deserialize::<Typed>() {
            Err(Error::BadParams(m)) => m,
            other => panic!("{other:?}"),
        };
        let m = message(json!({"column": "c", "factor": "3"}));
        assert!(m.contains("`factor`") && m.contains("string"), "{m}");
        let m = message(json!({"factor": 3}));
        assert!(m.contains("missing field `column`"), "{m}");
        let m = message(json!({"column": "c", "colour": 1}));
        assert!(m.contains("unknown field `colour`"), "{m}");
        let m = message(json!({"column": "c", "nested": [{"name": 1}]}));
        assert!(m.contains("`nested[0].name`"), "{m}");
    }
}
