//! The column types of the plugin contract, by the names `pipeline.toml`
//! and manifests give them, and their Arrow equivalents.
//!
//! | contract | Arrow |
//! | --- | --- |
//! | `bool` | `Boolean` |
//! | `int8` … `int64`, `uint8` … `uint64` | `Int8` … `Int64`, `UInt8` … `UInt64` |
//! | `float32`, `float64` | `Float32`, `Float64` |
//! | `utf8`, `binary` | `Utf8`, `Binary` |
//! | `date32` | `Date32` |
//! | `timestamp-us` | `Timestamp(Microsecond, None)` |
//! | `timestamp-us-utc` | `Timestamp(Microsecond, Some("UTC"))` |
//! | `decimal128(P,S)` | `Decimal128(P, S)` |

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, TimeUnit};

use crate::Error;

/// The time zone name Strata uses for `timestamp-us-utc`.
pub const UTC: &str = "UTC";

/// Parses a contract type name (`int64`, `decimal128(12,2)`, …) into an Arrow
/// data type; `None` if it is not one.
pub fn parse_data_type(name: &str) -> Option<DataType> {
    let name = name.trim();
    Some(match name {
        "bool" => DataType::Boolean,
        "int8" => DataType::Int8,
        "int16" => DataType::Int16,
        "int32" => DataType::Int32,
        "int64" => DataType::Int64,
        "uint8" => DataType::UInt8,
        "uint16" => DataType::UInt16,
        "uint32" => DataType::UInt32,
        "uint64" => DataType::UInt64,
        "float32" => DataType::Float32,
        "float64" => DataType::Float64,
        "utf8" => DataType::Utf8,
        "binary" => DataType::Binary,
        "date32" => DataType::Date32,
        "timestamp-us" => DataType::Timestamp(TimeUnit::Microsecond, None),
        "timestamp-us-utc" => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
        _ => {
            let args = name.strip_prefix("decimal128(")?.strip_suffix(')')?;
            let (p, s) = args.split_once(',')?;
            let precision: u8 = p.trim().parse().ok()?;
            let scale: i8 = s.trim().parse().ok()?;
            if !(1..=38).contains(&precision) || scale > precision as i8 || scale < -38 {
                return None;
            }
            DataType::Decimal128(precision, scale)
        }
    })
}

/// The contract type name of an Arrow data type; `None` if the contract has
/// no such type. Any time zone meaning UTC (`UTC`, `+00:00`, `Z`, `Etc/UTC`)
/// gives `timestamp-us-utc`.
pub fn data_type_name(data_type: &DataType) -> Option<String> {
    Some(
        match data_type {
            DataType::Boolean => "bool",
            DataType::Int8 => "int8",
            DataType::Int16 => "int16",
            DataType::Int32 => "int32",
            DataType::Int64 => "int64",
            DataType::UInt8 => "uint8",
            DataType::UInt16 => "uint16",
            DataType::UInt32 => "uint32",
            DataType::UInt64 => "uint64",
            DataType::Float32 => "float32",
            DataType::Float64 => "float64",
            DataType::Utf8 => "utf8",
            DataType::Binary => "binary",
            DataType::Date32 => "date32",
            DataType::Timestamp(TimeUnit::Microsecond, None) => "timestamp-us",
            DataType::Timestamp(TimeUnit::Microsecond, Some(tz))
                if matches!(&**tz, "UTC" | "+00:00" | "Z" | "Etc/UTC") =>
            {
                "timestamp-us-utc"
            }
            DataType::Decimal128(p, s) => return Some(format!("decimal128({p},{s})")),
            _ => return None,
        }
        .to_string(),
    )
}

/// The Arrow type for the contract's variant; `None` for a decimal whose
/// precision and scale no contract type has.
pub(crate) fn data_type_from_wit(data_type: &crate::__private::DataType) -> Option<DataType> {
    use crate::__private::DataType as W;
    Some(match data_type {
        W::Boolean => DataType::Boolean,
        W::Int8 => DataType::Int8,
        W::Int16 => DataType::Int16,
        W::Int32 => DataType::Int32,
        W::Int64 => DataType::Int64,
        W::Uint8 => DataType::UInt8,
        W::Uint16 => DataType::UInt16,
        W::Uint32 => DataType::UInt32,
        W::Uint64 => DataType::UInt64,
        W::Float32 => DataType::Float32,
        W::Float64 => DataType::Float64,
        W::Utf8 => DataType::Utf8,
        W::Binary => DataType::Binary,
        W::Date32 => DataType::Date32,
        W::TimestampUs => DataType::Timestamp(TimeUnit::Microsecond, None),
        W::TimestampUsUtc => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
        W::Decimal128(d) => {
            if !(1..=38).contains(&d.precision) || d.scale < 0 || d.scale as u8 > d.precision {
                return None;
            }
            DataType::Decimal128(d.precision, d.scale)
        }
    })
}

/// An Arrow schema from the contract's fields.
pub(crate) fn schema_from_wit(
    fields: &[crate::__private::Field],
    what: &str,
) -> Result<Arc<Schema>, Error> {
    let fields = fields
        .iter()
        .map(|f| match data_type_from_wit(&f.data_type) {
            Some(dt) => Ok(Field::new(&f.name, dt, f.nullable)),
            None => Err(Error::Failed(format!(
                "{what}: column `{}` has data type {:?}, which is not a contract type",
                f.name, f.data_type
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for name in [
            "bool",
            "int8",
            "uint64",
            "float32",
            "utf8",
            "binary",
            "date32",
            "timestamp-us",
            "timestamp-us-utc",
            "decimal128(38,10)",
            "decimal128(5,0)",
        ] {
            let dt = parse_data_type(name).unwrap();
            assert_eq!(data_type_name(&dt).as_deref(), Some(name));
        }
        assert_eq!(
            parse_data_type(" decimal128( 12 , 2 ) "),
            Some(DataType::Decimal128(12, 2))
        );
        assert_eq!(parse_data_type("decimal128(39,2)"), None);
        assert_eq!(parse_data_type("decimal128(5,6)"), None);
        assert_eq!(parse_data_type("string"), None);
    }
}
