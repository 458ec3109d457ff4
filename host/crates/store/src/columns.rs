//! Some columns of a stored Parquet data file, read without fetching the
//! rest: the footer first, then only the chunks of those columns, as
//! ranged reads. A plugin that declares the columns it reads (its plan)
//! costs the bytes of those columns, not of the whole partition.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use futures::StreamExt;
use futures::future::{BoxFuture, FutureExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::{
    AsyncFileReader, ParquetRecordBatchStream, ParquetRecordBatchStreamBuilder,
};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use strata_core::DatasetId;
use strata_core::manifest::FileEntry;
use tokio::runtime::Handle;

use crate::Store;

/// Bytes read at the end of a file in the first request, in the hope
/// that they hold the whole footer: for files of at least four times as
/// much, where it saves a round trip. A smaller file's footer is read as
/// it says it is long, so that its other columns are not fetched with it.
const FOOTER_HINT: usize = 64 << 10;

/// The batches of some columns of one data file, for a blocking thread:
/// each `next` drives the reads through the runtime `handle`.
pub struct ColumnBatches {
    stream: ParquetRecordBatchStream<RangeReader>,
    handle: Handle,
}

impl Iterator for ColumnBatches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        self.handle
            .block_on(self.stream.next())
            .map(|batch| batch.context("reading Parquet"))
    }
}

impl Store {
    /// Opens `columns` of data file `file` of a partition (from a blocking
    /// thread): the batches hold those columns only, in the file's column
    /// order. A column the file does not have is an error naming it. The
    /// bytes fetched are added to `fetched` as they are read.
    pub fn read_columns(
        &self,
        handle: &Handle,
        dataset: &DatasetId,
        partition: &str,
        file: &FileEntry,
        columns: &[String],
        fetched: Arc<AtomicU64>,
    ) -> Result<ColumnBatches> {
        let path = Self::file_path(dataset, partition, &file.path);
        let reader = RangeReader {
            store: self.inner.clone(),
            path: path.clone(),
            size: file.size,
            fetched,
        };
        let stream = handle
            .block_on(async {
                let builder = ParquetRecordBatchStreamBuilder::new(reader).await?;
                let schema = builder.schema().clone();
                let mut roots = Vec::with_capacity(columns.len());
                for name in columns {
                    let (index, _) = schema.column_with_name(name).with_context(|| {
                        format!(
                            "the data has no column {name:?} (it has {})",
                            names(&schema)
                        )
                    })?;
                    roots.push(index);
                }
                let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
                anyhow::Ok(
                    builder
                        .with_projection(mask)
                        .with_batch_size(64 * 1024)
                        .build()?,
                )
            })
            .with_context(|| format!("reading {path} in {}", self.url))?;
        Ok(ColumnBatches {
            stream,
            handle: handle.clone(),
        })
    }
}

fn names(schema: &arrow::datatypes::Schema) -> String {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    names.join(", ")
}

/// Ranged reads of one object of known size, counted.
struct RangeReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
    fetched: Arc<AtomicU64>,
}

impl RangeReader {
    fn count(&self, bytes: &[Bytes]) {
        let n: usize = bytes.iter().map(Bytes::len).sum();
        self.fetched.fetch_add(n as u64, Ordering::Relaxed);
    }
}

fn parquet_error(e: object_store::Error) -> parquet::errors::ParquetError {
    parquet::errors::ParquetError::External(Box::new(e))
}

impl AsyncFileReader for RangeReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            let bytes = self
                .store
                .get_range(&self.path, range)
                .await
                .map_err(parquet_error)?;
            self.count(std::slice::from_ref(&bytes));
            Ok(bytes)
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            let bytes = self
                .store
                .get_ranges(&self.path, &ranges)
                .await
                .map_err(parquet_error)?;
            self.count(&bytes);
            Ok(bytes)
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        _options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_prefetch_hint(Some(FOOTER_HINT).filter(|hint| size >= 4 * *hint as u64))
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataFileWriter;
    use crate::parquet_io::ParquetSink;
    use arrow::array::{Int64Array, StringArray};
    use object_store::memory::InMemory;

    /// A data file of three columns, one of them wide, written through
    /// the streaming writer; the store, the file's entry and the runtime.
    fn stored() -> (Store, FileEntry, tokio::runtime::Runtime) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let store = Store::from_object_store(Arc::new(InMemory::new()), "memory://");
        let dataset = DatasetId::parse("silver/orders").unwrap();
        let n = 20_000;
        let batch = RecordBatch::try_from_iter([
            ("id", Arc::new(Int64Array::from_iter_values(0..n)) as _),
            (
                "note",
                Arc::new(StringArray::from_iter_values((0..n).map(|i| {
                    // Hex of scrambled numbers: it does not compress away.
                    let h = |k: i64| (k as u64 ^ 0x5bd1e995).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    format!("{:016x}{:016x}{:016x}", h(i), h(i + n), h(i + 2 * n))
                }))) as _,
            ),
            (
                "qty",
                Arc::new(Int64Array::from_iter_values((0..n).map(|i| i % 7))) as _,
            ),
        ])
        .unwrap();
        let handle = runtime.handle().clone();
        let entry = std::thread::spawn({
            let store = store.clone();
            move || {
                let file = DataFileWriter::create(&store, handle, &dataset, "date=2026-01-01");
                let mut sink = ParquetSink::to(file, batch.schema()).unwrap();
                sink.write(&batch).unwrap();
                let (file, rows) = sink.finish().unwrap();
                assert_eq!(rows, n as u64);
                file.finish(|sha| format!("part-{}.parquet", &sha[..16]))
                    .unwrap()
            }
        })
        .join()
        .unwrap();
        (store, entry, runtime)
    }

    #[test]
    fn a_written_file_is_named_by_its_hash_and_no_temp_file_is_left() {
        let (store, entry, runtime) = stored();
        let folder = Path::from("silver/orders/date=2026-01-01");
        let names: Vec<String> = runtime.block_on(async {
            let listed = store
                .inner
                .list_with_delimiter(Some(&folder))
                .await
                .unwrap();
            listed
                .objects
                .into_iter()
                .map(|o| o.location.filename().unwrap().to_owned())
                .collect()
        });
        assert_eq!(names, vec![entry.path.clone()]);
        let bytes = runtime.block_on(store.inner.get(&Store::file_path(
            &DatasetId::parse("silver/orders").unwrap(),
            "date=2026-01-01",
            &entry.path,
        )));
        let bytes = runtime.block_on(bytes.unwrap().bytes()).unwrap();
        assert_eq!(bytes.len() as u64, entry.size);
        assert_eq!(strata_core::manifest::sha256_hex(&bytes), entry.sha256);
        assert_eq!(entry.path, format!("part-{}.parquet", &entry.sha256[..16]));
    }

    #[test]
    fn reading_some_columns_fetches_only_theirs() {
        let (store, entry, runtime) = stored();
        let dataset = DatasetId::parse("silver/orders").unwrap();
        let handle = runtime.handle().clone();
        let fetched = Arc::new(AtomicU64::new(0));
        let (batches, counted) = std::thread::spawn({
            let fetched = fetched.clone();
            let entry = entry.clone();
            move || {
                // Named in another order than the file's: the file's wins.
                let columns = ["qty".to_owned(), "id".to_owned()];
                let batches: Vec<RecordBatch> = store
                    .read_columns(
                        &handle,
                        &dataset,
                        "date=2026-01-01",
                        &entry,
                        &columns,
                        fetched.clone(),
                    )
                    .unwrap()
                    .collect::<Result<_>>()
                    .unwrap();
                let missing = store
                    .read_columns(
                        &handle,
                        &dataset,
                        "date=2026-01-01",
                        &entry,
                        &["colour".to_owned()],
                        Arc::new(AtomicU64::new(0)),
                    )
                    .err()
                    .expect("no such column");
                assert!(
                    format!("{missing:#}").contains(r#"no column "colour" (it has id, note, qty)"#),
                    "{missing:#}"
                );
                (batches, fetched.load(Ordering::Relaxed))
            }
        })
        .join()
        .unwrap();
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        assert_eq!(rows, 20_000);
        let schema = batches[0].schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["id", "qty"]);
        // The wide column is most of the file and was not fetched.
        assert!(
            counted > 0 && counted < entry.size / 2,
            "{counted} of {}",
            entry.size
        );
        drop(runtime);
    }
}
