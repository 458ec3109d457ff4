//! A plugin built for a version of the contract this host does not speak:
//! `wit/` here is a copy of the repository's `wit/` whose package is
//! `strata:plugin@0.3.0`, so it imports and exports that version's
//! interfaces. Otherwise it copies its input to its output (a test plugin).

mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "plugin",
    });
}

use bindings::exports::strata::plugin::transform::Guest;
use bindings::strata::plugin::host;
use bindings::strata::plugin::types::{
    DataFormat, LogLevel, PartitionContext, Plan, PluginError, PluginInfo,
};

struct OtherContract;

impl Guest for OtherContract {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Built for contract 0.3.0 (a test plugin)".into(),
            format: DataFormat::ArrowIpc,
        }
    }

    fn open(_context: PartitionContext) -> Result<Plan, PluginError> {
        host::log(LogLevel::Info, "open of a plugin for contract 0.3.0");
        Ok(Plan {
            output: None,
            inputs: Vec::new(),
        })
    }

    fn process(_input: u32, _partition: u32, batch: Vec<u8>) -> Result<Vec<Vec<u8>>, PluginError> {
        Ok(vec![batch])
    }

    fn finish() -> Result<Vec<Vec<u8>>, PluginError> {
        Ok(Vec::new())
    }
}

bindings::export!(OtherContract with_types_in bindings);
