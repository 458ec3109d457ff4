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

use std::borrow::Cow;
use std::sync::Arc;

use strata_sdk::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, GenericStringArray, OffsetSizeTrait, RecordBatch,
    UInt32Array,
};
use strata_sdk::arrow::compute::{
    SortColumn, SortOptions, concat_batches, filter_record_batch, lexsort_to_indices, partition,
    take, take_record_batch,
};
use strata_sdk::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use strata_sdk::{Context, Error, Info, Transform};

/// Rows per output batch.
const OUTPUT_BATCH_ROWS: usize = 1 << 16;
/// Pending rows are folded into the deduplicated state once there are at
/// least this many, or as many as the state has rows.
const COMPACT_ROWS: usize = 1 << 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clean {
    Trim,
    Lowercase,
    Uppercase,
}

pub struct CleanDedupe {
    key: Vec<String>,
    order_by: Option<String>,
    /// Per column, the cleanings in the order they apply.
    clean: Vec<(String, Vec<Clean>)>,
    drop_columns: Vec<String>,
    /// The input schema: from the host at `open`, then from the first batch.
    schema: Option<SchemaRef>,
    seen_batch: bool,
    /// One row per key so far, sorted by key.
    state: Option<RecordBatch>,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    rows_in: usize,
    rows_without_key: usize,
}

impl CleanDedupe {
    /// Checks that the params fit a schema.
    fn validate(&self, schema: &Schema) -> Result<(), Error> {
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
        for d in &self.drop_columns {
            find("drop_columns", d)?;
        }
        Ok(())
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

    /// Cleans string columns and drops rows with a null key.
    fn clean(&self, batch: RecordBatch) -> Result<RecordBatch, Error> {
        let schema = batch.schema();
        let mut columns = batch.columns().to_vec();
        for (name, cleans) in &self.clean {
            let i = schema.index_of(name)?;
            columns[i] = clean_strings(&columns[i], cleans)?;
        }
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        let keys = self
            .key
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

    /// One row per key of `batch`, sorted by key: the row with the greatest
    /// `order_by`, the later row on ties.
    fn dedupe(&self, batch: &RecordBatch) -> Result<RecordBatch, Error> {
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
        let mut sort: Vec<SortColumn> = self
            .key
            .iter()
            .map(|k| {
                Ok(SortColumn {
                    values: column(k)?,
                    options: ascending,
                })
            })
            .collect::<Result<_, Error>>()?;
        if let Some(o) = &self.order_by {
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
        let sorted_keys = sort[..self.key.len()]
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
    fn compact(&mut self) -> Result<(), Error> {
        let Some(schema) = self.schema.clone() else {
            return Ok(());
        };
        let batches: Vec<RecordBatch> = self
            .state
            .take()
            .into_iter()
            .chain(std::mem::take(&mut self.pending))
            .collect();
        self.pending_rows = 0;
        let all = concat_batches(&schema, &batches)?;
        drop(batches);
        self.state = Some(self.dedupe(&all)?);
        Ok(())
    }
}

fn column_names(schema: &Schema) -> String {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    names.join(", ")
}

fn clean_strings(array: &ArrayRef, cleans: &[Clean]) -> Result<ArrayRef, Error> {
    fn apply<O: OffsetSizeTrait>(array: &ArrayRef, cleans: &[Clean]) -> ArrayRef {
        let strings = array.as_string::<O>();
        let cleaned: GenericStringArray<O> = strings
            .iter()
            .map(|value| {
                value.map(|s| {
                    let mut s = Cow::Borrowed(s);
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
                })
            })
            .collect();
        Arc::new(cleaned)
    }
    match array.data_type() {
        DataType::Utf8 => Ok(apply::<i32>(array, cleans)),
        DataType::LargeUtf8 => Ok(apply::<i64>(array, cleans)),
        other => Err(Error::BadInput(format!(
            "cannot trim or change the case of a {other} column"
        ))),
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
        let p = &ctx.params;
        p.check_known(&[
            "key",
            "order_by",
            "trim",
            "lowercase",
            "uppercase",
            "drop_columns",
        ])?;
        let key = p.list("key")?;
        if key.is_empty() {
            return Err(Error::BadParams(
                "missing required param `key` (the key columns)".to_string(),
            ));
        }
        let order_by = p.get("order_by").map(str::trim).filter(|s| !s.is_empty());
        let mut clean: Vec<(String, Vec<Clean>)> = Vec::new();
        for (param, what) in [
            ("trim", Clean::Trim),
            ("lowercase", Clean::Lowercase),
            ("uppercase", Clean::Uppercase),
        ] {
            for column in p.list(param)? {
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
            drop_columns: p.list("drop_columns")?,
            schema: None,
            seen_batch: false,
            state: None,
            pending: Vec::new(),
            pending_rows: 0,
            rows_in: 0,
            rows_without_key: 0,
        };
        if let Some(input) = ctx.inputs.first()
            && !input.schema.fields().is_empty()
        {
            this.validate(&input.schema)?;
            this.schema = Some(input.schema.clone());
        }
        Ok(this)
    }

    fn process(&mut self, _input: usize, batch: RecordBatch) -> Result<Vec<RecordBatch>, Error> {
        let batch = if !self.seen_batch {
            self.validate(&batch.schema())?;
            self.schema = Some(batch.schema());
            self.seen_batch = true;
            batch
        } else {
            self.conform(batch)?
        };
        let rows = batch.num_rows();
        let batch = self.clean(batch)?;
        self.rows_in += rows;
        self.rows_without_key += rows - batch.num_rows();
        self.pending_rows += batch.num_rows();
        self.pending.push(batch);
        let state_rows = self.state.as_ref().map_or(0, RecordBatch::num_rows);
        if self.pending_rows >= COMPACT_ROWS.max(state_rows) {
            self.compact()?;
        }
        Ok(Vec::new())
    }

    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        self.compact()?;
        let Some(schema) = self.schema.clone() else {
            return Err(Error::Failed(
                "no input batch and no input schema: cannot tell the output schema".to_string(),
            ));
        };
        let result = self
            .state
            .take()
            .unwrap_or_else(|| RecordBatch::new_empty(schema.clone()));
        let keep: Vec<usize> = (0..schema.fields().len())
            .filter(|&i| !self.drop_columns.contains(schema.field(i).name()))
            .collect();
        let result = result.project(&keep)?;
        strata_sdk::log::info(format!(
            "{} row(s) in, {} without a key dropped, {} row(s) out",
            self.rows_in,
            self.rows_without_key,
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
