//! The per-partition sandbox: what a plugin instance sees of the world.
//!
//! Nothing: no preopened directories, no environment, no arguments, no
//! network, a wall clock stuck at the Unix epoch, a monotonic clock that never
//! moves, and randomness from a fixed seed. Output is therefore a function of
//! the plugin's bytes and its inputs alone, which is what makes recomputed
//! partitions byte-identical. stdout and stderr go to a bounded buffer.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

/// Everything a plugin's Store holds.
pub(crate) struct SandboxState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(super) memory: MemoryBudget,
    pub(super) log: PluginLog,
}

impl SandboxState {
    pub(crate) fn new(
        memory_limit: u64,
        capture_limit: usize,
        log: PluginLog,
    ) -> (Self, CapturedOutput) {
        let output = CapturedOutput::new(capture_limit);
        let mut builder = WasiCtx::builder();
        builder
            .stdout(output.clone())
            .stderr(output.clone())
            .wall_clock(EpochClock)
            .monotonic_clock(FrozenClock)
            .secure_random(wasmtime_wasi::Deterministic::new(seed_bytes()))
            .insecure_random(wasmtime_wasi::Deterministic::new(seed_bytes()))
            .insecure_random_seed(0x5354_5241_5441)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        let state = SandboxState {
            wasi: builder.build(),
            table: ResourceTable::new(),
            memory: MemoryBudget::new(memory_limit),
            log,
        };
        (state, output)
    }
}

impl WasiView for SandboxState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Bytes a plugin's "random" numbers cycle through: fixed, so output is
/// reproducible. Randomness in a plugin is for algorithms, never for secrets.
fn seed_bytes() -> Vec<u8> {
    let mut bytes = Vec::with_capacity(4096);
    let mut block: [u8; 32] = Sha256::digest(b"strata deterministic sandbox").into();
    while bytes.len() < 4096 {
        bytes.extend_from_slice(&block);
        block = Sha256::digest(block).into();
    }
    bytes
}

/// The wall clock reads 1970-01-01T00:00:00Z, always.
struct EpochClock;

impl HostWallClock for EpochClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

/// The monotonic clock never advances.
struct FrozenClock;

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// Total linear memory and table growth allowed for one instance, summed
/// over all of its memories (a component may have several).
pub(crate) struct MemoryBudget {
    limit: u64,
    used: u64,
    /// Set when a grow was refused, so a later trap can be named for what it is.
    pub exceeded: bool,
}

impl MemoryBudget {
    fn new(limit: u64) -> Self {
        MemoryBudget {
            limit,
            used: 0,
            exceeded: false,
        }
    }

    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }
}

impl wasmtime::ResourceLimiter for MemoryBudget {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let extra = (desired - current) as u64;
        if self.used + extra > self.limit {
            self.exceeded = true;
            return Ok(false);
        }
        self.used += extra;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables are small; cap them so a runaway guest cannot use them to
        // exhaust host memory either.
        Ok(desired <= 1_000_000)
    }
}

/// A plugin's stdout and stderr together, keeping the first `limit` bytes and
/// counting the rest. Writing never fails: a chatty plugin is not an error.
#[derive(Clone)]
pub(crate) struct CapturedOutput {
    inner: Arc<Mutex<Captured>>,
}

struct Captured {
    limit: usize,
    kept: Vec<u8>,
    dropped: u64,
}

impl CapturedOutput {
    fn new(limit: usize) -> Self {
        CapturedOutput {
            inner: Arc::new(Mutex::new(Captured {
                limit,
                kept: Vec::new(),
                dropped: 0,
            })),
        }
    }

    fn push(&self, bytes: &[u8]) {
        let mut c = self.inner.lock().expect("captured output lock");
        let room = c.limit.saturating_sub(c.kept.len());
        let keep = room.min(bytes.len());
        c.kept.extend_from_slice(&bytes[..keep]);
        c.dropped += (bytes.len() - keep) as u64;
    }

    /// What was captured since the last call, lossily decoded, with a note
    /// of what was dropped. The buffer starts empty again.
    pub(crate) fn take_text(&self) -> String {
        let mut c = self.inner.lock().expect("captured output lock");
        let mut text = String::from_utf8_lossy(&c.kept).into_owned();
        if c.dropped > 0 {
            text.push_str(&format!("\n[{} more bytes of output dropped]", c.dropped));
        }
        c.kept.clear();
        c.dropped = 0;
        text
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for CapturedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Where a plugin's `log` calls go: the host's tracing log, tagged.
#[derive(Clone, Debug)]
pub(crate) struct PluginLog {
    pub plugin: String,
    pub dataset: String,
    pub partition: String,
    /// Log calls allowed per partition; the rest are counted, not written.
    pub budget: usize,
    /// The budget it started with.
    pub limit: usize,
    /// Log calls past the budget.
    pub dropped: u64,
}

impl PluginLog {
    pub(crate) fn new(plugin: String, dataset: String, partition: String, budget: usize) -> Self {
        PluginLog {
            plugin,
            dataset,
            partition,
            budget,
            limit: budget,
            dropped: 0,
        }
    }
}

/// How loud a `host.log` line is, whichever contract it came through.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl PluginLog {
    /// Writes one `host.log` line to the host's log, tagged with plugin,
    /// dataset and partition, while the budget lasts; counts the rest.
    pub(crate) fn write(&mut self, level: LogLevel, message: &str) {
        if self.budget == 0 {
            self.dropped += 1;
            return;
        }
        self.budget -= 1;
        macro_rules! emit {
            ($lvl:ident) => {
                tracing::$lvl!(target: "plugin", plugin = %self.plugin, dataset = %self.dataset, partition = %self.partition, "{message}")
            };
        }
        match level {
            LogLevel::Debug => emit!(debug),
            LogLevel::Info => emit!(info),
            LogLevel::Warn => emit!(warn),
            LogLevel::Error => emit!(error),
        }
    }
}
