//! Emits a column of a type outside the contract: for every input batch, a
//! batch of `id: int64` and `note: large_utf8` (Arrow's LargeUtf8, 64-bit
//! offsets), one row per input row (a test plugin).

use std::sync::Arc;

use strata_sdk::arrow::array::{ArrayRef, Int64Array, LargeStringArray, RecordBatch};
use strata_sdk::{Context, Error, Info, Transform};

struct LargeUtf8;

impl Transform for LargeUtf8 {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Emits a LargeUtf8 column, a type outside the contract (a test plugin)",
        )
    }

    fn open(_ctx: &Context) -> Result<Self, Error> {
        Ok(LargeUtf8)
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        let rows = batch.num_rows() as i64;
        let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(0..rows));
        let notes: ArrayRef = Arc::new(LargeStringArray::from_iter_values(
            (0..rows).map(|i| format!("note {i}")),
        ));
        Ok(vec![RecordBatch::try_from_iter([
            ("id", ids),
            ("note", notes),
        ])?])
    }
}

strata_sdk::export_transform!(LargeUtf8);
