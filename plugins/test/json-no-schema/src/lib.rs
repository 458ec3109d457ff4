//! A json-lines plugin that breaks the contract's rule for that format: its
//! `open` declares no output schema (returns none). `process` echoes one
//! row per batch, which the host must never get to decode (a test plugin).
//!
//! Written against the WIT bindings directly: the Rust SDK only speaks
//! arrow-ipc.

mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit",
        world: "plugin",
    });
}

use bindings::exports::strata::plugin::transform::Guest;
use bindings::strata::plugin::types::{
    DataFormat, PartitionContext, Plan, PluginError, PluginInfo,
};

struct JsonNoSchema;

impl Guest for JsonNoSchema {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "A json-lines plugin declaring no schema (a test plugin)".into(),
            format: DataFormat::JsonLines,
        }
    }

    fn open(_context: PartitionContext) -> Result<Plan, PluginError> {
        Ok(Plan {
            output: None,
            inputs: Vec::new(),
        })
    }

    fn process(_input: u32, _partition: u32, _batch: Vec<u8>) -> Result<Vec<Vec<u8>>, PluginError> {
        Ok(vec![b"{\"n\": 1}\n".to_vec()])
    }

    fn finish() -> Result<Vec<Vec<u8>>, PluginError> {
        Ok(Vec::new())
    }
}

bindings::export!(JsonNoSchema with_types_in bindings);
