//! Calls `host.log` once per line, many times, then copies its input to its
//! output (a test plugin).
//!
//! Params:
//! - `lines`: how many lines `process` logs for each batch (default 100000),
//!   each `flood line <n>`.

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
        let lines = match ctx.params.get("lines") {
            None => 100_000,
            Some(n) => n
                .parse()
                .map_err(|e| Error::BadParams(format!("`lines`: {e}")))?,
        };
        Ok(LogFlood { lines })
    }

    fn process(&mut self, _input: usize, batch: RecordBatch) -> Result<Vec<RecordBatch>, Error> {
        for n in 0..self.lines {
            strata_sdk::log::info(format!("flood line {n}"));
        }
        Ok(vec![batch])
    }
}

strata_sdk::export_transform!(LogFlood);
