//! One plugin partition, computed on a blocking thread: its inputs read
//! from the store batch by batch, driven through the plugin, its output
//! written as one Parquet file.

use std::sync::Arc;

use arrow::array::{ArrayBuilder, BinaryBuilder, StringBuilder};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use strata_core::DatasetId;
use strata_core::config::PluginLimits;
use strata_core::manifest::{FileEntry, Manifest, Producer as ManifestProducer, sha256_hex};
use strata_core::period::Period;
use strata_core::planner::{self, Recipe};
use strata_runtime::{Limits, PartitionContext, Plugin, Runtime};
use strata_store::Store;
use strata_store::parquet_io::{self, ParquetSink};
use tokio::runtime::Handle;

use crate::execute::{NewManifest, new_manifest};
use crate::failure::{Failure, FailureKind};
use crate::schema;

/// Raw files are handed to plugins in batches of about this many bytes.
const RAW_BATCH_BYTES: usize = 16 << 20;

/// The runtime's limits for a dataset's configured ones.
pub fn runtime_limits(limits: &PluginLimits) -> Limits {
    Limits {
        memory_bytes: limits.memory_bytes,
        timeout: limits.timeout,
        output_bytes: limits.output_bytes,
        capture_bytes: Limits::CAPTURE_BYTES,
    }
}

/// Params as the contract hands them over: strings as they are, anything
/// else as JSON text.
pub fn contract_params(
    params: &serde_json::Map<String, serde_json::Value>,
) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

pub(crate) struct PluginPartition {
    pub(crate) store: Store,
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) plugin: Arc<Plugin>,
    pub(crate) dataset: DatasetId,
    pub(crate) partition: String,
    pub(crate) period: Option<Period>,
    pub(crate) params: serde_json::Map<String, serde_json::Value>,
    pub(crate) inputs: Vec<DatasetId>,
    pub(crate) limits: PluginLimits,
    pub(crate) recipe: Recipe,
    pub(crate) handle: Handle,
}

impl PluginPartition {
    /// The partition's manifest and its data file, not yet committed.
    pub(crate) fn compute(self) -> Result<(Manifest, Option<Bytes>), Failure> {
        let info = &self.plugin.info;
        let who = format!(
            "{} {}: plugin {}@{} ({})",
            self.dataset,
            self.partition,
            info.name,
            info.version,
            self.plugin.path.display()
        );
        self.run_plugin().map_err(|e| e.context(who))
    }

    fn run_plugin(&self) -> Result<(Manifest, Option<Bytes>), Failure> {
        let (period_start, period_end) = match &self.period {
            Some(p) => (p.rfc3339_start(), p.rfc3339_end()),
            None => (String::new(), String::new()),
        };
        let input_schemas = self
            .inputs
            .iter()
            .zip(&self.recipe.inputs)
            .map(|(id, manifests)| Ok((id.to_string(), input_schema(id, manifests)?)))
            .collect::<Result<Vec<_>, Failure>>()?;
        let context = PartitionContext {
            dataset: self.dataset.to_string(),
            partition: self.partition.clone(),
            period_start,
            period_end,
            params: contract_params(&self.params),
            inputs: input_schemas,
        };
        let mut output = Output::default();
        let inputs = self
            .inputs
            .iter()
            .zip(&self.recipe.inputs)
            .enumerate()
            .flat_map(|(index, (input, manifests))| {
                manifests.iter().flat_map(move |m| {
                    self.input_batches(input, m)
                        .map(move |batch| batch.map(|b| (index as u32, b)))
                })
            });
        self.plugin.run_partition(
            &self.runtime,
            &context,
            &runtime_limits(&self.limits),
            inputs,
            &mut |batch| output.write(batch),
        )?;
        let written = output.finish()?;
        let manifest = new_manifest(NewManifest {
            dataset: &self.dataset,
            partition: &self.partition,
            key: self.recipe.key.clone(),
            files: written.files,
            rows: Some(written.rows),
            schema: written.columns,
            producer: ManifestProducer::Plugin {
                name: self.plugin.info.name.clone(),
                version: self.plugin.info.version.clone(),
                sha256: self.plugin.info.sha256.clone(),
            },
            params: planner::canonical(&serde_json::Value::Object(self.params.clone())),
            inputs: self.recipe.input_refs(),
        });
        Ok((manifest, written.bytes))
    }

    /// The batches of one input partition, read as they are asked for:
    /// Parquet batches, or for raw data a `(file, body)` table of about
    /// `RAW_BATCH_BYTES` per batch. One file is in memory at a time.
    fn input_batches<'a>(
        &'a self,
        input: &'a DatasetId,
        manifest: &'a Manifest,
    ) -> Box<dyn Iterator<Item = Result<RecordBatch, Failure>> + 'a> {
        let read = move |name: &str| -> Result<Bytes, Failure> {
            self.handle
                .block_on(self.store.read_file(input, &manifest.partition, name))
                .map_err(|e| Failure::store(&e))
        };
        if !input.is_raw() {
            return Box::new(manifest.files.iter().flat_map(move |f| {
                let batches = read(&f.path).and_then(|bytes| {
                    parquet_io::read(bytes).map_err(|e| {
                        Failure::new(FailureKind::Store, format!("reading {}: {e:#}", f.path))
                    })
                });
                let batches: Box<dyn Iterator<Item = Result<RecordBatch, Failure>>> = match batches
                {
                    Ok(it) => Box::new(it.map(|b| {
                        b.map_err(|e| Failure::new(FailureKind::Store, format!("{e:#}")))
                    })),
                    Err(e) => Box::new(std::iter::once(Err(e))),
                };
                batches
            }));
        }
        let mut files = manifest.files.iter().peekable();
        Box::new(std::iter::from_fn(move || {
            files.peek()?;
            let mut names = StringBuilder::new();
            let mut bodies = BinaryBuilder::new();
            let mut pending = 0usize;
            while pending < RAW_BATCH_BYTES
                && let Some(f) = files.next()
            {
                let body = match read(&f.path) {
                    Ok(body) => body,
                    Err(e) => return Some(Err(e)),
                };
                names.append_value(&f.path);
                bodies.append_value(&body);
                pending += body.len();
            }
            debug_assert!(!names.is_empty());
            Some(
                RecordBatch::try_new(
                    strata_runtime::schema::raw_schema(),
                    vec![Arc::new(names.finish()), Arc::new(bodies.finish())],
                )
                .map_err(|e| Failure::new(FailureKind::Host, e.to_string())),
            )
        }))
    }
}

/// A partition's output as it arrives: one Parquet file, its schema taken
/// from the first batch and held to the contract's types.
#[derive(Default)]
struct Output {
    sink: Option<ParquetSink>,
    columns: Vec<strata_core::manifest::Column>,
}

impl Output {
    fn write(&mut self, batch: RecordBatch) -> Result<(), Failure> {
        let sink = match &mut self.sink {
            Some(sink) => sink,
            None => {
                self.columns = schema::columns(&batch.schema())
                    .map_err(|e| Failure::new(FailureKind::BadOutput, e))?;
                let sink = ParquetSink::new(batch.schema())
                    .map_err(|e| Failure::new(FailureKind::Host, format!("{e:#}")))?;
                self.sink.insert(sink)
            }
        };
        sink.write(&batch)
            .map_err(|e| Failure::new(FailureKind::Host, format!("writing Parquet: {e:#}")))
    }

    fn finish(self) -> Result<Written, Failure> {
        let Some(sink) = self.sink else {
            return Ok(Written {
                files: vec![],
                bytes: None,
                rows: 0,
                columns: self.columns,
            });
        };
        let (bytes, rows) = sink
            .finish()
            .map_err(|e| Failure::new(FailureKind::Host, format!("writing Parquet: {e:#}")))?;
        let sha = sha256_hex(&bytes);
        let entry = FileEntry {
            path: format!("part-{}.parquet", &sha[..16]),
            size: bytes.len() as u64,
            sha256: sha,
        };
        Ok(Written {
            files: vec![entry],
            bytes: Some(Bytes::from(bytes)),
            rows,
            columns: self.columns,
        })
    }
}

/// A partition's output, written but not yet committed.
struct Written {
    files: Vec<FileEntry>,
    /// The bytes of the one data file, if the plugin produced any rows.
    bytes: Option<Bytes>,
    rows: u64,
    columns: Vec<strata_core::manifest::Column>,
}

/// The schema an input is presented with: raw data as `(file, body)`,
/// any other dataset as its manifests record it.
fn input_schema(id: &DatasetId, manifests: &[Arc<Manifest>]) -> Result<SchemaRef, Failure> {
    if id.is_raw() {
        return Ok(strata_runtime::schema::raw_schema());
    }
    match manifests.iter().find(|m| !m.schema.is_empty()) {
        // Every input partition is empty: no rows, so no columns either.
        None => Ok(Arc::new(arrow::datatypes::Schema::empty())),
        Some(m) => schema::to_arrow(&m.schema).map_err(|e| {
            Failure::new(
                FailureKind::Store,
                format!(
                    "the manifest of input {id} {} records a schema this host cannot read: {e}",
                    m.partition
                ),
            )
        }),
    }
}
