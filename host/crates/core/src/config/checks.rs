//! `[[datasets.checks]]`: data quality checks, as data. Evaluating them is
//! the engine's business; what a check found is recorded in the manifest
//! ([`crate::manifest::CheckResult`]).
//!
//! Every check has an id: the sha256 of its canonical definition. A
//! manifest's results are for the ids they name, so a changed, added or
//! removed check is noticed by comparing ids, and re-evaluated without
//! recomputing any data.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use toml::Spanned;

use crate::manifest::sha256_hex;
use crate::planner::canonical;
use crate::units::parse_duration;

/// Whether a failing check keeps the partition from being published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The new output is quarantined; the previous version keeps serving.
    #[default]
    Error,
    /// Recorded and shown; the partition is published.
    Warn,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warn => "warn",
        }
    }
}

/// What a check tests.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckKind {
    /// No nulls in any of these columns.
    NotNull { columns: Vec<String> },
    /// No two rows with the same values in these columns together.
    Unique { columns: Vec<String> },
    /// Every non-null value of the column is one of these.
    AcceptedValues { column: String, values: Vec<Value> },
    /// Every non-null value of the column is within these bounds
    /// (inclusive). A bound is a number, or a string the column's type
    /// parses (a date, a timestamp, a decimal).
    Range {
        column: String,
        min: Option<Value>,
        max: Option<Value>,
    },
    /// The partition's row count is within these bounds (inclusive).
    RowCount { min: Option<u64>, max: Option<u64> },
    /// The partition's row count differs from the median of the previous
    /// `window` partitions by at most `max_change` (a fraction).
    Volume { window: u32, max_change: f64 },
    /// These columns exist with these contract types; with `exact`, no
    /// others do.
    Schema {
        columns: Vec<(String, String)>,
        exact: bool,
    },
    /// The newest fresh partition of the dataset ends at most `max_age`
    /// before now. Evaluated once per run, not per partition.
    Freshness { max_age: Duration },
    /// A WebAssembly check plugin (the transform contract): its output rows
    /// are the violations; zero rows pass.
    Plugin {
        path: PathBuf,
        params: serde_json::Map<String, Value>,
    },
}

impl CheckKind {
    /// The kind as pipeline.toml spells it.
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::NotNull { .. } => "not_null",
            CheckKind::Unique { .. } => "unique",
            CheckKind::AcceptedValues { .. } => "accepted_values",
            CheckKind::Range { .. } => "range",
            CheckKind::RowCount { .. } => "row_count",
            CheckKind::Volume { .. } => "volume",
            CheckKind::Schema { .. } => "schema",
            CheckKind::Freshness { .. } => "freshness",
            CheckKind::Plugin { .. } => "plugin",
        }
    }

    /// The columns of the dataset the check reads by name.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            CheckKind::NotNull { columns } | CheckKind::Unique { columns } => {
                columns.iter().map(String::as_str).collect()
            }
            CheckKind::AcceptedValues { column, .. } | CheckKind::Range { column, .. } => {
                vec![column.as_str()]
            }
            _ => vec![],
        }
    }

    /// Whether the check is evaluated per partition (and recorded in its
    /// manifest) rather than once per run.
    pub fn per_partition(&self) -> bool {
        !matches!(self, CheckKind::Freshness { .. })
    }
}

/// One configured check.
#[derive(Debug, Clone)]
pub struct Check {
    pub kind: CheckKind,
    pub severity: Severity,
    /// sha256 of the canonical definition (kind, settings, severity). A
    /// plugin check's results are also tied to the plugin's bytes: see
    /// [`Check::result_id`].
    pub id: String,
    /// Line of its `[[datasets.checks]]` table, for messages.
    pub line: usize,
}

impl Check {
    /// The id a result of this check is recorded under: the definition's
    /// id, and for a plugin check the plugin's sha256 too, so a swapped
    /// check plugin re-evaluates.
    pub fn result_id(&self, plugin_sha256: Option<&str>) -> String {
        match plugin_sha256 {
            None => self.id.clone(),
            Some(sha) => sha256_hex(format!("{}\n{sha}", self.id).as_bytes()),
        }
    }

    /// A short description for messages: `not_null(amount)`, `row_count`.
    pub fn label(&self) -> String {
        let columns = self.kind.columns();
        if columns.is_empty() {
            self.kind.name().to_owned()
        } else {
            format!("{}({})", self.kind.name(), columns.join(", "))
        }
    }
}

/// The kinds, for messages: the names [`RawCheck`]'s variants are written
/// as (a test keeps the two the same).
pub(super) const KINDS: &str =
    "not_null, unique, accepted_values, range, row_count, volume, schema, freshness, plugin";

/// One `[[datasets.checks]]` table as written: `check` names the kind,
/// and each kind takes its own keys (any other is an error).
#[derive(Deserialize, JsonSchema)]
#[serde(tag = "check", rename_all = "snake_case")]
pub(super) enum RawCheck {
    /// No nulls in any of the columns.
    NotNull(RawColumns),
    /// No two rows with the same values in the columns together.
    Unique(RawColumns),
    /// Every non-null value of `column` is one of `values`.
    AcceptedValues(RawAcceptedValues),
    /// Every non-null value of `column` is within `min` and/or `max`
    /// (inclusive).
    Range(RawRange),
    /// The partition's row count is within `min` and/or `max` (inclusive).
    RowCount(RawRowCount),
    /// The partition's row count differs from the median of the previous
    /// `window` partitions by at most `max_change`.
    Volume(RawVolume),
    /// These columns exist with these types; with `exact`, no others do.
    Schema(RawSchema),
    /// The newest fresh partition of the dataset ends at most `max_age`
    /// before now; evaluated once per run, not per partition.
    Freshness(RawFreshness),
    /// A WebAssembly check plugin (the transform contract, the partition as
    /// its one input): every row it outputs is a violation; none passes.
    Plugin(RawPluginCheck),
}

/// `not_null` and `unique`: `column` or `columns`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawColumns {
    /// One column, e.g. `"id"`. Not with `columns`.
    column: Option<String>,
    /// Several columns, e.g. `["id", "day"]` (for `unique`: together).
    /// Not with `column`.
    columns: Option<Vec<String>>,
    /// `"error"` (the default): a failure keeps the new output from being
    /// published; `"warn"`: recorded, and the partition is published.
    #[serde(default)]
    severity: Severity,
}

/// `accepted_values`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAcceptedValues {
    /// The column, e.g. `"currency"`.
    #[schemars(required)]
    column: Option<String>,
    /// The values allowed, not empty: strings, numbers or booleans the
    /// column's type parses, e.g. `["EUR", "USD"]`.
    #[schemars(required, with = "Vec<AcceptedValue>", length(min = 1))]
    values: Option<Vec<toml::Value>>,
    /// `"error"` (the default): a failure keeps the new output from being
    /// published; `"warn"`: recorded, and the partition is published.
    #[serde(default)]
    severity: Severity,
}

/// `range`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRange {
    /// The column, e.g. `"amount"`.
    #[schemars(required)]
    column: Option<String>,
    /// The lowest value allowed, inclusive: a number, or a string the
    /// column's type parses (`"2025-01-01"`, `"10.50"`).
    #[schemars(with = "Option<Bound>")]
    min: Option<toml::Value>,
    /// The highest value allowed, inclusive, like `min`.
    #[schemars(with = "Option<Bound>")]
    max: Option<toml::Value>,
    /// `"error"` (the default): a failure keeps the new output from being
    /// published; `"warn"`: recorded, and the partition is published.
    #[serde(default)]
    severity: Severity,
}

/// `row_count`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRowCount {
    /// The fewest rows allowed, inclusive.
    #[schemars(with = "Option<u64>")]
    min: Option<toml::Value>,
    /// The most rows allowed, inclusive.
    #[schemars(with = "Option<u64>")]
    max: Option<toml::Value>,
    /// `"error"` (the default): a failure keeps the new output from being
    /// published; `"warn"`: recorded, and the partition is published.
    #[serde(default)]
    severity: Severity,
}

/// `volume`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVolume {
    /// How many previous partitions the median is taken over (at least 1).
    /// Default 7.
    #[schemars(range(min = 1))]
    window: Option<u32>,
    /// The largest change allowed, a fraction of the median, 0 or more:
    /// 0.5 allows half as many up to 1.5 times as many rows.
    #[schemars(required, range(min = 0.0))]
    max_change: Option<f64>,
    /// `"error"` (the default): a failure keeps the new output from being
    /// published; `"warn"`: recorded, and the partition is published.
    #[serde(default)]
    severity: Severity,
}

/// `schema`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchema {
    /// Column names to contract types, not empty, e.g. `{ id = "utf8",
    /// amount = "decimal128(12,2)", day = "date32" }`.
    #[schemars(required, length(min = 1))]
    columns: Option<BTreeMap<String, String>>,
    /// Whether the partition may have no other columns. Default false.
    #[serde(default)]
    exact: bool,
    /// `"error"` (the default): a failure keeps the new output from being
    /// published; `"warn"`: recorded, and the partition is published.
    #[serde(default)]
    severity: Severity,
}

/// `freshness`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFreshness {
    /// How old the newest fresh partition's end may be, a duration such as
    /// `"2d"` (units `ms`, `s`, `m`, `h`, `d`).
    #[schemars(required)]
    max_age: Option<String>,
    /// `"error"` (the default): a failure keeps the new output from being
    /// published; `"warn"`: recorded, and the partition is published.
    #[serde(default)]
    severity: Severity,
}

/// `plugin`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPluginCheck {
    /// The check plugin's `.wasm`, relative to pipeline.toml's folder,
    /// e.g. `"checks/no_future_dates.wasm"`. Identified by its bytes: a
    /// new build re-evaluates the check.
    #[schemars(required)]
    plugin: Option<String>,
    /// Handed to the plugin as a transform's params are.
    #[serde(default)]
    #[schemars(with = "serde_json::Map<String, Value>")]
    params: toml::Table,
    /// `"error"` (the default): a failure keeps the new output from being
    /// published; `"warn"`: recorded, and the partition is published.
    #[serde(default)]
    severity: Severity,
}

/// A value `accepted_values` accepts, for the schema.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum AcceptedValue {
    Text(String),
    Number(f64),
    Boolean(bool),
}

/// A `range` bound, for the schema: a number, or a string (a TOML date
/// is read as its text).
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Bound {
    Number(f64),
    Text(String),
}

/// Parses one `[[datasets.checks]]` table. Errors are messages; the caller
/// adds the file and line. `columns` of the dataset are not known here:
/// they are checked against the dataset's schema when it is known.
pub(crate) fn parse_check(
    table: &Spanned<toml::Table>,
    line: usize,
    dir: &Path,
) -> Result<Check, String> {
    let name = match table.get_ref().get("check") {
        Some(toml::Value::String(name)) => name.as_str(),
        Some(_) => return Err(format!("check: `check` is a kind's name: one of {KINDS}")),
        None => {
            return Err(format!(
                "check: a check needs `check = \"…\"`, its kind: one of {KINDS}"
            ));
        }
    };
    if !KINDS.split(", ").any(|kind| kind == name) {
        return Err(format!("unknown check `{name}`; the kinds are: {KINDS}"));
    }
    let raw: RawCheck = toml::Value::Table(table.get_ref().clone())
        .try_into()
        .map_err(|e: toml::de::Error| format!("check `{name}`: {}", e.message().trim()))?;
    let need = |what: &str, value: bool| -> Result<(), String> {
        if value {
            Ok(())
        } else {
            Err(format!("check `{name}` needs {what}"))
        }
    };
    let column_list = |raw: RawColumns| -> Result<Vec<String>, String> {
        let list = match (raw.column, raw.columns) {
            (Some(c), None) => vec![c],
            (None, Some(list)) => list,
            (Some(_), Some(_)) => {
                return Err(format!(
                    "check `{name}` takes `column` or `columns`, not both"
                ));
            }
            (None, None) => vec![],
        };
        if list.is_empty() {
            return Err(format!(
                "check `{name}` needs `column = \"…\"` or `columns = [\"…\", …]`"
            ));
        }
        Ok(list)
    };
    let json = |v: &toml::Value| serde_json::to_value(v).unwrap_or(Value::Null);
    let bound = |v: &Option<toml::Value>, which: &str| -> Result<Option<Value>, String> {
        match v {
            None => Ok(None),
            Some(
                v @ (toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::String(_)),
            ) => Ok(Some(json(v))),
            Some(toml::Value::Datetime(d)) => Ok(Some(Value::String(d.to_string()))),
            Some(_) => Err(format!(
                "check `{name}`: `{which}` is a number or a string such as \"2025-01-01\""
            )),
        }
    };
    let (kind, severity) = match raw {
        RawCheck::NotNull(raw) => {
            let severity = raw.severity;
            (
                CheckKind::NotNull {
                    columns: column_list(raw)?,
                },
                severity,
            )
        }
        RawCheck::Unique(raw) => {
            let severity = raw.severity;
            (
                CheckKind::Unique {
                    columns: column_list(raw)?,
                },
                severity,
            )
        }
        RawCheck::AcceptedValues(raw) => {
            let column = raw
                .column
                .ok_or_else(|| format!("check `{name}` needs `column = \"…\"`"))?;
            let values = raw.values.ok_or_else(|| {
                format!("check `{name}` needs `values = [\"…\", …]`, the values allowed")
            })?;
            if values.is_empty() {
                return Err(format!(
                    "check `{name}`: `values` is empty, so nothing passes"
                ));
            }
            let values = values
                .iter()
                .map(|v| match v {
                    toml::Value::String(_)
                    | toml::Value::Integer(_)
                    | toml::Value::Float(_)
                    | toml::Value::Boolean(_) => Ok(json(v)),
                    _ => Err(format!(
                        "check `{name}`: `values` holds strings, numbers or booleans"
                    )),
                })
                .collect::<Result<_, _>>()?;
            (CheckKind::AcceptedValues { column, values }, raw.severity)
        }
        RawCheck::Range(raw) => {
            let column = raw
                .column
                .ok_or_else(|| format!("check `{name}` needs `column = \"…\"`"))?;
            let min = bound(&raw.min, "min")?;
            let max = bound(&raw.max, "max")?;
            need("`min`, `max` or both", min.is_some() || max.is_some())?;
            (CheckKind::Range { column, min, max }, raw.severity)
        }
        RawCheck::RowCount(raw) => {
            let count = |v: &Option<toml::Value>, which: &str| -> Result<Option<u64>, String> {
                match v {
                    None => Ok(None),
                    Some(toml::Value::Integer(n)) if *n >= 0 => Ok(Some(*n as u64)),
                    Some(_) => Err(format!(
                        "check `{name}`: `{which}` is a whole number of rows, 0 or more"
                    )),
                }
            };
            let (min, max) = (count(&raw.min, "min")?, count(&raw.max, "max")?);
            need("`min`, `max` or both", min.is_some() || max.is_some())?;
            if let (Some(lo), Some(hi)) = (min, max)
                && lo > hi
            {
                return Err(format!("check `{name}`: min {lo} is above max {hi}"));
            }
            (CheckKind::RowCount { min, max }, raw.severity)
        }
        RawCheck::Volume(raw) => {
            let window = raw.window.unwrap_or(7);
            if window == 0 {
                return Err(format!("check `{name}`: `window` must be at least 1"));
            }
            let max_change = raw.max_change.ok_or_else(|| {
                format!(
                    "check `{name}` needs `max_change`, the largest change allowed as a fraction of the median (e.g. 0.5)"
                )
            })?;
            if !(max_change.is_finite() && max_change >= 0.0) {
                return Err(format!(
                    "check `{name}`: `max_change` is a fraction, 0 or more (0.5 allows half as many or 1.5 times as many rows)"
                ));
            }
            (CheckKind::Volume { window, max_change }, raw.severity)
        }
        RawCheck::Schema(raw) => {
            let columns: Vec<(String, String)> = raw
                .columns
                .ok_or_else(|| {
                    format!(
                        "check `{name}` needs `columns = {{ id = \"utf8\", amount = \"decimal128(12,2)\" }}`"
                    )
                })?
                .into_iter()
                .collect();
            if columns.is_empty() {
                return Err(format!("check `{name}`: `columns` is empty"));
            }
            (
                CheckKind::Schema {
                    columns,
                    exact: raw.exact,
                },
                raw.severity,
            )
        }
        RawCheck::Freshness(raw) => {
            let text = raw
                .max_age
                .ok_or_else(|| format!("check `{name}` needs `max_age`, e.g. \"2d\""))?;
            (
                CheckKind::Freshness {
                    max_age: parse_duration(&text).map_err(|e| format!("check `{name}`: {e}"))?,
                },
                raw.severity,
            )
        }
        RawCheck::Plugin(raw) => {
            let plugin = raw
                .plugin
                .ok_or_else(|| format!("check `{name}` needs `plugin = \"path/to/check.wasm\"`"))?;
            if plugin.starts_with(super::STD_PREFIX) {
                // The standard plugins are transforms; none is a check.
                return Err(format!(
                    "check `{name}`: `{plugin}` is not a check plugin; the standard plugins \
                     (`std:`) transform datasets, a check plugin is a .wasm file"
                ));
            }
            let path = dir.join(plugin);
            if !path.is_file() {
                return Err(format!(
                    "check plugin {} does not exist (paths are relative to the pipeline's folder)",
                    path.display()
                ));
            }
            let params = serde_json::to_value(&raw.params)
                .ok()
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_default();
            (CheckKind::Plugin { path, params }, raw.severity)
        }
    };
    // The definition as written, canonical: key order and formatting do
    // not change the id, any value does.
    let mut definition = serde_json::to_value(table.get_ref()).unwrap_or(Value::Null);
    if let (Value::Object(map), CheckKind::Plugin { .. }) = (&mut definition, &kind) {
        // The plugin is identified by its bytes (result_id), not its path.
        map.remove("plugin");
    }
    if let Value::Object(map) = &mut definition {
        map.insert("severity".into(), Value::String(severity.name().into()));
    }
    let id = sha256_hex(&serde_json::to_vec(&canonical(&definition)).expect("json"));
    Ok(Check {
        kind,
        severity,
        id,
        line,
    })
}
