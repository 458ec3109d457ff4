//! Allocates and touches memory without bound in process, on purpose.

use strata_sdk::arrow::array::RecordBatch;
use strata_sdk::{Context, Error, Info, Transform};

/// Allocates 8 MiB chunks, writes to every page of each, and keeps them all.
fn hog() -> ! {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0u8; 8 << 20];
        for i in (0..chunk.len()).step_by(4096) {
            chunk[i] = (i >> 12) as u8 | 1;
        }
        hoard.push(std::hint::black_box(chunk));
    }
}

struct Alloc;

impl Transform for Alloc {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Allocates and touches memory without bound in process, on purpose.",
        )
    }

    fn open(_ctx: &Context) -> Result<Self, Error> {
        Ok(Alloc)
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        _batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        hog()
    }

    /// Reached only if the host sent no batch at all.
    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        hog()
    }
}

strata_sdk::export_transform!(Alloc);
