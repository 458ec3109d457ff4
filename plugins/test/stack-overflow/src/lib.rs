//! Recurses without bound in process, on purpose.

use std::sync::atomic::{AtomicU64, Ordering};

use strata_sdk::arrow::array::RecordBatch;
use strata_sdk::{Context, Error, Info, Transform};

/// Never equal to a depth reached; an atomic so the compiler cannot know.
static STOP: AtomicU64 = AtomicU64::new(u64::MAX);

/// Recurses until the wasm call stack runs out. The locals stay in wasm
/// locals (nothing on the shadow stack in linear memory), and the result is
/// combined after the call in a way that is no tail call and no accumulator
/// loop, so the compiler cannot turn the recursion into a loop.
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    if depth == STOP.load(Ordering::Relaxed) {
        return depth;
    }
    recurse(depth + 1).wrapping_mul(3).wrapping_add(depth)
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

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        _batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
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
