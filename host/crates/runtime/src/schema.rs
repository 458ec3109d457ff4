//! Column types by the names the contract gives them (`utf8`, `int64`,
//! `decimal128(12,2)`, `timestamp-us-utc`, …) and their Arrow equivalents:
//! the one mapping of names, used for manifest schemas by the engine,
//! `pipeline.toml` and contract 0.1's WIT fields (contract 0.2 carries a
//! type as a variant instead: see `v0_2`).

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// The contract's name for an Arrow type. Types outside the contract's list
/// are spelled as Arrow prints them, so a manifest still says what is there.
pub fn type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Boolean => "bool".into(),
        DataType::Int8 => "int8".into(),
        DataType::Int16 => "int16".into(),
        DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::UInt8 => "uint8".into(),
        DataType::UInt16 => "uint16".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::UInt64 => "uint64".into(),
        DataType::Float32 => "float32".into(),
        DataType::Float64 => "float64".into(),
        DataType::Utf8 => "utf8".into(),
        DataType::Binary => "binary".into(),
        DataType::Date32 => "date32".into(),
        DataType::Timestamp(TimeUnit::Microsecond, None) => "timestamp-us".into(),
        DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) if is_utc(tz) => {
            "timestamp-us-utc".into()
        }
        DataType::Decimal128(p, s) => format!("decimal128({p},{s})"),
        other => other.to_string(),
    }
}

pub(crate) fn is_utc(tz: &str) -> bool {
    matches!(tz, "UTC" | "+00:00" | "Z")
}

/// The Arrow type for a contract type name.
pub fn parse_type(name: &str) -> Result<DataType, String> {
    let name = name.trim();
    let simple = match name {
        "bool" => Some(DataType::Boolean),
        "int8" => Some(DataType::Int8),
        "int16" => Some(DataType::Int16),
        "int32" => Some(DataType::Int32),
        "int64" => Some(DataType::Int64),
        "uint8" => Some(DataType::UInt8),
        "uint16" => Some(DataType::UInt16),
        "uint32" => Some(DataType::UInt32),
        "uint64" => Some(DataType::UInt64),
        "float32" => Some(DataType::Float32),
        "float64" => Some(DataType::Float64),
        "utf8" => Some(DataType::Utf8),
        "binary" => Some(DataType::Binary),
        "date32" => Some(DataType::Date32),
        "timestamp-us" => Some(DataType::Timestamp(TimeUnit::Microsecond, None)),
        "timestamp-us-utc" => Some(DataType::Timestamp(
            TimeUnit::Microsecond,
            Some("UTC".into()),
        )),
        _ => None,
    };
    if let Some(t) = simple {
        return Ok(t);
    }
    if let Some(args) = name
        .strip_prefix("decimal128(")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        let mut parts = args.split(',').map(str::trim);
        let precision = parts.next().and_then(|p| p.parse::<u8>().ok());
        let scale = parts.next().and_then(|s| s.parse::<i8>().ok());
        if let (Some(p), Some(s), None) = (precision, scale, parts.next())
            && let Ok(t) = decimal128(p, s)
        {
            return Ok(t);
        }
    }
    Err(format!(
        "unknown column type `{name}`: use bool, int8..int64, uint8..uint64, float32, float64, \
         utf8, binary, date32, timestamp-us, timestamp-us-utc or decimal128(P,S)"
    ))
}

/// A decimal type the contract allows: 1 to 38 digits, of which 0 to all
/// after the point.
pub(crate) fn decimal128(precision: u8, scale: i8) -> Result<DataType, String> {
    if (1..=38).contains(&precision) && scale >= 0 && scale as u8 <= precision {
        Ok(DataType::Decimal128(precision, scale))
    } else {
        Err(format!(
            "decimal128({precision},{scale}) is not a decimal of the contract: its precision \
             must be 1 to 38 and its scale 0 to the precision"
        ))
    }
}

/// A schema from a plugin's declared columns (name, type or why the type
/// is unusable, nullable).
pub(crate) fn from_contract(
    fields: impl IntoIterator<Item = (String, Result<DataType, String>, bool)>,
) -> Result<SchemaRef, String> {
    let fields = fields
        .into_iter()
        .map(|(name, data_type, nullable)| match data_type {
            Ok(t) => Ok(Field::new(name, t, nullable)),
            Err(e) => Err(format!("column `{name}`: {e}")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

/// A schema as the contract shows it: `id: utf8, n: int64 not null`.
pub fn describe(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| {
            format!(
                "{}: {}{}",
                f.name(),
                type_name(f.data_type()),
                if f.is_nullable() { "" } else { " not null" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The table a raw partition is presented as: one row per stored file.
pub fn raw_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("file", DataType::Utf8, false),
        Field::new("body", DataType::Binary, false),
    ]))
}

/// One name of every type the contract has (a decimal as one example).
#[cfg(test)]
pub(crate) const CONTRACT_TYPE_NAMES: &[&str] = &[
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float32",
    "float64",
    "utf8",
    "binary",
    "date32",
    "timestamp-us",
    "timestamp-us-utc",
    "decimal128(12,2)",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contract_type_round_trips() {
        for name in CONTRACT_TYPE_NAMES {
            let parsed = parse_type(name).unwrap();
            assert_eq!(type_name(&parsed), *name);
        }
    }

    #[test]
    fn bad_types_say_what_is_allowed() {
        let err = parse_type("decimal128(40,2)").unwrap_err();
        assert!(err.contains("decimal128(P,S)"), "{err}");
        assert!(parse_type("string").is_err());
    }
}
