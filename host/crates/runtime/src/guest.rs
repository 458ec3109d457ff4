//! One plugin instance in its own Store, and its four calls whichever
//! contract it speaks: the only place that knows there are two worlds.
//! Traps become the `RunError` that names them; a plugin's own error stays
//! apart from a trap.

use arrow::datatypes::SchemaRef;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store, Trap};

use crate::contract::Contract;
use crate::sandbox::{CapturedOutput, PluginLog, SandboxState};
use crate::{DataFormat, InputPlan, Limits, PartitionContext, RunError, v0_1, v0_2};

/// What one call may copy out of the guest beyond the output it still may
/// produce: list headers, error and log strings.
const CALL_OVERHEAD_BYTES: u64 = 1 << 20;

/// wasmtime's error when a call copies more out of the guest than the
/// store's hostcall fuel allows (its type is private).
const HOSTCALL_FUEL_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";

/// A component linked and checked against the world it exports, ready to
/// be instantiated.
pub(crate) enum Pre {
    V0_1(v0_1::PluginPre<SandboxState>),
    V0_2(v0_2::PluginPre<SandboxState>),
}

impl Pre {
    pub(crate) fn new(
        linker: &Linker<SandboxState>,
        component: &Component,
        contract: Contract,
    ) -> wasmtime::Result<Pre> {
        let pre = linker.instantiate_pre(component)?;
        Ok(match contract {
            Contract::V0_1 => Pre::V0_1(v0_1::PluginPre::new(pre)?),
            Contract::V0_2 => Pre::V0_2(v0_2::PluginPre::new(pre)?),
        })
    }

    pub(crate) fn contract(&self) -> Contract {
        match self {
            Pre::V0_1(_) => Contract::V0_1,
            Pre::V0_2(_) => Contract::V0_2,
        }
    }

    /// Links both worlds' imports into `linker`.
    pub(crate) fn add_to_linker(linker: &mut Linker<SandboxState>) -> wasmtime::Result<()> {
        use wasmtime::component::HasSelf;
        v0_1::Plugin::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
        v0_2::Plugin::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
        Ok(())
    }
}

enum Bindings {
    V0_1(v0_1::Plugin),
    V0_2(v0_2::Plugin),
}

/// What a plugin says about itself in `describe`.
pub(crate) struct Described {
    pub name: String,
    pub version: String,
    pub description: String,
    pub format: DataFormat,
}

/// What `open` returned, before the runtime checks it against the context.
pub(crate) struct Opened {
    /// The declared output schema (json-lines), or why it is unusable.
    pub output: Option<Result<SchemaRef, String>>,
    /// The plugin's plan per input, possibly fewer (or more) than inputs.
    pub inputs: Vec<InputPlan>,
}

/// One instance in its own Store, with its captured output.
pub(crate) struct Instance {
    store: Store<SandboxState>,
    bindings: Bindings,
    output: CapturedOutput,
    pub(crate) limits: Limits,
}

impl Instance {
    pub(crate) fn new(
        engine: &Engine,
        pre: &Pre,
        limits: &Limits,
        log: PluginLog,
        epoch_ticks: u64,
    ) -> Result<Self, RunError> {
        let (state, output) = SandboxState::new(limits.memory_bytes, limits.capture_bytes, log);
        let mut store = Store::new(engine, state);
        store.limiter(|s| &mut s.memory);
        store.set_epoch_deadline(epoch_ticks);
        store.epoch_deadline_trap();
        store.set_hostcall_fuel(hostcall_fuel(limits.output_bytes));
        let bindings = match pre {
            Pre::V0_1(pre) => pre.instantiate(&mut store).map(Bindings::V0_1),
            Pre::V0_2(pre) => pre.instantiate(&mut store).map(Bindings::V0_2),
        };
        let bindings = match bindings {
            Ok(b) => b,
            Err(e) => return Err(classify(e, &store, &output, limits)),
        };
        let mut instance = Instance {
            bindings,
            store,
            output,
            limits: limits.clone(),
        };
        instance.flush_output();
        Ok(instance)
    }

    pub(crate) fn describe(&mut self) -> Result<Described, RunError> {
        let (name, version, description, format) = match &self.bindings {
            Bindings::V0_1(p) => {
                let i = p.strata_plugin_transform().call_describe(&mut self.store);
                let i = self.outcome(i)?;
                (i.name, i.version, i.description, v0_1::format(i.format))
            }
            Bindings::V0_2(p) => {
                let i = p.strata_plugin_transform().call_describe(&mut self.store);
                let i = self.outcome(i)?;
                (i.name, i.version, i.description, v0_2::format(i.format))
            }
        };
        Ok(Described {
            name,
            version,
            description,
            format,
        })
    }

    pub(crate) fn open(&mut self, context: &PartitionContext) -> Result<Opened, RunError> {
        match &self.bindings {
            Bindings::V0_1(p) => {
                let wit = v0_1::context(context);
                let r = p.strata_plugin_transform().call_open(&mut self.store, &wit);
                let declared = self.outcome(r)?.map_err(v0_1::error)?;
                Ok(v0_1::plan(declared, context.inputs.len()))
            }
            Bindings::V0_2(p) => {
                let wit = v0_2::context(context)?;
                let r = p.strata_plugin_transform().call_open(&mut self.store, &wit);
                let plan = self.outcome(r)?.map_err(v0_2::error)?;
                Ok(v0_2::plan(plan))
            }
        }
    }

    /// One batch; at most `allowed` bytes of output may come back.
    pub(crate) fn process(
        &mut self,
        input: u32,
        partition: u32,
        batch: &[u8],
        allowed: u64,
    ) -> Result<Vec<Vec<u8>>, RunError> {
        self.allow_output(allowed);
        match &self.bindings {
            Bindings::V0_1(p) => {
                let r = p
                    .strata_plugin_transform()
                    .call_process(&mut self.store, input, batch);
                self.outcome(r)?.map_err(v0_1::error)
            }
            Bindings::V0_2(p) => {
                let r = p.strata_plugin_transform().call_process(
                    &mut self.store,
                    input,
                    partition,
                    batch,
                );
                self.outcome(r)?.map_err(v0_2::error)
            }
        }
    }

    /// The next output after the input ended; at most `allowed` bytes.
    pub(crate) fn finish(&mut self, allowed: u64) -> Result<Vec<Vec<u8>>, RunError> {
        self.allow_output(allowed);
        match &self.bindings {
            Bindings::V0_1(p) => {
                let r = p.strata_plugin_transform().call_finish(&mut self.store);
                self.outcome(r)?.map_err(v0_1::error)
            }
            Bindings::V0_2(p) => {
                let r = p.strata_plugin_transform().call_finish(&mut self.store);
                self.outcome(r)?.map_err(v0_2::error)
            }
        }
    }

    /// Lets the next call copy at most `bytes` of output out of the guest.
    fn allow_output(&mut self, bytes: u64) {
        self.store.set_hostcall_fuel(hostcall_fuel(bytes));
    }

    /// A call's result, its trap turned into the RunError that names it.
    fn outcome<R>(&mut self, result: wasmtime::Result<R>) -> Result<R, RunError> {
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
