//! Writes 64 MiB to stderr in `open`, then copies its input to its output.

use std::io::Write;

use strata_sdk::arrow::array::RecordBatch;
use strata_sdk::{Context, Error, Info, Transform};

/// How much `open` writes to stderr.
const FLOOD_BYTES: usize = 64 << 20;

struct StderrFlood;

impl Transform for StderrFlood {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Floods stderr with 64 MiB, then copies its input (a test plugin)",
        )
    }

    fn open(_ctx: &Context) -> Result<Self, Error> {
        let mut line = [b'x'; 1024];
        line[1023] = b'\n';
        let mut stderr = std::io::stderr().lock();
        for i in 0..FLOOD_BYTES / line.len() {
            let number = format!("{i:08} ");
            line[..number.len()].copy_from_slice(number.as_bytes());
            // A host that stops taking stderr is fine: stop writing.
            if stderr.write_all(&line).is_err() {
                break;
            }
        }
        let _ = stderr.flush();
        Ok(StderrFlood)
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

strata_sdk::export_transform!(StderrFlood);
