//! Calls `host.log` once per line, many times, then copies its input to its
//! output (a test plugin).
//!
//! Params:
//! - `lines`: how many lines `process` logs for each batch (default 100000),
//!   a number or its text; each `flood line <n>`.

use strata_sdk::arrow::array::RecordBatch;
use strata_sdk::{Context, Error, Info, Transform};

struct LogFlood {
    lines: u64,
}

impl Transform for LogFlood {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Floods the host's log, then copies its input (a test plugin)",
        )
    }

    fn open(ctx: &Context) -> Result<Self, Error> {
        ctx.params.check_known(&["lines"])?;
        // A number, or its text (`lines = "10"`, as contract 0.1 gave every
        // param).
        let lines = match ctx.params.get("lines") {
            Some(text) => text
                .parse()
                .map_err(|e| Error::BadParams(format!("`lines`: {e}")))?,
            None => ctx.params.parse("lines")?.unwrap_or(100_000),
        };
        Ok(LogFlood { lines })
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        for n in 0..self.lines {
            strata_sdk::log::info(format!("flood line {n}"));
        }
        Ok(vec![batch])
    }
}

strata_sdk::export_transform!(LogFlood);
