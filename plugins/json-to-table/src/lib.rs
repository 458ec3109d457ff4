//! Bronze: parses raw JSON files into typed columns.
//!
//! Input 0 is a raw table, one row per file: `file: utf8`, `body: binary`.
//! Each body is one JSON document: an array of records, or an object whose
//! records are in the field named by param `records_field` (default
//! `records`; a JSON pointer such as `/data/items` reaches deeper). A missing
//! or `null` records field means no rows.
//!
//! Param `columns` lists the output columns, in order:
//! `[{"name": "amount", "type": "decimal128(12,2)", "nullable": false, "from": "/price/amount"}]`.
//! `from` (default: `name`) is a field of the record or a JSON pointer into it;
//! `nullable` defaults to true.
//!
//! Each body is read in one pass, records straight into the columns, without
//! building a tree of the document (`stream`). A body that pass gives up on
//! (any error, and a few rare shapes) is parsed again into a
//! `serde_json::Value`, which decides: the same rows, or the error naming the
//! file, the record and the column.
//!
//! Its plan reads the raw table's `file` and `body` only, in order.

mod convert;
mod stream;

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use strata_sdk::arrow::array::{Array, AsArray, RecordBatch};
use strata_sdk::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use strata_sdk::{Context, Error, Info, Transform};

use convert::{Kind, Values};

const LEGACY_OFFSETS: bool = cfg!(feature = "legacy-offsets");

/// The params, as `pipeline.toml` gives them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Required; missing is the error `open` names.
    columns: Option<Vec<ColumnSpec>>,
    #[serde(default = "records")]
    records_field: String,
}

fn records() -> String {
    "records".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnSpec {
    name: String,
    #[serde(rename = "type")]
    data_type: String,
    #[serde(default = "yes")]
    nullable: bool,
    from: Option<String>,
}

fn yes() -> bool {
    true
}

struct Column {
    name: String,
    kind: Kind,
    nullable: bool,
    /// A field name, or a JSON pointer if it starts with `/`.
    from: String,
}

pub struct JsonToTable {
    columns: Vec<Column>,
    records_field: String,
    /// Where the streaming parse finds records and columns.
    plan: stream::Plan,
    schema: SchemaRef,
    emitted: bool,
    files: usize,
    rows: usize,
}

impl JsonToTable {
    /// Parses every file of one raw batch into one output batch.
    fn parse_batch(&self, batch: &RecordBatch) -> Result<RecordBatch, Error> {
        let file_col = batch
            .column_by_name("file")
            .ok_or_else(|| Error::BadInput("the raw input has no column `file`".to_string()))?;
        let files = file_col.as_string_opt::<i32>().ok_or_else(|| {
            Error::BadInput(format!(
                "the raw input column `file` is {}, expected utf8",
                file_col.data_type()
            ))
        })?;
        let body_col = batch
            .column_by_name("body")
            .ok_or_else(|| Error::BadInput("the raw input has no column `body`".to_string()))?;
        let body = |row: usize| -> Option<&[u8]> {
            if body_col.is_null(row) {
                return None;
            }
            match body_col.data_type() {
                DataType::Binary => Some(body_col.as_binary::<i32>().value(row)),
                DataType::LargeBinary => Some(body_col.as_binary::<i64>().value(row)),
                DataType::Utf8 => Some(body_col.as_string::<i32>().value(row).as_bytes()),
                DataType::LargeUtf8 => Some(body_col.as_string::<i64>().value(row).as_bytes()),
                _ => None,
            }
        };
        if !matches!(
            body_col.data_type(),
            DataType::Binary | DataType::LargeBinary | DataType::Utf8 | DataType::LargeUtf8
        ) {
            return Err(Error::BadInput(format!(
                "the raw input column `body` is {}, expected binary",
                body_col.data_type()
            )));
        }

        let mut values: Vec<Values> = self.columns.iter().map(|c| Values::new(c.kind)).collect();
        let mut marks = stream::Marks::new(&self.plan);
        for row in 0..batch.num_rows() {
            let file = || {
                if files.is_null(row) {
                    format!("<row {row}>")
                } else {
                    files.value(row).to_string()
                }
            };
            let Some(bytes) = body(row) else {
                return Err(Error::BadInput(format!("file `{}`: body is null", file())));
            };
            let rows = values[0].len();
            if stream::document(&self.plan, &mut marks, &mut values, LEGACY_OFFSETS, bytes) {
                continue;
            }
            // The streaming parse gave up (bad input, or a case it leaves to
            // the tree): this file again as a tree, which decides.
            for v in &mut values {
                v.truncate(rows);
            }
            self.parse_tree(&file(), bytes, &mut values)?;
        }
        let arrays = values
            .iter_mut()
            .map(Values::take_array)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RecordBatch::try_new(self.schema.clone(), arrays)?)
    }

    /// Parses one file's document into a `Value` tree and appends its
    /// records: the reference behaviour the streaming parse keeps, and what
    /// decides whenever the stream gives up (every error comes from here).
    fn parse_tree(&self, file: &str, bytes: &[u8], values: &mut [Values]) -> Result<(), Error> {
        let doc: Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::BadInput(format!("file `{file}`: body is not valid JSON: {e}")))?;
        for (index, record) in self.records(file, &doc)?.iter().enumerate() {
            self.parse_record(file, index, record, values)?;
        }
        Ok(())
    }

    /// The records of one document.
    fn records<'a>(&self, file: &str, doc: &'a Value) -> Result<&'a [Value], Error> {
        let found = match doc {
            Value::Array(records) => return Ok(records),
            Value::Object(_) if self.records_field.starts_with('/') => {
                doc.pointer(&self.records_field)
            }
            Value::Object(object) => object.get(&self.records_field),
            other => {
                return Err(Error::BadInput(format!(
                    "file `{file}`: the document is {}, expected an array of records or an object",
                    kind_of(other)
                )));
            }
        };
        match found {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(records)) => Ok(records),
            Some(other) => Err(Error::BadInput(format!(
                "file `{file}`: records field `{}` is {}, expected an array",
                self.records_field,
                kind_of(other)
            ))),
        }
    }

    fn parse_record(
        &self,
        file: &str,
        index: usize,
        record: &Value,
        values: &mut [Values],
    ) -> Result<(), Error> {
        let Value::Object(fields) = record else {
            return Err(Error::BadInput(format!(
                "file `{file}`, record {index}: is {}, expected an object",
                kind_of(record)
            )));
        };
        for (column, values) in self.columns.iter().zip(values.iter_mut()) {
            let value = if column.from.starts_with('/') {
                record.pointer(&column.from)
            } else {
                fields.get(&column.from)
            };
            let where_ = || {
                let id = id_of(fields)
                    .map(|id| format!(" ({id})"))
                    .unwrap_or_default();
                format!(
                    "file `{file}`, record {index}{id}: column `{}` ({})",
                    column.name,
                    strata_sdk::types::data_type_name(&column.kind.data_type()).unwrap_or_default()
                )
            };
            match value {
                None | Some(Value::Null) if column.nullable => values.push_null(),
                None | Some(Value::Null) => {
                    let missing = if value.is_none() { "missing" } else { "null" };
                    return Err(Error::BadInput(format!(
                        "{}: value is {missing} but the column is not nullable",
                        where_()
                    )));
                }
                Some(value) => values.push(value, LEGACY_OFFSETS).map_err(|why| {
                    Error::BadInput(format!(
                        "{}: cannot convert {}: {why}",
                        where_(),
                        shorten(&value.to_string())
                    ))
                })?,
            }
        }
        Ok(())
    }
}

/// Names the record in an error by its id-like field, if it has one.
fn id_of(fields: &serde_json::Map<String, Value>) -> Option<String> {
    let is_scalar = |v: &&Value| matches!(v, Value::String(_) | Value::Number(_));
    let (key, value) = ["id", "_id", "uuid", "key"]
        .iter()
        .find_map(|k| fields.get_key_value(*k).filter(|(_, v)| is_scalar(v)))
        .or_else(|| {
            fields.iter().find(|(k, v)| {
                (k.ends_with("_id") || k.ends_with("Id") || k.ends_with("_key")) && is_scalar(v)
            })
        })?;
    Some(format!("{key}={}", shorten(&value.to_string())))
}

fn shorten(text: &str) -> String {
    const MAX: usize = 120;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Transform for JsonToTable {
    fn info() -> Info {
        Info::new(
            "json-to-table",
            if LEGACY_OFFSETS {
                "0.9.0"
            } else {
                env!("CARGO_PKG_VERSION")
            },
            "Parses raw JSON files (one document per file) into typed columns",
        )
    }

    fn open(ctx: &Context) -> Result<Self, Error> {
        let Params {
            columns: specs,
            records_field,
        } = ctx.params()?;
        let specs = specs.ok_or_else(|| {
            Error::BadParams(
                "missing required param `columns` (a list of {name, type, nullable, from})"
                    .to_string(),
            )
        })?;
        if ctx.inputs.len() != 1 {
            return Err(Error::BadParams(format!(
                "json-to-table reads exactly one input (the raw dataset), got {}",
                ctx.inputs.len()
            )));
        }
        if specs.is_empty() {
            return Err(Error::BadParams("param `columns` is empty".to_string()));
        }
        let mut columns = Vec::new();
        for spec in specs {
            let kind = Kind::parse(&spec.data_type).ok_or_else(|| {
                Error::BadParams(format!(
                    "column `{}`: type `{}` is not one of {}",
                    spec.name,
                    spec.data_type,
                    Kind::NAMES
                ))
            })?;
            if columns.iter().any(|c: &Column| c.name == spec.name) {
                return Err(Error::BadParams(format!(
                    "column `{}` is listed twice",
                    spec.name
                )));
            }
            if let Some(from) = &spec.from
                && from.is_empty()
            {
                return Err(Error::BadParams(format!(
                    "column `{}`: `from` is empty",
                    spec.name
                )));
            }
            columns.push(Column {
                from: spec.from.unwrap_or_else(|| spec.name.clone()),
                name: spec.name,
                kind,
                nullable: spec.nullable,
            });
        }
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|c| Field::new(&c.name, c.kind.data_type(), c.nullable))
                .collect::<Vec<_>>(),
        ));
        let plan = stream::Plan::new(
            &records_field,
            columns.iter().map(|c| (c.from.as_str(), c.nullable)),
        );
        Ok(JsonToTable {
            columns,
            records_field,
            plan,
            schema,
            emitted: false,
            files: 0,
            rows: 0,
        })
    }

    /// The raw table's `file` (named in errors) and `body`, in order: the
    /// output is the files' rows one after the other.
    fn plan(&self, _ctx: &Context) -> strata_sdk::Plan {
        strata_sdk::Plan::new().columns(0, ["file", "body"])
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        let out = self.parse_batch(&batch)?;
        self.files += batch.num_rows();
        self.rows += out.num_rows();
        if out.num_rows() == 0 {
            return Ok(Vec::new());
        }
        self.emitted = true;
        Ok(vec![out])
    }

    /// An empty batch if there was no row at all, so the output has a schema.
    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        strata_sdk::log::info(format!(
            "parsed {} file(s) into {} row(s)",
            self.files, self.rows
        ));
        if self.emitted {
            return Ok(Vec::new());
        }
        Ok(vec![RecordBatch::new_empty(self.schema.clone())])
    }
}

strata_sdk::export_transform!(JsonToTable);

#[cfg(test)]
mod tests;
