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
use strata_core::manifest::{FileEntry, Manifest, Producer as ManifestProducer};
use strata_core::period::Period;
use strata_core::planner::{self, Recipe};
use strata_runtime::{InputContext, Limits, PartitionContext, Plugin, Runtime};
use strata_store::parquet_io::{self, ParquetSink};
use strata_store::{DataFileWriter, Store};
use tokio::runtime::Handle;

use crate::checks::CheckSet;
use crate::checks::builtin::Evaluator;
use crate::execute::{NewManifest, new_manifest};
use crate::failure::{Failure, FailureKind};
use crate::inputs::InputCache;
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
    pub(crate) checks: Arc<CheckSet>,
    /// Row counts of the dataset's earlier partitions, for `volume`.
    pub(crate) history: Vec<u64>,
    /// Input partitions this run's partitions share.
    pub(crate) shared_inputs: Arc<InputCache>,
}

/// A partition computed but not committed: its manifest (with its check
/// results), whose data file (if it has rows) is in the partition's folder.
pub(crate) struct Computed {
    pub(crate) manifest: Manifest,
}

impl PluginPartition {
    /// The partition's manifest and its data file, not yet committed, its
    /// checks evaluated.
    pub(crate) fn compute(self) -> Result<Computed, Failure> {
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

    fn run_plugin(&self) -> Result<Computed, Failure> {
        let (period_start, period_end) = match &self.period {
            Some(p) => (p.rfc3339_start(), p.rfc3339_end()),
            None => (String::new(), String::new()),
        };
        let inputs = self
            .inputs
            .iter()
            .zip(&self.recipe.inputs)
            .map(|(id, manifests)| {
                Ok(InputContext {
                    dataset: id.to_string(),
                    schema: input_schema(id, manifests)?,
                    partitions: manifests.iter().map(|m| m.partition.clone()).collect(),
                })
            })
            .collect::<Result<Vec<_>, Failure>>()?;
        let context = PartitionContext {
            dataset: self.dataset.to_string(),
            partition: self.partition.clone(),
            period_start,
            period_end,
            params: self.params.clone(),
            inputs,
        };
        let mut output = Output {
            partition: self,
            sink: None,
            columns: vec![],
            checks: (!self.checks.is_empty()).then_some((&*self.checks, &self.history[..])),
            evaluator: None,
        };
        let ran = self.feed(&context, &mut output);
        if let Err(e) = ran {
            output.discard();
            return Err(e);
        }
        let (written, evaluator) = output.finish()?;
        let mut manifest = new_manifest(NewManifest {
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
        if let Some(evaluator) = evaluator {
            // Checks that need the whole content read the file just written.
            let written = manifest.clone();
            manifest.checks =
                self.checks
                    .finish(evaluator, &self.partition, &manifest.schema, &|| {
                        stored_content(&self.store, &self.handle, &self.dataset, &written)
                    })?;
        }
        Ok(Computed { manifest })
    }

    /// Runs the plugin over the inputs: `open`, every input partition's
    /// batches (oldest first, which every plan accepts; only the columns
    /// the plan names are read), then `finish`, each output batch into
    /// `output`.
    fn feed(&self, context: &PartitionContext, output: &mut Output<'_>) -> Result<(), Failure> {
        let mut session =
            self.plugin
                .open(&self.runtime, context, &runtime_limits(&self.limits))?;
        for (index, (input, manifests)) in self.inputs.iter().zip(&self.recipe.inputs).enumerate() {
            let columns = session
                .plan()
                .get(index)
                .and_then(|plan| plan.columns.clone());
            for (partition, manifest) in manifests.iter().enumerate() {
                for batch in self.input_batches(input, manifest, columns.as_deref()) {
                    for out in session.process(index as u32, partition as u32, &batch?)? {
                        output.write(out)?;
                    }
                }
            }
        }
        session.finish(&mut |batch| output.write(batch))
    }

    /// The batches of one input partition, `columns` of it if the plan
    /// names them: from memory if an earlier partition of this run decoded
    /// it for the ones after it, else read from the store as they are
    /// asked for.
    fn input_batches<'a>(
        &'a self,
        input: &'a DatasetId,
        manifest: &'a Manifest,
        columns: Option<&'a [String]>,
    ) -> Box<dyn Iterator<Item = Result<RecordBatch, Failure>> + 'a> {
        // Raw data is one table of files and bodies: nothing to leave out.
        let columns = columns.filter(|_| !input.is_raw());
        let from_store = move || match columns {
            None => {
                self.shared_inputs
                    .count_read(manifest.files.iter().map(|f| f.size).sum());
                stored_content(&self.store, &self.handle, input, manifest)
            }
            Some(columns) => {
                let fetched = self.shared_inputs.count_partial_read();
                Box::new(manifest.files.iter().flat_map(move |file| {
                    let batches: Box<dyn Iterator<Item = Result<RecordBatch, Failure>>> = match self
                        .store
                        .read_columns(
                            &self.handle,
                            input,
                            &manifest.partition,
                            file,
                            columns,
                            fetched.clone(),
                        ) {
                        Ok(batches) => Box::new(batches.map(|b| b.map_err(|e| Failure::store(&e)))),
                        Err(e) => Box::new(std::iter::once(Err(Failure::store(&e)))),
                    };
                    batches
                }))
            }
        };
        match self
            .shared_inputs
            .read(manifest, columns, || from_store().collect())
        {
            Ok(Some(batches)) => Box::new((0..batches.len()).map(move |i| Ok(batches[i].clone()))),
            Ok(None) => from_store(),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    }
}

/// A partition's content as the store holds it, read file by file as it
/// is asked for (on a blocking thread, through `handle`).
pub(crate) fn stored_content<'a>(
    store: &'a Store,
    handle: &'a Handle,
    dataset: &'a DatasetId,
    manifest: &'a Manifest,
) -> Box<dyn Iterator<Item = Result<RecordBatch, Failure>> + 'a> {
    let read = move |name: &str| -> Result<Bytes, Failure> {
        handle
            .block_on(store.read_file(dataset, &manifest.partition, name))
            .map_err(|e| Failure::store(&e))
    };
    content(
        dataset,
        manifest.files.iter().map(move |f| (f.path.as_str(), read)),
    )
}

/// Content held in memory: `(file name, bytes)` in manifest order.
pub(crate) fn in_memory_content(
    dataset: &DatasetId,
    files: Vec<(String, Bytes)>,
) -> Box<dyn Iterator<Item = Result<RecordBatch, Failure>> + 'static> {
    let is_raw = dataset.is_raw();
    let files: Vec<_> = files
        .into_iter()
        .map(|(name, bytes)| (name, move |_: &str| Ok::<_, Failure>(bytes.clone())))
        .collect();
    content_of_files(is_raw, files)
}

/// The batches of a partition's files: Parquet batches, or for raw data a
/// `(file, body)` table of about `RAW_BATCH_BYTES` per batch. One file is
/// in memory at a time.
fn content<'a, R>(
    dataset: &DatasetId,
    files: impl Iterator<Item = (&'a str, R)> + 'a,
) -> Box<dyn Iterator<Item = Result<RecordBatch, Failure>> + 'a>
where
    R: Fn(&str) -> Result<Bytes, Failure> + 'a,
{
    content_of_files(
        dataset.is_raw(),
        files.map(|(n, r)| (n.to_owned(), r)).collect(),
    )
}

fn content_of_files<'a, R>(
    is_raw: bool,
    files: Vec<(String, R)>,
) -> Box<dyn Iterator<Item = Result<RecordBatch, Failure>> + 'a>
where
    R: Fn(&str) -> Result<Bytes, Failure> + 'a,
{
    if !is_raw {
        return Box::new(files.into_iter().flat_map(|(name, read)| {
            let batches = read(&name).and_then(|bytes| {
                parquet_io::read(bytes)
                    .map_err(|e| Failure::new(FailureKind::Store, format!("reading {name}: {e:#}")))
            });
            let batches: Box<dyn Iterator<Item = Result<RecordBatch, Failure>>> = match batches {
                Ok(it) => Box::new(
                    it.map(|b| b.map_err(|e| Failure::new(FailureKind::Store, format!("{e:#}")))),
                ),
                Err(e) => Box::new(std::iter::once(Err(e))),
            };
            batches
        }));
    }
    let mut files = files.into_iter().peekable();
    Box::new(std::iter::from_fn(move || {
        files.peek()?;
        let mut names = StringBuilder::new();
        let mut bodies = BinaryBuilder::new();
        let mut pending = 0usize;
        while pending < RAW_BATCH_BYTES
            && let Some((name, read)) = files.next()
        {
            let body = match read(&name) {
                Ok(body) => body,
                Err(e) => return Some(Err(e)),
            };
            names.append_value(&name);
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

/// A partition's output as it arrives: one Parquet file written into the
/// partition's folder as batches come (never whole in memory), its schema
/// taken from the first batch and held to the contract's types, and each
/// batch shown to the built-in checks on its way.
struct Output<'a> {
    partition: &'a PluginPartition,
    sink: Option<ParquetSink<DataFileWriter>>,
    columns: Vec<strata_core::manifest::Column>,
    /// The dataset's checks and the history `volume` compares with.
    checks: Option<(&'a CheckSet, &'a [u64])>,
    evaluator: Option<Evaluator>,
}

impl Output<'_> {
    fn write(&mut self, batch: RecordBatch) -> Result<(), Failure> {
        let sink = match &mut self.sink {
            Some(sink) => sink,
            None => {
                self.columns = schema::columns(&batch.schema())
                    .map_err(|e| Failure::new(FailureKind::BadOutput, e))?;
                if let Some((checks, history)) = self.checks {
                    self.evaluator = Some(checks.evaluator(&self.columns, history));
                }
                let p = self.partition;
                let file =
                    DataFileWriter::create(&p.store, p.handle.clone(), &p.dataset, &p.partition);
                let sink = ParquetSink::to(file, batch.schema())
                    .map_err(|e| Failure::new(FailureKind::Host, format!("{e:#}")))?;
                self.sink.insert(sink)
            }
        };
        sink.write(&batch)
            .map_err(|e| Failure::new(FailureKind::Host, format!("writing Parquet: {e:#}")))?;
        if let Some(evaluator) = &mut self.evaluator {
            evaluator
                .observe(&batch)
                .map_err(|e| Failure::new(FailureKind::Host, format!("evaluating checks: {e}")))?;
        }
        Ok(())
    }

    /// The written file, and the checks' evaluator if the dataset has checks.
    fn finish(self) -> Result<(Written, Option<Evaluator>), Failure> {
        let evaluator = match (self.evaluator, self.checks) {
            (Some(e), _) => Some(e),
            // No rows: the checks see an empty partition.
            (None, Some((checks, history))) => Some(checks.evaluator(&self.columns, history)),
            (None, None) => None,
        };
        let Some(sink) = self.sink else {
            return Ok((
                Written {
                    files: vec![],
                    rows: 0,
                    columns: self.columns,
                },
                evaluator,
            ));
        };
        let writing =
            |e: anyhow::Error| Failure::new(FailureKind::Store, format!("writing Parquet: {e:#}"));
        let (file, rows) = sink.finish().map_err(writing)?;
        let entry = file
            .finish(|sha| format!("part-{}.parquet", &sha[..16]))
            .map_err(writing)?;
        Ok((
            Written {
                files: vec![entry],
                rows,
                columns: self.columns,
            },
            evaluator,
        ))
    }

    /// Gives up what was written, without writing the file's footer: the
    /// partition failed.
    fn discard(self) {
        if let Some(mut sink) = self.sink {
            sink.output_mut().discard();
        }
    }
}

/// A partition's output, written but not yet committed.
struct Written {
    files: Vec<FileEntry>,
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
