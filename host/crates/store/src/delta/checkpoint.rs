//! Checkpoints: the whole state of a table version in one Parquet file,
//! `_delta_log/<version>.checkpoint.parquet`, one action per row, so a
//! reader starts there instead of replaying every commit.
//!
//! The actions go through Arrow's JSON codec both ways: the same serde
//! structs that write commits write checkpoints, under the checkpoint
//! schema of the protocol (struct columns `txn`, `add`, `remove`,
//! `metaData`, `protocol`; maps of strings for partition values).

use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::actions::Action;

fn string_map() -> DataType {
    DataType::Map(
        Arc::new(Field::new(
            "key_value",
            DataType::Struct(Fields::from(vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("value", DataType::Utf8, true),
            ])),
            false,
        )),
        false,
    )
}

fn string_list() -> DataType {
    DataType::List(Arc::new(Field::new("element", DataType::Utf8, true)))
}

fn structure(fields: Vec<Field>) -> DataType {
    DataType::Struct(Fields::from(fields))
}

/// The checkpoint schema (PROTOCOL.md, "Checkpoint Schema").
fn schema() -> SchemaRef {
    let long = || DataType::Int64;
    Arc::new(Schema::new(vec![
        Field::new(
            "txn",
            structure(vec![
                Field::new("appId", DataType::Utf8, true),
                Field::new("version", long(), true),
                Field::new("lastUpdated", long(), true),
            ]),
            true,
        ),
        Field::new(
            "add",
            structure(vec![
                Field::new("path", DataType::Utf8, true),
                Field::new("partitionValues", string_map(), true),
                Field::new("size", long(), true),
                Field::new("modificationTime", long(), true),
                Field::new("dataChange", DataType::Boolean, true),
                Field::new("stats", DataType::Utf8, true),
            ]),
            true,
        ),
        Field::new(
            "remove",
            structure(vec![
                Field::new("path", DataType::Utf8, true),
                Field::new("deletionTimestamp", long(), true),
                Field::new("dataChange", DataType::Boolean, true),
                Field::new("extendedFileMetadata", DataType::Boolean, true),
                Field::new("partitionValues", string_map(), true),
                Field::new("size", long(), true),
            ]),
            true,
        ),
        Field::new(
            "metaData",
            structure(vec![
                Field::new("id", DataType::Utf8, true),
                Field::new("name", DataType::Utf8, true),
                Field::new("description", DataType::Utf8, true),
                Field::new(
                    "format",
                    structure(vec![
                        Field::new("provider", DataType::Utf8, true),
                        Field::new("options", string_map(), true),
                    ]),
                    true,
                ),
                Field::new("schemaString", DataType::Utf8, true),
                Field::new("partitionColumns", string_list(), true),
                Field::new("configuration", string_map(), true),
                Field::new("createdTime", long(), true),
            ]),
            true,
        ),
        Field::new(
            "protocol",
            structure(vec![
                Field::new("minReaderVersion", DataType::Int32, true),
                Field::new("minWriterVersion", DataType::Int32, true),
                Field::new("readerFeatures", string_list(), true),
                Field::new("writerFeatures", string_list(), true),
            ]),
            true,
        ),
    ]))
}

/// A checkpoint's bytes: one row per action (`commitInfo` is not part of
/// a table's state and is left out).
pub(crate) fn write(actions: &[Action]) -> Result<Vec<u8>> {
    let schema = schema();
    let mut decoder = arrow::json::ReaderBuilder::new(schema.clone())
        .with_batch_size(8192)
        .build_decoder()
        .context("checkpoint schema")?;
    let props = WriterProperties::builder()
        .set_created_by("strata".to_owned())
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .build();
    let mut writer = ArrowWriter::try_new(Vec::new(), schema, Some(props))?;
    let rows = actions
        .iter()
        .filter(|a| !matches!(a, Action::CommitInfo(_)));
    for chunk in rows.collect::<Vec<_>>().chunks(8192) {
        decoder
            .serialize(chunk)
            .context("encoding checkpoint rows")?;
        if let Some(batch) = decoder.flush().context("encoding checkpoint rows")? {
            writer.write(&batch).context("writing the checkpoint")?;
        }
    }
    writer.into_inner().context("finishing the checkpoint")
}

/// The actions of a checkpoint (any writer's: unknown columns are
/// ignored, as are action kinds Strata does not model).
pub(crate) fn read(bytes: Bytes) -> Result<Vec<Action>> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .context("reading the checkpoint")?
        .build()
        .context("reading the checkpoint")?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.context("reading the checkpoint")?;
        let mut lines = Vec::new();
        {
            let mut writer = arrow::json::LineDelimitedWriter::new(&mut lines);
            writer
                .write(&batch)
                .context("decoding the checkpoint rows")?;
            writer.finish().context("decoding the checkpoint rows")?;
        }
        for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let line = std::str::from_utf8(line).context("checkpoint row")?;
            if let Some(action) = Action::parse_line(line).context("checkpoint row")? {
                out.push(action);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::actions::{Add, Format, MetaData, Protocol, Remove};
    use super::*;

    #[test]
    fn a_checkpoint_reads_back_as_the_actions_written() {
        let actions = vec![
            Action::Protocol(Protocol::with_timestamp_ntz()),
            Action::MetaData(MetaData {
                id: "id".into(),
                name: None,
                description: None,
                format: Format {
                    provider: "parquet".into(),
                    options: Default::default(),
                },
                schema_string: "{\"type\":\"struct\",\"fields\":[]}".into(),
                partition_columns: vec!["date".into()],
                configuration: Default::default(),
                created_time: Some(5),
            }),
            Action::Add(Add {
                path: "date=2025-02-01/part-a.parquet".into(),
                partition_values: [("date".to_owned(), Some("2025-02-01".to_owned()))].into(),
                size: 10,
                modification_time: 7,
                data_change: false,
                stats: Some("{\"numRecords\":3}".into()),
            }),
            Action::Remove(Remove {
                path: "date=2025-02-01/part-b.parquet".into(),
                deletion_timestamp: Some(9),
                data_change: false,
                extended_file_metadata: Some(true),
                partition_values: Some([("date".to_owned(), Some("2025-02-01".to_owned()))].into()),
                size: Some(11),
            }),
        ];
        let bytes = write(&actions).unwrap();
        assert_eq!(read(Bytes::from(bytes)).unwrap(), actions);
    }
}
