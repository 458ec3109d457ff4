//! Reports the wall clock and a random number as rows (a test plugin).
//!
//! Output: one column `observed: utf8`, one row per observation, all in
//! `finish`; input batches are consumed and ignored.

use std::sync::Arc;

use strata_sdk::arrow::array::{RecordBatch, StringArray};
use strata_sdk::{Context, Error, Info, Transform};

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{SystemTime, UNIX_EPOCH};

fn observe() -> Vec<String> {
    let now = match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs().to_string(),
        Err(e) => format!("before the epoch by {:?}", e.duration()),
    };
    // RandomState seeds itself from the WASI random source.
    let random = RandomState::new().hash_one(0u64);
    vec![
        format!("now_unix_secs={now}"),
        format!("random_u64={random}"),
    ]
}

struct Clock;

impl Transform for Clock {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Reports the wall clock and a random number as rows (a test plugin).",
        )
    }

    fn open(_ctx: &Context) -> Result<Self, Error> {
        Ok(Clock)
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

strata_sdk::export_transform!(Clock);
