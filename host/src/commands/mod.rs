//! The subcommands of `host`.

mod check;
mod completions;
mod gc;
mod history;
mod init;
mod invalidate;
mod plugin;
mod run;
mod schema;
mod serve;
mod show;
mod spark;
mod status;
mod task;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use clap::{Args, Parser, Subcommand};

use strata_core::DatasetId;
use strata_core::config::{self, Pipeline};
use strata_store::Store;
use strata_store::lease::Lease;

/// Strata runs date-partitioned pipelines (raw → bronze → silver → gold)
/// whose transforms are sandboxed WebAssembly plugins. Every partition is
/// stored with a manifest of what it was made from; each run recomputes only
/// what is missing, damaged or made from something that changed.
#[derive(Parser)]
#[command(name = "host", version, max_term_width = 100)]
#[command(
    after_help = "Start with `host status` to see the plan, then `host run`.\n\
    Put `host run` on cron or a systemd timer, or use `host run --every 1h`."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Init(init::InitCommand),
    Run(run::RunCommand),
    Status(status::StatusCommand),
    Show(show::ShowCommand),
    Check(check::CheckCommand),
    Invalidate(invalidate::InvalidateCommand),
    Verify(verify::VerifyCommand),
    Gc(gc::GcCommand),
    History(history::HistoryCommand),
    Serve(serve::ServeCommand),
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    Task(task::TaskCommand),
    Schema(schema::SchemaCommand),
    Completions(completions::CompletionsCommand),
    Man(completions::ManCommand),
}

/// Options every subcommand takes.
#[derive(Args)]
pub(crate) struct GlobalOptions {
    /// The pipeline file.
    #[arg(
        long,
        short = 'c',
        global = true,
        default_value = "pipeline.toml",
        env = "STRATA_CONFIG"
    )]
    pub config: PathBuf,
    /// More log output (-v: debug, -vv: trace).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only warnings and errors.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Where compiled plugins are cached [default: $STRATA_CACHE_DIR, or ~/.cache/strata/components].
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Plan as if it were this time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, UTC) instead of now.
    #[arg(long, global = true, value_name = "TIME", value_parser = parse_time, env = "STRATA_NOW")]
    pub now: Option<NaiveDateTime>,
    /// Log lines as text, or as one JSON object per line (for log shippers).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "STRATA_LOG_FORMAT"
    )]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

impl GlobalOptions {
    pub(crate) fn init_logging(&self) {
        let level = match (self.quiet, self.verbose) {
            (true, _) => "warn",
            (false, 0) => "info",
            (false, 1) => "debug",
            _ => "trace",
        };
        let filter =
            tracing_subscriber::EnvFilter::try_from_env("STRATA_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(format!("{level},cranelift=warn,wasmtime=warn"))
            });
        let logs = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_target(false);
        match self.log_format {
            LogFormat::Text => logs.without_time().init(),
            LogFormat::Json => logs.json().with_current_span(false).init(),
        }
    }

    pub(crate) fn load_pipeline(&self) -> Result<Pipeline> {
        Ok(config::load(&self.config)?)
    }

    pub(crate) fn open_store(&self, pipeline: &Pipeline) -> Result<Store> {
        Store::open(&pipeline.store)
            .with_context(|| format!("opening the store of {}", pipeline.path.display()))
    }

    pub(crate) fn now(&self) -> NaiveDateTime {
        self.now.unwrap_or_else(|| chrono::Utc::now().naive_utc())
    }

    pub(crate) fn cache_dir(&self) -> Option<PathBuf> {
        self.cache_dir
            .clone()
            .or_else(strata_runtime::ComponentCache::default_dir)
    }
}

/// Which partitions a command looks at.
#[derive(Args)]
pub(crate) struct Selection {
    /// Only partitions from this period on (YYYY-MM-DD).
    #[arg(long, value_parser = parse_time)]
    pub from: Option<NaiveDateTime>,
    /// Only partitions up to this period (YYYY-MM-DD, inclusive).
    #[arg(long, value_parser = parse_time)]
    pub to: Option<NaiveDateTime>,
    /// Only this dataset (`layer/name`); repeat for more.
    #[arg(long = "dataset", value_name = "NAME")]
    pub datasets: Vec<String>,
}

impl Selection {
    /// Applies the selection to run options, checking dataset names.
    pub(crate) fn apply(
        &self,
        pipeline: &Pipeline,
        scope: &mut strata_engine::Scope,
    ) -> Result<()> {
        scope.from = self.from;
        scope.to = self.to;
        for name in &self.datasets {
            scope.datasets.push(dataset_arg(pipeline, name)?);
        }
        Ok(())
    }
}

/// How a writing command takes the run lease.
#[derive(Args)]
pub(crate) struct LeaseOptions {
    /// If another run holds the lease, wait for it instead of exiting.
    #[arg(long)]
    wait: bool,
    /// How long the lease lasts without renewal: a run that dies is taken
    /// over this long after its last renewal.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = strata_core::units::parse_duration)]
    lease_ttl: std::time::Duration,
}

impl LeaseOptions {
    pub(crate) async fn acquire(&self, store: &Store) -> Result<Lease> {
        if self.wait {
            Lease::acquire_waiting(store, self.lease_ttl).await
        } else {
            Ok(Lease::acquire(store, self.lease_ttl).await?)
        }
    }
}

impl Cli {
    pub(crate) async fn execute(self) -> Result<ExitCode> {
        match self.command {
            Command::Init(c) => c.execute(),
            Command::Run(c) => c.execute(&self.global).await,
            Command::Status(c) => c.execute(&self.global).await,
            Command::Show(c) => c.execute(&self.global).await,
            Command::Check(c) => c.execute(&self.global).await,
            Command::Invalidate(c) => c.execute(&self.global).await,
            Command::Verify(c) => c.execute(&self.global).await,
            Command::Gc(c) => c.execute(&self.global).await,
            Command::History(c) => c.execute(&self.global).await,
            Command::Serve(c) => c.execute(&self.global).await,
            Command::Plugin(c) => c.execute(&self.global).await,
            Command::Task(c) => c.execute(&self.global).await,
            Command::Schema(c) => c.execute(&self.global).await,
            Command::Completions(c) => c.execute(&self.global).await,
            Command::Man(c) => c.execute(&self.global).await,
        }
    }
}

/// Writes a scaffold's files (paths relative to `dir`), making folders.
pub(crate) fn write_files(dir: &std::path::Path, files: &[(String, String)]) -> Result<()> {
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// A date or date-time on the command line.
pub(crate) fn parse_time(text: &str) -> Result<NaiveDateTime, String> {
    strata_core::period::parse_instant(text)
        .ok_or_else(|| format!("`{text}` is not a date: write YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS"))
}

/// A `layer/name` on the command line, checked against the pipeline.
pub(crate) fn dataset_arg(pipeline: &Pipeline, text: &str) -> Result<DatasetId> {
    let known = || {
        pipeline
            .datasets
            .iter()
            .map(|d| d.id.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let id = DatasetId::parse(text).with_context(|| {
        format!(
            "`{text}` is not `layer/name`; the datasets are: {}",
            known()
        )
    })?;
    if pipeline.dataset(&id).is_none() {
        anyhow::bail!(
            "no dataset `{text}` in {}; the datasets are: {}",
            pipeline.path.display(),
            known()
        );
    }
    Ok(id)
}
