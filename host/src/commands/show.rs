//! `host show`: a partition's first rows and its lineage.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use strata_core::manifest::Producer;
use strata_store::{ManifestRead, parquet_io};

use super::{GlobalOptions, dataset_arg};

/// Print a partition's lineage (plugin, inputs, hashes), its check results
/// and its first rows; with --quarantine, the same of the output a blocking
/// check rejected.
#[derive(Args)]
pub(super) struct ShowCommand {
    /// The dataset, as `layer/name`.
    dataset: String,
    /// The partition: `2025-02-18`, `date=2025-02-18`, or `all`.
    partition: String,
    /// How many rows to print.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Show the partition's rejected output, kept in quarantine since a
    /// blocking check failed on it, instead of its published content.
    #[arg(long)]
    quarantine: bool,
}

impl ShowCommand {
    pub(super) async fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let pipeline = global.load_pipeline()?;
        let store = global.open_store(&pipeline)?;
        let id = dataset_arg(&pipeline, &self.dataset)?;
        let partition =
            if self.partition.contains('=') || self.partition == strata_core::planner::ALL {
                self.partition.clone()
            } else {
                strata_core::period::Period::parse(pipeline.partitions.every, &self.partition)
                    .map(|p| p.id())
                    .with_context(|| format!("`{}` is not a partition of {id}", self.partition))?
            };
        let manifest = if self.quarantine {
            match store.read_quarantined(&id, &partition).await? {
                Some(m) => Box::new(m),
                None => bail!(
                    "{id} {partition} has no quarantined output: no blocking check rejected it \
                     (or it has been computed successfully since)"
                ),
            }
        } else {
            match store.read_manifest(&id, &partition).await? {
                ManifestRead::Valid(m) => m,
                ManifestRead::Missing => {
                    bail!("{id} {partition} does not exist (no manifest); `host run` computes it")
                }
                ManifestRead::Invalid(e) => {
                    bail!("{id} {partition} is damaged: {e}; `host run` recomputes it")
                }
            }
        };
        let read = |name: String| {
            let (store, id, partition) = (&store, &id, &partition);
            async move {
                if self.quarantine {
                    store.read_quarantined_file(id, partition, &name).await
                } else {
                    store.read_file(id, partition, &name).await
                }
            }
        };
        if self.quarantine {
            println!(
                "{id} {partition}: output rejected by a blocking check (in {}; never published)",
                strata_store::Store::quarantine_dir(&id, &partition)
            );
        } else {
            println!("{id} {partition}");
        }
        println!("  key           {}", manifest.key);
        println!("  content hash  {}", manifest.content_hash);
        match &manifest.producer {
            Producer::Plugin {
                name,
                version,
                sha256,
            } => {
                println!("  plugin        {name}@{version} sha256 {sha256}")
            }
            Producer::Source { source, .. } => println!("  source        {source}"),
        }
        if !manifest.params.is_null() {
            println!("  params        {}", manifest.params);
        }
        for input in &manifest.inputs {
            println!(
                "  input         {} {} ({})",
                input.dataset,
                input.partition,
                &input.content_hash[..16]
            );
        }
        if let Some(rows) = manifest.rows {
            println!("  rows          {rows}");
        }
        println!(
            "  written       {} by host {}",
            manifest.written_at, manifest.host_version
        );
        if let Some(when) = &manifest.invalidated {
            println!("  invalidated   {when}");
        }
        for f in &manifest.files {
            println!(
                "  file          {} ({} bytes, sha256 {})",
                f.path,
                f.size,
                &f.sha256[..16]
            );
        }
        for c in &manifest.checks {
            let verdict = match (c.passed, c.severity) {
                (true, _) => "passed",
                (false, strata_core::config::Severity::Error) => "FAILED",
                (false, strata_core::config::Severity::Warn) => "warning",
            };
            println!("  check         {} {verdict}: {}", c.label, c.message);
            if !c.samples.is_empty() {
                println!("                e.g. {}", c.samples.join("; "));
            }
        }
        println!();
        if id.is_raw() {
            for f in manifest.files.iter().take(self.limit) {
                let bytes = read(f.path.clone()).await?;
                let head = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
                println!(
                    "{}:\n{head}{}\n",
                    f.path,
                    if bytes.len() > 300 { "…" } else { "" }
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        let mut batches = Vec::new();
        let mut rows = 0;
        'files: for f in &manifest.files {
            let bytes = read(f.path.clone()).await?;
            for batch in parquet_io::read(bytes)? {
                let batch = batch?;
                let take = (self.limit - rows).min(batch.num_rows());
                batches.push(batch.slice(0, take));
                rows += take;
                if rows >= self.limit {
                    break 'files;
                }
            }
        }
        println!("{}", arrow::util::pretty::pretty_format_batches(&batches)?);
        Ok(ExitCode::SUCCESS)
    }
}
