//! Runs transform plugins: WebAssembly components implementing a WIT world
//! of the contract (`wit/`, and the older `wit/v0.1/` it still speaks),
//! each partition inside a fresh sandbox with memory, time and output
//! limits.
//!
//! A partition is driven one way whatever the plugin's contract:
//! [`Plugin::open`] gives a [`Session`] and its plan, [`Session::process`]
//! takes every input batch tagged with its input and partition, and
//! [`Session::finish`] drains the rest ([`Plugin::run_partition`] does all
//! three). The runtime runs a plugin; it never decides what is stale or
//! where output goes (that is the planner's and the store's business).

#[macro_use]
mod both_worlds;
mod cache;
mod capabilities;
mod contract;
mod guest;
pub mod ipc;
pub mod jsonl;
mod pool;
mod sandbox;
pub mod schema;
mod session;
mod v0_1;
mod v0_2;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};

pub use cache::{ComponentCache, LoadOrigin};
pub use capabilities::is_granted;
pub use contract::Contract;
use guest::{Instance, Pre};
pub use pool::PoolSizing;
use sandbox::{PluginLog, SandboxState};
pub use session::Session;

/// How often the epoch ticks; timeouts are counted in ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Limits applied to every partition a plugin computes.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Total linear memory of the instance, summed over its memories.
    pub memory_bytes: u64,
    /// CPU time for the whole partition (all calls together).
    pub timeout: Duration,
    /// Total bytes of output batches.
    pub output_bytes: u64,
    /// Bytes of stdout/stderr kept for the log.
    pub capture_bytes: usize,
}

impl Limits {
    /// The stdout/stderr kept for the log when nothing else is said.
    pub const CAPTURE_BYTES: usize = 64 << 10;
}

/// What `describe` may use: it only names the plugin.
const DESCRIBE_LIMITS: Limits = Limits {
    memory_bytes: 2 << 30,
    timeout: Duration::from_secs(30),
    output_bytes: 1 << 20,
    capture_bytes: Limits::CAPTURE_BYTES,
};

/// `host.log` lines kept from `describe`, and from one partition; the
/// rest are counted, and their number logged once when the instance ends.
pub const DESCRIBE_LOG_LINES: usize = 100;
pub const PARTITION_LOG_LINES: usize = 1000;

/// The data format a plugin speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataFormat {
    ArrowIpc,
    JsonLines,
}

/// What a plugin says about itself, plus its identity.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub format: DataFormat,
    /// sha256 of the `.wasm` bytes: the plugin's identity.
    pub sha256: String,
    /// The contract it is built for (`strata:plugin@0.2.0`).
    pub contract: Contract,
}

/// Why loading a plugin failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read plugin {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid WebAssembly component for this host: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(
        "{path} is a core WebAssembly module, not a component: a plugin must be a component \
         of the WIT world in wit/ (build it for wasm32-wasip2, or wrap the module with \
         `wasm-tools component new`)"
    )]
    CoreModule { path: PathBuf },
    #[error(
        "{path} is built for another contract: it uses {}, but this host speaks {}; \
         rebuild it against this host's wit/",
        .found.join(", "),
        .expected.join(" and ")
    )]
    OtherContract {
        path: PathBuf,
        /// The contract's interfaces the component imports or exports at
        /// a version this host does not speak (`strata:plugin/transform@0.3.0`, …).
        found: Vec<String>,
        /// The contracts this host speaks (`strata:plugin@0.1.0`, …).
        expected: Vec<String>,
    },
    #[error(
        "{path} imports {} which the sandbox does not grant (plugins get no network, no HTTP and no files); \
         rebuild it without that dependency",
        .imports.join(", ")
    )]
    Refused { path: PathBuf, imports: Vec<String> },
    #[error("{path}: describe() failed: {message}")]
    Describe { path: PathBuf, message: String },
}

/// Why computing a partition with a plugin failed. The message is for the
/// user; the executor adds plugin, dataset and partition around it.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("plugin rejected its params: {0}")]
    BadParams(String),
    #[error("plugin rejected its input: {0}")]
    BadInput(String),
    #[error("plugin failed: {0}")]
    Failed(String),
    #[error("plugin panicked: {message}")]
    Panic { message: String },
    #[error("plugin exceeded its time limit of {0:?}")]
    Timeout(Duration),
    #[error("plugin exceeded its memory limit of {} MiB", .0 >> 20)]
    MemoryLimit(u64),
    #[error("plugin overflowed its stack (too deep recursion)")]
    StackOverflow,
    #[error("plugin trapped: {message}{}", tail(.output))]
    Trap { message: String, output: String },
    /// The plugin called `wasi:cli/exit`. Its status is 0 or 1: WASI 0.2's
    /// `exit` carries success or failure, so `exit(3)` arrives as 1.
    #[error(
        "plugin called exit with status {code} (wasi:cli/exit) instead of returning{}",
        tail(.output)
    )]
    Exit { code: i32, output: String },
    #[error("plugin returned malformed output: {0}")]
    Malformed(String),
    #[error(
        "plugin output changed schema mid-stream: first batch had [{first}], a later one [{later}]"
    )]
    SchemaChanged { first: String, later: String },
    #[error("plugin output exceeded the limit of {} MiB", .0 >> 20)]
    OutputLimit(u64),
    #[error("host error: {0}")]
    Host(String),
}

fn tail(output: &str) -> String {
    let output = output.trim();
    if output.is_empty() {
        String::new()
    } else {
        let start = output.len().saturating_sub(2000);
        let start = (start..=output.len())
            .find(|i| output.is_char_boundary(*i))
            .unwrap_or(output.len());
        format!("; plugin output:\n{}", &output[start..])
    }
}

/// One engine and linker for the whole process, plus the epoch ticker that
/// enforces timeouts.
pub struct Runtime {
    engine: Engine,
    linker: Linker<SandboxState>,
    cache: ComponentCache,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl Runtime {
    /// A runtime whose compiled components are cached in `cache_dir`
    /// (`None`: no cache), its instance pool sized for this machine.
    pub fn new(cache_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        Self::with_pool(cache_dir, PoolSizing::default_for_machine())
    }

    /// As [`Runtime::new`], its instance pool sized for `pool.concurrent`
    /// partitions at once.
    pub fn with_pool(cache_dir: Option<PathBuf>, pool: PoolSizing) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.allocation_strategy(pool::strategy(pool));
        config.epoch_interruption(true);
        // Deep recursion traps instead of taking the host down.
        config.max_wasm_stack(1 << 20);
        let engine = Engine::new(&config).map_err(anyhow::Error::from)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
        Pre::add_to_linker(&mut linker).map_err(anyhow::Error::from)?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        let stop = ticker_stop.clone();
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("strata-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })?;
        let cache = ComponentCache::new(&engine, cache_dir);
        Ok(Runtime {
            engine,
            linker,
            cache,
            ticker_stop,
        })
    }

    /// Loads the plugin at `path`: reads and hashes it, refuses imports the
    /// sandbox does not grant, compiles it (or takes it from the cache) and
    /// asks it to describe itself.
    pub fn load(&self, path: &Path) -> Result<Plugin, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        self.load_bytes(path, &bytes)
    }

    /// As `load`, for bytes already in memory; `path` names them in errors.
    pub fn load_bytes(&self, path: &Path, bytes: &[u8]) -> Result<Plugin, LoadError> {
        if contract::is_core_module(bytes) {
            return Err(LoadError::CoreModule {
                path: path.to_owned(),
            });
        }
        let sha256 = hex::encode(Sha256::digest(bytes));
        let invalid = |e: wasmtime::Error| LoadError::Invalid {
            path: path.to_owned(),
            message: format!("{e:#}"),
        };
        let (component, origin) = self
            .cache
            .load(&self.engine, &sha256, bytes)
            .map_err(invalid)?;
        let imports = import_names(&self.engine, &component);
        let refused = capabilities::refused(imports.iter().map(String::as_str));
        if !refused.is_empty() {
            return Err(LoadError::Refused {
                path: path.to_owned(),
                imports: refused,
            });
        }
        let other_contract = || LoadError::OtherContract {
            path: path.to_owned(),
            found: contract::other_versions(&self.engine, &component),
            expected: Contract::ALL
                .iter()
                .map(|c| c.package().to_owned())
                .collect(),
        };
        let pre = match contract::exported(&self.engine, &component) {
            Some(speaks) => Pre::new(&self.linker, &component, speaks).map_err(|e| {
                if contract::other_versions(&self.engine, &component).is_empty() {
                    invalid(e)
                } else {
                    other_contract()
                }
            })?,
            None if !contract::other_versions(&self.engine, &component).is_empty() => {
                return Err(other_contract());
            }
            // Not a plugin of any contract: say what the newest world misses.
            None => Pre::new(&self.linker, &component, Contract::NEWEST).map_err(invalid)?,
        };
        let contract = pre.contract();
        let mut plugin = Plugin {
            pre,
            info: PluginInfo {
                name: String::new(),
                version: String::new(),
                description: String::new(),
                format: DataFormat::ArrowIpc,
                sha256,
                contract,
            },
            imports,
            origin,
            path: path.to_owned(),
        };
        plugin.info = plugin.describe(self).map_err(|e| LoadError::Describe {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Ok(plugin)
    }
}

impl Runtime {
    /// Every import of the component in `bytes`, granted or not, without
    /// loading it as a plugin: for `host plugin inspect`, which must show
    /// what a refused plugin asks for. Compiles it (or takes it from the
    /// cache) but never instantiates it.
    pub fn component_imports(&self, path: &Path, bytes: &[u8]) -> Result<Vec<String>, LoadError> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let (component, _) =
            self.cache
                .load(&self.engine, &sha256, bytes)
                .map_err(|e| LoadError::Invalid {
                    path: path.to_owned(),
                    message: format!("{e:#}"),
                })?;
        Ok(import_names(&self.engine, &component))
    }
}

/// The import names of a component (`wasi:io/streams@0.2.6`, …).
fn import_names(engine: &Engine, component: &Component) -> Vec<String> {
    component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// A loaded plugin, ready to be instantiated for any number of partitions.
pub struct Plugin {
    pre: Pre,
    pub info: PluginInfo,
    /// Everything the component imports.
    pub imports: Vec<String>,
    /// Whether this load compiled the component or read it from the cache.
    pub origin: LoadOrigin,
    pub path: PathBuf,
}

/// What a partition's computation is told about itself.
#[derive(Debug, Clone)]
pub struct PartitionContext {
    /// `layer/name` of the dataset being produced.
    pub dataset: String,
    /// The partition id (`date=2025-02-18`).
    pub partition: String,
    /// The period it covers, RFC 3339, end exclusive; empty when unpartitioned.
    pub period_start: String,
    pub period_end: String,
    /// The dataset's params from pipeline.toml.
    pub params: serde_json::Map<String, serde_json::Value>,
    /// Its inputs, in the order `process` refers to them by index.
    pub inputs: Vec<InputContext>,
}

/// One input of a partition.
#[derive(Debug, Clone)]
pub struct InputContext {
    /// `layer/name` of the input dataset.
    pub dataset: String,
    /// Every column it has.
    pub schema: SchemaRef,
    /// The input partitions read (a window's, or all), oldest first; a
    /// batch names its partition by index into this list.
    pub partitions: Vec<String>,
}

/// How a plugin wants one input fed (what its `open` returned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputPlan {
    /// The columns it reads (in no particular order); `None`: every column.
    pub columns: Option<Vec<String>>,
    /// Whether the input's partitions must come oldest first, one after
    /// the other. Either way, one partition's batches come together and
    /// in order.
    pub ordered: bool,
}

impl Default for InputPlan {
    /// What a plugin that says nothing gets: every column, in order.
    fn default() -> Self {
        InputPlan {
            columns: None,
            ordered: true,
        }
    }
}

impl Plugin {
    fn describe(&self, runtime: &Runtime) -> Result<PluginInfo, RunError> {
        let log = PluginLog::new(
            self.path.display().to_string(),
            String::new(),
            String::new(),
            DESCRIBE_LOG_LINES,
        );
        let mut instance = runtime.instance(&self.pre, &DESCRIBE_LIMITS, log)?;
        let described = instance.describe()?;
        Ok(PluginInfo {
            name: described.name,
            version: described.version,
            description: described.description,
            format: described.format,
            sha256: self.info.sha256.clone(),
            contract: self.info.contract,
        })
    }

    /// Starts computing one partition: a fresh instance, `open` called and
    /// its plan checked against `context` (see [`Session::plan`]).
    pub fn open(
        &self,
        runtime: &Runtime,
        context: &PartitionContext,
        limits: &Limits,
    ) -> Result<Session, RunError> {
        let log = PluginLog::new(
            format!("{}@{}", self.info.name, self.info.version),
            context.dataset.clone(),
            context.partition.clone(),
            PARTITION_LOG_LINES,
        );
        let mut instance = runtime.instance(&self.pre, limits, log)?;
        let opened = instance.open(context)?;
        Session::new(
            instance,
            self.info.format,
            self.info.contract != Contract::V0_1,
            context,
            opened,
        )
    }

    /// Computes one partition: [`Plugin::open`], every input batch in the
    /// order `inputs` gives them (each tagged `(input, partition)`, indexes
    /// into the context), then [`Session::finish`]. Each output batch goes
    /// to `output` as soon as the plugin returns it. For callers that read
    /// their inputs whole (`host plugin test`, the benchmarks, the tests);
    /// `E` carries the caller's own failures (reading input, writing
    /// output) beside the plugin's.
    pub fn run_partition<E: From<RunError>>(
        &self,
        runtime: &Runtime,
        context: &PartitionContext,
        limits: &Limits,
        inputs: impl IntoIterator<Item = Result<(u32, u32, RecordBatch), E>>,
        output: &mut dyn FnMut(RecordBatch) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut session = self.open(runtime, context, limits)?;
        for input in inputs {
            let (index, partition, batch) = input?;
            for out in session.process(index, partition, &batch)? {
                output(out)?;
            }
        }
        session.finish(output)
    }
}

impl Runtime {
    /// A fresh instance of `pre` in its own Store, under `limits`.
    fn instance(&self, pre: &Pre, limits: &Limits, log: PluginLog) -> Result<Instance, RunError> {
        let ticks = (limits.timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        Instance::new(&self.engine, pre, limits, log, ticks)
    }
}
