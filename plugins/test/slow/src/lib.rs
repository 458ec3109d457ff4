//! Copies its input to its output after spinning the CPU a while on the
//! partitions its params name (a test plugin: a task that is still running
//! when a test kills the process around it).
//!
//! Params:
//! - `slow_partition`: partition ids (comma-separated) that are slow.
//! - `spin`: how many loop iterations a slow partition spins in `open`, a
//!   number or its text (default 2,000,000,000: a few seconds).

use strata_sdk::arrow::array::RecordBatch;
use strata_sdk::{Context, Error, Info, Transform};

struct Slow;

impl Transform for Slow {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Copies its input after spinning on the partitions it is told (a test plugin)",
        )
    }

    fn open(ctx: &Context) -> Result<Self, Error> {
        ctx.params.check_known(&["slow_partition", "spin"])?;
        if ctx.params.list("slow_partition")?.contains(&ctx.partition) {
            // A number, or its text (`spin = "1000"`, as contract 0.1 gave
            // every param).
            let spin: u64 = match ctx.params.get("spin") {
                Some(text) => text
                    .parse()
                    .map_err(|_| Error::BadParams(format!("spin `{text}` is not a count")))?,
                None => ctx.params.parse("spin")?.unwrap_or(2_000_000_000),
            };
            let mut n: u64 = 0;
            for _ in 0..spin {
                // black_box keeps the loop from being optimised away.
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        Ok(Slow)
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        Ok(vec![batch])
    }
}

strata_sdk::export_transform!(Slow);
