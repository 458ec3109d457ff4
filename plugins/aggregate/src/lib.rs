//! Gold: groups rows and computes aggregates.
//!
//! Params:
//! - `group_by`: the group columns (a list; empty or unset: one output row
//!   over all input).
//! - `aggregates` (required): `[{"column": "amount", "fn": "sum", "as":
//!   "total"}, {"fn": "count", "as": "n"}]`. `fn` is one of `sum`, `count`,
//!   `min`, `max`, `avg`; `count` without a column counts rows, with one its
//!   non-null values; `as` defaults to `<fn>_<column>` (or `count`).
//! - `filter`: only rows where a column equals a value:
//!   `{"column": "status", "equals": "settled"}`, or a list of such (all
//!   must hold). Works on string, integer, float and bool columns; null
//!   never equals.
//!
//! Types: `sum` of integers is int64, of floats float64, of
//! `decimal128(P,S)` `decimal128(38,S)`; `avg` of integers and floats is
//! float64, of `decimal128(P,S)` `decimal128(38,S+4)` (rounded half away
//! from zero); `min`/`max` keep the column's type (numbers, decimals, dates,
//! timestamps, bools, strings); `count` is int64. Nulls are skipped; a group
//! with no value gets null (count: 0).
//!
//! All batches of all inputs are one table (several days of a window, say).
//! The output has the group columns then the aggregates, sorted by the group
//! columns (nulls first).
//!
//! Its plan reads only the group, filter and aggregate columns, and lets a
//! window's days come in any order unless a float is summed or averaged.

mod acc;

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use strata_sdk::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, GenericByteArray, GenericStringArray, OffsetSizeTrait,
    RecordBatch, UInt32Array,
};
use strata_sdk::arrow::buffer::{ArrowNativeType, BooleanBuffer, Buffer, NullBuffer};
use strata_sdk::arrow::compute::{
    SortColumn, SortOptions, concat, filter_record_batch, lexsort_to_indices, take,
};
use strata_sdk::arrow::datatypes::{ByteArrayType, DataType, Field, Schema, SchemaRef};
use strata_sdk::{Columns, Context, Error, Info, Plan as Feed, Transform};

use acc::{Acc, Func, read_floats, read_ints};

/// Rows per output batch.
const OUTPUT_BATCH_ROWS: usize = 1 << 16;

/// The params, as `pipeline.toml` gives them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// A list, or comma-separated text.
    #[serde(default)]
    group_by: Columns,
    /// Required; missing is the error `open` names.
    aggregates: Option<Vec<AggregateSpec>>,
    /// One `{column, equals}` or a list of such. Read through `Value`: an
    /// untagged enum would mangle numbers under serde_json's
    /// `arbitrary_precision`.
    #[serde(default)]
    filter: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AggregateSpec {
    column: Option<String>,
    #[serde(rename = "fn")]
    func: String,
    #[serde(rename = "as")]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterSpec {
    column: String,
    equals: Value,
}

struct Aggregate {
    column: Option<String>,
    func: Func,
    name: String,
}

/// What the aggregation looks like once the input schema is known.
struct Plan {
    /// Input type of every group column.
    group_fields: Vec<Field>,
    /// Per aggregate: input type (if it reads a column) and accumulator.
    accs: Vec<(Option<DataType>, Acc)>,
    output: SchemaRef,
}

pub struct Aggregator {
    group_by: Vec<String>,
    aggregates: Vec<Aggregate>,
    filters: Vec<FilterSpec>,
    plan: Option<Plan>,
    /// Group id of each encoded key.
    groups: GroupTable,
    /// The key values of the groups, in group id order, in pieces.
    keys: Vec<Vec<ArrayRef>>,
    rows_in: usize,
    rows_kept: usize,
}

impl Aggregator {
    fn make_plan(&self, schema: &Schema) -> Result<Plan, Error> {
        let field = |param: &str, name: &str| {
            schema.field_with_name(name).cloned().map_err(|_| {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                Error::BadParams(format!(
                    "param `{param}` names column `{name}`, which the input does not have (it has: {})",
                    names.join(", ")
                ))
            })
        };
        let group_fields = self
            .group_by
            .iter()
            .map(|g| field("group_by", g))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(f) = group_fields
            .iter()
            .find(|f| !KeyEncoder::supports(f.data_type()))
        {
            return Err(Error::BadParams(format!(
                "cannot group by `{}`: {} columns are not supported",
                f.name(),
                f.data_type()
            )));
        }
        for f in &self.filters {
            let input = field("filter", &f.column)?;
            equals_mask(
                &f.equals,
                &strata_sdk::arrow::array::new_empty_array(input.data_type()),
            )
            .map_err(|why| Error::BadParams(format!("filter on `{}`: {why}", f.column)))?;
        }
        let mut accs = Vec::new();
        let mut fields = group_fields.clone();
        for a in &self.aggregates {
            let input = a
                .column
                .as_deref()
                .map(|c| field("aggregates", c).map(|f| f.data_type().clone()))
                .transpose()?;
            let acc = Acc::new(a.func, input.as_ref())
                .map_err(|why| Error::BadParams(format!("aggregate `{}`: {why}", a.name)))?;
            let nullable = !matches!(a.func, Func::Count);
            fields.push(Field::new(
                &a.name,
                acc.output_type(input.as_ref()),
                nullable,
            ));
            accs.push((input, acc));
        }
        Ok(Plan {
            group_fields,
            accs,
            output: Arc::new(Schema::new(fields)),
        })
    }

    fn column<'a>(
        batch: &'a RecordBatch,
        name: &str,
        want: &DataType,
    ) -> Result<&'a ArrayRef, Error> {
        let column = batch
            .column_by_name(name)
            .ok_or_else(|| Error::BadInput(format!("an input batch has no column `{name}`")))?;
        if column.data_type() != want {
            return Err(Error::BadInput(format!(
                "column `{name}` is {} in one input batch and {want} in another",
                column.data_type()
            )));
        }
        Ok(column)
    }

    /// `batch` cut to the columns the groups and aggregates read: the filter
    /// then copies only those (a silver batch's ids and names are most of
    /// its bytes and are seldom aggregated).
    fn read_columns(&self, batch: &RecordBatch) -> Result<RecordBatch, Error> {
        let schema = batch.schema();
        let read: Vec<usize> = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                let name = f.name().as_str();
                self.group_by.iter().any(|g| g == name)
                    || self
                        .aggregates
                        .iter()
                        .any(|a| a.column.as_deref() == Some(name))
            })
            .map(|(i, _)| i)
            .collect();
        Ok(batch.project(&read)?)
    }

    fn add(&mut self, batch: RecordBatch) -> Result<(), Error> {
        let mut batch = batch;
        self.rows_in += batch.num_rows();
        if !self.filters.is_empty() {
            let mut keep: Option<BooleanBuffer> = None;
            for f in &self.filters {
                let column = batch.column_by_name(&f.column).ok_or_else(|| {
                    Error::BadInput(format!("an input batch has no column `{}`", f.column))
                })?;
                let mask = equals_mask(&f.equals, column)
                    .map_err(|why| Error::BadParams(format!("filter on `{}`: {why}", f.column)))?;
                // A null in a mask is a row that is not kept.
                let mask = match mask.nulls() {
                    Some(nulls) => mask.values() & nulls.inner(),
                    None => mask.values().clone(),
                };
                keep = Some(match keep {
                    None => mask,
                    Some(k) => &k & &mask,
                });
            }
            if let Some(keep) = keep {
                let keep = BooleanArray::new(keep, None);
                batch = filter_record_batch(&self.read_columns(&batch)?, &keep)?;
            }
        }
        self.rows_kept += batch.num_rows();
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let plan = self.plan.as_mut().expect("planned before adding");

        // Group ids, and the rows that start new groups.
        let key_columns = plan
            .group_fields
            .iter()
            .map(|f| Self::column(&batch, f.name(), f.data_type()).cloned())
            .collect::<Result<Vec<_>, _>>()?;
        let encoders = key_columns.iter().map(KeyEncoder::new).collect::<Vec<_>>();
        let mut ids = Vec::with_capacity(batch.num_rows());
        let mut new_rows = Vec::new();
        let mut key = Vec::new();
        for row in 0..batch.num_rows() {
            key.clear();
            for e in &encoders {
                e.encode(row, &mut key);
            }
            let (id, new) = self.groups.id(&key)?;
            if new {
                new_rows.push(row as u32);
            }
            ids.push(id);
        }
        if !new_rows.is_empty() {
            let new_rows = UInt32Array::from(new_rows);
            for (i, column) in key_columns.iter().enumerate() {
                self.keys[i].push(take(column.as_ref(), &new_rows, None)?);
            }
        }

        let n_groups = self.groups.len();
        for ((input, acc), spec) in plan.accs.iter_mut().zip(&self.aggregates) {
            acc.resize(n_groups);
            let column = match (&spec.column, input) {
                (Some(name), Some(dt)) => Some(Self::column(&batch, name, dt)?),
                _ => None,
            };
            acc.update(column, &ids)
                .map_err(|why| Error::BadInput(format!("aggregate `{}`: {why}", spec.name)))?;
        }
        Ok(())
    }
}

/// Group ids by encoded key: open addressing over the keys' hashes, each
/// key's bytes kept once in one arena. A probe compares the stored hash
/// first, so bytes are compared (inline, a word at a time) only for the key
/// that matches: in wasm a call to `memcmp` per row cost more than the rest
/// of the lookup.
#[derive(Default)]
struct GroupTable {
    /// Per group: its hash, and where its key lies in `arena`.
    hashes: Vec<u64>,
    spans: Vec<(usize, usize)>,
    arena: Vec<u8>,
    /// `EMPTY` or a group id; a power of two long, at most half full.
    slots: Vec<u32>,
}

const EMPTY: u32 = u32::MAX;

impl GroupTable {
    fn len(&self) -> usize {
        self.hashes.len()
    }

    /// The id of `key`, and whether it is new.
    fn id(&mut self, key: &[u8]) -> Result<(u32, bool), Error> {
        if self.slots.len() < 2 * (self.len() + 1) {
            self.grow();
        }
        let hash = hash_key(key);
        let mask = self.slots.len() - 1;
        let mut slot = (hash as usize) & mask;
        loop {
            let id = self.slots[slot];
            if id == EMPTY {
                break;
            }
            let (start, len) = self.spans[id as usize];
            if self.hashes[id as usize] == hash && same_bytes(&self.arena[start..start + len], key)
            {
                return Ok((id, false));
            }
            slot = (slot + 1) & mask;
        }
        let id = u32::try_from(self.len())
            .ok()
            .filter(|&id| id != EMPTY)
            .ok_or_else(|| Error::Failed("more than 2^32 - 1 groups".to_string()))?;
        self.slots[slot] = id;
        self.hashes.push(hash);
        self.spans.push((self.arena.len(), key.len()));
        self.arena.extend_from_slice(key);
        Ok((id, true))
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(64);
        self.slots = vec![EMPTY; size];
        let mask = size - 1;
        for (id, &hash) in self.hashes.iter().enumerate() {
            let mut slot = (hash as usize) & mask;
            while self.slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = id as u32;
        }
    }
}

/// A hash of an encoded key, 8 bytes at a time (multiply and rotate, as
/// FxHash does), its high bits folded into the low ones the table indexes
/// by. Keys come from the partition's own data inside the sandbox, so a
/// keyed hash against chosen collisions would buy nothing.
fn hash_key(key: &[u8]) -> u64 {
    const K: u64 = 0xf135_7aea_2e62_a9c5;
    let mut h = key.len() as u64;
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        h = (h.rotate_left(26) ^ word).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(26) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    h ^ (h >> 32)
}

/// `a == b`, compared a word at a time without a call to `memcmp`.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut x, mut y) = (a.chunks_exact(8), b.chunks_exact(8));
    for (p, q) in (&mut x).zip(&mut y) {
        if u64::from_le_bytes(p.try_into().expect("8 bytes"))
            != u64::from_le_bytes(q.try_into().expect("8 bytes"))
        {
            return false;
        }
    }
    x.remainder().iter().zip(y.remainder()).all(|(p, q)| p == q)
}

/// Writes one column's value at a row as bytes that are equal exactly when
/// the values are. Typed once per batch: nothing per row but the copy.
struct KeyEncoder<'a> {
    nulls: Option<&'a NullBuffer>,
    values: KeyValues<'a>,
}

enum KeyValues<'a> {
    Fixed { values: Buffer, width: usize },
    Bool(&'a BooleanArray),
    Bytes { offsets: Vec<usize>, data: &'a [u8] },
}

impl<'a> KeyEncoder<'a> {
    /// Whether a column of this type can be a group column.
    fn supports(data_type: &DataType) -> bool {
        matches!(
            data_type,
            DataType::Boolean
                | DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Binary
                | DataType::LargeBinary
        ) || (data_type.is_primitive() && data_type.primitive_width().is_some())
    }

    fn new(array: &'a ArrayRef) -> KeyEncoder<'a> {
        fn bytes<T: ByteArrayType>(a: &GenericByteArray<T>) -> KeyValues<'_> {
            KeyValues::Bytes {
                offsets: a.value_offsets().iter().map(|o| o.as_usize()).collect(),
                data: a.value_data(),
            }
        }
        let values = match array.data_type() {
            DataType::Boolean => KeyValues::Bool(array.as_boolean()),
            DataType::Utf8 => bytes(array.as_string::<i32>()),
            DataType::LargeUtf8 => bytes(array.as_string::<i64>()),
            DataType::Binary => bytes(array.as_binary::<i32>()),
            DataType::LargeBinary => bytes(array.as_binary::<i64>()),
            dt => {
                let width = dt.primitive_width().expect("checked by `supports`");
                let data = array.to_data();
                let start = data.offset() * width;
                KeyValues::Fixed {
                    values: data.buffers()[0].slice_with_length(start, data.len() * width),
                    width,
                }
            }
        };
        KeyEncoder {
            nulls: array.nulls(),
            values,
        }
    }

    fn encode(&self, row: usize, out: &mut Vec<u8>) {
        if self.nulls.is_some_and(|n| n.is_null(row)) {
            out.push(0);
            return;
        }
        out.push(1);
        match &self.values {
            KeyValues::Fixed { values, width } => {
                out.extend_from_slice(&values.as_slice()[row * width..(row + 1) * width]);
            }
            KeyValues::Bool(a) => out.push(a.value(row) as u8),
            KeyValues::Bytes { offsets, data } => {
                let b = &data[offsets[row]..offsets[row + 1]];
                out.extend_from_slice(&(b.len() as u64).to_le_bytes());
                out.extend_from_slice(b);
            }
        }
    }
}

/// The rows of `array` that hold `want` (null never does), compared as
/// bytes straight from the array's buffers.
fn strings_equal<O: OffsetSizeTrait>(array: &GenericStringArray<O>, want: &str) -> BooleanArray {
    let want = want.as_bytes();
    let offsets = array.value_offsets();
    let data = array.value_data();
    let equal = BooleanBuffer::collect_bool(array.len(), |i| {
        same_bytes(
            &data[offsets[i].as_usize()..offsets[i + 1].as_usize()],
            want,
        )
    });
    match array.nulls() {
        Some(nulls) => BooleanArray::new(&equal & nulls.inner(), None),
        None => BooleanArray::new(equal, None),
    }
}

/// The rows where `column` equals `value` (null never does).
fn equals_mask(value: &Value, column: &ArrayRef) -> Result<BooleanArray, String> {
    let dt = column.data_type();
    let mismatch = || format!("cannot compare a {dt} column with {value}");
    Ok(match dt {
        DataType::Utf8 | DataType::LargeUtf8 => {
            let Value::String(want) = value else {
                return Err(mismatch());
            };
            match dt {
                DataType::Utf8 => strings_equal(column.as_string::<i32>(), want),
                _ => strings_equal(column.as_string::<i64>(), want),
            }
        }
        DataType::Boolean => {
            let Value::Bool(want) = value else {
                return Err(mismatch());
            };
            column
                .as_boolean()
                .iter()
                .map(|v| Some(v == Some(*want)))
                .collect()
        }
        dt if dt.is_integer() => {
            let want: i128 = match value {
                Value::Number(n) => n
                    .as_i64()
                    .map(i128::from)
                    .or_else(|| n.as_u64().map(i128::from))
                    .ok_or_else(mismatch)?,
                Value::String(s) => s.trim().parse().map_err(|_| mismatch())?,
                _ => return Err(mismatch()),
            };
            read_ints(column).map(|v| Some(v == Some(want))).collect()
        }
        DataType::Float32 | DataType::Float64 => {
            let want = match value {
                Value::Number(n) => n.as_f64().ok_or_else(mismatch)?,
                Value::String(s) => s.trim().parse().map_err(|_| mismatch())?,
                _ => return Err(mismatch()),
            };
            read_floats(column).map(|v| Some(v == Some(want))).collect()
        }
        _ => return Err(format!("filters on {dt} columns are not supported")),
    })
}

impl Transform for Aggregator {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Groups rows and computes sum, count, min, max and avg",
        )
    }

    fn open(ctx: &Context) -> Result<Self, Error> {
        let Params {
            group_by: Columns(group_by),
            aggregates: specs,
            filter,
        } = ctx.params()?;
        let specs = specs.ok_or_else(|| {
            Error::BadParams(
                "missing required param `aggregates` (a list of {column, fn, as})".to_string(),
            )
        })?;
        if specs.is_empty() {
            return Err(Error::BadParams("param `aggregates` is empty".to_string()));
        }
        let mut aggregates = Vec::new();
        let mut names: Vec<String> = group_by.clone();
        for spec in specs {
            let func = Func::parse(&spec.func).ok_or_else(|| {
                Error::BadParams(format!(
                    "aggregate function `{}` is not one of sum, count, min, max, avg",
                    spec.func
                ))
            })?;
            let name = spec.name.unwrap_or_else(|| match &spec.column {
                Some(c) => format!("{}_{c}", func.name()),
                None => func.name().to_string(),
            });
            if names.contains(&name) {
                return Err(Error::BadParams(format!(
                    "output column `{name}` would appear twice; set `as`"
                )));
            }
            names.push(name.clone());
            aggregates.push(Aggregate {
                column: spec.column,
                func,
                name,
            });
        }
        let bad_filter = |e: serde_json::Error| {
            Error::BadParams(format!(
                "param `filter` must be {{\"column\": ..., \"equals\": ...}} or a list of such: {e}"
            ))
        };
        let filters = match filter {
            None => Vec::new(),
            Some(list @ Value::Array(_)) => serde_json::from_value(list).map_err(bad_filter)?,
            Some(one) => vec![serde_json::from_value(one).map_err(bad_filter)?],
        };
        let mut this = Aggregator {
            keys: vec![Vec::new(); group_by.len()],
            group_by,
            aggregates,
            filters,
            plan: None,
            groups: GroupTable::default(),
            rows_in: 0,
            rows_kept: 0,
        };
        if let Some(input) = ctx.inputs.first()
            && !input.schema.fields().is_empty()
        {
            this.plan = Some(this.make_plan(&input.schema)?);
        }
        Ok(this)
    }

    /// Of every input only the group, filter and aggregate columns (none
    /// for a count of rows alone: the host then hands over batches of rows
    /// without columns). A window's days may come in any order (the output
    /// is sorted by group; counts, integer and decimal sums, minimums and
    /// maximums do not depend on order), unless a float is summed or
    /// averaged, since float addition rounds differently in another order,
    /// or the input's schema is unknown.
    fn plan(&self, ctx: &Context) -> Feed {
        let mut columns: Vec<&str> = self.group_by.iter().map(String::as_str).collect();
        columns.extend(self.filters.iter().map(|f| f.column.as_str()));
        columns.extend(self.aggregates.iter().filter_map(|a| a.column.as_deref()));
        columns.sort_unstable();
        columns.dedup();
        let mut feed = Feed::new();
        for (i, input) in ctx.inputs.iter().enumerate() {
            feed = feed.columns(i, columns.iter().copied());
            let float_sum = self.aggregates.iter().any(|a| {
                matches!(a.func, Func::Sum | Func::Avg)
                    && a.column.as_deref().is_some_and(|c| {
                        input
                            .schema
                            .field_with_name(c)
                            .is_ok_and(|f| f.data_type().is_floating())
                    })
            });
            if !float_sum && !input.schema.fields().is_empty() {
                feed = feed.unordered(i);
            }
        }
        feed
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        if self.plan.is_none() {
            self.plan = Some(self.make_plan(&batch.schema())?);
        }
        self.add(batch)?;
        Ok(Vec::new())
    }

    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        let Some(plan) = self.plan.take() else {
            return Err(Error::Failed(
                "no input batch and no input schema: cannot tell the output schema".to_string(),
            ));
        };
        let mut groups = self.groups.len();
        if self.group_by.is_empty() && groups == 0 {
            groups = 1; // one row over all (no) input
        }
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (field, pieces) in plan.group_fields.iter().zip(&self.keys) {
            let pieces: Vec<&dyn Array> = pieces.iter().map(|p| p.as_ref()).collect();
            columns.push(if pieces.is_empty() {
                strata_sdk::arrow::array::new_empty_array(field.data_type())
            } else {
                concat(&pieces)?
            });
        }
        for ((_, mut acc), (spec, field)) in plan.accs.into_iter().zip(
            self.aggregates
                .iter()
                .zip(plan.output.fields().iter().skip(self.group_by.len())),
        ) {
            acc.resize(groups);
            columns.push(
                acc.finish(field.data_type())
                    .map_err(|why| Error::BadInput(format!("aggregate `{}`: {why}", spec.name)))?,
            );
        }
        if !self.group_by.is_empty() && groups > 1 {
            let sort: Vec<SortColumn> = columns[..self.group_by.len()]
                .iter()
                .map(|c| SortColumn {
                    values: c.clone(),
                    options: Some(SortOptions {
                        descending: false,
                        nulls_first: true,
                    }),
                })
                .collect();
            let order = lexsort_to_indices(&sort, None)?;
            columns = columns
                .iter()
                .map(|c| take(c.as_ref(), &order, None))
                .collect::<Result<_, _>>()?;
        }
        let result = RecordBatch::try_new(plan.output, columns)?;
        strata_sdk::log::info(format!(
            "{} row(s) in, {} after the filter, {} group(s) out",
            self.rows_in,
            self.rows_kept,
            result.num_rows()
        ));
        if result.num_rows() == 0 {
            return Ok(vec![result]);
        }
        Ok((0..result.num_rows())
            .step_by(OUTPUT_BATCH_ROWS)
            .map(|start| result.slice(start, OUTPUT_BATCH_ROWS.min(result.num_rows() - start)))
            .collect())
    }
}

strata_sdk::export_transform!(Aggregator);

#[cfg(test)]
mod tests;
