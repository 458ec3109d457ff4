//! Contract 0.2 (`wit/`): its bindings and the conversions between its
//! types and the runtime's. Params cross as one JSON object, column types
//! as the `data-type` variant, and `open` returns the plugin's plan.

use arrow::datatypes::{DataType, Field, Schema, TimeUnit};

use crate::guest::Opened;
use crate::{InputPlan, PartitionContext, RunError, schema};

wasmtime::component::bindgen!({
    path: "../../../wit/strata.wit",
    world: "plugin",
});

use strata::plugin::types as wit;

/// The context as contract 0.2 spells it. Fails on an input column whose
/// type the contract cannot name.
pub(crate) fn context(context: &PartitionContext) -> Result<wit::PartitionContext, RunError> {
    let inputs = context
        .inputs
        .iter()
        .map(|input| {
            Ok(wit::Input {
                dataset: input.dataset.clone(),
                fields: fields(&input.schema)
                    .map_err(|e| RunError::Host(format!("input {}: {e}", input.dataset)))?,
                partitions: input.partitions.clone(),
            })
        })
        .collect::<Result<Vec<_>, RunError>>()?;
    Ok(wit::PartitionContext {
        dataset: context.dataset.clone(),
        partition: context.partition.clone(),
        period_start: context.period_start.clone(),
        period_end: context.period_end.clone(),
        params: serde_json::Value::Object(context.params.clone()).to_string(),
        inputs,
    })
}

fn fields(schema: &Schema) -> Result<Vec<wit::Field>, String> {
    schema
        .fields()
        .iter()
        .map(|f| {
            Ok(wit::Field {
                name: f.name().clone(),
                data_type: data_type(f).ok_or_else(|| {
                    format!(
                        "column `{}` has type {}, which the contract cannot name",
                        f.name(),
                        f.data_type()
                    )
                })?,
                nullable: f.is_nullable(),
            })
        })
        .collect()
}

/// The contract's variant for a field's Arrow type.
fn data_type(field: &Field) -> Option<wit::DataType> {
    Some(match field.data_type() {
        DataType::Boolean => wit::DataType::Boolean,
        DataType::Int8 => wit::DataType::Int8,
        DataType::Int16 => wit::DataType::Int16,
        DataType::Int32 => wit::DataType::Int32,
        DataType::Int64 => wit::DataType::Int64,
        DataType::UInt8 => wit::DataType::Uint8,
        DataType::UInt16 => wit::DataType::Uint16,
        DataType::UInt32 => wit::DataType::Uint32,
        DataType::UInt64 => wit::DataType::Uint64,
        DataType::Float32 => wit::DataType::Float32,
        DataType::Float64 => wit::DataType::Float64,
        DataType::Utf8 => wit::DataType::Utf8,
        DataType::Binary => wit::DataType::Binary,
        DataType::Date32 => wit::DataType::Date32,
        DataType::Timestamp(TimeUnit::Microsecond, None) => wit::DataType::TimestampUs,
        DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) if schema::is_utc(tz) => {
            wit::DataType::TimestampUsUtc
        }
        DataType::Decimal128(precision, scale) => wit::DataType::Decimal128(wit::Decimal {
            precision: *precision,
            scale: *scale,
        }),
        _ => return None,
    })
}

/// The Arrow type for the contract's variant; a decimal's precision and
/// scale are checked as for the type's name.
fn arrow_type(data_type: wit::DataType) -> Result<DataType, String> {
    Ok(match data_type {
        wit::DataType::Boolean => DataType::Boolean,
        wit::DataType::Int8 => DataType::Int8,
        wit::DataType::Int16 => DataType::Int16,
        wit::DataType::Int32 => DataType::Int32,
        wit::DataType::Int64 => DataType::Int64,
        wit::DataType::Uint8 => DataType::UInt8,
        wit::DataType::Uint16 => DataType::UInt16,
        wit::DataType::Uint32 => DataType::UInt32,
        wit::DataType::Uint64 => DataType::UInt64,
        wit::DataType::Float32 => DataType::Float32,
        wit::DataType::Float64 => DataType::Float64,
        wit::DataType::Utf8 => DataType::Utf8,
        wit::DataType::Binary => DataType::Binary,
        wit::DataType::Date32 => DataType::Date32,
        wit::DataType::TimestampUs => DataType::Timestamp(TimeUnit::Microsecond, None),
        wit::DataType::TimestampUsUtc => {
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        }
        wit::DataType::Decimal128(wit::Decimal { precision, scale }) => {
            schema::decimal128(precision, scale)?
        }
    })
}

/// What a 0.2 plugin's `open` returned.
pub(crate) fn plan(plan: wit::Plan) -> Opened {
    Opened {
        output: plan.output.map(|fields| {
            schema::from_contract(
                fields
                    .into_iter()
                    .map(|f| (f.name, arrow_type(f.data_type), f.nullable)),
            )
        }),
        inputs: plan
            .inputs
            .into_iter()
            .map(|p| InputPlan {
                columns: p.columns,
                ordered: p.ordered,
            })
            .collect(),
    }
}

shared_with_every_contract!();

#[cfg(test)]
mod tests {
    use super::*;

    /// Every type the contract names crosses as its variant and back.
    #[test]
    fn every_contract_type_round_trips_through_the_variant() {
        for name in schema::CONTRACT_TYPE_NAMES {
            let arrow = schema::parse_type(name).unwrap();
            let variant = data_type(&Field::new("c", arrow.clone(), true)).unwrap();
            assert_eq!(arrow_type(variant).unwrap(), arrow, "{name}");
        }
        let list = DataType::new_list(DataType::Int64, true);
        assert!(data_type(&Field::new("c", list, true)).is_none());
    }

    #[test]
    fn a_decimal_out_of_range_is_refused() {
        let bad = wit::DataType::Decimal128(wit::Decimal {
            precision: 40,
            scale: 2,
        });
        assert!(arrow_type(bad).unwrap_err().contains("precision"));
    }
}
