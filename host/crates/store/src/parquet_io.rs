//! Parquet at rest, written deterministically: the same batches always give
//! the same bytes, so a recomputed partition hashes the same and downstream
//! stays fresh (early cutoff).

use std::io::Write;

use anyhow::{Context, Result};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

/// A row group is closed once its encoded columns reach this size, so
/// what a sink holds in memory is bounded however wide the rows are.
const ROW_GROUP_BYTES: usize = 128 << 20;

/// Streams batches into one Parquet file, written to `W` row group by row
/// group (a `Vec<u8>` to hold it in memory).
pub struct ParquetSink<W: Write + Send = Vec<u8>> {
    writer: ArrowWriter<W>,
    rows: u64,
}

impl ParquetSink<Vec<u8>> {
    pub fn new(schema: SchemaRef) -> Result<Self> {
        Self::to(Vec::new(), schema)
    }
}

impl<W: Write + Send> ParquetSink<W> {
    /// A sink writing into `out`.
    pub fn to(out: W, schema: SchemaRef) -> Result<Self> {
        let props = WriterProperties::builder()
            // A fixed writer name: the bytes must not depend on the host build.
            .set_created_by("strata".to_owned())
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
            .set_max_row_group_row_count(Some(1 << 20))
            .build();
        let writer = ArrowWriter::try_new(out, schema, Some(props))?;
        Ok(ParquetSink { writer, rows: 0 })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        self.writer.write(batch).context("writing Parquet")?;
        if self.writer.in_progress_size() >= ROW_GROUP_BYTES {
            self.writer.flush().context("writing Parquet")?;
        }
        Ok(())
    }

    /// What it writes into, as it is: to give up a file without
    /// finishing it.
    pub fn output_mut(&mut self) -> &mut W {
        self.writer.inner_mut()
    }

    /// What it wrote into, and the row count.
    pub fn finish(self) -> Result<(W, u64)> {
        let rows = self.rows;
        let out = self.writer.into_inner().context("finishing Parquet")?;
        Ok((out, rows))
    }
}

/// Reads a Parquet file's batches.
pub fn read(bytes: Bytes) -> Result<impl Iterator<Item = Result<RecordBatch>>> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)?
        .with_batch_size(64 * 1024)
        .build()?;
    Ok(reader.map(|r| r.context("reading Parquet")))
}

/// The schema stored in a Parquet file.
pub fn schema(bytes: Bytes) -> Result<SchemaRef> {
    Ok(ParquetRecordBatchReaderBuilder::try_new(bytes)?
        .schema()
        .clone())
}
