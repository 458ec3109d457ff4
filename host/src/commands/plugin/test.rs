//! `host plugin test`: a plugin run on sample data through the same driver
//! as `host run` (`Plugin::run_partition`), its output printed or compared.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use clap::Args;

use strata_core::config::PluginLimits;
use strata_core::manifest::Column;
use strata_runtime::{InputContext, PartitionContext, Runtime};
use strata_runtime::{jsonl, schema};

use super::GlobalOptions;
use super::sample::{read_raw, read_sample};

/// Run a plugin on sample data and print its output rows: a quick loop
/// while writing a plugin.
#[derive(Args)]
pub(in crate::commands) struct TestCommand {
    /// The plugin's `.wasm` file.
    file: PathBuf,
    /// A sample input: JSON lines (`.jsonl`, `.ndjson`, `.json`; or a JSON
    /// array of objects), CSV (`.csv`, with a header) or Parquet
    /// (`.parquet`). Repeat for several inputs (input 0, 1, …).
    #[arg(long, short = 'i', value_name = "SAMPLE", required = true)]
    input: Vec<PathBuf>,
    /// The inputs are raw files, as the raw layer presents them: one row
    /// per file, `file: utf8`, `body: binary` (a folder: every file in it).
    #[arg(long)]
    raw: bool,
    /// Params, as `KEY=VALUE`: a VALUE that is JSON is taken as JSON
    /// (`n=3` a number, `key=["id"]` a list, `s='"3"'` the string "3"),
    /// anything else as a string (`key=id`).
    #[arg(long = "params", alias = "param", short = 'p', value_name = "KEY=VALUE", num_args = 1..)]
    params: Vec<String>,
    /// The sample's column types instead of guessing them from JSON or CSV:
    /// a JSON list `[{"name": "id", "type": "utf8", "nullable": false}, …]`,
    /// or `@FILE` holding one.
    #[arg(long, value_name = "JSON")]
    schema: Option<String>,
    /// The partition the plugin is told it computes: `YYYY-MM-DD` (a day,
    /// with its period) or any partition id.
    #[arg(long, default_value = "sample")]
    partition: String,
    /// Rows per input batch (so `process` is called several times).
    #[arg(long, default_value_t = 4096)]
    batch_rows: usize,
    /// Print the output as a table instead of JSON lines.
    #[arg(long)]
    table: bool,
    /// Compare the output with these JSON lines (read by the output
    /// schema); exit 1 and show both if they differ.
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    /// Time loading the plugin (compiling it, or reading it from the
    /// cache), opening a partition and the rows per second, instead of
    /// printing the output. Measures, never asserts.
    #[arg(long)]
    bench: bool,
}

impl TestCommand {
    pub(super) fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let declared = self.schema.as_deref().map(read_schema_arg).transpose()?;
        let mut inputs = Vec::new();
        for path in &self.input {
            let (name, batch) = if self.raw {
                ("raw", read_raw(path)?)
            } else {
                ("sample", read_sample(path, declared.clone())?)
            };
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("input")
                .to_string();
            inputs.push((format!("{name}/{stem}"), batch));
        }
        let params = self
            .params
            .iter()
            .map(|p| {
                p.split_once('=')
                    .map(|(k, v)| (k.trim().to_string(), param_value(v)))
                    .with_context(|| format!("param `{p}` is not KEY=VALUE"))
            })
            .collect::<Result<serde_json::Map<_, _>>>()?;
        let (partition, period_start, period_end) =
            match chrono::NaiveDate::parse_from_str(&self.partition, "%Y-%m-%d") {
                Ok(day) => (
                    format!("date={day}"),
                    format!("{day}T00:00:00Z"),
                    format!("{}T00:00:00Z", day.succ_opt().unwrap_or(day)),
                ),
                Err(_) => (self.partition.clone(), String::new(), String::new()),
            };
        // Each sample is one partition of its input: the one computed.
        let partition_id = partition.clone();
        let context = PartitionContext {
            dataset: "test/out".into(),
            partition,
            period_start,
            period_end,
            params,
            inputs: inputs
                .iter()
                .map(|(name, batch)| InputContext {
                    dataset: name.clone(),
                    schema: batch.schema(),
                    partitions: vec![partition_id.clone()],
                })
                .collect(),
        };

        let runtime = Runtime::new(global.cache_dir())?;
        let started = Instant::now();
        let plugin = runtime.load(&self.file)?;
        let load_time = started.elapsed();
        eprintln!(
            "{}@{} ({}) on {} input(s)",
            plugin.info.name,
            plugin.info.version,
            match plugin.info.format {
                strata_runtime::DataFormat::ArrowIpc => "arrow-ipc",
                strata_runtime::DataFormat::JsonLines => "json-lines",
            },
            inputs.len()
        );
        let step = self.batch_rows.max(1);
        let batches = inputs.iter().enumerate().flat_map(|(index, (_, batch))| {
            let starts = (0..batch.num_rows().max(1)).step_by(step);
            starts.map(move |start| {
                let len = step.min(batch.num_rows() - start);
                Ok::<_, anyhow::Error>((index as u32, 0, batch.slice(start, len)))
            })
        });
        let limits = strata_engine::runtime_limits(&PluginLimits::default());
        let started = Instant::now();
        let mut output = Vec::new();
        plugin.run_partition(&runtime, &context, &limits, batches, &mut |batch| {
            output.push(batch);
            Ok(())
        })?;
        let run_time = started.elapsed();

        let rows: usize = output.iter().map(RecordBatch::num_rows).sum();
        if self.bench {
            let rows_in: usize = inputs.iter().map(|(_, b)| b.num_rows()).sum();
            println!(
                "load {:.3}s ({}), {rows_in} rows in and {rows} out in {:.3}s (open to finish): {:.0} rows/s",
                load_time.as_secs_f64(),
                match plugin.origin {
                    strata_runtime::LoadOrigin::Compiled => "compiled",
                    strata_runtime::LoadOrigin::Cached => "cached",
                },
                run_time.as_secs_f64(),
                rows_in as f64 / run_time.as_secs_f64().max(1e-9),
            );
            return Ok(ExitCode::SUCCESS);
        }
        let columns = output
            .first()
            .map(|b| schema::describe(&b.schema()))
            .unwrap_or_else(|| "no output batch".into());
        eprintln!("output: {rows} row(s); {columns}");
        if self.table {
            println!("{}", arrow::util::pretty::pretty_format_batches(&output)?);
        } else {
            for batch in &output {
                print!("{}", String::from_utf8_lossy(&jsonl_text(batch)?));
            }
        }
        match &self.expect {
            None => Ok(ExitCode::SUCCESS),
            Some(path) => compare(&output, path),
        }
    }
}

fn jsonl_text(batch: &RecordBatch) -> Result<Vec<u8>> {
    jsonl::encode(batch).map_err(|e| anyhow::anyhow!(e))
}

/// Exit 0 if the output is the expected rows, else 1 with both shown.
fn compare(output: &[RecordBatch], path: &Path) -> Result<ExitCode> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let actual_text: Vec<u8> = output
        .iter()
        .map(jsonl_text)
        .collect::<Result<Vec<_>>>()?
        .concat();
    let same = match output.first() {
        None => String::from_utf8_lossy(&text).trim().is_empty(),
        Some(first) => {
            let schema = first.schema();
            let expected = jsonl::decode(&text, schema.clone())
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let expected = arrow::compute::concat_batches(&schema, &expected)?;
            let actual = arrow::compute::concat_batches(&schema, output)?;
            expected == actual
        }
    };
    if same {
        eprintln!("ok: the output is the rows of {}", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "FAILED: the output is not the rows of {}\n--- expected\n{}--- actual\n{}",
        path.display(),
        String::from_utf8_lossy(&text),
        String::from_utf8_lossy(&actual_text)
    );
    Ok(ExitCode::FAILURE)
}

fn read_schema_arg(arg: &str) -> Result<SchemaRef> {
    let text = match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?,
        None => arg.to_string(),
    };
    let columns: Vec<Column> = serde_json::from_str(&text)
        .context("--schema must be a JSON list of {\"name\", \"type\", \"nullable\"}")?;
    strata_engine::schema::to_arrow(&columns).map_err(|e| anyhow::anyhow!("--schema: {e}"))
}

/// A `--params` value: JSON when it is JSON, else the text as a string.
fn param_value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
}
