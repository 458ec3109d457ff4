//! Says what it was given (a test plugin of contract 0.2): one output row
//! per input batch, so a host test can check how batches were tagged and
//! projected and how params arrived.
//!
//! Output columns:
//! - `input: int64`: the input index `process` was given.
//! - `dataset: utf8`: that input's dataset (`layer/name`), from the context.
//! - `partition: int64`: the partition index `process` was given.
//! - `partition_id: utf8`: the input partition it names, looked up in the
//!   context (`date=2025-02-18`, say); an index out of range fails the
//!   partition.
//! - `columns: utf8`: the names of the batch's columns, in the order they
//!   came, comma-separated.
//! - `rows: int64`: the batch's rows.
//! - `params: utf8`: every param as one JSON object, keys sorted, values as
//!   received (`{"n":3,"s":"3"}`).
//! - `param_types: utf8`: the JSON type of each param, keys sorted:
//!   `string`, `integer`, `float`, `bool`, `array`, `object` or `null`
//!   (`{"n":"integer","s":"string"}`).
//!
//! Params (any others are accepted and only echoed):
//! - `columns`: the columns of every input to read (its plan), a list or
//!   comma-separated text; unset: every column.
//! - `ordered`: whether every input's partitions must come oldest first
//!   (default `true`).
//! - `n`: if set, must be an integer: a string fails as bad params naming
//!   `n`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use strata_sdk::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use strata_sdk::{Columns, Context, Error, Info, Plan, Transform};

#[derive(Deserialize)]
struct Params {
    columns: Option<Columns>,
    #[serde(default = "yes")]
    ordered: bool,
    #[serde(rename = "n")]
    _n: Option<i64>,
}

fn yes() -> bool {
    true
}

struct Probe {
    columns: Option<Vec<String>>,
    ordered: bool,
    /// Per input: its dataset and partition ids.
    inputs: Vec<(String, Vec<String>)>,
    /// The params as JSON text, keys sorted.
    params: String,
    /// The JSON type of each param, as JSON text, keys sorted.
    param_types: String,
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "float",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn json_text(value: &impl serde::Serialize) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::Failed(e.to_string()))
}

impl Transform for Probe {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Says which batches, columns and params it got (a test plugin)",
        )
    }

    fn open(ctx: &Context) -> Result<Self, Error> {
        let params: Params = ctx.params()?;
        let sorted: BTreeMap<&str, &Value> = ctx.params.iter().collect();
        let types: BTreeMap<&str, &str> = sorted.iter().map(|(k, v)| (*k, json_type(v))).collect();
        Ok(Probe {
            columns: params.columns.map(|c| c.0),
            ordered: params.ordered,
            inputs: ctx
                .inputs
                .iter()
                .map(|i| (i.dataset.clone(), i.partitions.clone()))
                .collect(),
            params: json_text(&sorted)?,
            param_types: json_text(&types)?,
        })
    }

    fn plan(&self, ctx: &Context) -> Plan {
        let mut plan = Plan::new();
        for i in 0..ctx.inputs.len() {
            if let Some(columns) = &self.columns {
                plan = plan.columns(i, columns.iter().cloned());
            }
            if !self.ordered {
                plan = plan.unordered(i);
            }
        }
        plan
    }

    fn process(
        &mut self,
        input: usize,
        partition: usize,
        batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        let (dataset, partitions) = &self.inputs[input];
        let partition_id = partitions.get(partition).ok_or_else(|| {
            Error::Failed(format!(
                "process got partition {partition} of input {input} ({dataset}), which has {} partition(s)",
                partitions.len()
            ))
        })?;
        let schema = batch.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let text = |v: &str| Arc::new(StringArray::from(vec![v])) as ArrayRef;
        let int = |v: usize| Arc::new(Int64Array::from(vec![v as i64])) as ArrayRef;
        Ok(vec![RecordBatch::try_from_iter([
            ("input", int(input)),
            ("dataset", text(dataset)),
            ("partition", int(partition)),
            ("partition_id", text(partition_id)),
            ("columns", text(&names.join(","))),
            ("rows", int(batch.num_rows())),
            ("params", text(&self.params)),
            ("param_types", text(&self.param_types)),
        ])?])
    }
}

strata_sdk::export_transform!(Probe);

#[cfg(test)]
mod tests {
    use strata_sdk::arrow::array::{AsArray, StringArray};
    use strata_sdk::arrow::datatypes::{DataType, Field, Int64Type, Schema};
    use strata_sdk::{Input, Params};

    use super::*;

    fn context(params: Value) -> Context {
        let Value::Object(map) = params else {
            panic!("an object")
        };
        Context {
            dataset: "silver/out".into(),
            partition: "date=2025-02-18".into(),
            period_start: String::new(),
            period_end: String::new(),
            params: Params::new(map),
            inputs: vec![Input {
                dataset: "bronze/in".into(),
                schema: Arc::new(Schema::new(vec![
                    Field::new("a", DataType::Utf8, true),
                    Field::new("b", DataType::Utf8, true),
                ])),
                partitions: vec!["date=2025-02-17".into(), "date=2025-02-18".into()],
            }],
        }
    }

    #[test]
    fn says_what_it_got() {
        let ctx = context(serde_json::json!({
            "columns": ["b"], "ordered": false, "n": 3, "s": "3", "f": 1.5, "l": ["x"],
        }));
        let mut p = Probe::open(&ctx).unwrap();
        let plan = p.plan(&ctx);
        assert_eq!(plan.inputs()[0].columns, Some(vec!["b".to_string()]));
        assert!(!plan.inputs()[0].ordered);
        let batch = RecordBatch::try_from_iter([(
            "b",
            Arc::new(StringArray::from(vec!["x", "y"])) as ArrayRef,
        )])
        .unwrap();
        let out = p.process(0, 1, batch).unwrap().remove(0);
        let text = |c: &str| {
            out.column_by_name(c)
                .unwrap()
                .as_string::<i32>()
                .value(0)
                .to_string()
        };
        let int = |c: &str| {
            out.column_by_name(c)
                .unwrap()
                .as_primitive::<Int64Type>()
                .value(0)
        };
        assert_eq!((int("input"), int("partition"), int("rows")), (0, 1, 2));
        assert_eq!(text("dataset"), "bronze/in");
        assert_eq!(text("partition_id"), "date=2025-02-18");
        assert_eq!(text("columns"), "b");
        assert_eq!(
            text("params"),
            r#"{"columns":["b"],"f":1.5,"l":["x"],"n":3,"ordered":false,"s":"3"}"#
        );
        assert_eq!(
            text("param_types"),
            r#"{"columns":"array","f":"float","l":"array","n":"integer","ordered":"bool","s":"string"}"#
        );
        assert!(
            p.process(0, 2, RecordBatch::new_empty(out.schema()))
                .is_err()
        );
    }

    #[test]
    fn reads_everything_in_order_by_default_and_wants_n_a_number() {
        let ctx = context(serde_json::json!({}));
        let plan = Probe::open(&ctx).unwrap().plan(&ctx);
        assert!(
            plan.inputs()
                .iter()
                .all(|i| i.columns.is_none() && i.ordered)
        );
        let ctx = context(serde_json::json!({"n": "3"}));
        assert!(matches!(Probe::open(&ctx), Err(Error::BadParams(m)) if m.contains("`n`")));
        let ctx = context(serde_json::json!({"columns": "a, b"}));
        let plan = Probe::open(&ctx).unwrap().plan(&ctx);
        assert_eq!(plan.inputs()[0].columns, Some(vec!["a".into(), "b".into()]));
    }
}
