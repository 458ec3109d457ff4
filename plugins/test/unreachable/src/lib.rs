//! Executes a wasm `unreachable` instruction in process, on purpose.

use strata_sdk::arrow::array::RecordBatch;
use strata_sdk::{Context, Error, Info, Transform};

/// A trap without a panic message.
fn trap() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    std::process::abort();
}

struct Unreachable;

impl Transform for Unreachable {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Executes a wasm `unreachable` instruction in process, on purpose.",
        )
    }

    fn open(_ctx: &Context) -> Result<Self, Error> {
        Ok(Unreachable)
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        _batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        trap()
    }

    /// Reached only if the host sent no batch at all.
    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        trap()
    }
}

strata_sdk::export_transform!(Unreachable);
