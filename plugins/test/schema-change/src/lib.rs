//! Breaks the rule that all output batches of a partition share one schema:
//! its first output batch has schema `a: int64`, its second `b: utf8`. The
//! first comes from the first `process` call, the second from `finish` (both
//! from `finish` if there was no input batch).

use std::sync::Arc;

use strata_sdk::arrow::array::{Int64Array, RecordBatch, StringArray};
use strata_sdk::{Context, Error, Info, Transform};

struct SchemaChange {
    sent_first: bool,
}

fn batch_a() -> Result<RecordBatch, Error> {
    Ok(RecordBatch::try_from_iter([(
        "a",
        Arc::new(Int64Array::from(vec![1, 2])) as _,
    )])?)
}

fn batch_b() -> Result<RecordBatch, Error> {
    Ok(RecordBatch::try_from_iter([(
        "b",
        Arc::new(StringArray::from(vec!["x", "y"])) as _,
    )])?)
}

impl Transform for SchemaChange {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Changes its output schema between batches (a test plugin)",
        )
    }

    fn open(_ctx: &Context) -> Result<Self, Error> {
        Ok(SchemaChange { sent_first: false })
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        _batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        if self.sent_first {
            return Ok(Vec::new());
        }
        self.sent_first = true;
        Ok(vec![batch_a()?])
    }

    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        if self.sent_first {
            Ok(vec![batch_b()?])
        } else {
            Ok(vec![batch_a()?, batch_b()?])
        }
    }
}

strata_sdk::export_transform!(SchemaChange);
