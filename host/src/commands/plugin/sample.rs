//! The sample data `host plugin test` feeds a plugin: JSON lines, JSON,
//! CSV or Parquet files as one batch each, or raw files as the raw layer
//! presents them.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use arrow::array::{ArrayRef, AsArray, BinaryArray, RecordBatch, StringArray, new_null_array};
use arrow::csv::reader::{Format, ReaderBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use strata_runtime::{jsonl, schema};

/// The raw layer's table of a file or every file of a folder.
pub(super) fn read_raw(path: &Path) -> Result<RecordBatch> {
    let mut files = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            let p = entry?.path();
            if p.is_file() {
                files.push(p);
            }
        }
        files.sort();
    } else {
        files.push(path.to_owned());
    }
    let mut names = Vec::new();
    let mut bodies = Vec::new();
    for f in &files {
        names.push(
            f.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        bodies.push(std::fs::read(f).with_context(|| format!("reading {}", f.display()))?);
    }
    Ok(RecordBatch::try_new(
        schema::raw_schema(),
        vec![
            Arc::new(arrow::array::StringArray::from(names)),
            Arc::new(arrow::array::BinaryArray::from_iter_values(bodies)),
        ],
    )?)
}

/// A sample file as one batch.
pub(super) fn read_sample(path: &Path, declared: Option<SchemaRef>) -> Result<RecordBatch> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let batches = match ext.as_str() {
        "parquet" => {
            let batches = strata_store::parquet_io::read(bytes.into())?
                .collect::<Result<Vec<_>>>()
                .with_context(|| format!("reading {}", path.display()))?;
            let Some(first) = batches.first() else {
                bail!("{} has no rows", path.display());
            };
            let schema = first.schema();
            return Ok(arrow::compute::concat_batches(&schema, &batches)?);
        }
        "csv" => {
            if let Err(e) = std::str::from_utf8(&bytes) {
                bail!("{} is not UTF-8 ({e})", path.display());
            }
            read_csv(&bytes, declared).with_context(|| format!("reading {}", path.display()))?
        }
        "json" | "jsonl" | "ndjson" => {
            let text = String::from_utf8(bytes)
                .with_context(|| format!("{} is not UTF-8", path.display()))?;
            let values: Vec<serde_json::Value> = if text.trim_start().starts_with('[') {
                serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a JSON array", path.display()))?
            } else {
                text.lines()
                    .enumerate()
                    .filter(|(_, l)| !l.trim().is_empty())
                    .map(|(i, l)| {
                        serde_json::from_str(l)
                            .with_context(|| format!("{} line {}", path.display(), i + 1))
                    })
                    .collect::<Result<_>>()?
            };
            json_rows(&values, declared)?
        }
        _ => bail!(
            "{}: the sample must be .jsonl, .ndjson, .json, .csv or .parquet (or use --raw)",
            path.display()
        ),
    };
    Ok(batches)
}

/// Rows of JSON objects as one batch, typed by `declared` or by their
/// values (integers int64, other numbers float64, strings utf8, bools bool).
fn json_rows(values: &[serde_json::Value], declared: Option<SchemaRef>) -> Result<RecordBatch> {
    if let Some(v) = values.iter().find(|v| !v.is_object()) {
        bail!("every sample row must be a JSON object, not {v}");
    }
    let schema = match declared {
        Some(s) => s,
        None => {
            let inferred =
                arrow::json::reader::infer_json_schema_from_iterator(values.iter().map(Ok))?;
            let fields: Vec<Field> = inferred
                .fields()
                .iter()
                .map(|f| match f.data_type() {
                    DataType::Null => Field::new(f.name(), DataType::Utf8, true),
                    _ => f.as_ref().clone().with_nullable(true),
                })
                .collect();
            Arc::new(Schema::new(fields))
        }
    };
    let mut text = Vec::new();
    for v in values {
        serde_json::to_writer(&mut text, v)?;
        text.push(b'\n');
    }
    let batches = jsonl::decode(&text, schema.clone()).map_err(|e| anyhow::anyhow!(e))?;
    Ok(arrow::compute::concat_batches(&schema, &batches)?)
}

/// A CSV text (header row first) as one batch. Empty fields are null.
/// Without `declared`, each column's type is inferred from its values:
/// integers int64, other numbers float64, `true`/`false` bool, anything
/// else (dates and times included) utf8. With it, every CSV column must be
/// one of its columns, parsed as its type; a declared column the CSV lacks
/// is null.
fn read_csv(bytes: &[u8], declared: Option<SchemaRef>) -> Result<RecordBatch> {
    let format = Format::default().with_header(true);
    let (found, _) = format.infer_schema(Cursor::new(bytes), None)?;
    if found.fields().is_empty() {
        bail!("no header row");
    }
    let names: Vec<&str> = found.fields().iter().map(|f| f.name().trim()).collect();
    let fields: Vec<Field> = match &declared {
        None => found
            .fields()
            .iter()
            .zip(&names)
            .map(|(f, name)| {
                let kind = match f.data_type() {
                    t @ (DataType::Int64 | DataType::Float64 | DataType::Boolean) => t.clone(),
                    _ => DataType::Utf8,
                };
                Field::new(*name, kind, true)
            })
            .collect(),
        Some(declared) => names
            .iter()
            .map(|name| {
                let field = declared
                    .field_with_name(name)
                    .map_err(|_| anyhow::anyhow!("column `{name}` is not in --schema"))?;
                // Binary is read as text and decoded from hex, as in JSON lines.
                Ok(match field.data_type() {
                    DataType::Binary => Field::new(*name, DataType::Utf8, true),
                    t => Field::new(*name, t.clone(), true),
                })
            })
            .collect::<Result<_>>()?,
    };
    let file_schema = Arc::new(Schema::new(fields));
    let batches = ReaderBuilder::new(file_schema.clone())
        .with_format(format)
        .build(Cursor::new(bytes))?
        .collect::<Result<Vec<_>, _>>()?;
    let read = arrow::compute::concat_batches(&file_schema, &batches)?;
    let Some(declared) = declared else {
        return Ok(read);
    };
    let columns = declared
        .fields()
        .iter()
        .map(|field| {
            let Some(index) = names.iter().position(|n| n == field.name()) else {
                if !field.is_nullable() {
                    bail!(
                        "the CSV has no column `{}`, which --schema declares not nullable",
                        field.name()
                    );
                }
                return Ok(new_null_array(field.data_type(), read.num_rows()));
            };
            let column = read.column(index);
            let column = match field.data_type() {
                DataType::Binary => hex_column(field.name(), column.as_string::<i32>())?,
                _ => column.clone(),
            };
            if !field.is_nullable() && column.null_count() > 0 {
                bail!(
                    "column `{}` is declared not nullable but has an empty field",
                    field.name()
                );
            }
            Ok(column)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(declared, columns)?)
}

/// Hex text as bytes, row by row.
fn hex_column(name: &str, text: &StringArray) -> Result<ArrayRef> {
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let values = text
        .iter()
        .enumerate()
        .map(|(row, value)| {
            let Some(value) = value else {
                return Ok(None);
            };
            let hex = value.as_bytes();
            let bytes = (hex.len() % 2 == 0)
                .then(|| {
                    hex.chunks(2)
                        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
                        .collect::<Option<Vec<u8>>>()
                })
                .flatten();
            match bytes {
                Some(bytes) => Ok(Some(bytes)),
                None => bail!("column `{name}` row {}: `{value}` is not hex", row + 1),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(BinaryArray::from_iter(values)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::TimeUnit;

    /// The rows as JSON objects, every column present (as the plugins'
    /// JSON lines have them).
    fn rows(batch: &RecordBatch) -> serde_json::Value {
        let text = jsonl::encode(batch).unwrap();
        text.split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| serde_json::from_slice::<serde_json::Value>(line).unwrap())
            .collect()
    }

    #[test]
    fn csv_is_parsed_and_typed() {
        let batch = read_csv(
            b"id,n,x,ok,name\r\na,1,1.5,true,\"b, \"\"c\"\"\"\nb,,2,false,\n",
            None,
        )
        .unwrap();
        let types: Vec<(&str, &DataType, bool)> = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| (f.name().as_str(), f.data_type(), f.is_nullable()))
            .collect();
        assert_eq!(
            types,
            [
                ("id", &DataType::Utf8, true),
                ("n", &DataType::Int64, true),
                ("x", &DataType::Float64, true),
                ("ok", &DataType::Boolean, true),
                ("name", &DataType::Utf8, true),
            ]
        );
        assert_eq!(
            rows(&batch),
            serde_json::json!([
                {"id": "a", "n": 1, "x": 1.5, "ok": true, "name": "b, \"c\""},
                {"id": "b", "n": null, "x": 2.0, "ok": false, "name": null},
            ])
        );
        let short = read_csv(b"a,b\n1,2\n3\n", None).unwrap_err();
        assert!(
            format!("{short:#}").contains("Expected 2 records, found 1 records at line 3"),
            "{short:#}"
        );
    }

    #[test]
    fn csv_dates_stay_text_unless_declared() {
        let text = b"at,blob\n2025-02-06T18:36:46Z,00ff\n";
        let inferred = read_csv(text, None).unwrap();
        assert_eq!(inferred.schema().field(0).data_type(), &DataType::Utf8);
        let declared = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, true),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
            Field::new("blob", DataType::Binary, true),
        ]));
        let batch = read_csv(text, Some(declared.clone())).unwrap();
        assert_eq!(batch.schema(), declared);
        assert_eq!(
            rows(&batch),
            serde_json::json!([{"id": null, "at": "2025-02-06T18:36:46.000000Z", "blob": "00ff"}])
        );
        let undeclared =
            read_csv(b"at,other\n2025-02-06T18:36:46Z,1\n", Some(declared)).unwrap_err();
        assert_eq!(
            format!("{undeclared:#}"),
            "column `other` is not in --schema"
        );
    }
}
