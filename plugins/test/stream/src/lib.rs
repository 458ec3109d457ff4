//! Streams its output (a test plugin of contract 0.2): it ignores its
//! input, then `finish` hands back one batch and `drain` one more each
//! time it is asked, `batches` in all, or without end when `batches` is
//! unset, so only the host's limits stop it. Nothing is held: each batch
//! is built when it is asked for.
//!
//! Output: one column `n: int64` (not null) counting up from 0 across the
//! batches, `rows` rows per batch. A batch of `rows` rows is an IPC stream
//! of a little over `8 × rows` bytes, so `rows × batches` sets how much
//! output the partition streams.
//!
//! Params (typed: a string where a number belongs fails as bad params
//! naming it; unknown params fail too):
//! - `rows`: rows per batch, default 1000.
//! - `batches`: how many batches; unset: without end.

use std::sync::Arc;

use serde::Deserialize;
use strata_sdk::arrow::array::{Int64Array, RecordBatch};
use strata_sdk::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use strata_sdk::{Context, Error, Info, Transform};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default = "thousand")]
    rows: u32,
    batches: Option<u64>,
}

fn thousand() -> u32 {
    1000
}

struct Stream {
    rows: u32,
    batches: Option<u64>,
    schema: SchemaRef,
    /// Batches handed back so far.
    sent: u64,
}

impl Stream {
    /// The next batch, or `None` once `batches` have gone.
    fn next(&mut self) -> Result<Option<RecordBatch>, Error> {
        if self.batches.is_some_and(|all| self.sent >= all) {
            return Ok(None);
        }
        let start = self.sent.saturating_mul(u64::from(self.rows)) as i64;
        self.sent += 1;
        let values = Int64Array::from_iter_values(start..start + i64::from(self.rows));
        Ok(Some(RecordBatch::try_new(
            self.schema.clone(),
            vec![Arc::new(values)],
        )?))
    }
}

impl Transform for Stream {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Streams its output batch by batch from finish (a test plugin)",
        )
    }

    fn open(ctx: &Context) -> Result<Self, Error> {
        let Params { rows, batches } = ctx.params()?;
        Ok(Stream {
            rows,
            batches,
            schema: Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)])),
            sent: 0,
        })
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        _batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        Ok(Vec::new())
    }

    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        Ok(self.next()?.into_iter().collect())
    }

    fn drain(&mut self) -> Result<Option<RecordBatch>, Error> {
        self.next()
    }
}

strata_sdk::export_transform!(Stream);

#[cfg(test)]
mod tests {
    use strata_sdk::Params;
    use strata_sdk::arrow::array::AsArray;
    use strata_sdk::arrow::datatypes::Int64Type;

    use super::*;

    fn open(params: &[(&str, u64)]) -> Result<Stream, Error> {
        Stream::open(&Context {
            dataset: "silver/out".into(),
            partition: "date=2025-02-18".into(),
            period_start: String::new(),
            period_end: String::new(),
            params: params.iter().copied().collect::<Params>(),
            inputs: Vec::new(),
        })
    }

    fn values(batch: &RecordBatch) -> Vec<i64> {
        batch
            .column(0)
            .as_primitive::<Int64Type>()
            .values()
            .to_vec()
    }

    #[test]
    fn finish_then_drain_until_the_batches_are_out() {
        let mut s = open(&[("rows", 2), ("batches", 3)]).unwrap();
        let first = s.finish().unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(values(&first[0]), [0, 1]);
        assert_eq!(values(&s.drain().unwrap().unwrap()), [2, 3]);
        assert_eq!(values(&s.drain().unwrap().unwrap()), [4, 5]);
        assert!(s.drain().unwrap().is_none());

        let mut s = open(&[("batches", 0)]).unwrap();
        assert!(s.finish().unwrap().is_empty());
        assert!(s.drain().unwrap().is_none());

        let mut s = open(&[]).unwrap();
        for _ in 0..5 {
            assert_eq!(s.drain().unwrap().unwrap().num_rows(), 1000);
        }
        assert!(open(&[("rowz", 1)]).is_err());
    }
}
