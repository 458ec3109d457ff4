//! Copies every input batch to the output unchanged (all inputs, in order).
//!
//! Params:
//! - `fail_partition`: partition ids (comma-separated) on which `open` fails
//!   with `Error::Failed("failing on purpose on <partition>")`.
//! - `alter_partitions`: partition ids (comma-separated) whose output the
//!   build with feature `alter` changes: it drops the last row of every
//!   non-empty batch. Without the feature the param is accepted and ignored,
//!   so both builds run with the same params and differ only there.

use strata_sdk::arrow::array::RecordBatch;
use strata_sdk::{Context, Error, Info, Transform};

struct Passthrough {
    #[cfg_attr(not(feature = "alter"), allow(dead_code))]
    alter: bool,
}

impl Transform for Passthrough {
    fn info() -> Info {
        let version = if cfg!(feature = "alter") {
            concat!(env!("CARGO_PKG_VERSION"), "+alter")
        } else {
            env!("CARGO_PKG_VERSION")
        };
        Info::new(
            env!("CARGO_PKG_NAME"),
            version,
            "Copies its input to its output (a test plugin)",
        )
    }

    fn open(ctx: &Context) -> Result<Self, Error> {
        ctx.params
            .check_known(&["fail_partition", "alter_partitions"])?;
        if ctx.params.list("fail_partition")?.contains(&ctx.partition) {
            return Err(Error::Failed(format!(
                "failing on purpose on {}",
                ctx.partition
            )));
        }
        let alter = ctx
            .params
            .list("alter_partitions")?
            .contains(&ctx.partition);
        Ok(Passthrough { alter })
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        #[cfg(feature = "alter")]
        if self.alter && batch.num_rows() > 0 {
            return Ok(vec![batch.slice(0, batch.num_rows() - 1)]);
        }
        Ok(vec![batch])
    }
}

strata_sdk::export_transform!(Passthrough);
