//! The crate documentation's example plugin: adds one to the int64 column
//! named by param `column`. Built as a component by
//! `cargo build --release --example add_one` (in `plugins/`).

use std::sync::Arc;
use strata_sdk::arrow::array::{ArrayRef, AsArray, RecordBatch};
use strata_sdk::arrow::datatypes::Int64Type;
use strata_sdk::{Context, Error, Info, Map};

struct AddOne {
    column: String,
}

impl Map for AddOne {
    fn info() -> Info {
        Info::new("add-one", "0.1.0", "Adds one to an int64 column")
    }

    fn open(ctx: &Context) -> Result<Self, Error> {
        Ok(AddOne {
            column: ctx.params.require("column")?.to_string(),
        })
    }

    fn map(&mut self, batch: RecordBatch) -> Result<RecordBatch, Error> {
        let i = batch.schema().index_of(&self.column)?;
        let Some(values) = batch.column(i).as_primitive_opt::<Int64Type>() else {
            return Err(Error::BadInput(format!("`{}` is not int64", self.column)));
        };
        let added: ArrayRef = Arc::new(values.unary::<_, Int64Type>(|v| v.wrapping_add(1)));
        let mut columns = batch.columns().to_vec();
        columns[i] = added;
        Ok(RecordBatch::try_new(batch.schema(), columns)?)
    }
}

strata_sdk::export_map!(AddOne);
