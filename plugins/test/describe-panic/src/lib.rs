//! Panics in `describe`, so it cannot even be loaded (a test plugin).

use strata_sdk::arrow::array::RecordBatch;
use strata_sdk::{Context, Error, Info, Transform};

struct DescribePanic;

impl Transform for DescribePanic {
    fn info() -> Info {
        panic!("describe refuses to say what it is, on purpose")
    }

    fn open(_ctx: &Context) -> Result<Self, Error> {
        Ok(DescribePanic)
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

strata_sdk::export_transform!(DescribePanic);
