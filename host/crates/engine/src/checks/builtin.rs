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

// ---- unique ---------------------------------------------------------------

struct Unique {
    inputs: Vec<Input>,
    converter: RowConverter,
    /// A batch's keys row-encoded; the buffer is reused batch to batch.
    rows: Rows,
    keys: Keys,
}

impl Unique {
    fn observe(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let arrays = self
            .inputs
            .iter()
            .map(|i| i.get(batch))
            .collect::<Result<Vec<_>, _>>()?;
        self.rows.clear();
        self.converter
            .append(&mut self.rows, &arrays)
            .map_err(arrow_error)?;
        // A key with a null in it equals no other key (as in SQL).
        let nulls = NullBuffer::union_many(arrays.iter().map(|a| a.nulls()));
        for (i, row) in self.rows.iter().enumerate() {
            if nulls.as_ref().is_none_or(|n| n.is_valid(i)) {
                self.keys.push(row.as_ref());
            }
        }
        Ok(())
    }

    fn finish(mut self, rows: u64) -> Outcome {
        let names = self
            .inputs
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>();
        if self.keys.overflow {
            return Outcome::fail(
                0,
                format!(
                    "more than {} rows with a key: too many for `unique` in one partition",
                    u32::MAX
                ),
                vec![],
            );
        }
        let (repeated, firsts) = self.keys.repeats(MAX_SAMPLES);
        if repeated == 0 {
            let what = match names.as_slice() {
                [one] => (*one).to_owned(),
                many => format!("({})", many.join(", ")),
            };
            return Outcome::pass(format!("every {what} is unique ({})", count(rows)));
        }
        let key = match names.as_slice() {
            [one] => format!("value of {one}"),
            many => format!("combination of ({})", many.join(", ")),
        };
        // The sampled keys, decoded from their row bytes.
        let parser = self.converter.parser();
        let decoded = self
            .converter
            .convert_rows(firsts.iter().map(|&k| parser.parse(self.keys.key(k))));
        let samples = match decoded {
            Ok(arrays) => (0..firsts.len())
                .map(|i| {
                    let text = names
                        .iter()
                        .zip(&arrays)
                        .map(|(name, array)| format!("{name}={}", display(array, i)))
                        .collect::<Vec<_>>()
                        .join(", ");
                    clip(text)
                })
                .collect(),
            Err(e) => vec![format!("<{e}>")],
        };
        Outcome::fail(
            repeated,
            format!("{repeated} of {rows} rows repeat a {key} already seen"),
            samples,
        )
    }
}

/// The non-null keys `unique` has seen, row-encoded, in arrival order.
///
/// Repeats are found once, at the end: the keys' hashes are sorted, so equal
/// keys become neighbours, and are then compared in full (a hash collision
/// costs time, never a wrong answer). A sort and a scan touch memory in
/// order; probing a hash table of millions of keys would cost a cache and
/// TLB miss per row, several times slower.
struct Keys<S = RandomState> {
    hasher: S,
    /// The keys' bytes, one after another.
    arena: Vec<u8>,
    /// Where each key ends in `arena` (the first starts at 0).
    ends: Vec<usize>,
    /// Per key: the top 32 bits of its hash, then its arrival number.
    entries: Vec<u64>,
    /// More keys than arrival numbers fit in 32 bits.
    overflow: bool,
}

impl Default for Keys {
    fn default() -> Self {
        Keys::with_hasher(RandomState::new())
    }
}

impl<S: BuildHasher> Keys<S> {
    fn with_hasher(hasher: S) -> Self {
        Keys {
            hasher,
            arena: Vec::new(),
            ends: Vec::new(),
            entries: Vec::new(),
            overflow: false,
        }
    }

    fn push(&mut self, key: &[u8]) {
        let Ok(number) = u32::try_from(self.ends.len()) else {
            self.overflow = true;
            return;
        };
        let hash = self.hasher.hash_one(key);
        self.arena.extend_from_slice(key);
        self.ends.push(self.arena.len());
        self.entries.push((hash >> 32) << 32 | u64::from(number));
    }

    /// The bytes of the key that arrived `number`th.
    fn key(&self, number: usize) -> &[u8] {
        let start = number.checked_sub(1).map_or(0, |before| self.ends[before]);
        &self.arena[start..self.ends[number]]
    }

    /// How many keys repeat one that arrived before them, and the arrival
    /// numbers of up to `limit` distinct repeated keys: those repeated
    /// earliest, in that order.
    fn repeats(&mut self, limit: usize) -> (u64, Vec<usize>) {
        self.entries.sort_unstable();
        let mut repeated = 0u64;
        // (arrival of its first repeat, its first arrival), the latest on top.
        let mut sampled = BinaryHeap::new();
        // The distinct keys of a run of equal hashes: first arrival, whether
        // repeated yet.
        let mut distinct: Vec<(usize, bool)> = Vec::new();
        for run in self.entries.chunk_by(|a, b| a >> 32 == b >> 32) {
            if run.len() < 2 {
                continue;
            }
            distinct.clear();
            // Within a run, keys are in arrival order.
            for &entry in run {
                let number = (entry & u64::from(u32::MAX)) as usize;
                let key = self.key(number);
                match distinct
                    .iter_mut()
                    .find(|(first, _)| self.key(*first) == key)
                {
                    None => distinct.push((number, false)),
                    Some((first, seen)) => {
                        repeated += 1;
                        if !*seen {
                            *seen = true;
                            sampled.push((number, *first));
                            if sampled.len() > limit {
                                sampled.pop();
                            }
                        }
                    }
                }
            }
        }
        let mut sampled = sampled.into_vec();
        sampled.sort_unstable();
        (
            repeated,
            sampled.into_iter().map(|(_, first)| first).collect(),
        )
    }
}

// ---- accepted_values ------------------------------------------------------

struct AcceptedValues {
    input: Input,
    matcher: Matcher,
    /// The accepted values as the column's type shows them: `[EUR, USD]`.
    listing: String,
    outside: u64,
    samples: ValueSamples,
}

/// How `accepted_values` tells accepted values.
enum Matcher {
    /// A few values: one `eq` kernel each.
    Kernel(Vec<Scalar<ArrayRef>>),
    /// Many: a set of their row encodings, looked up row by row.
    Rows {
        converter: RowConverter,
        accepted: HashSet<Box<[u8]>>,
    },
}

impl Matcher {
    /// True where the column holds a value not accepted, null where it is
    /// null.
    fn outside(&self, column: &ArrayRef) -> Result<BooleanArray, ArrowError> {
        match self {
            Matcher::Kernel(values) => {
                let mut inside: Option<BooleanArray> = None;
                for value in values {
                    let equal = cmp::eq(column, value)?;
                    inside = Some(match inside {
                        None => equal,
                        Some(acc) => or(&acc, &equal)?,
                    });
                }
                match inside {
                    Some(inside) => not(&inside),
                    None => Ok(BooleanArray::new(
                        BooleanBuffer::new_set(column.len()),
                        column.nulls().cloned(),
                    )),
                }
            }
            Matcher::Rows {
                converter,
                accepted,
            } => {
                let rows = converter.convert_columns(std::slice::from_ref(column))?;
                let outside = BooleanBuffer::collect_bool(rows.num_rows(), |i| {
                    !accepted.contains(rows.row(i).as_ref())
                });
                Ok(BooleanArray::new(outside, column.nulls().cloned()))
            }
        }
    }
}

impl AcceptedValues {
    fn observe(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let column = self.input.get(batch)?;
        let outside = self.matcher.outside(&column).map_err(arrow_error)?;
        let found = outside.true_count() as u64;
        if found > 0 {
            self.outside += found;
            self.samples.add(&column, &outside).map_err(arrow_error)?;
        }
        Ok(())
    }

    fn finish(self, rows: u64) -> Outcome {
        let (column, listing) = (&self.input.name, &self.listing);
        if self.outside == 0 {
            Outcome::pass(format!(
                "every non-null {column} is in {listing} ({})",
                count(rows)
            ))
        } else {
            Outcome::fail(
                self.outside,
                format!(
                    "{} of {rows} rows have {column} outside {listing}",
                    self.outside
                ),
                self.samples.text,
            )
        }
    }
}

/// `[EUR, USD, GBP]`, or `[a, b, …, j, and 30 more]` for a long list.
fn listing(values: &[ArrayRef]) -> String {
    let shown = values
        .iter()
        .take(LISTED_VALUES)
        .map(|v| display(v, 0))
        .collect::<Vec<_>>()
        .join(", ");
    if values.len() > LISTED_VALUES {
        format!("[{shown}, and {} more]", values.len() - LISTED_VALUES)
    } else {
        format!("[{shown}]")
    }
}

// ---- range ----------------------------------------------------------------

struct Range {
    input: Input,
    min: Option<Bound>,
    max: Option<Bound>,
    below: u64,
    above: u64,
    samples: ValueSamples,
}

/// A `range` bound as a value of the column's type.
struct Bound {
    value: Scalar<ArrayRef>,
    /// As the column's type shows it: `1000.00`.
    text: String,
}

impl Range {
    fn observe(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let column = self.input.get(batch)?;
        let below = match &self.min {
            Some(min) => Some(cmp::lt(&column, &min.value).map_err(arrow_error)?),
            None => None,
        };
        let above = match &self.max {
            Some(max) => Some(cmp::gt(&column, &max.value).map_err(arrow_error)?),
            None => None,
        };
        let below_count = below.as_ref().map_or(0, |b| b.true_count() as u64);
        let above_count = above.as_ref().map_or(0, |a| a.true_count() as u64);
        self.below += below_count;
        self.above += above_count;
        if below_count + above_count > 0 && !self.samples.full() {
            let outside = match (below, above) {
                (Some(b), Some(a)) => or(&b, &a).map_err(arrow_error)?,
                (Some(one), None) | (None, Some(one)) => one,
                (None, None) => return Ok(()),
            };
            self.samples.add(&column, &outside).map_err(arrow_error)?;
        }
        Ok(())
    }

    fn finish(self, rows: u64) -> Outcome {
        let column = &self.input.name;
        let violations = self.below + self.above;
        let (min, max) = (
            self.min.as_ref().map(|b| b.text.as_str()),
            self.max.as_ref().map(|b| b.text.as_str()),
        );
        if violations == 0 {
            let message = match (min, max) {
                (Some(min), Some(max)) => {
                    format!("every non-null {column} is within [{min}, {max}]")
                }
                (Some(min), None) => format!("no {column} below {min}"),
                (None, Some(max)) => format!("no {column} above {max}"),
                (None, None) => format!("no bounds for {column}"),
            };
            return Outcome::pass(format!("{message} ({})", count(rows)));
        }
        let message = match (min, max) {
            (Some(min), Some(max)) if self.below > 0 && self.above > 0 => format!(
                "{violations} of {rows} rows have {column} outside [{min}, {max}]: {} below, {} above",
                self.below, self.above
            ),
            (Some(min), _) if self.below > 0 => {
                format!("{violations} of {rows} rows have {column} below {min}")
            }
            (_, Some(max)) => format!("{violations} of {rows} rows have {column} above {max}"),
            _ => format!("{violations} of {rows} rows have {column} out of range"),
        };
        Outcome::fail(violations, message, self.samples.text)
    }
}

/// A `range` bound as a value of the column's type.
fn range_bound(
    what: &str,
    value: &Value,
    column: &str,
    data_type: &DataType,
) -> Result<Bound, String> {
    if value.is_number() && matches!(data_type, DataType::Utf8 | DataType::Binary) {
        return Err(format!(
            "`{what}` {value} is a number, but `{column}` is {} and compares as text; \
             write the bound as a string",
            type_name(data_type)
        ));
    }
    let typed = typed_value(&format!("`{what}`"), value, column, data_type)?;
    Ok(Bound {
        text: display(&typed, 0),
        value: Scalar::new(typed),
    })
}

// ---- row_count and volume -------------------------------------------------

fn row_count(rows: u64, min: Option<u64>, max: Option<u64>) -> Outcome {
    let expected = match (min, max) {
        (Some(lo), Some(hi)) => format!("expected between {lo} and {hi}"),
        (Some(lo), None) => format!("expected at least {lo}"),
        (None, Some(hi)) => format!("expected at most {hi}"),
        (None, None) => "no bounds".to_owned(),
    };
    let within = min.is_none_or(|lo| rows >= lo) && max.is_none_or(|hi| rows <= hi);
    if within {
        Outcome::pass(format!("{} ({expected})", count(rows)))
    } else {
        Outcome::fail(1, format!("{}, {expected}", count(rows)), vec![])
    }
}

struct Volume {
    /// The median row count of the last `window` partitions; None without
    /// history.
    median: Option<f64>,
    /// How many partitions the median is of.
    partitions: usize,
    max_change: f64,
}

impl Volume {
    fn finish(self, rows: u64) -> Outcome {
        let Some(median) = self.median else {
            return Outcome::pass(format!("{}; no history yet", count(rows)));
        };
        let of = match self.partitions {
            1 => "the previous partition".to_owned(),
            n => format!("the median of the last {n} partitions"),
        };
        let shown = if median.fract() == 0.0 {
            format!("{median:.0}")
        } else {
            format!("{median:.1}")
        };
        if median == 0.0 {
            return if rows == 0 {
                Outcome::pass(format!("0 rows, as {of} ({shown})"))
            } else {
                Outcome::fail(1, format!("{}, where {of} has 0", count(rows)), vec![])
            };
        }
        let change = (rows as f64 - median).abs() / median;
        let direction = if rows as f64 >= median {
            "above"
        } else {
            "below"
        };
        let message = format!(
            "{}, {} {direction} {of} ({shown}); at most {} allowed",
            count(rows),
            percent(change),
            percent(self.max_change)
        );
        if change > self.max_change {
            Outcome::fail(1, message, vec![])
        } else {
            Outcome::pass(message)
        }
    }
}

fn median(counts: &[u64]) -> Option<f64> {
    let mut sorted = counts.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2] as f64),
        _ => Some((sorted[n / 2 - 1] as f64 + sorted[n / 2] as f64) / 2.0),
    }
}

/// `0.5` → `50%`, `0.3333` → `33.3%`.
fn percent(fraction: f64) -> String {
    let text = format!("{:.1}", fraction * 100.0);
    format!("{}%", text.strip_suffix(".0").unwrap_or(&text))
}

// ---- schema ---------------------------------------------------------------

fn schema_outcome(
    expected: &[(String, String)],
    exact: bool,
    columns: &[Column],
) -> Result<Outcome, String> {
    // (column, what is wrong) for each column that differs.
    let mut differences: Vec<(String, String)> = Vec::new();
    for (name, type_text) in expected {
        let want = parse_type(type_text).map_err(|e| format!("column `{name}`: {e}"))?;
        match columns.iter().find(|c| c.name == *name) {
            None => differences.push((name.clone(), "missing".into())),
            Some(column) => {
                let same = parse_type(&column.data_type).is_ok_and(|have| have == want);
                if !same {
                    differences.push((
                        name.clone(),
                        format!("{}, expected {}", column.data_type, type_name(&want)),
                    ));
                }
            }
        }
    }
    if exact {
        for column in columns {
            if !expected.iter().any(|(name, _)| *name == column.name) {
                differences.push((column.name.clone(), "not expected".into()));
            }
        }
    }
    if differences.is_empty() {
        let n = expected.len();
        let what = if n == 1 {
            "expected column, with its type".to_owned()
        } else {
            format!("{n} expected columns, with their types")
        };
        return Ok(Outcome::pass(if exact {
            format!("exactly the {what}")
        } else {
            format!("the {what}")
        }));
    }
    let described = describe_differences(&differences);
    let n = differences.len();
    let message = format!(
        "{n} {} from the expected schema: {described}",
        if n == 1 {
            "column differs"
        } else {
            "columns differ"
        }
    );
    let samples = differences
        .iter()
        .take(MAX_SAMPLES)
        .map(|(name, what)| clip(format!("{name}: {what}")))
        .collect();
    Ok(Outcome::fail(n as u64, message, samples))
}

/// `amount is int64, expected decimal128(12,2); note is not expected`,
/// then `and N more`.
fn describe_differences(differences: &[(String, String)]) -> String {
    let mut parts = differences
        .iter()
        .take(LISTED_COLUMNS)
        .map(|(name, what)| match what.as_str() {
            "missing" => format!("{name} is missing"),
            "not expected" => format!("{name} is not expected"),
            other => format!("{name} is {other}"),
        })
        .collect::<Vec<_>>();
    if differences.len() > LISTED_COLUMNS {
        parts.push(format!("and {} more", differences.len() - LISTED_COLUMNS));
    }
    parts.join("; ")
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
mod tests {
    use super::*;
    use arrow::array::{
        Date32Array, Decimal128Array, Float64Array, Int64Array, StringArray,
        TimestampMicrosecondArray,
    };
    use serde_json::json;

    fn check(kind: CheckKind) -> Check {
        Check {
            kind,
            severity: Severity::Error,
            id: "x".repeat(64),
            line: 7,
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(columns).unwrap()
    }

    fn strings(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    fn ints(values: &[Option<i64>]) -> ArrayRef {
        Arc::new(Int64Array::from(values.to_vec()))
    }

    fn decimals(values: &[Option<i128>]) -> ArrayRef {
        Arc::new(
            Decimal128Array::from(values.to_vec())
                .with_precision_and_scale(12, 2)
                .unwrap(),
        )
    }

    fn timestamps(values: &[Option<&str>], zone: &str) -> ArrayRef {
        let micros = values
            .iter()
            .map(|v| {
                v.map(|t| {
                    chrono::DateTime::parse_from_rfc3339(t)
                        .unwrap()
                        .timestamp_micros()
                })
            })
            .collect::<Vec<_>>();
        Arc::new(TimestampMicrosecondArray::from(micros).with_timezone(zone))
    }

    fn columns_of(batch: &RecordBatch) -> Vec<Column> {
        crate::schema::columns(&batch.schema()).unwrap()
    }

    fn column(name: &str, data_type: &str) -> Column {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            nullable: true,
        }
    }

    /// One check over the batches, with the first batch's schema.
    fn evaluate(kind: CheckKind, batches: &[RecordBatch]) -> CheckResult {
        evaluate_with(kind, &columns_of(&batches[0]), batches, &[])
    }

    fn evaluate_with(
        kind: CheckKind,
        columns: &[Column],
        batches: &[RecordBatch],
        history: &[u64],
    ) -> CheckResult {
        let check = check(kind);
        let mut evaluator = Evaluator::new(&[&check], columns, history);
        for batch in batches {
            evaluator.observe(batch).unwrap();
        }
        let mut results = evaluator.finish();
        assert_eq!(results.len(), 1);
        let result = results.remove(0);
        assert_eq!(result.id, check.id);
        assert_eq!(result.check, check.kind.name());
        assert_eq!(result.label, check.label());
        assert_eq!(result.severity, Severity::Error);
        result
    }

    #[track_caller]
    fn assert_result(
        result: &CheckResult,
        passed: bool,
        violations: u64,
        message: &str,
        samples: &[&str],
    ) {
        assert_eq!(result.passed, passed, "{result:?}");
        assert_eq!(result.violations, violations, "{result:?}");
        assert!(
            result.message.contains(message),
            "`{}` does not contain `{message}`",
            result.message
        );
        assert_eq!(result.samples, samples, "{result:?}");
    }

    fn transactions() -> Vec<RecordBatch> {
        vec![
            batch(vec![
                ("id", strings(&[Some("tx-1"), Some("tx-2"), Some("tx-3")])),
                ("amount", decimals(&[Some(1050), None, Some(300)])),
                (
                    "currency",
                    strings(&[Some("EUR"), Some("USD"), Some("XXX")]),
                ),
            ]),
            batch(vec![
                ("id", strings(&[Some("tx-4"), None])),
                ("amount", decimals(&[None, None])),
                ("currency", strings(&[None, Some("GBP")])),
            ]),
        ]
    }

    #[test]
    fn not_null_counts_nulls_per_column() {
        let batches = transactions();
        let result = evaluate(
            CheckKind::NotNull {
                columns: names(&["amount"]),
            },
            &batches,
        );
        assert_result(&result, false, 3, "3 of 5 rows have a null amount", &[]);

        let both = CheckKind::NotNull {
            columns: names(&["id", "amount", "currency"]),
        };
        let result = evaluate(both, &batches);
        assert_result(
            &result,
            false,
            5,
            "5 nulls in 5 rows: 1 in id, 3 in amount, 1 in currency",
            &[],
        );

        let result = evaluate(
            CheckKind::NotNull {
                columns: names(&["id"]),
            },
            &batches[..1],
        );
        assert_result(&result, true, 0, "no nulls in id (3 rows)", &[]);
    }

    #[test]
    fn unique_finds_repeated_keys_and_skips_nulls() {
        let b = batch(vec![(
            "id",
            strings(&[
                Some("tx-1"),
                Some("tx-17"),
                Some("tx-17"),
                None,
                Some("tx-2"),
                Some("tx-17"),
                None,
            ]),
        )]);
        let result = evaluate(
            CheckKind::Unique {
                columns: names(&["id"]),
            },
            &[b],
        );
        assert_result(
            &result,
            false,
            2,
            "2 of 7 rows repeat a value of id already seen",
            &["id=tx-17"],
        );

        let result = evaluate(
            CheckKind::Unique {
                columns: names(&["id"]),
            },
            &transactions(),
        );
        assert_result(&result, true, 0, "every id is unique (5 rows)", &[]);
    }

    #[test]
    fn unique_over_several_columns_across_batches() {
        let batches = [
            batch(vec![
                ("a", ints(&[Some(1), Some(1), Some(2)])),
                ("b", strings(&[Some("x"), Some("y"), Some("x")])),
            ]),
            batch(vec![
                ("a", ints(&[Some(1), Some(2), Some(3), Some(3), Some(2)])),
                ("b", strings(&[Some("x"), Some("x"), None, None, Some("y")])),
            ]),
        ];
        let result = evaluate(
            CheckKind::Unique {
                columns: names(&["a", "b"]),
            },
            &batches,
        );
        assert_result(
            &result,
            false,
            2,
            "2 of 8 rows repeat a combination of (a, b) already seen",
            &["a=1, b=x", "a=2, b=x"],
        );
        let result = evaluate(
            CheckKind::Unique {
                columns: names(&["b", "a"]),
            },
            &batches[..1],
        );
        assert_result(&result, true, 0, "every (b, a) is unique (3 rows)", &[]);
    }

    #[test]
    fn unique_keeps_at_most_five_distinct_samples() {
        let ids = (0..40).map(|i| Some(i % 8)).collect::<Vec<_>>();
        let result = evaluate(
            CheckKind::Unique {
                columns: names(&["n"]),
            },
            &[batch(vec![("n", ints(&ids))])],
        );
        assert_result(
            &result,
            false,
            32,
            "32 of 40 rows",
            &["n=0", "n=1", "n=2", "n=3", "n=4"],
        );
    }

    #[test]
    fn accepted_values_ignores_nulls() {
        let kind = |values: Vec<Value>| CheckKind::AcceptedValues {
            column: "currency".into(),
            values,
        };
        let batches = [
            batch(vec![(
                "currency",
                strings(&[Some("EUR"), Some("XXX"), None, Some("USD"), Some("YYY")]),
            )]),
            batch(vec![(
                "currency",
                strings(&[Some("XXX"), Some("GBP"), None]),
            )]),
        ];
        let result = evaluate(
            kind(vec![json!("EUR"), json!("USD"), json!("GBP")]),
            &batches,
        );
        assert_result(
            &result,
            false,
            3,
            "3 of 8 rows have currency outside [EUR, USD, GBP]",
            &["XXX", "YYY"],
        );
        let all = kind(vec![
            json!("EUR"),
            json!("USD"),
            json!("GBP"),
            json!("XXX"),
            json!("YYY"),
        ]);
        let result = evaluate(all, &batches);
        assert_result(
            &result,
            true,
            0,
            "every non-null currency is in [EUR, USD, GBP, XXX, YYY] (8 rows)",
            &[],
        );
    }

    #[test]
    fn accepted_values_compare_as_the_column_type() {
        let b = batch(vec![(
            "amount",
            decimals(&[Some(1050), Some(1000), None, Some(999), Some(100)]),
        )]);
        let kind = CheckKind::AcceptedValues {
            column: "amount".into(),
            values: vec![json!(10.5), json!("10"), json!(1)],
        };
        let result = evaluate(kind, &[b]);
        assert_result(
            &result,
            false,
            1,
            "1 of 5 rows have amount outside [10.50, 10.00, 1.00]",
            &["9.99"],
        );
    }

    #[test]
    fn long_accepted_lists_match_like_short_ones() {
        let codes = (0..30).map(|i| format!("C{i}")).collect::<Vec<_>>();
        let column = (0..100)
            .map(|i| (i % 7 != 3).then(|| format!("C{}", i % 40)))
            .collect::<Vec<_>>();
        let b = batch(vec![(
            "code",
            Arc::new(StringArray::from(column.clone())) as ArrayRef,
        )]);
        let kind = |n: usize| CheckKind::AcceptedValues {
            column: "code".into(),
            values: codes[..n].iter().map(|c| json!(c)).collect(),
        };
        let long = evaluate(kind(30), std::slice::from_ref(&b));
        let expected = column
            .iter()
            .flatten()
            .filter(|c| c[1..].parse::<usize>().unwrap() >= 30)
            .count() as u64;
        assert!(expected > 0);
        assert_result(
            &long,
            false,
            expected,
            "have code outside [C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, and 20 more]",
            &["C30", "C32", "C33", "C34", "C35"],
        );
        // The same through the kernels: the first 16 codes.
        let short = evaluate(kind(KERNEL_VALUES), std::slice::from_ref(&b));
        let expected = column
            .iter()
            .flatten()
            .filter(|c| c[1..].parse::<usize>().unwrap() >= KERNEL_VALUES)
            .count() as u64;
        assert_eq!(short.violations, expected);
    }

    #[test]
    fn samples_are_clipped() {
        let long = "é".repeat(200);
        let b = batch(vec![("note", strings(&[Some(&long)]))]);
        let kind = CheckKind::AcceptedValues {
            column: "note".into(),
            values: vec![json!("ok")],
        };
        let result = evaluate(kind, &[b]);
        assert_eq!(result.samples.len(), 1);
        assert_eq!(result.samples[0].chars().count(), SAMPLE_CHARS);
        assert!(result.samples[0].ends_with("é…"));
    }

    fn range(column: &str, min: Option<Value>, max: Option<Value>) -> CheckKind {
        CheckKind::Range {
            column: column.into(),
            min,
            max,
        }
    }

    #[test]
    fn range_on_integers_ignores_nulls() {
        let b = batch(vec![(
            "n",
            ints(&[
                Some(-5),
                Some(0),
                Some(5),
                Some(10),
                Some(11),
                None,
                Some(11),
                Some(12),
            ]),
        )]);
        let result = evaluate(
            range("n", Some(json!(0)), Some(json!(10))),
            std::slice::from_ref(&b),
        );
        assert_result(
            &result,
            false,
            4,
            "4 of 8 rows have n outside [0, 10]: 1 below, 3 above",
            &["-5", "11", "12"],
        );
        let result = evaluate(
            range("n", Some(json!(-5)), Some(json!(12))),
            std::slice::from_ref(&b),
        );
        assert_result(
            &result,
            true,
            0,
            "every non-null n is within [-5, 12] (8 rows)",
            &[],
        );
        let result = evaluate(range("n", Some(json!(0)), None), std::slice::from_ref(&b));
        assert_result(&result, false, 1, "1 of 8 rows have n below 0", &["-5"]);
        let result = evaluate(range("n", None, Some(json!(100))), std::slice::from_ref(&b));
        assert_result(&result, true, 0, "no n above 100 (8 rows)", &[]);
    }

    #[test]
    fn range_on_decimals_and_floats() {
        let b = batch(vec![
            (
                "amount",
                decimals(&[
                    Some(99_999),
                    Some(100_000),
                    Some(100_001),
                    None,
                    Some(250_000),
                ]),
            ),
            (
                "rate",
                Arc::new(Float64Array::from(vec![
                    Some(0.5),
                    Some(0.25),
                    None,
                    Some(1.0),
                    Some(0.75),
                ])) as ArrayRef,
            ),
        ]);
        let result = evaluate(
            range("amount", Some(json!(0)), Some(json!(1000))),
            std::slice::from_ref(&b),
        );
        assert_result(
            &result,
            false,
            2,
            "2 of 5 rows have amount above 1000.00",
            &["1000.01", "2500.00"],
        );
        let result = evaluate(
            range("amount", Some(json!("999.995")), None),
            std::slice::from_ref(&b),
        );
        assert!(!result.passed && result.violations == 0, "{result:?}");
        assert!(result.message.contains("999.995"), "{}", result.message);
        let result = evaluate(
            range("amount", Some(json!("999.99")), None),
            std::slice::from_ref(&b),
        );
        assert_result(&result, true, 0, "no amount below 999.99 (5 rows)", &[]);
        let result = evaluate(
            range("rate", Some(json!(0.5)), Some(json!(1))),
            std::slice::from_ref(&b),
        );
        assert_result(
            &result,
            false,
            1,
            "1 of 5 rows have rate below 0.5",
            &["0.25"],
        );
    }

    #[test]
    fn range_on_timestamps_and_dates() {
        let batches = [
            batch(vec![(
                "at",
                timestamps(
                    &[
                        Some("2024-12-31T23:59:59.999999Z"),
                        Some("2025-01-01T00:00:00Z"),
                        None,
                    ],
                    "UTC",
                ),
            )]),
            // The same contract type, zoned differently: compared all the same.
            batch(vec![(
                "at",
                timestamps(
                    &[Some("2025-01-31T12:00:00Z"), Some("2025-02-01T00:00:00Z")],
                    "+00:00",
                ),
            )]),
        ];
        let result = evaluate(
            range(
                "at",
                Some(json!("2025-01-01")),
                Some(json!("2025-01-31T23:59:59Z")),
            ),
            &batches,
        );
        assert_result(
            &result,
            false,
            2,
            "2 of 5 rows have at outside [2025-01-01T00:00:00Z, 2025-01-31T23:59:59Z]: 1 below, 1 above",
            &["2024-12-31T23:59:59.999999Z", "2025-02-01T00:00:00Z"],
        );

        let day = |d: &str| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .unwrap()
                .signed_duration_since(chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
                .num_days() as i32
        };
        let b = batch(vec![(
            "day",
            Arc::new(Date32Array::from(vec![
                Some(day("2025-01-01")),
                None,
                Some(day("2025-02-01")),
            ])) as ArrayRef,
        )]);
        let result = evaluate(
            range("day", None, Some(json!("2025-01-31"))),
            std::slice::from_ref(&b),
        );
        assert_result(
            &result,
            false,
            1,
            "1 of 3 rows have day above 2025-01-31",
            &["2025-02-01"],
        );
        let result = evaluate(
            range("day", Some(json!("2025-01-01")), Some(json!("2025-02-01"))),
            &[b],
        );
        assert_result(
            &result,
            true,
            0,
            "every non-null day is within [2025-01-01, 2025-02-01] (3 rows)",
            &[],
        );
    }

    #[test]
    fn value_samples_are_distinct_across_batches() {
        let batches = (0..4)
            .map(|b| {
                batch(vec![(
                    "n",
                    ints(&(0..6).map(|i| Some(100 + (b + i) % 3)).collect::<Vec<_>>()),
                )])
            })
            .chain([batch(vec![(
                "n",
                ints(&(200..220).map(Some).collect::<Vec<_>>()),
            )])])
            .collect::<Vec<_>>();
        let result = evaluate(range("n", None, Some(json!(99))), &batches);
        assert_result(
            &result,
            false,
            44,
            "44 of 44 rows have n above 99",
            &["100", "101", "102", "200", "201"],
        );
    }

    #[test]
    fn row_count_bounds() {
        let rows = batch(vec![("n", ints(&vec![Some(1); 120]))]);
        let result = evaluate(
            CheckKind::RowCount {
                min: Some(200),
                max: None,
            },
            std::slice::from_ref(&rows),
        );
        assert_result(&result, false, 1, "120 rows, expected at least 200", &[]);
        let result = evaluate(
            CheckKind::RowCount {
                min: None,
                max: Some(100),
            },
            std::slice::from_ref(&rows),
        );
        assert_result(&result, false, 1, "120 rows, expected at most 100", &[]);
        let result = evaluate(
            CheckKind::RowCount {
                min: Some(120),
                max: Some(120),
            },
            &[rows],
        );
        assert_result(
            &result,
            true,
            0,
            "120 rows (expected between 120 and 120)",
            &[],
        );
    }

    #[test]
    fn volume_against_the_median_of_the_window() {
        let rows = |n: usize| vec![batch(vec![("n", ints(&vec![Some(1); n]))])];
        let columns = [column("n", "int64")];
        let kind = CheckKind::Volume {
            window: 3,
            max_change: 0.2,
        };
        let history = [100, 1000, 200, 210, 190];
        let result = evaluate_with(kind.clone(), &columns, &rows(250), &history);
        assert_result(
            &result,
            false,
            1,
            "250 rows, 25% above the median of the last 3 partitions (200); at most 20% allowed",
            &[],
        );
        let result = evaluate_with(kind.clone(), &columns, &rows(160), &history);
        assert_result(
            &result,
            true,
            0,
            "160 rows, 20% below the median of the last 3 partitions (200)",
            &[],
        );
        let result = evaluate_with(kind.clone(), &columns, &rows(160), &[]);
        assert_result(&result, true, 0, "no history yet", &[]);
        let result = evaluate_with(kind.clone(), &columns, &rows(3), &[1, 2]);
        assert_result(
            &result,
            false,
            1,
            "3 rows, 100% above the median of the last 2 partitions (1.5)",
            &[],
        );
        let result = evaluate_with(kind.clone(), &columns, &[], &[0, 0, 0]);
        assert_result(
            &result,
            true,
            0,
            "0 rows, as the median of the last 3 partitions (0)",
            &[],
        );
        let result = evaluate_with(kind, &columns, &rows(5), &[0]);
        assert_result(
            &result,
            false,
            1,
            "5 rows, where the previous partition has 0",
            &[],
        );
    }

    #[test]
    fn schema_against_the_manifest_columns() {
        let columns = [
            column("id", "utf8"),
            column("amount", "decimal128(12,2)"),
            column("note", "utf8"),
        ];
        let kind = |expected: &[(&str, &str)], exact: bool| CheckKind::Schema {
            columns: expected
                .iter()
                .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
                .collect(),
            exact,
        };
        let result = evaluate_with(
            kind(&[("id", "utf8"), ("amount", "decimal128(12, 2)")], false),
            &columns,
            &[],
            &[],
        );
        assert_result(
            &result,
            true,
            0,
            "the 2 expected columns, with their types",
            &[],
        );
        let result = evaluate_with(
            kind(&[("id", "utf8"), ("amount", "decimal128(12,2)")], true),
            &columns,
            &[],
            &[],
        );
        assert_result(
            &result,
            false,
            1,
            "1 column differs from the expected schema: note is not expected",
            &["note: not expected"],
        );
        let result = evaluate_with(
            kind(
                &[("id", "utf8"), ("amount", "int64"), ("day", "date32")],
                false,
            ),
            &columns,
            &[],
            &[],
        );
        assert_result(
            &result,
            false,
            2,
            "2 columns differ from the expected schema: amount is decimal128(12,2), expected int64; day is missing",
            &["amount: decimal128(12,2), expected int64", "day: missing"],
        );
        let result = evaluate_with(kind(&[("id", "utf-8")], false), &columns, &[], &[]);
        assert_result(
            &result,
            false,
            0,
            "column `id`: unknown column type `utf-8`",
            &[],
        );
    }

    #[test]
    fn an_empty_partition() {
        let columns = [column("id", "utf8"), column("amount", "decimal128(12,2)")];
        let kinds = [
            CheckKind::NotNull {
                columns: names(&["id"]),
            },
            CheckKind::Unique {
                columns: names(&["id"]),
            },
            CheckKind::AcceptedValues {
                column: "id".into(),
                values: vec![json!("a")],
            },
            range("amount", Some(json!(0)), None),
            CheckKind::RowCount {
                min: Some(1),
                max: None,
            },
            CheckKind::Volume {
                window: 7,
                max_change: 0.5,
            },
            CheckKind::Schema {
                columns: vec![("id".into(), "utf8".into())],
                exact: false,
            },
        ];
        let checks = kinds.into_iter().map(check).collect::<Vec<_>>();
        let refs = checks.iter().collect::<Vec<_>>();
        let results = Evaluator::new(&refs, &columns, &[10, 12]).finish();
        let summary = results
            .iter()
            .map(|r| (r.check.as_str(), r.passed, r.violations, r.message.as_str()))
            .collect::<Vec<_>>();
        assert_eq!(
            summary,
            [
                ("not_null", true, 0, "no nulls in id (0 rows)"),
                ("unique", true, 0, "every id is unique (0 rows)"),
                (
                    "accepted_values",
                    true,
                    0,
                    "every non-null id is in [a] (0 rows)"
                ),
                ("range", true, 0, "no amount below 0.00 (0 rows)"),
                ("row_count", false, 1, "0 rows, expected at least 1"),
                (
                    "volume",
                    false,
                    1,
                    "0 rows, 100% below the median of the last 2 partitions (11); at most 50% allowed"
                ),
                ("schema", true, 0, "the expected column, with its type"),
            ]
        );
        // An empty batch changes nothing.
        let mut evaluator = Evaluator::new(&refs, &columns, &[]);
        let empty = RecordBatch::new_empty(crate::schema::to_arrow(&columns).unwrap());
        evaluator.observe(&empty).unwrap();
        assert!(
            evaluator
                .finish()
                .iter()
                .filter(|r| r.check != "row_count")
                .all(|r| r.passed)
        );
    }

    #[test]
    fn a_column_the_partition_lacks_fails_the_check() {
        let batches = transactions();
        let result = evaluate(
            CheckKind::NotNull {
                columns: names(&["id", "amout"]),
            },
            &batches,
        );
        assert_result(
            &result,
            false,
            0,
            "the partition has no column `amout`; its columns are: id, amount, currency",
            &[],
        );
        let result = evaluate(range("amount", Some(json!("ten")), None), &batches);
        assert_result(
            &result,
            false,
            0,
            "`min` \"ten\" is not a decimal128(12,2) value (the type of `amount`)",
            &[],
        );
    }

    #[test]
    fn a_batch_without_a_schema_column_is_a_host_error() {
        let check = check(CheckKind::NotNull {
            columns: names(&["id"]),
        });
        let mut evaluator = Evaluator::new(&[&check], &[column("id", "utf8")], &[]);
        let err = evaluator
            .observe(&batch(vec![("other", ints(&[Some(1)]))]))
            .unwrap_err();
        assert!(err.contains("a batch has no column `id`"), "{err}");
    }

    #[test]
    fn results_follow_the_order_of_the_checks() {
        let batches = transactions();
        let mut first = check(CheckKind::RowCount {
            min: Some(1),
            max: None,
        });
        first.id = "1".repeat(64);
        first.severity = Severity::Warn;
        let second = check(CheckKind::Unique {
            columns: names(&["currency"]),
        });
        let mut evaluator = Evaluator::new(&[&first, &second], &columns_of(&batches[0]), &[]);
        for b in &batches {
            evaluator.observe(b).unwrap();
        }
        let results = evaluator.finish();
        assert_eq!(results.len(), 2);
        assert_eq!(
            (results[0].id.as_str(), results[0].severity),
            (first.id.as_str(), Severity::Warn)
        );
        assert_eq!(results[1].label, "unique(currency)");
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "`freshness` checks are not evaluated by checks::builtin")]
    fn freshness_is_not_given_to_the_evaluator() {
        let check = check(CheckKind::Freshness {
            max_age: std::time::Duration::from_secs(60),
        });
        Evaluator::new(&[&check], &[], &[]);
    }

    #[test]
    fn validate_names_the_line_and_the_columns() {
        let columns = [
            column("id", "utf8"),
            column("amount", "decimal128(12,2)"),
            column("currency", "utf8"),
            column("day", "date32"),
            column("n", "int64"),
        ];
        let validate_one =
            |kind: CheckKind| validate("silver/transactions", &[&check(kind)], &columns);
        assert_eq!(
            validate_one(CheckKind::NotNull {
                columns: names(&["id", "amout"])
            }),
            Err((
                7,
                "check `not_null` names column `amout`, which silver/transactions does not have; \
                 its columns are: id, amount, currency, day, n"
                    .into()
            ))
        );
        let problem = |kind: CheckKind| validate_one(kind).unwrap_err().1;
        assert_eq!(
            problem(range("amount", None, Some(json!(10.555)))),
            "check `range`: `max` 10.555 is not exactly a decimal128(12,2) value (the type of `amount`): it would be 10.56"
        );
        assert_eq!(
            problem(range("amount", None, Some(json!("10.555")))),
            "check `range`: `max` \"10.555\" is not exactly a decimal128(12,2) value (the type of `amount`): it would be 10.56"
        );
        assert_eq!(
            problem(range("day", Some(json!("2025-13-01")), None)),
            "check `range`: `min` \"2025-13-01\" is not a date32 value (the type of `day`)"
        );
        assert!(
            problem(range("day", Some(json!("2025-01-01T10:00:00")), None))
                .contains("is not exactly a date32 value")
        );
        assert!(
            problem(range("n", Some(json!(2.5)), None))
                .contains("`min` 2.5 is not exactly a int64 value")
        );
        assert!(
            problem(range("currency", Some(json!(5)), None))
                .contains("write the bound as a string")
        );
        assert_eq!(
            problem(CheckKind::AcceptedValues {
                column: "n".into(),
                values: vec![json!(1), json!("two")]
            }),
            "check `accepted_values`: value \"two\" is not a int64 value (the type of `n`)"
        );
        assert!(
            problem(CheckKind::Schema {
                columns: vec![("id".into(), "string".into())],
                exact: true
            })
            .starts_with("check `schema`: column `id`: unknown column type `string`")
        );

        let good = [
            check(CheckKind::NotNull {
                columns: names(&["id", "amount"]),
            }),
            check(CheckKind::Unique {
                columns: names(&["id"]),
            }),
            check(CheckKind::AcceptedValues {
                column: "amount".into(),
                values: vec![json!(10.5), json!("10.25"), json!(3)],
            }),
            check(range(
                "day",
                Some(json!("2025-01-01")),
                Some(json!("2025-12-31")),
            )),
            check(range("amount", Some(json!(0)), Some(json!("1e3")))),
            check(range("currency", Some(json!("A")), None)),
            check(CheckKind::RowCount {
                min: Some(1),
                max: None,
            }),
            check(CheckKind::Schema {
                columns: vec![("nothere".into(), "int64".into())],
                exact: false,
            }),
        ];
        assert_eq!(
            validate(
                "silver/transactions",
                &good.iter().collect::<Vec<_>>(),
                &columns
            ),
            Ok(())
        );
    }

    #[test]
    fn keys_are_compared_in_full() {
        /// Every key hashes alike.
        #[derive(Default)]
        struct Constant;
        impl std::hash::Hasher for Constant {
            fn finish(&self) -> u64 {
                42
            }
            fn write(&mut self, _: &[u8]) {}
        }
        let mut keys = Keys::with_hasher(std::hash::BuildHasherDefault::<Constant>::default());
        for key in ["a", "b", "ab", "b", "", "a", "ab", "", "b", "c"] {
            keys.push(key.as_bytes());
        }
        assert_eq!(keys.key(2), b"ab");
        assert_eq!(keys.key(4), b"");
        // Repeats, in arrival order: "b" at 3 (first at 1), "a" at 5 (first
        // at 0), "ab" at 6, "" at 7, "b" again at 8.
        assert_eq!(keys.repeats(2), (5, vec![1, 0]));

        let mut keys = Keys::default();
        for i in (0..1000u32).chain((500..1500).rev()) {
            keys.push(&i.to_le_bytes());
        }
        assert_eq!(keys.repeats(3), (500, vec![999, 998, 997]));
        assert_eq!(Keys::default().repeats(5), (0, vec![]));
    }

    #[test]
    fn medians_and_percentages() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5, 1, 3]), Some(3.0));
        assert_eq!(median(&[4, 1, 3, 2]), Some(2.5));
        assert_eq!(percent(0.5), "50%");
        assert_eq!(percent(0.07), "7%");
        assert_eq!(percent(1.0 / 3.0), "33.3%");
    }
}
