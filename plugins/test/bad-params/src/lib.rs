//! Rejects its params in `open`, whatever they are.

use strata_sdk::arrow::array::RecordBatch;
use strata_sdk::{Context, Error, Info, Transform};

struct BadParams;

impl Transform for BadParams {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Rejects its params (a test plugin)",
        )
    }

    fn open(_ctx: &Context) -> Result<Self, Error> {
        Err(Error::BadParams(
            "test-bad-params rejects its params on purpose".to_string(),
        ))
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

strata_sdk::export_transform!(BadParams);
