//! A check plugin: its output rows are the violations, so zero rows pass.
//! It keeps the rows whose `column` is above `max`, every column of them,
//! so `host show --quarantine` and the check's samples show whole rows.
//!
//! Params:
//! - `column` (required): a numeric column (integers, floats, decimals).
//! - `max` (required): the largest value allowed, a number.
//!
//! Nulls are not violations (a `not_null` check says whether they are).
//! In pipeline.toml:
//!
//! ```toml
//! [[datasets.checks]]
//! check = "plugin"
//! plugin = "plugins/check_max_value.wasm"
//! params = { column = "amount", max = 10000 }
//! ```

use strata_sdk::arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use strata_sdk::arrow::compute::take_record_batch;
use strata_sdk::arrow::datatypes::{
    DataType, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
};
use strata_sdk::{Context, Error, Info, Transform};

struct MaxValue {
    column: String,
    max: f64,
}

/// The values of a numeric column as f64 (null: None).
fn values(array: &dyn Array) -> Result<Vec<Option<f64>>, String> {
    fn collect<T: Copy>(
        a: &strata_sdk::arrow::array::PrimitiveArray<
            impl strata_sdk::arrow::datatypes::ArrowPrimitiveType<Native = T>,
        >,
        f: impl Fn(T) -> f64,
    ) -> Vec<Option<f64>> {
        a.iter().map(|v| v.map(&f)).collect()
    }
    Ok(match array.data_type() {
        DataType::Int8 => collect(array.as_primitive::<Int8Type>(), f64::from),
        DataType::Int16 => collect(array.as_primitive::<Int16Type>(), f64::from),
        DataType::Int32 => collect(array.as_primitive::<Int32Type>(), f64::from),
        DataType::Int64 => collect(array.as_primitive::<Int64Type>(), |v| v as f64),
        DataType::Float32 => collect(array.as_primitive::<Float32Type>(), f64::from),
        DataType::Float64 => collect(array.as_primitive::<Float64Type>(), |v| v),
        DataType::Decimal128(_, scale) => {
            let unit = 10f64.powi(i32::from(*scale));
            collect(array.as_primitive::<Decimal128Type>(), |v| v as f64 / unit)
        }
        other => return Err(format!("is {other}, not a number")),
    })
}

impl Transform for MaxValue {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "A check: rows whose `column` is above `max` are violations",
        )
    }

    fn open(ctx: &Context) -> Result<Self, Error> {
        ctx.params.check_known(&["column", "max"])?;
        let column = ctx.params.require("column")?.to_string();
        let max: f64 = ctx
            .params
            .parse("max")?
            .ok_or_else(|| Error::BadParams("missing required param `max`".into()))?;
        Ok(MaxValue { column, max })
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        let array = batch
            .column_by_name(&self.column)
            .ok_or_else(|| Error::BadInput(format!("the input has no column `{}`", self.column)))?;
        let values = values(array.as_ref())
            .map_err(|e| Error::BadInput(format!("column `{}` {e}", self.column)))?;
        let above: UInt32Array = values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_some_and(|v| v > self.max))
            .map(|(i, _)| i as u32)
            .collect();
        if above.is_empty() {
            return Ok(vec![]);
        }
        let rows = take_record_batch(&batch, &above).map_err(|e| Error::Failed(e.to_string()))?;
        Ok(vec![rows])
    }

    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        Ok(vec![])
    }
}

strata_sdk::export_transform!(MaxValue);
