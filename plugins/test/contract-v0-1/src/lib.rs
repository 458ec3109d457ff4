//! A plugin of contract 0.1 (`strata:plugin@0.1.0`), as plugins built
//! before 0.2 are: bound with wit-bindgen straight to the repository's
//! `wit/v0.1/strata.wit`, not through the SDK (which speaks the newest
//! contract). The host must keep running it, also in one pipeline with 0.2
//! plugins (a test plugin).
//!
//! A passthrough: every input batch (an Arrow IPC stream) goes back out as
//! it came, of every input, in order; `finish` adds nothing. Params are
//! accepted and ignored. `open` logs one line through the 0.1 `host`
//! import: `contract 0.1 plugin open on <partition>`.

mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit/v0.1",
        world: "plugin",
    });
}

use bindings::exports::strata::plugin::transform::Guest;
use bindings::strata::plugin::host;
use bindings::strata::plugin::types::{
    DataFormat, Field, LogLevel, PartitionContext, PluginError, PluginInfo,
};

struct ContractV01;

impl Guest for ContractV01 {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "A contract 0.1 plugin: copies its input (a test plugin)".into(),
            format: DataFormat::ArrowIpc,
        }
    }

    /// An arrow-ipc plugin: no output schema.
    fn open(context: PartitionContext) -> Result<Option<Vec<Field>>, PluginError> {
        host::log(
            LogLevel::Info,
            &format!("contract 0.1 plugin open on {}", context.partition),
        );
        Ok(None)
    }

    fn process(_input: u32, batch: Vec<u8>) -> Result<Vec<Vec<u8>>, PluginError> {
        Ok(vec![batch])
    }

    fn finish() -> Result<Vec<Vec<u8>>, PluginError> {
        Ok(Vec::new())
    }
}

bindings::export!(ContractV01 with_types_in bindings);
