//! Panics in process, on purpose.

use strata_sdk::arrow::array::RecordBatch;
use strata_sdk::{Context, Error, Info, Transform};

struct Panic;

impl Transform for Panic {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Panics in process, on purpose.",
        )
    }

    fn open(_ctx: &Context) -> Result<Self, Error> {
        Ok(Panic)
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        _batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        panic!("boom: plugin panicked on purpose")
    }

    /// Reached only if the host sent no batch at all.
    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        panic!("boom: plugin panicked on purpose")
    }
}

strata_sdk::export_transform!(Panic);
