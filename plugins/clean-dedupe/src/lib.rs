//! Silver: cleans string columns, drops rows without a key and keeps one row
//! per key.
//!
//! Params:
//! - `key` (required): the key columns. Rows with a null in any key column
//!   are dropped.
//! - `order_by`: the row kept per key is the one with the greatest value in
//!   this column (null is the smallest); ties, or no `order_by`, keep the row
//!   that came later in the input.
//! - `trim`, `lowercase`, `uppercase`: string columns to trim of surrounding
//!   whitespace, or to change the case of. Applied before deduplication, so
//!   they may name key columns.
//! - `drop_columns`: columns left out of the output.
//!
//! All inputs (and all batches of each, e.g. several days of a window) are
//! one table; the output is sorted by key.
//!
//! Its plan reads, of every input whose schema the host gives, every column
//! but the dropped ones, and the key and `order_by` even when dropped: the
//! host hands over nothing else, so nothing else is held per key. The
//! partitions come in order (ties keep the later row).
//!
//! How (the hash path): a hash table maps each key to its best row so far,
//! a (batch, row) in the batches kept; each row is hashed and looked up
//! once, and nothing is sorted until `finish`, which sorts the surviving
//! rows by key once and gathers them from the kept batches. Memory: right
//! after its rows are looked up, a batch is cut down to the rows that are
//! the best of their key (which also frees the columns that cleaning
//! replaced); a kept batch whose rows have all been superseded is dropped;
//! when the kept batches hold half again as many rows as there are keys
//! (plus `COMPACT_ROWS`), the best rows are gathered into one batch. In
//! `finish`, each kept batch is dropped once the last output batch that
//! needs it is made.
//!
//! Key and `order_by` columns of a type the hash path does not know, and
//! inputs with nested or dictionary columns, take the sort path instead:
//! the pending rows are folded into the state by a lexicographic sort of
//! (key, `order_by`, position), as this plugin always did. Both give the same
//! rows in the same order (the tests compare them).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use serde::Deserialize;
use strata_sdk::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, GenericStringArray, OffsetSizeTrait, RecordBatch,
    RecordBatchOptions, UInt32Array,
};
use strata_sdk::arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use strata_sdk::arrow::compute::{
    SortColumn, SortOptions, concat_batches, filter_record_batch, interleave, lexsort_to_indices,
    partition, take, take_record_batch,
};
use strata_sdk::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, Field, Float32Type, Float64Type, Int8Type,
    Int16Type, Int32Type, Int64Type, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use strata_sdk::{Columns, Context, Error, Info, Plan, Transform};

/// Rows per output batch.
const OUTPUT_BATCH_ROWS: usize = 1 << 16;
/// Sort path: pending rows are folded into the deduplicated state once there
/// are at least this many, or as many as the state has rows. Hash path: the
/// kept batches are compacted once they hold this many rows more than one and
/// a half times the number of keys.
const COMPACT_ROWS: usize = 1 << 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clean {
    Trim,
    Lowercase,
    Uppercase,
}

/// The params, as `pipeline.toml` gives them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Required; missing or empty is the error `open` names.
    #[serde(default)]
    key: Columns,
    order_by: Option<String>,
    #[serde(default)]
    trim: Columns,
    #[serde(default)]
    lowercase: Columns,
    #[serde(default)]
    uppercase: Columns,
    #[serde(default)]
    drop_columns: Columns,
}

pub struct CleanDedupe {
    key: Vec<String>,
    order_by: Option<String>,
    /// Per column, the cleanings in the order they apply.
    clean: Vec<(String, Vec<Clean>)>,
    drop_columns: Vec<String>,
    /// The input schema: from the host at `open`, then from the first batch.
    schema: Option<SchemaRef>,
    /// Per input, the columns the plan reads (`None`: every column).
    reads: Vec<Option<Vec<String>>>,
    seen_batch: bool,
    /// Chosen at the first batch.
    dedupe: Dedupe,
    /// Whether the hash path may be chosen (tests turn it off to compare the
    /// two paths).
    allow_hash: bool,
    /// See [`COMPACT_ROWS`] (tests make it small).
    compact_rows: usize,
    rows_in: usize,
    rows_without_key: usize,
    /// After `finish`: what `drain` hands out.
    output: Option<Output>,
}

enum Dedupe {
    /// No batch yet.
    Undecided,
    Hash(HashDedupe),
    Sort(SortDedupe),
}

impl CleanDedupe {
    /// Checks that the params fit a schema; `drops`: `drop_columns` too
    /// (not in a batch projected to the columns the plan reads).
    fn validate(&self, schema: &Schema, drops: bool) -> Result<(), Error> {
        let find = |param: &str, name: &str| {
            schema.field_with_name(name).map_err(|_| {
                Error::BadParams(format!(
                    "param `{param}` names column `{name}`, which the input does not have (it has: {})",
                    column_names(schema)
                ))
            })
        };
        for k in &self.key {
            find("key", k)?;
        }
        if let Some(o) = &self.order_by {
            find("order_by", o)?;
        }
        for (column, cleans) in &self.clean {
            let param = match cleans[0] {
                Clean::Trim => "trim",
                Clean::Lowercase => "lowercase",
                Clean::Uppercase => "uppercase",
            };
            let field = find(param, column)?;
            if !matches!(field.data_type(), DataType::Utf8 | DataType::LargeUtf8) {
                return Err(Error::BadParams(format!(
                    "param `{param}` names column `{column}`, which is {}, not a string column",
                    field.data_type()
                )));
            }
        }
        for d in self.drop_columns.iter().filter(|_| drops) {
            find("drop_columns", d)?;
        }
        Ok(())
    }

    /// The columns of an input with `schema` that it reads: every column it
    /// writes (all but the dropped ones) and what chooses the row kept per
    /// key (the key and `order_by`, even when dropped), so that what it
    /// holds per key is only that. `None` (every column) for an input whose
    /// schema the host did not know.
    fn columns_read(&self, schema: &Schema) -> Option<Vec<String>> {
        if schema.fields().is_empty() {
            return None;
        }
        let needed = |name: &String| {
            !self.drop_columns.contains(name)
                || self.key.contains(name)
                || self.order_by.as_ref() == Some(name)
        };
        Some(
            schema
                .fields()
                .iter()
                .map(|f| f.name())
                .filter(|name| needed(name))
                .cloned()
                .collect(),
        )
    }

    /// The batch with the schema of the batches before it. Columns must have
    /// the same names and types; a column nullable in one batch and not in
    /// another becomes nullable.
    fn conform(&mut self, batch: RecordBatch) -> Result<RecordBatch, Error> {
        let first = self.schema.clone().expect("schema set by the first batch");
        if first.fields() == batch.schema().fields() {
            return Ok(batch);
        }
        let same_types = first.fields().len() == batch.num_columns()
            && first
                .fields()
                .iter()
                .zip(batch.schema().fields())
                .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
        if !same_types {
            return Err(Error::BadInput(format!(
                "input batches differ in schema: first ({}), then ({})",
                column_types(&first),
                column_types(&batch.schema())
            )));
        }
        let merged: Vec<Field> = first
            .fields()
            .iter()
            .zip(batch.schema().fields())
            .map(|(a, b)| {
                a.as_ref()
                    .clone()
                    .with_nullable(a.is_nullable() || b.is_nullable())
            })
            .collect();
        let merged = Arc::new(Schema::new(merged));
        self.schema = Some(merged.clone());
        Ok(RecordBatch::try_new(merged, batch.columns().to_vec())?)
    }

    /// Cleans string columns.
    fn clean(&self, batch: RecordBatch) -> Result<RecordBatch, Error> {
        if self.clean.is_empty() {
            return Ok(batch);
        }
        let schema = batch.schema();
        let mut columns = batch.columns().to_vec();
        for (name, cleans) in &self.clean {
            let i = schema.index_of(name)?;
            columns[i] = clean_strings(&columns[i], cleans)?;
        }
        Ok(RecordBatch::try_new(schema, columns)?)
    }

    /// The hash path if it knows the types of `schema`, else the sort path.
    fn choose(&self, schema: &Schema) -> Result<Dedupe, Error> {
        let key = self
            .key
            .iter()
            .map(|k| schema.index_of(k))
            .collect::<Result<Vec<_>, _>>()?;
        let order_by = self
            .order_by
            .as_ref()
            .map(|o| schema.index_of(o))
            .transpose()?;
        let known = |i: &usize| Kind::supports(schema.field(*i).data_type());
        let flat = schema.fields().iter().all(|f| flat_type(f.data_type()));
        if self.allow_hash && flat && key.iter().all(known) && order_by.iter().all(known) {
            Ok(Dedupe::Hash(HashDedupe::new(key, order_by)))
        } else {
            Ok(Dedupe::Sort(SortDedupe::default()))
        }
    }
}

/// The batch without the rows that have a null in a key column.
fn drop_null_keys(batch: RecordBatch, key: &[String]) -> Result<RecordBatch, Error> {
    let schema = batch.schema();
    let keys = key
        .iter()
        .map(|k| Ok(batch.column(schema.index_of(k)?).clone()))
        .collect::<Result<Vec<_>, Error>>()?;
    if keys.iter().all(|k| k.logical_null_count() == 0) {
        return Ok(batch);
    }
    let keep: BooleanArray = (0..batch.num_rows())
        .map(|row| Some(keys.iter().all(|k| k.is_valid(row))))
        .collect();
    Ok(filter_record_batch(&batch, &keep)?)
}

/// Whether the hash path may hold a column of this type: one whose arrays
/// `interleave` gathers exactly as `concat` and `take` would.
fn flat_type(data_type: &DataType) -> bool {
    data_type.is_primitive()
        || matches!(
            data_type,
            DataType::Null
                | DataType::Boolean
                | DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Binary
                | DataType::LargeBinary
                | DataType::FixedSizeBinary(_)
        )
}

fn column_names(schema: &Schema) -> String {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    names.join(", ")
}

fn clean_strings(array: &ArrayRef, cleans: &[Clean]) -> Result<ArrayRef, Error> {
    fn apply<O: OffsetSizeTrait>(array: &ArrayRef, cleans: &[Clean]) -> Result<ArrayRef, Error> {
        let strings = array.as_string::<O>();
        // `open` puts the trims first and allows one change of case: that
        // is done straight into the output; anything else value by value.
        let trims = cleans.iter().take_while(|&&c| c == Clean::Trim).count();
        let simple = match cleans[trims..] {
            [] => Some(None),
            [case] => Some(Some(case)),
            _ => None,
        };
        let mut values: Vec<u8> = Vec::with_capacity(strings.value_data().len());
        let mut offsets: Vec<O> = Vec::with_capacity(strings.len() + 1);
        offsets.push(O::usize_as(0));
        for i in 0..strings.len() {
            if strings.is_valid(i) {
                let value = strings.value(i);
                match simple {
                    Some(case) => {
                        let s = if trims > 0 { value.trim() } else { value };
                        match case {
                            Some(Clean::Lowercase) if s.is_ascii() => {
                                values.extend(s.bytes().map(|b| b.to_ascii_lowercase()));
                            }
                            Some(Clean::Uppercase) if s.is_ascii() => {
                                values.extend(s.bytes().map(|b| b.to_ascii_uppercase()));
                            }
                            Some(Clean::Lowercase) => {
                                values.extend_from_slice(s.to_lowercase().as_bytes());
                            }
                            Some(Clean::Uppercase) => {
                                values.extend_from_slice(s.to_uppercase().as_bytes());
                            }
                            Some(Clean::Trim) | None => values.extend_from_slice(s.as_bytes()),
                        }
                    }
                    None => values.extend_from_slice(clean_one(value, cleans).as_bytes()),
                }
            }
            offsets.push(O::from_usize(values.len()).ok_or_else(|| {
                Error::Failed(format!(
                    "cleaned strings too long for a {} column",
                    array.data_type()
                ))
            })?);
        }
        // As a builder leaves it: no null buffer without nulls.
        let nulls = strings.nulls().filter(|n| n.null_count() > 0).cloned();
        Ok(Arc::new(GenericStringArray::<O>::try_new(
            OffsetBuffer::new(offsets.into()),
            values.into(),
            nulls,
        )?))
    }
    match array.data_type() {
        DataType::Utf8 => apply::<i32>(array, cleans),
        DataType::LargeUtf8 => apply::<i64>(array, cleans),
        other => Err(Error::BadInput(format!(
            "cannot trim or change the case of a {other} column"
        ))),
    }
}

/// One value cleaned, any cleanings in any order.
fn clean_one<'a>(value: &'a str, cleans: &[Clean]) -> Cow<'a, str> {
    let mut s = Cow::Borrowed(value);
    for clean in cleans {
        s = match clean {
            Clean::Trim => match s {
                Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
                Cow::Owned(o) => Cow::Owned(o.trim().to_string()),
            },
            Clean::Lowercase => Cow::Owned(s.to_lowercase()),
            Clean::Uppercase => Cow::Owned(s.to_uppercase()),
        };
    }
    s
}

/// The sort path: one row per key so far in `state`, sorted by key, and the
/// rows that came since in `pending`.
#[derive(Default)]
struct SortDedupe {
    state: Option<RecordBatch>,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
}

impl SortDedupe {
    fn push(
        &mut self,
        batch: RecordBatch,
        schema: &SchemaRef,
        key: &[String],
        order_by: Option<&str>,
        compact_rows: usize,
    ) -> Result<(), Error> {
        self.pending_rows += batch.num_rows();
        self.pending.push(batch);
        let state_rows = self.state.as_ref().map_or(0, RecordBatch::num_rows);
        if self.pending_rows >= compact_rows.max(state_rows) {
            self.compact(schema, key, order_by)?;
        }
        Ok(())
    }

    /// One row per key of `batch`, sorted by key: the row with the greatest
    /// `order_by`, the later row on ties.
    fn dedupe(
        batch: &RecordBatch,
        key: &[String],
        order_by: Option<&str>,
    ) -> Result<RecordBatch, Error> {
        if batch.num_rows() == 0 {
            return Ok(batch.clone());
        }
        let schema = batch.schema();
        let column = |name: &str| -> Result<ArrayRef, Error> {
            Ok(batch.column(schema.index_of(name)?).clone())
        };
        let ascending = Some(SortOptions {
            descending: false,
            nulls_first: true,
        });
        let mut sort: Vec<SortColumn> = key
            .iter()
            .map(|k| {
                Ok(SortColumn {
                    values: column(k)?,
                    options: ascending,
                })
            })
            .collect::<Result<_, Error>>()?;
        if let Some(o) = order_by {
            sort.push(SortColumn {
                values: column(o)?,
                options: ascending,
            });
        }
        let row_count = u32::try_from(batch.num_rows())
            .map_err(|_| Error::Failed("more than 2^32 rows".to_string()))?;
        sort.push(SortColumn {
            values: Arc::new(UInt32Array::from_iter_values(0..row_count)),
            options: ascending,
        });
        let order = lexsort_to_indices(&sort, None)?;
        let sorted_keys = sort[..key.len()]
            .iter()
            .map(|c| take(c.values.as_ref(), &order, None))
            .collect::<Result<Vec<_>, _>>()?;
        let last_of_each_key: UInt32Array = partition(&sorted_keys)?
            .ranges()
            .into_iter()
            .map(|range| order.value(range.end - 1))
            .collect();
        Ok(take_record_batch(batch, &last_of_each_key)?)
    }

    /// Folds the pending batches into the state.
    fn compact(
        &mut self,
        schema: &SchemaRef,
        key: &[String],
        order_by: Option<&str>,
    ) -> Result<(), Error> {
        let batches: Vec<RecordBatch> = self
            .state
            .take()
            .into_iter()
            .chain(std::mem::take(&mut self.pending))
            .collect();
        self.pending_rows = 0;
        let all = concat_batches(schema, &batches)?;
        drop(batches);
        self.state = Some(Self::dedupe(&all, key, order_by)?);
        Ok(())
    }
}

/// The values of one key or `order_by` column of one batch, in a form the
/// hash path hashes, compares and orders exactly as Arrow's sort and
/// partition kernels do (integers by value, floats by IEEE total order,
/// strings and binary by bytes, false before true).
enum Kind {
    I8(ScalarBuffer<i8>),
    I16(ScalarBuffer<i16>),
    I32(ScalarBuffer<i32>),
    I64(ScalarBuffer<i64>),
    U8(ScalarBuffer<u8>),
    U16(ScalarBuffer<u16>),
    U32(ScalarBuffer<u32>),
    U64(ScalarBuffer<u64>),
    F32(ScalarBuffer<f32>),
    F64(ScalarBuffer<f64>),
    I128(ScalarBuffer<i128>),
    Bool(BooleanBuffer),
    Bytes(OffsetBuffer<i32>, Buffer),
    LargeBytes(OffsetBuffer<i64>, Buffer),
}

/// One value of a [`Kind`]: every fixed-width type as an integer in the
/// column's order, strings and binary as bytes.
#[derive(Clone, Copy)]
enum Value<'a> {
    Int(i128),
    Bytes(&'a [u8]),
}

impl Kind {
    fn supports(data_type: &DataType) -> bool {
        use DataType::*;
        matches!(
            data_type,
            Int8 | Int16
                | Int32
                | Int64
                | UInt8
                | UInt16
                | UInt32
                | UInt64
                | Float32
                | Float64
                | Date32
                | Date64
                | Timestamp(_, _)
                | Decimal128(_, _)
                | Boolean
                | Utf8
                | LargeUtf8
                | Binary
                | LargeBinary
        )
    }

    /// The values of `array`, of a type [`Kind::supports`].
    fn new(array: &dyn Array) -> Kind {
        macro_rules! values {
            ($t:ty) => {
                array.as_primitive::<$t>().values().clone()
            };
        }
        match array.data_type() {
            DataType::Int8 => Kind::I8(values!(Int8Type)),
            DataType::Int16 => Kind::I16(values!(Int16Type)),
            DataType::Int32 => Kind::I32(values!(Int32Type)),
            DataType::Int64 => Kind::I64(values!(Int64Type)),
            DataType::UInt8 => Kind::U8(values!(UInt8Type)),
            DataType::UInt16 => Kind::U16(values!(UInt16Type)),
            DataType::UInt32 => Kind::U32(values!(UInt32Type)),
            DataType::UInt64 => Kind::U64(values!(UInt64Type)),
            DataType::Float32 => Kind::F32(values!(Float32Type)),
            DataType::Float64 => Kind::F64(values!(Float64Type)),
            DataType::Date32 => Kind::I32(values!(Date32Type)),
            DataType::Date64 => Kind::I64(values!(Date64Type)),
            DataType::Timestamp(TimeUnit::Second, _) => Kind::I64(values!(TimestampSecondType)),
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                Kind::I64(values!(TimestampMillisecondType))
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                Kind::I64(values!(TimestampMicrosecondType))
            }
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                Kind::I64(values!(TimestampNanosecondType))
            }
            DataType::Decimal128(_, _) => Kind::I128(values!(Decimal128Type)),
            DataType::Boolean => Kind::Bool(array.as_boolean().values().clone()),
            DataType::Utf8 => {
                let a = array.as_string::<i32>();
                Kind::Bytes(a.offsets().clone(), a.values().clone())
            }
            DataType::LargeUtf8 => {
                let a = array.as_string::<i64>();
                Kind::LargeBytes(a.offsets().clone(), a.values().clone())
            }
            DataType::Binary => {
                let a = array.as_binary::<i32>();
                Kind::Bytes(a.offsets().clone(), a.values().clone())
            }
            DataType::LargeBinary => {
                let a = array.as_binary::<i64>();
                Kind::LargeBytes(a.offsets().clone(), a.values().clone())
            }
            other => unreachable!("the hash path does not take {other} columns"),
        }
    }

    #[inline(always)]
    fn get(&self, i: usize) -> Value<'_> {
        match self {
            Kind::I8(v) => Value::Int(v[i].into()),
            Kind::I16(v) => Value::Int(v[i].into()),
            Kind::I32(v) => Value::Int(v[i].into()),
            Kind::I64(v) => Value::Int(v[i].into()),
            Kind::U8(v) => Value::Int(v[i].into()),
            Kind::U16(v) => Value::Int(v[i].into()),
            Kind::U32(v) => Value::Int(v[i].into()),
            Kind::U64(v) => Value::Int(v[i].into()),
            // As `f32::total_cmp` orders them: equal only if the bits are.
            Kind::F32(v) => {
                let bits = v[i].to_bits() as i32;
                Value::Int((bits ^ (((bits >> 31) as u32) >> 1) as i32).into())
            }
            Kind::F64(v) => {
                let bits = v[i].to_bits() as i64;
                Value::Int((bits ^ (((bits >> 63) as u64) >> 1) as i64).into())
            }
            Kind::I128(v) => Value::Int(v[i]),
            Kind::Bool(v) => Value::Int(v.value(i).into()),
            Kind::Bytes(offsets, values) => {
                Value::Bytes(&values[offsets[i] as usize..offsets[i + 1] as usize])
            }
            Kind::LargeBytes(offsets, values) => {
                Value::Bytes(&values[offsets[i] as usize..offsets[i + 1] as usize])
            }
        }
    }

    /// An unsigned number that orders like the value at `i` (ties aside):
    /// for strings and binary, the 8 bytes from `depth` on.
    fn prefix(&self, i: usize, depth: usize) -> u64 {
        const SIGN: u64 = 1 << 63;
        match (self, self.get(i)) {
            (Kind::U8(_) | Kind::U16(_) | Kind::U32(_) | Kind::U64(_), Value::Int(v)) => v as u64,
            (Kind::I128(_), Value::Int(v)) => ((v as u128) >> 64) as u64 ^ SIGN,
            (_, Value::Int(v)) => v as i64 as u64 ^ SIGN,
            (_, Value::Bytes(b)) => be_word_at(b, depth),
        }
    }
}

impl PartialEq for Value<'_> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => bytes_eq(a, b),
            _ => false,
        }
    }
}

impl Value<'_> {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a.cmp(b),
            (Value::Bytes(a), Value::Bytes(b)) => bytes_cmp(a, b),
            (Value::Int(_), Value::Bytes(_)) => Ordering::Less,
            (Value::Bytes(_), Value::Int(_)) => Ordering::Greater,
        }
    }

    #[inline]
    fn hash(&self, h: u64) -> u64 {
        match self {
            Value::Int(v) => mix(mix(h, *v as u64), (*v >> 64) as u64),
            Value::Bytes(b) => hash_bytes(h, b),
        }
    }
}

// Byte strings, compared and hashed 8 bytes at a time: in wasm, `memcmp` is
// a loop over single bytes.

#[inline]
fn ne_word(b: &[u8], i: usize) -> u64 {
    u64::from_ne_bytes(b[i..i + 8].try_into().expect("8 bytes"))
}

#[inline]
fn be_word(b: &[u8], i: usize) -> u64 {
    u64::from_be_bytes(b[i..i + 8].try_into().expect("8 bytes"))
}

/// Up to 8 bytes of `b` from `depth` on, the first the most significant,
/// zero-padded.
#[inline]
fn be_word_at(b: &[u8], depth: usize) -> u64 {
    if b.len() >= depth + 8 {
        return be_word(b, depth);
    }
    let mut word = 0;
    for (k, &byte) in b[depth.min(b.len())..].iter().enumerate() {
        word |= u64::from(byte) << (56 - 8 * k);
    }
    word
}

#[inline]
fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return be_word_at(a, 0) == be_word_at(b, 0);
    }
    let mut i = 0;
    while i + 8 <= n {
        if ne_word(a, i) != ne_word(b, i) {
            return false;
        }
        i += 8;
    }
    ne_word(a, n - 8) == ne_word(b, n - 8)
}

/// `a.cmp(b)` for byte strings.
#[inline]
fn bytes_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let n = a.len().min(b.len());
    if n < 8 {
        return be_word_at(&a[..n], 0)
            .cmp(&be_word_at(&b[..n], 0))
            .then(a.len().cmp(&b.len()));
    }
    let mut i = 0;
    while i + 8 <= n {
        if ne_word(a, i) != ne_word(b, i) {
            return be_word(a, i).cmp(&be_word(b, i));
        }
        i += 8;
    }
    // The last 8 bytes of the common length: the first of them are equal.
    be_word(a, n - 8)
        .cmp(&be_word(b, n - 8))
        .then(a.len().cmp(&b.len()))
}

/// The length of the longest common prefix of `a` and `b`.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n && ne_word(a, i) == ne_word(b, i) {
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

const HASH_SEED: u64 = 0x243F_6A88_85A3_08D3;

/// FxHash's step; [`fmix`] spreads its bits at the end.
#[inline]
fn mix(h: u64, word: u64) -> u64 {
    (h.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
}

/// MurmurHash3's finaliser.
#[inline]
fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[inline]
fn hash_bytes(mut h: u64, b: &[u8]) -> u64 {
    h = mix(h, b.len() as u64);
    let mut chunks = b.chunks_exact(8);
    for chunk in &mut chunks {
        h = mix(h, u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        h = mix(h, be_word_at(rest, 0));
    }
    h
}

/// A kept input batch with its key and `order_by` values.
struct Held {
    batch: RecordBatch,
    keys: Vec<Kind>,
    order: Option<(Kind, Option<NullBuffer>)>,
}

impl Held {
    fn new(batch: RecordBatch, key: &[usize], order_by: Option<usize>) -> Held {
        let keys = key.iter().map(|&k| Kind::new(batch.column(k))).collect();
        let order = order_by.map(|o| {
            let column = batch.column(o);
            (Kind::new(column), column.logical_nulls())
        });
        Held { batch, keys, order }
    }

    #[inline]
    fn hash(&self, row: usize) -> u32 {
        let h = self.keys.iter().fold(HASH_SEED, |h, k| k.get(row).hash(h));
        (fmix(h) >> 32) as u32
    }

    #[inline]
    fn same_key(&self, row: usize, other: &Held, other_row: usize) -> bool {
        self.keys
            .iter()
            .zip(&other.keys)
            .all(|(a, b)| a.get(row) == b.get(other_row))
    }

    fn cmp_key(&self, row: usize, other: &Held, other_row: usize) -> Ordering {
        for (a, b) in self.keys.iter().zip(&other.keys) {
            match a.get(row).cmp(&b.get(other_row)) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        Ordering::Equal
    }

    /// Whether the row replaces `other_row` of `other` (which came before it)
    /// as the best of their key: its `order_by` is not smaller (null is the
    /// smallest).
    #[inline]
    fn replaces(&self, row: usize, other: &Held, other_row: usize) -> bool {
        let (Some((values, nulls)), Some((other_values, other_nulls))) =
            (&self.order, &other.order)
        else {
            return true;
        };
        let null = nulls.as_ref().is_some_and(|n| n.is_null(row));
        let other_null = other_nulls.as_ref().is_some_and(|n| n.is_null(other_row));
        match (null, other_null) {
            (_, true) => true,
            (true, false) => false,
            (false, false) => values.get(row).cmp(&other_values.get(other_row)) != Ordering::Less,
        }
    }
}

/// The best row of one key: a row of a kept batch.
#[derive(Clone, Copy)]
struct Entry {
    /// The high 32 bits of the key's hash.
    hash: u32,
    batch: u32,
    row: u32,
}

const EMPTY: u32 = u32::MAX;

/// A best row being sorted by key.
#[derive(Clone, Copy)]
struct Sorted {
    /// Orders like the first key column (ties aside).
    prefix: u64,
    batch: u32,
    row: u32,
}

/// The hash path: kept batches, and for each key the best row so far.
struct HashDedupe {
    /// Column indices.
    key: Vec<usize>,
    order_by: Option<usize>,
    /// The kept batches; `None` once none of their rows is the best of its key.
    held: Vec<Option<Held>>,
    /// Per kept batch, how many entries point into it.
    live: Vec<u32>,
    /// Rows of the kept batches.
    held_rows: usize,
    /// One per key.
    entries: Vec<Entry>,
    /// Open addressing with linear probing: an index into `entries`, or
    /// [`EMPTY`]. A key's probe starts at the top bits of its hash.
    slots: Vec<u32>,
    /// `32 - log2(slots.len())`.
    shift: u32,
}

impl HashDedupe {
    fn new(key: Vec<usize>, order_by: Option<usize>) -> HashDedupe {
        const INITIAL_SLOTS: u32 = 1 << 10;
        HashDedupe {
            key,
            order_by,
            held: Vec::new(),
            live: Vec::new(),
            held_rows: 0,
            entries: Vec::new(),
            slots: vec![EMPTY; INITIAL_SLOTS as usize],
            shift: 32 - INITIAL_SLOTS.trailing_zeros(),
        }
    }

    /// Adds a (cleaned) batch; returns how many of its rows have a null key.
    /// `cleaned`: some of its columns were replaced by cleaned copies (the
    /// originals stay in memory as long as the other columns do).
    fn push(
        &mut self,
        batch: RecordBatch,
        schema: &SchemaRef,
        cleaned: bool,
        compact_rows: usize,
    ) -> Result<usize, Error> {
        let rows = batch.num_rows();
        let too_many = || Error::Failed("more than 2^32 - 1 rows or batches".to_string());
        let batch_index = u32::try_from(self.held.len()).map_err(|_| too_many())?;
        if u32::try_from(rows).is_err() || rows > EMPTY as usize - self.entries.len() {
            return Err(too_many());
        }
        let valid = self.key.iter().fold(None, |acc: Option<NullBuffer>, &k| {
            NullBuffer::union(acc.as_ref(), batch.column(k).logical_nulls().as_ref())
        });
        let without_key = valid.as_ref().map_or(0, NullBuffer::null_count);
        self.held
            .push(Some(Held::new(batch, &self.key, self.order_by)));
        self.live.push(0);
        self.held_rows += rows;

        let Self {
            held,
            live,
            entries,
            slots,
            shift,
            ..
        } = self;
        let current = held[batch_index as usize].as_ref().expect("just pushed");
        // The entries that point into this batch, and the batches no entry
        // points into any more.
        let mut arrived: Vec<u32> = Vec::new();
        let mut emptied = Vec::new();
        for row in 0..rows {
            if valid.as_ref().is_some_and(|v| v.is_null(row)) {
                continue;
            }
            let hash = current.hash(row);
            let mask = slots.len() - 1;
            let mut pos = (hash >> *shift) as usize;
            loop {
                let slot = slots[pos];
                if slot == EMPTY {
                    slots[pos] = entries.len() as u32;
                    arrived.push(entries.len() as u32);
                    entries.push(Entry {
                        hash,
                        batch: batch_index,
                        row: row as u32,
                    });
                    if entries.len() * 2 > slots.len() {
                        Self::grow(entries, slots, shift);
                    }
                    break;
                }
                let entry = &mut entries[slot as usize];
                if entry.hash == hash {
                    let best = held[entry.batch as usize]
                        .as_ref()
                        .expect("a batch holding a best row is kept");
                    if current.same_key(row, best, entry.row as usize) {
                        if current.replaces(row, best, entry.row as usize) {
                            if entry.batch != batch_index {
                                live[entry.batch as usize] -= 1;
                                if live[entry.batch as usize] == 0 {
                                    emptied.push(entry.batch as usize);
                                }
                                arrived.push(slot);
                                entry.batch = batch_index;
                            }
                            entry.row = row as u32;
                        }
                        break;
                    }
                }
                pos = (pos + 1) & mask;
            }
        }
        live[batch_index as usize] = arrived.len() as u32;
        for b in emptied {
            if live[b] == 0
                && let Some(gone) = held[b].take()
            {
                self.held_rows -= gone.batch.num_rows();
            }
        }
        if arrived.is_empty() {
            self.held[batch_index as usize] = None;
            self.held_rows -= rows;
        } else if arrived.len() < rows || cleaned {
            self.shrink(batch_index as usize, arrived)?;
        }
        if self.held_rows >= self.entries.len() + self.entries.len() / 2 + compact_rows {
            self.compact(schema)?;
        }
        Ok(without_key)
    }

    /// Doubles the slots.
    fn grow(entries: &[Entry], slots: &mut Vec<u32>, shift: &mut u32) {
        *slots = vec![EMPTY; slots.len() * 2];
        *shift -= 1;
        let mask = slots.len() - 1;
        for (i, entry) in entries.iter().enumerate() {
            let mut pos = (entry.hash >> *shift) as usize;
            while slots[pos] != EMPTY {
                pos = (pos + 1) & mask;
            }
            slots[pos] = i as u32;
        }
    }

    /// Replaces kept batch `b` with a copy of its rows that are the best of
    /// their key (`members`: all the entries that point into it), which
    /// frees the other rows and the columns that cleaning replaced.
    fn shrink(&mut self, b: usize, members: Vec<u32>) -> Result<(), Error> {
        let old = self.held[b]
            .take()
            .expect("a batch holding a best row is kept");
        // The entry of each row, in row order.
        let mut entry_of = vec![EMPTY; old.batch.num_rows()];
        for e in members {
            entry_of[self.entries[e as usize].row as usize] = e;
        }
        let mut rows = Vec::new();
        for (row, &e) in entry_of.iter().enumerate() {
            if e != EMPTY {
                self.entries[e as usize].row = rows.len() as u32;
                rows.push(row as u32);
            }
        }
        drop(entry_of);
        let rows = UInt32Array::from(rows);
        let batch = take_record_batch(&old.batch, &rows)?;
        self.held_rows -= old.batch.num_rows() - batch.num_rows();
        drop(old);
        self.held[b] = Some(Held::new(batch, &self.key, self.order_by));
        Ok(())
    }

    /// The kept batches, and for each of `held` its index among them.
    fn kept(&self) -> (Vec<&RecordBatch>, Vec<usize>) {
        let mut batches = Vec::new();
        let mut index = vec![usize::MAX; self.held.len()];
        for (i, h) in self.held.iter().enumerate() {
            if let Some(h) = h {
                index[i] = batches.len();
                batches.push(&h.batch);
            }
        }
        (batches, index)
    }

    /// Gathers the given rows (`(batch, row)` of `held`) of the given columns.
    fn gather(
        &self,
        rows: impl Iterator<Item = (u32, u32)>,
        columns: &[usize],
        schema: SchemaRef,
    ) -> Result<RecordBatch, Error> {
        let (batches, index) = self.kept();
        let indices: Vec<(usize, usize)> =
            rows.map(|(b, r)| (index[b as usize], r as usize)).collect();
        let columns = columns
            .iter()
            .map(|&c| {
                let arrays: Vec<&dyn Array> =
                    batches.iter().map(|b| b.column(c).as_ref()).collect();
                interleave(&arrays, &indices)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RecordBatch::try_new_with_options(
            schema,
            columns,
            &RecordBatchOptions::new().with_row_count(Some(indices.len())),
        )?)
    }

    /// Replaces the kept batches with one holding only the best rows.
    fn compact(&mut self, schema: &SchemaRef) -> Result<(), Error> {
        let all: Vec<usize> = (0..schema.fields().len()).collect();
        let batch = self.gather(
            self.entries.iter().map(|e| (e.batch, e.row)),
            &all,
            schema.clone(),
        )?;
        self.held = vec![Some(Held::new(batch, &self.key, self.order_by))];
        self.live = vec![self.entries.len() as u32];
        self.held_rows = self.entries.len();
        for (i, entry) in self.entries.iter_mut().enumerate() {
            entry.batch = 0;
            entry.row = i as u32;
        }
        Ok(())
    }

    /// Sorts each run of `sorted` (sorted by `prefix`, the 8 bytes of the
    /// first key column from `depth` on for strings) that shares a prefix:
    /// by the next 8 bytes while some of its strings go on, else by the
    /// whole key.
    fn break_ties(&self, sorted: &mut [Sorted], depth: usize) {
        let mut start = 0;
        while start < sorted.len() {
            let prefix = sorted[start].prefix;
            let end = start
                + sorted[start..]
                    .iter()
                    .take_while(|s| s.prefix == prefix)
                    .count();
            if end - start > 1 {
                self.sort_run(&mut sorted[start..end], depth);
            }
            start = end;
        }
    }

    fn sort_run(&self, run: &mut [Sorted], depth: usize) {
        let held = |s: &Sorted| {
            self.held[s.batch as usize]
                .as_ref()
                .expect("a batch holding a best row is kept")
        };
        let next = depth + 8;
        let mut goes_on = false;
        for s in run.iter_mut() {
            match held(s).keys[0].get(s.row as usize) {
                Value::Bytes(b) => {
                    goes_on |= b.len() > next;
                    s.prefix = be_word_at(b, next);
                }
                Value::Int(_) => break,
            }
        }
        if goes_on {
            run.sort_unstable_by_key(|s| s.prefix);
            self.break_ties(run, next);
        } else {
            run.sort_unstable_by(|a, b| held(a).cmp_key(a.row as usize, held(b), b.row as usize));
        }
    }

    /// The best rows sorted by key, with the columns `keep` of `schema`, to
    /// be taken a batch of [`OUTPUT_BATCH_ROWS`] at a time.
    fn finish(mut self, schema: &SchemaRef, keep: &[usize]) -> Result<Sorting, Error> {
        let output_schema = Arc::new(schema.project(keep)?);
        self.slots = Vec::new();
        let entries = std::mem::take(&mut self.entries);
        if entries.is_empty() {
            return Ok(Sorting {
                dedupe: self,
                schema: output_schema,
                keep: keep.to_vec(),
                sorted: Vec::new(),
                done_after: Vec::new(),
                next: 0,
            });
        }
        let held = |e: &Entry| {
            self.held[e.batch as usize]
                .as_ref()
                .expect("a batch holding a best row is kept")
        };
        // Sort by 8 bytes of the first key column at a time (for strings,
        // from the first byte not all keys share), then by the whole key.
        let first = |e: &Entry| held(e).keys[0].get(e.row as usize);
        let depth = match first(&entries[0]) {
            Value::Bytes(b0) => entries.iter().fold(b0.len(), |depth, e| match first(e) {
                Value::Bytes(b) => depth.min(common_prefix(&b0[..depth], b)),
                Value::Int(_) => 0,
            }),
            Value::Int(_) => 0,
        };
        let mut sorted: Vec<Sorted> = entries
            .iter()
            .map(|e| Sorted {
                prefix: held(e).keys[0].prefix(e.row as usize, depth),
                batch: e.batch,
                row: e.row,
            })
            .collect();
        drop(entries);
        sorted.sort_unstable_by_key(|s| s.prefix);
        self.break_ties(&mut sorted, depth);
        // Each kept batch goes as soon as the last output batch that needs
        // it is made: when the input came roughly in key order, the output
        // and the input are not both held whole.
        let chunks = sorted.len().div_ceil(OUTPUT_BATCH_ROWS);
        let mut last_needed = vec![0; self.held.len()];
        for (c, chunk) in sorted.chunks(OUTPUT_BATCH_ROWS).enumerate() {
            for s in chunk {
                last_needed[s.batch as usize] = c;
            }
        }
        let mut done_after: Vec<Vec<usize>> = vec![Vec::new(); chunks];
        for (b, h) in self.held.iter().enumerate() {
            if h.is_some() {
                done_after[last_needed[b]].push(b);
            }
        }
        Ok(Sorting {
            dedupe: self,
            schema: output_schema,
            keep: keep.to_vec(),
            sorted,
            done_after,
            next: 0,
        })
    }
}

/// The hash path's output: the best rows in key order, gathered a batch at
/// a time, so the output is never held whole beside the input.
struct Sorting {
    dedupe: HashDedupe,
    schema: SchemaRef,
    keep: Vec<usize>,
    sorted: Vec<Sorted>,
    /// Per output batch, the kept batches no later output batch needs.
    done_after: Vec<Vec<usize>>,
    /// The next output batch.
    next: usize,
}

impl Sorting {
    fn next_batch(&mut self) -> Result<Option<RecordBatch>, Error> {
        let Some(chunk) = self.sorted.chunks(OUTPUT_BATCH_ROWS).nth(self.next) else {
            return Ok(None);
        };
        let batch = self.dedupe.gather(
            chunk.iter().map(|s| (s.batch, s.row)),
            &self.keep,
            self.schema.clone(),
        )?;
        for &b in &self.done_after[self.next] {
            self.dedupe.held[b] = None;
        }
        self.next += 1;
        Ok(Some(batch))
    }
}

/// What `drain` hands out, a batch at a time.
enum Output {
    Sorting(Sorting),
    /// The sort path's result and the offset of its next batch.
    Slices(RecordBatch, usize),
}

impl Output {
    fn next_batch(&mut self) -> Result<Option<RecordBatch>, Error> {
        match self {
            Output::Sorting(sorting) => sorting.next_batch(),
            Output::Slices(result, start) => {
                if *start >= result.num_rows() {
                    return Ok(None);
                }
                let len = OUTPUT_BATCH_ROWS.min(result.num_rows() - *start);
                let batch = result.slice(*start, len);
                *start += len;
                Ok(Some(batch))
            }
        }
    }
}

impl Transform for CleanDedupe {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Trims and normalises string columns, drops rows without a key, keeps one row per key",
        )
    }

    fn open(ctx: &Context) -> Result<Self, Error> {
        let Params {
            key: Columns(key),
            order_by,
            trim,
            lowercase,
            uppercase,
            drop_columns: Columns(drop_columns),
        } = ctx.params()?;
        if key.is_empty() {
            return Err(Error::BadParams(
                "missing required param `key` (the key columns)".to_string(),
            ));
        }
        let order_by = order_by.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let mut clean: Vec<(String, Vec<Clean>)> = Vec::new();
        for (Columns(columns), what) in [
            (trim, Clean::Trim),
            (lowercase, Clean::Lowercase),
            (uppercase, Clean::Uppercase),
        ] {
            for column in columns {
                match clean.iter_mut().find(|(c, _)| *c == column) {
                    Some((_, cleans)) => cleans.push(what),
                    None => clean.push((column, vec![what])),
                }
            }
        }
        if let Some((column, _)) = clean
            .iter()
            .find(|(_, c)| c.contains(&Clean::Lowercase) && c.contains(&Clean::Uppercase))
        {
            return Err(Error::BadParams(format!(
                "column `{column}` is in both `lowercase` and `uppercase`"
            )));
        }
        let mut this = CleanDedupe {
            key,
            order_by: order_by.map(str::to_string),
            clean,
            drop_columns,
            schema: None,
            reads: Vec::new(),
            seen_batch: false,
            dedupe: Dedupe::Undecided,
            allow_hash: true,
            compact_rows: COMPACT_ROWS,
            rows_in: 0,
            rows_without_key: 0,
            output: None,
        };
        if let Some(input) = ctx.inputs.first()
            && !input.schema.fields().is_empty()
        {
            this.validate(&input.schema, true)?;
            this.schema = Some(input.schema.clone());
        }
        this.reads = ctx
            .inputs
            .iter()
            .map(|i| this.columns_read(&i.schema))
            .collect();
        Ok(this)
    }

    /// Of every input, the columns [`CleanDedupe::columns_read`] says. In order:
    /// ties keep the later row.
    fn plan(&self, _ctx: &Context) -> Plan {
        self.reads
            .iter()
            .enumerate()
            .fold(Plan::new(), |plan, (i, read)| match read {
                Some(columns) => plan.columns(i, columns.iter().cloned()),
                None => plan,
            })
    }

    fn process(
        &mut self,
        input: usize,
        _partition: usize,
        batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        let batch = if !self.seen_batch {
            // A projected batch has no dropped columns to check.
            let projected = self.reads.get(input).is_some_and(Option::is_some);
            self.validate(&batch.schema(), !projected)?;
            self.schema = Some(batch.schema());
            self.seen_batch = true;
            self.dedupe = self.choose(&batch.schema())?;
            batch
        } else {
            self.conform(batch)?
        };
        let schema = self.schema.clone().expect("schema set by the first batch");
        let rows = batch.num_rows();
        self.rows_in += rows;
        let batch = self.clean(batch)?;
        match &mut self.dedupe {
            Dedupe::Hash(hash) => {
                let cleaned = !self.clean.is_empty();
                self.rows_without_key += hash.push(batch, &schema, cleaned, self.compact_rows)?;
            }
            Dedupe::Sort(sort) => {
                let batch = drop_null_keys(batch, &self.key)?;
                self.rows_without_key += rows - batch.num_rows();
                sort.push(
                    batch,
                    &schema,
                    &self.key,
                    self.order_by.as_deref(),
                    self.compact_rows,
                )?;
            }
            Dedupe::Undecided => unreachable!("chosen at the first batch"),
        }
        Ok(Vec::new())
    }

    /// Sorts the best rows; `drain` hands them out. Nothing here unless
    /// there is no row at all: then one empty batch, so the output has a
    /// schema.
    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        let Some(schema) = self.schema.clone() else {
            return Err(Error::Failed(
                "no input batch and no input schema: cannot tell the output schema".to_string(),
            ));
        };
        let keep: Vec<usize> = (0..schema.fields().len())
            .filter(|&i| !self.drop_columns.contains(schema.field(i).name()))
            .collect();
        let output = match std::mem::replace(&mut self.dedupe, Dedupe::Undecided) {
            Dedupe::Hash(hash) => Output::Sorting(hash.finish(&schema, &keep)?),
            Dedupe::Sort(mut sort) => {
                sort.compact(&schema, &self.key, self.order_by.as_deref())?;
                Output::Slices(sort.state.take().expect("compacted").project(&keep)?, 0)
            }
            Dedupe::Undecided => {
                Output::Slices(RecordBatch::new_empty(schema.clone()).project(&keep)?, 0)
            }
        };
        let rows_out = match &output {
            Output::Sorting(sorting) => sorting.sorted.len(),
            Output::Slices(result, _) => result.num_rows(),
        };
        strata_sdk::log::info(format!(
            "{} row(s) in, {} without a key dropped, {} row(s) out",
            self.rows_in, self.rows_without_key, rows_out
        ));
        if rows_out == 0 {
            let keep_schema = Arc::new(schema.project(&keep)?);
            return Ok(vec![RecordBatch::new_empty(keep_schema)]);
        }
        self.output = Some(output);
        Ok(Vec::new())
    }

    fn drain(&mut self) -> Result<Option<RecordBatch>, Error> {
        let Some(output) = &mut self.output else {
            return Ok(None);
        };
        let batch = output.next_batch()?;
        if batch.is_none() {
            self.output = None;
        }
        Ok(batch)
    }
}

fn column_types(schema: &Schema) -> String {
    let cols: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.name(), f.data_type()))
        .collect();
    cols.join(", ")
}

strata_sdk::export_transform!(CleanDedupe);

#[cfg(test)]
mod tests;
