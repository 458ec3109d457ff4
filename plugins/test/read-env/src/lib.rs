//! Reports every environment variable it can see as a row KEY=VALUE (a test plugin).
//!
//! Output: one column `observed: utf8`, one row per observation, all in
//! `finish`; input batches are consumed and ignored.

use std::sync::Arc;

use strata_sdk::arrow::array::{RecordBatch, StringArray};
use strata_sdk::{Context, Error, Info, Transform};

fn observe() -> Vec<String> {
    std::env::vars_os()
        .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
        .collect()
}

struct ReadEnv;

impl Transform for ReadEnv {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Reports every environment variable it can see as a row KEY=VALUE (a test plugin).",
        )
    }

    fn open(_ctx: &Context) -> Result<Self, Error> {
        Ok(ReadEnv)
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        _batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        Ok(Vec::new())
    }

    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        let rows = StringArray::from(observe());
        Ok(vec![RecordBatch::try_from_iter([(
            "observed",
            Arc::new(rows) as _,
        )])?])
    }
}

strata_sdk::export_transform!(ReadEnv);
