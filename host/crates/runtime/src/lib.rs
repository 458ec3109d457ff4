//! Runs transform plugins: WebAssembly components implementing the WIT world
//! in `wit/`, each call inside a fresh sandbox with memory, time and output
//! limits.
//!
//! The runtime runs a plugin; it never decides what is stale or where output
//! goes (that is the planner's and the store's business).

mod cache;
mod capabilities;
mod contract;
pub mod ipc;
pub mod jsonl;
mod sandbox;
pub mod schema;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store, Trap};

pub use cache::{ComponentCache, LoadOrigin};
pub use capabilities::is_granted;
use sandbox::{CapturedOutput, PluginLog, SandboxState};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../../wit/v0.1",
        world: "plugin",
    });
}

use bindings::strata::plugin::types as wit;

/// How often the epoch ticks; timeouts are counted in ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// What one call may copy out of the guest beyond the output it still may
/// produce: list headers, error and log strings.
const CALL_OVERHEAD_BYTES: u64 = 1 << 20;

/// wasmtime's error when a call copies more out of the guest than the
/// store's hostcall fuel allows (its type is private).
const HOSTCALL_FUEL_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";

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
        "{path} is built for another contract: it uses {}, but this host speaks {expected}; \
         rebuild it against this host's wit/",
        .found.join(", ")
    )]
    OtherContract {
        path: PathBuf,
        /// The contract's interfaces the component imports or exports at
        /// another version (`strata:plugin/transform@0.2.0`, …).
        found: Vec<String>,
        /// The contract this host binds (`strata:plugin@0.1.0`).
        expected: String,
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
    /// (`None`: no cache).
    pub fn new(cache_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        // Deep recursion traps instead of taking the host down.
        config.max_wasm_stack(1 << 20);
        let engine = Engine::new(&config).map_err(anyhow::Error::from)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
        bindings::Plugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .map_err(anyhow::Error::from)?;

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
        let pre = self
            .linker
            .instantiate_pre(&component)
            .and_then(bindings::PluginPre::new)
            .map_err(|e| {
                let found = contract::other_versions(&self.engine, &component);
                if found.is_empty() {
                    invalid(e)
                } else {
                    LoadError::OtherContract {
                        path: path.to_owned(),
                        found,
                        expected: contract::package().to_owned(),
                    }
                }
            })?;
        let mut plugin = Plugin {
            pre,
            info: PluginInfo {
                name: String::new(),
                version: String::new(),
                description: String::new(),
                format: DataFormat::ArrowIpc,
                sha256,
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
    pre: bindings::PluginPre<SandboxState>,
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
    pub dataset: String,
    pub partition: String,
    pub period_start: String,
    pub period_end: String,
    pub params: Vec<(String, String)>,
    pub inputs: Vec<(String, SchemaRef)>,
}

impl Plugin {
    fn describe(&self, runtime: &Runtime) -> Result<PluginInfo, RunError> {
        let log = PluginLog::new(
            self.path.display().to_string(),
            String::new(),
            String::new(),
            DESCRIBE_LOG_LINES,
        );
        let mut instance = Instance::new(runtime, self, &DESCRIBE_LIMITS, log)?;
        let info = instance.call(|store, p| p.strata_plugin_transform().call_describe(store))?;
        Ok(PluginInfo {
            name: info.name,
            version: info.version,
            description: info.description,
            format: match info.format {
                wit::DataFormat::ArrowIpc => DataFormat::ArrowIpc,
                wit::DataFormat::JsonLines => DataFormat::JsonLines,
            },
            sha256: self.info.sha256.clone(),
        })
    }

    /// Computes one partition: a fresh instance, `open`, every input batch
    /// in the order `inputs` gives them (each with the index of its input),
    /// then `finish`. Each output batch goes to `output` as soon as the
    /// plugin returns it. This is the one way a plugin is driven through a
    /// partition: `host run`, `host plugin test`, the benchmarks and the
    /// tests all come here. `E` carries the caller's own failures (reading
    /// input, writing output) beside the plugin's.
    pub fn run_partition<E: From<RunError>>(
        &self,
        runtime: &Runtime,
        context: &PartitionContext,
        limits: &Limits,
        inputs: impl IntoIterator<Item = Result<(u32, RecordBatch), E>>,
        output: &mut dyn FnMut(RecordBatch) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut session = self.open(runtime, context, limits)?;
        for input in inputs {
            let (index, batch) = input?;
            for out in session.process(index, &batch)? {
                output(out)?;
            }
        }
        for out in session.finish()? {
            output(out)?;
        }
        Ok(())
    }

    /// Starts computing one partition: a fresh instance, `open` called.
    fn open(
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
        let mut instance = Instance::new(runtime, self, limits, log)?;
        let wit_context = wit::PartitionContext {
            dataset: context.dataset.clone(),
            partition: context.partition.clone(),
            period_start: context.period_start.clone(),
            period_end: context.period_end.clone(),
            params: context.params.clone(),
            inputs: context
                .inputs
                .iter()
                .map(|(dataset, schema)| wit::Input {
                    dataset: dataset.clone(),
                    fields: to_wit_fields(schema),
                })
                .collect(),
        };
        let declared =
            instance.call(|store, p| p.strata_plugin_transform().call_open(store, &wit_context))?;
        let declared = plugin_result(declared)?;
        let json_schema = match (self.info.format, declared) {
            (DataFormat::ArrowIpc, _) => None,
            (DataFormat::JsonLines, Some(fields)) => Some(
                from_wit_fields(fields)
                    .map_err(|e| RunError::Malformed(format!("declared output schema: {e}")))?,
            ),
            (DataFormat::JsonLines, None) => {
                return Err(RunError::Malformed(
                    "a json-lines plugin must return its output schema from open()".into(),
                ));
            }
        };
        Ok(Session {
            instance,
            format: self.info.format,
            json_schema,
            output_schema: None,
            output_bytes: 0,
        })
    }
}

fn to_wit_fields(schema: &Schema) -> Vec<wit::Field> {
    schema
        .fields()
        .iter()
        .map(|f| wit::Field {
            name: f.name().clone(),
            data_type: schema::type_name(f.data_type()),
            nullable: f.is_nullable(),
        })
        .collect()
}

fn from_wit_fields(fields: Vec<wit::Field>) -> Result<SchemaRef, String> {
    let fields = fields
        .into_iter()
        .map(|f| {
            schema::parse_type(&f.data_type)
                .map(|t| Field::new(&f.name, t, f.nullable))
                .map_err(|e| format!("column `{}`: {e}", f.name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

fn plugin_result<T>(result: Result<T, wit::PluginError>) -> Result<T, RunError> {
    result.map_err(|e| match e {
        wit::PluginError::BadParams(m) => RunError::BadParams(m),
        wit::PluginError::BadInput(m) => RunError::BadInput(m),
        wit::PluginError::Failed(m) => RunError::Failed(m),
    })
}

/// One instance in its own Store, with its captured output.
struct Instance {
    store: Store<SandboxState>,
    bindings: bindings::Plugin,
    output: CapturedOutput,
    limits: Limits,
}

impl Instance {
    fn new(
        runtime: &Runtime,
        plugin: &Plugin,
        limits: &Limits,
        log: PluginLog,
    ) -> Result<Self, RunError> {
        let (state, output) = SandboxState::new(limits.memory_bytes, limits.capture_bytes, log);
        let mut store = Store::new(&runtime.engine, state);
        store.limiter(|s| &mut s.memory);
        let ticks = (limits.timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        store.set_hostcall_fuel(hostcall_fuel(limits.output_bytes));
        let mut instance = Instance {
            bindings: match plugin.pre.instantiate(&mut store) {
                Ok(b) => b,
                Err(e) => {
                    return Err(classify(e, &store, &output, limits));
                }
            },
            store,
            output,
            limits: limits.clone(),
        };
        instance.flush_output();
        Ok(instance)
    }

    /// Lets the next calls copy at most `bytes` of output out of the guest.
    fn allow_output(&mut self, bytes: u64) {
        self.store.set_hostcall_fuel(hostcall_fuel(bytes));
    }

    /// Calls into the guest, turning a trap into the RunError that names it.
    fn call<R>(
        &mut self,
        f: impl FnOnce(&mut Store<SandboxState>, &bindings::Plugin) -> wasmtime::Result<R>,
    ) -> Result<R, RunError> {
        let result = f(&mut self.store, &self.bindings);
        match result {
            Ok(r) => {
                self.flush_output();
                Ok(r)
            }
            Err(e) => Err(classify(e, &self.store, &self.output, &self.limits)),
        }
    }

    /// Sends what the plugin printed so far to the log.
    fn flush_output(&mut self) {
        let text = self.output.take_text();
        if !text.is_empty() {
            let log = &self.store.data().log;
            for line in text.lines() {
                tracing::info!(
                    target: "plugin",
                    plugin = %log.plugin,
                    dataset = %log.dataset,
                    partition = %log.partition,
                    "{line}"
                );
            }
        }
    }
}

impl Drop for Instance {
    /// Says how many `host.log` lines were over the budget, once.
    fn drop(&mut self) {
        let log = &self.store.data().log;
        if log.dropped > 0 {
            tracing::warn!(
                target: "plugin",
                plugin = %log.plugin,
                dataset = %log.dataset,
                partition = %log.partition,
                "{} more log lines dropped (a plugin may log {} lines per {})",
                log.dropped,
                log.limit,
                if log.dataset.is_empty() { "describe" } else { "partition" },
            );
        }
    }
}

/// What one call may copy out of the guest when the partition may still
/// produce `output_bytes`. wasmtime's default, 128 MiB per call, would fail
/// any call returning more whatever the limits say; this bounds the host's
/// allocations for a guest by the partition's own output limit instead.
fn hostcall_fuel(output_bytes: u64) -> usize {
    usize::try_from(output_bytes.saturating_add(CALL_OVERHEAD_BYTES)).unwrap_or(usize::MAX)
}

fn classify(
    error: wasmtime::Error,
    store: &Store<SandboxState>,
    output: &CapturedOutput,
    limits: &Limits,
) -> RunError {
    let text = output.take_text();
    let memory = &store.data().memory;
    if memory.exceeded {
        return RunError::MemoryLimit(memory.limit());
    }
    if format!("{error:#}").contains(HOSTCALL_FUEL_EXHAUSTED) {
        return RunError::OutputLimit(limits.output_bytes);
    }
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return RunError::Exit {
            code: exit.0,
            output: text,
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => RunError::Timeout(limits.timeout),
        Some(Trap::StackOverflow) => RunError::StackOverflow,
        Some(Trap::UnreachableCodeReached) if text.contains("panicked at") => RunError::Panic {
            message: panic_message(&text),
        },
        Some(trap) => RunError::Trap {
            message: trap.to_string(),
            output: text,
        },
        None => RunError::Trap {
            message: format!("{error:#}"),
            output: text,
        },
    }
}

/// The panic message a Rust guest printed (`panicked at src/lib.rs:3:5:\nboom`).
fn panic_message(output: &str) -> String {
    let mut lines = output.lines().skip_while(|l| !l.contains("panicked at"));
    let location = lines.next().unwrap_or_default().trim();
    let message: Vec<&str> = lines
        .take_while(|l| !l.starts_with("note:"))
        .map(str::trim)
        .collect();
    let location = location
        .split_once("panicked at ")
        .map(|(_, l)| l.trim_end_matches(':'))
        .unwrap_or(location);
    format!("{} (at {location})", message.join(" "))
}

/// A partition being computed: feed it batches, then finish.
struct Session {
    instance: Instance,
    format: DataFormat,
    json_schema: Option<SchemaRef>,
    output_schema: Option<SchemaRef>,
    output_bytes: u64,
}

impl Session {
    /// Sends one batch of input number `input`; returns the output it produced.
    fn process(&mut self, input: u32, batch: &RecordBatch) -> Result<Vec<RecordBatch>, RunError> {
        let bytes = self.encode(batch)?;
        self.instance.allow_output(self.remaining_output());
        let out = self.instance.call(|store, p| {
            p.strata_plugin_transform()
                .call_process(store, input, &bytes)
        })?;
        let out = plugin_result(out)?;
        self.decode(out)
    }

    /// Ends the input; returns the last output.
    fn finish(mut self) -> Result<Vec<RecordBatch>, RunError> {
        self.instance.allow_output(self.remaining_output());
        let out = self
            .instance
            .call(|store, p| p.strata_plugin_transform().call_finish(store))?;
        let out = plugin_result(out)?;
        self.decode(out)
    }

    /// Output bytes the partition may still produce.
    fn remaining_output(&self) -> u64 {
        self.instance
            .limits
            .output_bytes
            .saturating_sub(self.output_bytes)
    }

    fn encode(&self, batch: &RecordBatch) -> Result<Vec<u8>, RunError> {
        match self.format {
            DataFormat::ArrowIpc => ipc::encode(batch).map_err(|e| RunError::Host(e.to_string())),
            DataFormat::JsonLines => jsonl::encode(batch).map_err(RunError::Host),
        }
    }

    fn decode(&mut self, outputs: Vec<Vec<u8>>) -> Result<Vec<RecordBatch>, RunError> {
        let mut batches = Vec::new();
        for bytes in outputs {
            self.output_bytes += bytes.len() as u64;
            if self.output_bytes > self.instance.limits.output_bytes {
                return Err(RunError::OutputLimit(self.instance.limits.output_bytes));
            }
            let decoded = match (&self.format, &self.json_schema) {
                (DataFormat::JsonLines, Some(schema)) => {
                    jsonl::decode(&bytes, schema.clone()).map_err(RunError::Malformed)?
                }
                _ => ipc::decode(&bytes)
                    .map_err(|e| RunError::Malformed(format!("not an Arrow IPC stream: {e}")))?,
            };
            for batch in decoded {
                self.check_schema(&batch)?;
                batches.push(batch);
            }
        }
        Ok(batches)
    }

    fn check_schema(&mut self, batch: &RecordBatch) -> Result<(), RunError> {
        match &self.output_schema {
            None => {
                self.output_schema = Some(batch.schema());
                Ok(())
            }
            Some(first) if first.fields() == batch.schema().fields() => Ok(()),
            Some(first) => Err(RunError::SchemaChanged {
                first: schema::describe(first),
                later: schema::describe(&batch.schema()),
            }),
        }
    }
}

impl bindings::strata::plugin::types::Host for SandboxState {}

impl bindings::strata::plugin::host::Host for SandboxState {
    fn log(&mut self, level: wit::LogLevel, message: String) {
        if self.log.budget == 0 {
            self.log.dropped += 1;
            return;
        }
        self.log.budget -= 1;
        let log = &self.log;
        macro_rules! emit {
            ($lvl:ident) => {
                tracing::$lvl!(target: "plugin", plugin = %log.plugin, dataset = %log.dataset, partition = %log.partition, "{message}")
            };
        }
        match level {
            wit::LogLevel::Debug => emit!(debug),
            wit::LogLevel::Info => emit!(info),
            wit::LogLevel::Warn => emit!(warn),
            wit::LogLevel::Error => emit!(error),
        }
    }
}
