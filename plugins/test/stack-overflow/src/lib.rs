//! Recurses without bound in process, on purpose.

use strata_sdk::arrow::array::RecordBatch;
use strata_sdk::{Context, Error, Info, Transform};

/// Recurses until the stack runs out; each frame keeps an array on the stack
/// and adds to the result after the call, so it is no tail call.
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 16]);
    if std::hint::black_box(depth) == u64::MAX {
        return frame[0];
    }
    recurse(depth + 1).wrapping_add(frame[1])
}

struct StackOverflow;

impl Transform for StackOverflow {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Recurses without bound in process, on purpose.",
        )
    }

    fn open(_ctx: &Context) -> Result<Self, Error> {
        Ok(StackOverflow)
    }

    fn process(&mut self, _input: usize, _batch: RecordBatch) -> Result<Vec<RecordBatch>, Error> {
        let depth = recurse(0);
        Err(Error::Failed(format!(
            "the stack did not overflow ({depth})"
        )))
    }

    /// Reached only if the host sent no batch at all.
    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        let depth = recurse(0);
        Err(Error::Failed(format!(
            "the stack did not overflow ({depth})"
        )))
    }
}

strata_sdk::export_transform!(StackOverflow);
