//! Per-file column statistics for `add` actions, read from the Parquet
//! footer (never from the data): row count, null counts, and the minimum
//! and maximum of the columns whose statistics readers can trust.
//!
//! Minimum and maximum are written only where they are exact and ordered
//! the way a Delta reader compares: signed integers, finite floats,
//! strings the writer did not truncate, dates, and timestamps rounded
//! outwards to the millisecond the log records them in. Unsigned integers
//! and decimals get null counts only, so a reader never skips a file it
//! should have read.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::file::metadata::{FooterTail, ParquetMetaData, ParquetMetaDataReader};
use parquet::file::statistics::Statistics;
use serde_json::{Map, Value, json};
use strata_core::manifest::Column;

/// What a footer read fetches at first: most footers fit, so most files
/// cost one ranged GET.
const FOOTER_GUESS: u64 = 64 * 1024;

/// The `stats` JSON string of one data file of `size` bytes.
pub(crate) async fn file_stats(
    store: &dyn ObjectStore,
    path: &Path,
    size: u64,
    columns: &[Column],
) -> Result<String> {
    let metadata = read_footer(store, path, size).await?;
    Ok(stats_json(&metadata, columns))
}

async fn read_footer(store: &dyn ObjectStore, path: &Path, size: u64) -> Result<ParquetMetaData> {
    if size < 12 {
        bail!("{path} has {size} bytes: not a Parquet file");
    }
    let first = size.min(FOOTER_GUESS);
    let tail = store
        .get_range(path, size - first..size)
        .await
        .with_context(|| format!("reading the Parquet footer of {path}"))?;
    let end: [u8; 8] = tail[tail.len() - 8..].try_into().expect("8 bytes");
    let length = FooterTail::try_new(&end)
        .with_context(|| format!("reading the Parquet footer of {path}"))?
        .metadata_length() as u64;
    if length + 8 > size {
        bail!("{path}: the Parquet footer claims {length} bytes of a {size}-byte file");
    }
    let footer = if length + 8 <= first {
        tail.slice((first - 8 - length) as usize..(first - 8) as usize)
    } else {
        store
            .get_range(path, size - 8 - length..size - 8)
            .await
            .with_context(|| format!("reading the Parquet footer of {path}"))?
    };
    ParquetMetaDataReader::decode_metadata(&footer)
        .with_context(|| format!("decoding the Parquet footer of {path}"))
}

/// `{"numRecords": …, "minValues": {…}, "maxValues": {…}, "nullCount": {…}}`.
pub(crate) fn stats_json(metadata: &ParquetMetaData, columns: &[Column]) -> String {
    let rows = metadata.file_metadata().num_rows();
    let (mut mins, mut maxes, mut nulls) = (Map::new(), Map::new(), Map::new());
    let schema = metadata.file_metadata().schema_descr();
    for (i, descr) in schema.columns().iter().enumerate() {
        // Only top-level columns: the contract has no nested types.
        if descr.path().parts().len() != 1 {
            continue;
        }
        let name = descr.name();
        let Some(column) = columns.iter().find(|c| c.name == name) else {
            continue;
        };
        let stats: Vec<Option<&Statistics>> = metadata
            .row_groups()
            .iter()
            .map(|rg| rg.column(i).statistics())
            .collect();
        let null_count: Option<u64> = stats
            .iter()
            .map(|s| s.and_then(|s| s.null_count_opt()))
            .sum();
        if let Some(n) = null_count {
            nulls.insert(name.to_owned(), json!(n));
        }
        if let Some((min, max)) = min_max(&stats, &column.data_type) {
            mins.insert(name.to_owned(), min);
            maxes.insert(name.to_owned(), max);
        }
    }
    let mut out = Map::new();
    out.insert("numRecords".into(), json!(rows));
    out.insert("minValues".into(), Value::Object(mins));
    out.insert("maxValues".into(), Value::Object(maxes));
    out.insert("nullCount".into(), Value::Object(nulls));
    Value::Object(out).to_string()
}

/// A value ordered as the reader orders it, with how to write it.
#[derive(Clone, PartialEq, PartialOrd)]
enum Bound {
    Int(i64),
    Float(f64),
    Text(String),
}

/// The minimum and maximum over every row group, as JSON; `None` if any
/// row group has no usable statistics for the column (all nulls included).
fn min_max(stats: &[Option<&Statistics>], contract_type: &str) -> Option<(Value, Value)> {
    let mut lo: Option<Bound> = None;
    let mut hi: Option<Bound> = None;
    for s in stats {
        let (min, max) = bounds(s.as_ref()?, contract_type)?;
        if lo.as_ref().is_none_or(|l| min < *l) {
            lo = Some(min);
        }
        if hi.as_ref().is_none_or(|h| max > *h) {
            hi = Some(max);
        }
    }
    let (lo, hi) = (lo?, hi?);
    Some((
        render(lo, contract_type, false)?,
        render(hi, contract_type, true)?,
    ))
}

fn bounds(stats: &Statistics, contract_type: &str) -> Option<(Bound, Bound)> {
    match (stats, contract_type) {
        (Statistics::Int32(s), "int8" | "int16" | "int32" | "date32") => Some((
            Bound::Int(i64::from(*s.min_opt()?)),
            Bound::Int(i64::from(*s.max_opt()?)),
        )),
        (Statistics::Int64(s), "int64" | "timestamp-us" | "timestamp-us-utc") => {
            Some((Bound::Int(*s.min_opt()?), Bound::Int(*s.max_opt()?)))
        }
        (Statistics::Float(s), "float32") => {
            finite(f64::from(*s.min_opt()?), f64::from(*s.max_opt()?))
        }
        (Statistics::Double(s), "float64") => finite(*s.min_opt()?, *s.max_opt()?),
        (Statistics::ByteArray(s), "utf8") if s.min_is_exact() && s.max_is_exact() => Some((
            Bound::Text(s.min_opt()?.as_utf8().ok()?.to_owned()),
            Bound::Text(s.max_opt()?.as_utf8().ok()?.to_owned()),
        )),
        _ => None,
    }
}

fn finite(min: f64, max: f64) -> Option<(Bound, Bound)> {
    (min.is_finite() && max.is_finite()).then_some((Bound::Float(min), Bound::Float(max)))
}

/// A bound as the log writes it. Timestamps are microseconds in the file
/// and milliseconds in the log: a minimum rounds down, a maximum up.
fn render(bound: Bound, contract_type: &str, upper: bool) -> Option<Value> {
    Some(match (bound, contract_type) {
        (Bound::Int(days), "date32") => {
            let date = NaiveDate::from_num_days_from_ce_opt(
                i32::try_from(days).ok()?.checked_add(719_163)?,
            )?;
            json!(date.format("%Y-%m-%d").to_string())
        }
        (Bound::Int(micros), "timestamp-us" | "timestamp-us-utc") => {
            let millis = if upper {
                micros.div_euclid(1000) + i64::from(micros.rem_euclid(1000) != 0)
            } else {
                micros.div_euclid(1000)
            };
            let t = DateTime::from_timestamp_millis(millis)?;
            let zone = if contract_type == "timestamp-us-utc" {
                "Z"
            } else {
                ""
            };
            json!(format!("{}{zone}", t.format("%Y-%m-%dT%H:%M:%S%.3f")))
        }
        (Bound::Int(n), _) => json!(n),
        (Bound::Float(x), _) => json!(x),
        (Bound::Text(s), _) => json!(s),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Date32Array, Int64Array, StringArray, TimestampMicrosecondArray};
    use arrow::record_batch::RecordBatch;

    use super::*;
    use crate::parquet_io::ParquetSink;

    #[test]
    fn stats_come_from_the_footer() {
        let batch = RecordBatch::try_from_iter([
            (
                "id",
                Arc::new(StringArray::from(vec![Some("b"), None, Some("a")])) as ArrayRef,
            ),
            ("n", Arc::new(Int64Array::from(vec![3, -1, 7])) as ArrayRef),
            (
                "d",
                Arc::new(Date32Array::from(vec![20_137, 20_138, 20_139])) as ArrayRef,
            ),
            (
                "t",
                Arc::new(
                    TimestampMicrosecondArray::from(vec![1_500, 2_000, 2_001]).with_timezone("UTC"),
                ) as ArrayRef,
            ),
        ])
        .unwrap();
        let mut sink = ParquetSink::new(batch.schema()).unwrap();
        sink.write(&batch).unwrap();
        let (bytes, _) = sink.finish().unwrap();
        let bytes = bytes::Bytes::from(bytes);
        let metadata = ParquetMetaDataReader::new()
            .parse_and_finish(&bytes)
            .unwrap();
        let columns = [
            ("id", "utf8"),
            ("n", "int64"),
            ("d", "date32"),
            ("t", "timestamp-us-utc"),
        ]
        .map(|(name, t)| Column {
            name: name.into(),
            data_type: t.into(),
            nullable: true,
        });
        let stats: Value = serde_json::from_str(&stats_json(&metadata, &columns)).unwrap();
        assert_eq!(
            stats,
            json!({
                "numRecords": 3,
                "minValues": {"id": "a", "n": -1, "d": "2025-02-18", "t": "1970-01-01T00:00:00.001Z"},
                "maxValues": {"id": "b", "n": 7, "d": "2025-02-20", "t": "1970-01-01T00:00:00.003Z"},
                "nullCount": {"id": 1, "n": 0, "d": 0, "t": 0},
            })
        );
    }
}
