//! Contract 0.1 (`wit/v0.1/`), kept for plugins built before 0.2: its
//! bindings and the adapter that lets the runtime drive such a plugin like
//! any other. Params become strings, column types their names, a plugin's
//! plan is implied (every column of every input, in order), `process` is
//! not told the partition and `finish` is called once.

use serde_json::{Map, Value};

use crate::guest::Opened;
use crate::{InputPlan, PartitionContext, schema};

wasmtime::component::bindgen!({
    path: "../../../wit/v0.1/strata.wit",
    world: "plugin",
});

use strata::plugin::types as wit;

/// The context as contract 0.1 spells it.
pub(crate) fn context(context: &PartitionContext) -> wit::PartitionContext {
    wit::PartitionContext {
        dataset: context.dataset.clone(),
        partition: context.partition.clone(),
        period_start: context.period_start.clone(),
        period_end: context.period_end.clone(),
        params: params(&context.params),
        inputs: context
            .inputs
            .iter()
            .map(|input| wit::Input {
                dataset: input.dataset.clone(),
                fields: input
                    .schema
                    .fields()
                    .iter()
                    .map(|f| wit::Field {
                        name: f.name().clone(),
                        data_type: schema::type_name(f.data_type()),
                        nullable: f.is_nullable(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Params as contract 0.1 hands them over: strings as they are, anything
/// else as its JSON text (so `3` and `"3"` arrive alike).
fn params(params: &Map<String, Value>) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

/// What a 0.1 plugin's `open` returned, as a plan: its declared output
/// schema (json-lines), and every input read whole and in order.
pub(crate) fn plan(declared: Option<Vec<wit::Field>>, inputs: usize) -> Opened {
    Opened {
        output: declared.map(|fields| {
            schema::from_contract(
                fields
                    .into_iter()
                    .map(|f| (f.name, schema::parse_type(&f.data_type), f.nullable)),
            )
        }),
        inputs: vec![InputPlan::default(); inputs],
    }
}

shared_with_every_contract!();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_flatten_to_strings_as_0_1_promised() {
        let map = serde_json::json!({"n": 3, "s": "3", "list": ["a", "b"], "t": {"x": true}});
        let Value::Object(map) = map else {
            unreachable!()
        };
        let mut flat = params(&map);
        flat.sort();
        assert_eq!(
            flat,
            [
                ("list".to_owned(), r#"["a","b"]"#.to_owned()),
                ("n".to_owned(), "3".to_owned()),
                ("s".to_owned(), "3".to_owned()),
                ("t".to_owned(), r#"{"x":true}"#.to_owned()),
            ]
        );
    }
}
