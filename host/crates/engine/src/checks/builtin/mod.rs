//! The built-in per-partition checks — `not_null`, `unique`,
//! `accepted_values`, `range`, `row_count`, `volume` and `schema` —
//! evaluated over a partition's record batches as they stream by, in one
//! pass with arrow kernels.
//!
//! `freshness` (once per run) and `plugin` checks (a WebAssembly plugin per
//! partition) are evaluated elsewhere and must not be given to
//! [`Evaluator`]; see [`is_builtin`].

use std::collections::{BinaryHeap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, Scalar, StringArray, UInt32Array,
    UInt64Array,
};
use arrow::buffer::{BooleanBuffer, NullBuffer};
use arrow::compute::kernels::cmp;
use arrow::compute::{CastOptions, and, cast_with_options, filter, not, or, take};
use arrow::datatypes::{DataType, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, Rows, SortField};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::Value;
use strata_core::config::{Check, CheckKind, Severity};
use strata_core::manifest::{CheckResult, Column};
use strata_runtime::schema::{parse_type, type_name};

mod unique;
mod values;
mod whole;

use unique::{Keys, Unique};
use values::{AcceptedValues, Matcher, Range, listing, range_bound};
use whole::*;

/// Samples a result keeps: distinct offending values or keys.
const MAX_SAMPLES: usize = 5;
/// Characters of one sample, `…` included.
const SAMPLE_CHARS: usize = 80;
/// `accepted_values` lists up to this long are matched with one `eq`
/// kernel per value; longer ones with a hash set of row-encoded values.
const KERNEL_VALUES: usize = 16;
/// Accepted values a message lists before "and N more".
const LISTED_VALUES: usize = 10;
/// Schema differences a message spells out before "and N more".
const LISTED_COLUMNS: usize = 5;

/// Whether this evaluator handles the kind: everything but `freshness`
/// (evaluated once per run) and `plugin` (a WebAssembly check plugin).
pub(crate) fn is_builtin(kind: &CheckKind) -> bool {
    !matches!(kind, CheckKind::Freshness { .. } | CheckKind::Plugin { .. })
}

/// Evaluates a partition's built-in checks while its batches stream by:
/// one pass, bounded state (except `unique`, which must remember the keys
/// it has seen).
pub(crate) struct Evaluator {
    rows: u64,
    checks: Vec<Pending>,
}

/// One check being evaluated.
struct Pending {
    id: String,
    kind: &'static str,
    label: String,
    severity: Severity,
    state: State,
}

enum State {
    /// The check cannot run on this partition (it names a column the
    /// partition does not have, or a value that does not parse as the
    /// column's type): it fails with this message.
    Broken(String),
    NotNull(NotNull),
    Unique(Box<Unique>),
    AcceptedValues(Box<AcceptedValues>),
    Range(Box<Range>),
    RowCount {
        min: Option<u64>,
        max: Option<u64>,
    },
    Volume(Volume),
    /// Decided from the partition's schema alone (`schema`).
    Decided(Outcome),
}

impl Evaluator {
    /// `checks`: built-in per-partition checks only ([`is_builtin`]; others
    /// are skipped, and a debug build panics on them). `columns`: the
    /// partition's schema as its manifest records it. `history`: row
    /// counts of the dataset's earlier partitions, oldest first (for
    /// `volume`: the last `window` of them).
    pub(crate) fn new(checks: &[&Check], columns: &[Column], history: &[u64]) -> Evaluator {
        let checks = checks
            .iter()
            .filter(|check| {
                debug_assert!(
                    is_builtin(&check.kind),
                    "`{}` checks are not evaluated by checks::builtin",
                    check.kind.name()
                );
                is_builtin(&check.kind)
            })
            .map(|check| Pending {
                id: check.id.clone(),
                kind: check.kind.name(),
                label: check.label(),
                severity: check.severity,
                state: State::new(&check.kind, columns, history).unwrap_or_else(State::Broken),
            })
            .collect();
        Evaluator { rows: 0, checks }
    }

    /// Takes in one batch of the partition. Its columns are those of the
    /// manifest schema given to [`Evaluator::new`]; an error is a bug on
    /// the host's side (a batch without a column of the schema, an arrow
    /// kernel failing), not a failed check.
    pub(crate) fn observe(&mut self, batch: &RecordBatch) -> Result<(), String> {
        self.rows += batch.num_rows() as u64;
        if batch.num_rows() == 0 {
            return Ok(());
        }
        for check in &mut self.checks {
            check
                .state
                .observe(batch)
                .map_err(|e| format!("evaluating check {}: {e}", check.label))?;
        }
        Ok(())
    }

    /// One result per check, in the order given to [`Evaluator::new`].
    pub(crate) fn finish(self) -> Vec<CheckResult> {
        let rows = self.rows;
        self.checks
            .into_iter()
            .map(|check| {
                let outcome = check.state.finish(rows);
                CheckResult {
                    id: check.id,
                    check: check.kind.to_owned(),
                    label: check.label,
                    severity: check.severity,
                    passed: outcome.passed,
                    violations: outcome.violations,
                    message: outcome.message,
                    samples: outcome.samples,
                }
            })
            .collect()
    }
}

/// Checks the checks against a dataset's schema: `Err((line, message))`
/// for the first check that names a column the dataset does not have,
/// gives a `range` bound or an accepted value that is not a value of the
/// column's type, or a `schema` type that is not a contract type.
pub(crate) fn validate(
    dataset: &str,
    checks: &[&Check],
    columns: &[Column],
) -> Result<(), (usize, String)> {
    for check in checks {
        let name = check.kind.name();
        if let Some(missing) = check
            .kind
            .columns()
            .into_iter()
            .find(|c| !columns.iter().any(|col| col.name == *c))
        {
            return Err((
                check.line,
                format!(
                    "check `{name}` names column `{missing}`, which {dataset} does not have; \
                     its columns are: {}",
                    column_names(columns)
                ),
            ));
        }
        let problem = match &check.kind {
            CheckKind::AcceptedValues { column, values } => {
                column_type(column, columns).and_then(|t| {
                    values
                        .iter()
                        .try_for_each(|v| typed_value("value", v, column, &t).map(drop))
                })
            }
            CheckKind::Range { column, min, max } => column_type(column, columns).and_then(|t| {
                [("min", min), ("max", max)]
                    .into_iter()
                    .filter_map(|(what, v)| Some((what, v.as_ref()?)))
                    .try_for_each(|(what, v)| range_bound(what, v, column, &t).map(drop))
            }),
            CheckKind::Schema { columns, .. } => columns.iter().try_for_each(|(column, t)| {
                parse_type(t)
                    .map(drop)
                    .map_err(|e| format!("column `{column}`: {e}"))
            }),
            _ => Ok(()),
        };
        problem.map_err(|e| (check.line, format!("check `{name}`: {e}")))?;
    }
    Ok(())
}

impl State {
    /// Prepares a check; `Err` is why it cannot run on this partition.
    fn new(kind: &CheckKind, columns: &[Column], history: &[u64]) -> Result<State, String> {
        Ok(match kind {
            CheckKind::NotNull { columns: names } => {
                for name in names {
                    Input::resolve(name, columns)?;
                }
                State::NotNull(NotNull {
                    nulls: vec![0; names.len()],
                    columns: names.clone(),
                })
            }
            CheckKind::Unique { columns: names } => {
                let inputs = names
                    .iter()
                    .map(|name| Input::resolve(name, columns))
                    .collect::<Result<Vec<_>, _>>()?;
                let converter = RowConverter::new(
                    inputs
                        .iter()
                        .map(|i| SortField::new(i.data_type.clone()))
                        .collect(),
                )
                .map_err(|e| format!("cannot compare rows of {}: {e}", names.join(", ")))?;
                State::Unique(Box::new(Unique {
                    inputs,
                    rows: converter.empty_rows(0, 0),
                    converter,
                    keys: Keys::default(),
                }))
            }
            CheckKind::AcceptedValues { column, values } => {
                let input = Input::resolve(column, columns)?;
                let typed = values
                    .iter()
                    .map(|v| typed_value("value", v, column, &input.data_type))
                    .collect::<Result<Vec<_>, _>>()?;
                let listing = listing(&typed);
                let matcher = if typed.len() <= KERNEL_VALUES {
                    Matcher::Kernel(typed.into_iter().map(Scalar::new).collect())
                } else {
                    let converter =
                        RowConverter::new(vec![SortField::new(input.data_type.clone())])
                            .map_err(|e| format!("cannot compare values of {column}: {e}"))?;
                    let mut accepted = HashSet::new();
                    for value in &typed {
                        let rows = converter
                            .convert_columns(std::slice::from_ref(value))
                            .map_err(|e| format!("cannot compare values of {column}: {e}"))?;
                        accepted.insert(Box::<[u8]>::from(rows.row(0).as_ref()));
                    }
                    Matcher::Rows {
                        converter,
                        accepted,
                    }
                };
                State::AcceptedValues(Box::new(AcceptedValues {
                    input,
                    matcher,
                    listing,
                    outside: 0,
                    samples: ValueSamples::default(),
                }))
            }
            CheckKind::Range { column, min, max } => {
                let input = Input::resolve(column, columns)?;
                let bound = |what: &str, value: &Option<Value>| {
                    value
                        .as_ref()
                        .map(|v| range_bound(what, v, column, &input.data_type))
                        .transpose()
                };
                let (min, max) = (bound("min", min)?, bound("max", max)?);
                if min.is_none() && max.is_none() {
                    return Err("`range` needs `min`, `max` or both".into());
                }
                State::Range(Box::new(Range {
                    input,
                    min,
                    max,
                    below: 0,
                    above: 0,
                    samples: ValueSamples::default(),
                }))
            }
            CheckKind::RowCount { min, max } => State::RowCount {
                min: *min,
                max: *max,
            },
            CheckKind::Volume { window, max_change } => {
                let recent = &history[history.len().saturating_sub(*window as usize)..];
                State::Volume(Volume {
                    median: median(recent),
                    partitions: recent.len(),
                    max_change: *max_change,
                })
            }
            CheckKind::Schema {
                columns: expected,
                exact,
            } => State::Decided(schema_outcome(expected, *exact, columns)?),
            CheckKind::Freshness { .. } | CheckKind::Plugin { .. } => {
                return Err(format!(
                    "`{}` checks are not evaluated per partition by the host",
                    kind.name()
                ));
            }
        })
    }

    fn observe(&mut self, batch: &RecordBatch) -> Result<(), String> {
        match self {
            State::NotNull(s) => s.observe(batch),
            State::Unique(s) => s.observe(batch),
            State::AcceptedValues(s) => s.observe(batch),
            State::Range(s) => s.observe(batch),
            State::Broken(_) | State::RowCount { .. } | State::Volume(_) | State::Decided(_) => {
                Ok(())
            }
        }
    }

    fn finish(self, rows: u64) -> Outcome {
        match self {
            State::Broken(message) => Outcome::fail(0, message, vec![]),
            State::NotNull(s) => s.finish(rows),
            State::Unique(s) => s.finish(rows),
            State::AcceptedValues(s) => s.finish(rows),
            State::Range(s) => s.finish(rows),
            State::RowCount { min, max } => row_count(rows, min, max),
            State::Volume(s) => s.finish(rows),
            State::Decided(outcome) => outcome,
        }
    }
}

/// What a check found.
#[derive(Debug)]
struct Outcome {
    passed: bool,
    violations: u64,
    message: String,
    samples: Vec<String>,
}

impl Outcome {
    fn pass(message: String) -> Outcome {
        Outcome {
            passed: true,
            violations: 0,
            message,
            samples: vec![],
        }
    }

    fn fail(violations: u64, message: String, samples: Vec<String>) -> Outcome {
        Outcome {
            passed: false,
            violations,
            message,
            samples,
        }
    }
}

/// A column a check reads, with its type in the manifest schema.
struct Input {
    name: String,
    data_type: DataType,
}

impl Input {
    /// The column in the partition's schema; `Err` names what is missing.
    fn resolve(name: &str, columns: &[Column]) -> Result<Input, String> {
        Ok(Input {
            name: name.to_owned(),
            data_type: column_type(name, columns)?,
        })
    }

    /// The column in a batch, as the manifest types it. A batch may spell
    /// a contract type differently (a UTC timestamp zoned "+00:00"); it is
    /// cast, which for such types only changes metadata.
    fn get(&self, batch: &RecordBatch) -> Result<ArrayRef, String> {
        let column = batch.column_by_name(&self.name).ok_or_else(|| {
            format!(
                "a batch has no column `{}`, though the partition's schema does",
                self.name
            )
        })?;
        if column.data_type() == &self.data_type {
            return Ok(Arc::clone(column));
        }
        cast_with_options(column, &self.data_type, &strict()).map_err(|e| {
            format!(
                "column `{}` of a batch is {}, not {} as the partition's schema says: {e}",
                self.name,
                column.data_type(),
                self.data_type
            )
        })
    }
}

/// The Arrow type of a column of the partition; `Err` if it has none.
fn column_type(name: &str, columns: &[Column]) -> Result<DataType, String> {
    let column = columns.iter().find(|c| c.name == name).ok_or_else(|| {
        format!(
            "the partition has no column `{name}`; its columns are: {}",
            column_names(columns)
        )
    })?;
    parse_type(&column.data_type).map_err(|e| format!("column `{name}`: {e}"))
}

fn column_names(columns: &[Column]) -> String {
    if columns.is_empty() {
        return "(none)".into();
    }
    columns
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn strict() -> CastOptions<'static> {
    CastOptions {
        safe: false,
        ..Default::default()
    }
}

fn arrow_error(e: ArrowError) -> String {
    e.to_string()
}

// ---- not_null -------------------------------------------------------------

struct NotNull {
    columns: Vec<String>,
    nulls: Vec<u64>,
}

impl NotNull {
    fn observe(&mut self, batch: &RecordBatch) -> Result<(), String> {
        for (name, nulls) in self.columns.iter().zip(&mut self.nulls) {
            let column = batch.column_by_name(name).ok_or_else(|| {
                format!("a batch has no column `{name}`, though the partition's schema does")
            })?;
            *nulls += column.logical_null_count() as u64;
        }
        Ok(())
    }

    fn finish(self, rows: u64) -> Outcome {
        let total: u64 = self.nulls.iter().sum();
        if total == 0 {
            return Outcome::pass(format!(
                "no nulls in {} ({})",
                self.columns.join(", "),
                count(rows)
            ));
        }
        let message = if let [column] = self.columns.as_slice() {
            format!("{total} of {rows} rows have a null {column}")
        } else {
            let each = self
                .columns
                .iter()
                .zip(&self.nulls)
                .filter(|(_, n)| **n > 0)
                .map(|(c, n)| format!("{n} in {c}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!("{total} nulls in {}: {each}", count(rows))
        };
        Outcome::fail(total, message, vec![])
    }
}

// ---- values ---------------------------------------------------------------

/// A configured value (an accepted value, a `range` bound) as a one-row
/// array of the column's type: `10.5` for a `decimal128(12,2)` column is
/// `10.50`, `"2025-01-01"` for a `timestamp-us-utc` one is midnight UTC.
/// A value the type cannot hold exactly is an error: `10.555` is not a
/// `decimal128(12,2)`, nor `2.5` an `int64`, nor `"2025-01-01T10:00:00"` a
/// `date32`.
fn typed_value(
    what: &str,
    value: &Value,
    column: &str,
    data_type: &DataType,
) -> Result<ArrayRef, String> {
    let source: ArrayRef = match value {
        Value::String(s) => Arc::new(StringArray::from(vec![s.as_str()])),
        Value::Bool(b) => Arc::new(BooleanArray::from(vec![*b])),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Arc::new(Int64Array::from(vec![i])),
            (None, Some(u), _) => Arc::new(UInt64Array::from(vec![u])),
            (None, None, Some(f)) => Arc::new(Float64Array::from(vec![f])),
            (None, None, None) => return Err(format!("{what} {value} is not a number")),
        },
        other => return Err(format!("{what} {other} is not a number, string or boolean")),
    };
    let type_text = type_name(data_type);
    let typed = cast_with_options(&source, data_type, &strict())
        .ok()
        .filter(|typed| typed.null_count() == 0)
        .ok_or_else(|| {
            format!("{what} {value} is not a {type_text} value (the type of `{column}`)")
        })?;
    // Cast to a type that holds both exactly, the value and its typed
    // version must be equal.
    let reference = match (source.data_type(), data_type) {
        (_, DataType::Float32 | DataType::Float16) => None,
        (DataType::Utf8, DataType::Decimal128(_, scale)) => {
            Some(DataType::Decimal128(38, scale.saturating_add(10).min(38)))
        }
        (DataType::Utf8, DataType::Date32) => {
            Some(DataType::Timestamp(TimeUnit::Microsecond, None))
        }
        (DataType::Utf8, _) => None,
        (source_type, _) => Some(source_type.clone()),
    };
    if let Some(reference) = reference {
        let exact = cast_with_options(&source, &reference, &strict())
            .and_then(|a| {
                let b = cast_with_options(&typed, &reference, &strict())?;
                cmp::eq(&a, &b)
            })
            .map(|equal| equal.value(0));
        if let Ok(false) = exact {
            return Err(format!(
                "{what} {value} is not exactly a {type_text} value (the type of `{column}`): \
                 it would be {}",
                display(&typed, 0)
            ));
        }
    }
    Ok(typed)
}

/// Up to [`MAX_SAMPLES`] distinct offending values of a column, kept as
/// one-row arrays (so a later batch compares against them with kernels)
/// and as text.
#[derive(Default)]
struct ValueSamples {
    values: Vec<Scalar<ArrayRef>>,
    text: Vec<String>,
}

impl ValueSamples {
    fn full(&self) -> bool {
        self.text.len() >= MAX_SAMPLES
    }

    /// Takes samples from the values of `column` where `offending` is true.
    fn add(&mut self, column: &ArrayRef, offending: &BooleanArray) -> Result<(), ArrowError> {
        if self.full() {
            return Ok(());
        }
        // The offending values only; nulls in `offending` count as false.
        let candidates = filter(column, offending)?;
        // Which candidates differ from every sample so far.
        let mut fresh: Option<BooleanArray> = None;
        let exclude = |fresh: Option<BooleanArray>, value: &Scalar<ArrayRef>| {
            let other = cmp::neq(&candidates, value)?;
            match fresh {
                None => Ok::<_, ArrowError>(Some(other)),
                Some(f) => Ok(Some(and(&f, &other)?)),
            }
        };
        for value in &self.values {
            fresh = exclude(fresh, value)?;
        }
        while !self.full() {
            let next = match &fresh {
                None => (!candidates.is_empty()).then_some(0),
                Some(mask) => first_true(mask),
            };
            let Some(i) = next else { break };
            // A copy of the one value: a slice would keep the batch alive.
            let value = take(&candidates, &UInt32Array::from(vec![i as u32]), None)?;
            self.text.push(clip(display(&value, 0)));
            let value = Scalar::new(value);
            fresh = exclude(fresh, &value)?;
            self.values.push(value);
        }
        Ok(())
    }
}

fn first_true(mask: &BooleanArray) -> Option<usize> {
    match mask.nulls() {
        Some(nulls) => (mask.values() & nulls.inner()).set_indices().next(),
        None => mask.values().set_indices().next(),
    }
}

// ---- text -----------------------------------------------------------------

/// A value as arrow displays it.
fn display(array: &dyn Array, i: usize) -> String {
    match ArrayFormatter::try_new(array, &FormatOptions::default()) {
        Ok(formatter) => formatter.value(i).to_string(),
        Err(e) => format!("<{e}>"),
    }
}

/// At most [`SAMPLE_CHARS`] characters, the last `…` if cut.
fn clip(text: String) -> String {
    if text.chars().count() <= SAMPLE_CHARS {
        return text;
    }
    let mut clipped: String = text.chars().take(SAMPLE_CHARS - 1).collect();
    clipped.push('…');
    clipped
}

/// `1 row`, `120 rows`.
fn count(rows: u64) -> String {
    if rows == 1 {
        "1 row".into()
    } else {
        format!("{rows} rows")
    }
}

#[cfg(test)]
mod tests;
