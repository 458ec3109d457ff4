//! JSON lines: the data format for plugins written in languages without an
//! Arrow library in WebAssembly. The host converts Arrow batches to JSON
//! lines for the plugin and the plugin's lines back, by its declared schema.
//!
//! One object per row, every column present (`null` for a null). Values are
//! written so that every language reads them exactly:
//!
//! | column type | JSON value |
//! | --- | --- |
//! | bool | `true` / `false` |
//! | int8 … uint64, float32, float64 | a number |
//! | utf8 | a string |
//! | binary | a string of lowercase hex digits |
//! | date32 | `"2025-02-18"` |
//! | timestamp-us | `"2025-02-18T10:00:00.000000"` |
//! | timestamp-us-utc | `"2025-02-18T10:00:00.000000Z"` |
//! | decimal128(P,S) | a string with exactly S decimals: `"10.50"` |
//!
//! Timestamps always have six fractional digits, so their strings sort in
//! time order. Decimals are strings because JSON numbers become floats in
//! most languages. Reading back is looser: a decimal, an integer or a float
//! may be a number or a string, a timestamp any RFC 3339 text (with an
//! offset, or taken as UTC without one), a binary value hex text.

use std::sync::Arc;

use arrow::array::{ArrayRef, make_array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::json::reader::ReaderBuilder;
use arrow::json::writer::{LineDelimited, WriterBuilder};
use arrow::record_batch::RecordBatch;

/// Rows per batch decoded from a plugin's lines.
const DECODE_BATCH_ROWS: usize = 1 << 16;

/// One batch as JSON lines, one object per row.
pub fn encode(batch: &RecordBatch) -> Result<Vec<u8>, String> {
    let batch = prepare(batch)?;
    let mut out = Vec::with_capacity(batch.get_array_memory_size() * 2 + 64);
    let mut writer = WriterBuilder::new()
        .with_explicit_nulls(true)
        .with_date_format("%Y-%m-%d".into())
        .with_timestamp_format("%Y-%m-%dT%H:%M:%S%.6f".into())
        .with_timestamp_tz_format("%Y-%m-%dT%H:%M:%S%.6fZ".into())
        .build::<_, LineDelimited>(&mut out);
    writer.write(&batch).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    drop(writer);
    Ok(out)
}

/// Decimals as their exact text; zoned timestamps labelled `+00:00` (their
/// values are UTC already), the zone Arrow can format and parse without a
/// time zone database.
fn prepare(batch: &RecordBatch) -> Result<RecordBatch, String> {
    let converted = |dt: &DataType| match dt {
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => Some(DataType::Utf8),
        DataType::Timestamp(..) => utc_offset(dt),
        _ => None,
    };
    let schema = batch.schema();
    if !schema
        .fields()
        .iter()
        .any(|f| converted(f.data_type()).is_some())
    {
        return Ok(batch.clone());
    }
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        match converted(field.data_type()) {
            Some(to) => {
                let column = if matches!(to, DataType::Timestamp(..)) {
                    relabel(column, &to)
                } else {
                    cast(column.as_ref(), &to)
                }
                .map_err(|e| format!("cannot write column `{}` as JSON: {e}", field.name()))?;
                fields.push(field.as_ref().clone().with_data_type(to));
                columns.push(column);
            }
            None => {
                fields.push(field.as_ref().clone());
                columns.push(column.clone());
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| e.to_string())
}

/// A zoned timestamp type as `+00:00`; `None` for any other type.
fn utc_offset(dt: &DataType) -> Option<DataType> {
    match dt {
        DataType::Timestamp(unit, Some(tz)) if tz.as_ref() != UTC_OFFSET => {
            Some(DataType::Timestamp(*unit, Some(UTC_OFFSET.into())))
        }
        _ => None,
    }
}

const UTC_OFFSET: &str = "+00:00";

/// The same values under another type of the same layout (a time zone label).
fn relabel(column: &ArrayRef, to: &DataType) -> Result<ArrayRef, arrow::error::ArrowError> {
    if column.data_type() == to {
        return Ok(column.clone());
    }
    let data = column
        .to_data()
        .into_builder()
        .data_type(to.clone())
        .build()?;
    Ok(make_array(data))
}

/// `schema` with zoned timestamps as `+00:00`.
fn decodable(schema: &SchemaRef) -> SchemaRef {
    if !schema
        .fields()
        .iter()
        .any(|f| utc_offset(f.data_type()).is_some())
    {
        return schema.clone();
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match utc_offset(f.data_type()) {
            Some(to) => f.as_ref().clone().with_data_type(to),
            None => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// JSON lines read by `schema`. An error names the first line that does not
/// fit (counting from 1 in this chunk of output), the field and why.
pub fn decode(bytes: &[u8], schema: SchemaRef) -> Result<Vec<RecordBatch>, String> {
    let reading = decodable(&schema);
    let read = |bytes: &[u8]| -> Result<Vec<RecordBatch>, String> {
        ReaderBuilder::new(reading.clone())
            .with_strict_mode(true)
            .with_batch_size(DECODE_BATCH_ROWS)
            .build(bytes)
            .and_then(|reader| reader.collect::<Result<Vec<_>, _>>())
            .map_err(|e| e.to_string())
    };
    let whole = match read(bytes) {
        Ok(batches) if Arc::ptr_eq(&reading, &schema) => return Ok(batches),
        Ok(batches) => {
            return batches
                .iter()
                .map(|batch| {
                    let columns = batch
                        .columns()
                        .iter()
                        .zip(schema.fields())
                        .map(|(c, f)| relabel(c, f.data_type()))
                        .collect::<Result<Vec<_>, _>>()?;
                    RecordBatch::try_new(schema.clone(), columns)
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string());
        }
        Err(e) => e,
    };
    for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if let Err(e) = read(line) {
            return Err(format!(
                "JSON line {}: {}",
                index + 1,
                explain(line, &schema).unwrap_or(e)
            ));
        }
    }
    Err(format!("JSON lines: {whole}"))
}

/// Why one line does not fit the schema, as precisely as can be told.
fn explain(line: &[u8], schema: &SchemaRef) -> Option<String> {
    let value: serde_json::Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => return Some(format!("not valid JSON ({e}): {}", snippet(line))),
    };
    let Some(object) = value.as_object() else {
        return Some(format!(
            "not a JSON object (one object per row): {}",
            snippet(line)
        ));
    };
    let names = || {
        schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(key) = object.keys().find(|k| schema.field_with_name(k).is_err()) {
        return Some(format!(
            "field `{key}` is not in the declared output schema (it has: {})",
            names()
        ));
    }
    for field in schema.fields() {
        let value = object.get(field.name()).unwrap_or(&serde_json::Value::Null);
        let type_name = crate::schema::type_name(field.data_type());
        if value.is_null() {
            if !field.is_nullable() {
                return Some(format!(
                    "field `{}` ({type_name}, not nullable) is {}",
                    field.name(),
                    if object.contains_key(field.name()) {
                        "null"
                    } else {
                        "missing"
                    }
                ));
            }
            continue;
        }
        let single = Arc::new(Schema::new(vec![Field::new(
            field.name(),
            utc_offset(field.data_type()).unwrap_or_else(|| field.data_type().clone()),
            true,
        )]));
        let text = serde_json::json!({ field.name(): value }).to_string();
        let fits = ReaderBuilder::new(single)
            .build(text.as_bytes())
            .and_then(|reader| reader.collect::<Result<Vec<_>, _>>());
        if let Err(e) = fits {
            return Some(format!(
                "field `{}` ({type_name}) cannot be {}: {e}",
                field.name(),
                snippet(value.to_string().as_bytes())
            ));
        }
    }
    None
}

fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    match text.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        BinaryArray, Date32Array, Decimal128Array, Int64Array, StringArray,
        TimestampMicrosecondArray,
    };

    fn sample() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            col("id", "utf8", true),
            col("n", "int64", false),
            col("amount", "decimal128(12,2)", false),
            col("at", "timestamp-us-utc", false),
            col("day", "date32", true),
            col("body", "binary", true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("a"), None])),
                Arc::new(Int64Array::from(vec![1, -9_007_199_254_740_993])),
                Arc::new(
                    Decimal128Array::from(vec![1050, -3])
                        .with_precision_and_scale(12, 2)
                        .unwrap(),
                ),
                Arc::new(
                    TimestampMicrosecondArray::from(vec![1_739_872_800_000_000, 1_500_001])
                        .with_timezone("UTC"),
                ),
                Arc::new(Date32Array::from(vec![Some(20_137), None])),
                Arc::new(BinaryArray::from(vec![Some(b"hi".as_slice()), None])),
            ],
        )
        .unwrap()
    }

    fn col(name: &str, t: &str, nullable: bool) -> Field {
        Field::new(name, crate::schema::parse_type(t).unwrap(), nullable)
    }

    #[test]
    fn every_value_is_written_exactly_and_reads_back() {
        let batch = sample();
        let text = String::from_utf8(encode(&batch).unwrap()).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"id":"a","n":1,"amount":"10.50","at":"2025-02-18T10:00:00.000000Z","day":"2025-02-18","body":"6869"}"#,
                "\n",
                r#"{"id":null,"n":-9007199254740993,"amount":"-0.03","at":"1970-01-01T00:00:01.500001Z","day":null,"body":null}"#,
                "\n"
            )
        );
        let back = decode(text.as_bytes(), batch.schema()).unwrap();
        assert_eq!(back, vec![batch]);
    }

    #[test]
    fn a_line_that_does_not_fit_is_named_with_its_field() {
        let schema = sample().schema();
        let good = r#"{"id":"a","n":1,"amount":"1.00","at":"2025-02-18T10:00:00Z","day":null,"body":null}"#;
        let cases = [
            (
                r#"{"id":"a","n":1,"amount":"x","at":"2025-02-18T10:00:00Z"}"#,
                "field `amount` (decimal128(12,2)) cannot be \"x\"",
            ),
            (
                r#"{"id":"a","amount":"1","at":"2025-02-18T10:00:00Z"}"#,
                "field `n` (int64, not nullable) is missing",
            ),
            (
                r#"{"id":"a","n":1,"amount":"1","at":"2025-02-18T10:00:00Z","extra":2}"#,
                "field `extra` is not in the declared output schema",
            ),
            (r#"{"id": "a""#, "not valid JSON"),
            ("[1, 2]", "not a JSON object"),
        ];
        for (bad, want) in cases {
            let text = format!("{good}\n{good}\n{bad}\n{good}\n");
            let err = decode(text.as_bytes(), schema.clone()).unwrap_err();
            assert!(err.starts_with("JSON line 3: "), "{err}");
            assert!(err.contains(want), "{err} does not contain {want}");
        }
    }
}
