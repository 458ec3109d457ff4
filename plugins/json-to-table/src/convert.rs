//! JSON values to column values.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate};
use serde_json::Value;
use strata_sdk::Error;
use strata_sdk::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use strata_sdk::arrow::datatypes::DataType;
use strata_sdk::types::{UTC, parse_data_type};

/// The column types this plugin produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int64,
    Float64,
    Utf8,
    Bool,
    Date32,
    TimestampUtc,
    Decimal(u8, i8),
}

impl Kind {
    pub const NAMES: &str = "int64, float64, utf8, bool, date32, timestamp-us-utc, decimal128(P,S)";

    /// The kind for a contract type name, if this plugin produces it.
    pub fn parse(name: &str) -> Option<Kind> {
        Some(match parse_data_type(name)? {
            DataType::Int64 => Kind::Int64,
            DataType::Float64 => Kind::Float64,
            DataType::Utf8 => Kind::Utf8,
            DataType::Boolean => Kind::Bool,
            DataType::Date32 => Kind::Date32,
            DataType::Timestamp(_, Some(_)) => Kind::TimestampUtc,
            DataType::Decimal128(p, s) if s >= 0 => Kind::Decimal(p, s),
            _ => return None,
        })
    }

    pub fn data_type(self) -> DataType {
        match self {
            Kind::Int64 => DataType::Int64,
            Kind::Float64 => DataType::Float64,
            Kind::Utf8 => DataType::Utf8,
            Kind::Bool => DataType::Boolean,
            Kind::Date32 => DataType::Date32,
            Kind::TimestampUtc => DataType::Timestamp(
                strata_sdk::arrow::datatypes::TimeUnit::Microsecond,
                Some(UTC.into()),
            ),
            Kind::Decimal(p, s) => DataType::Decimal128(p, s),
        }
    }
}

/// The values of one output column, built row by row.
pub enum Values {
    Int64(Vec<Option<i64>>),
    Float64(Vec<Option<f64>>),
    Utf8(Vec<Option<String>>),
    Bool(Vec<Option<bool>>),
    Date32(Vec<Option<i32>>),
    Timestamp(Vec<Option<i64>>),
    Decimal(Vec<Option<i128>>, u8, i8),
}

impl Values {
    pub fn new(kind: Kind) -> Values {
        match kind {
            Kind::Int64 => Values::Int64(Vec::new()),
            Kind::Float64 => Values::Float64(Vec::new()),
            Kind::Utf8 => Values::Utf8(Vec::new()),
            Kind::Bool => Values::Bool(Vec::new()),
            Kind::Date32 => Values::Date32(Vec::new()),
            Kind::TimestampUtc => Values::Timestamp(Vec::new()),
            Kind::Decimal(p, s) => Values::Decimal(Vec::new(), p, s),
        }
    }

    pub fn push_null(&mut self) {
        match self {
            Values::Int64(v) => v.push(None),
            Values::Float64(v) => v.push(None),
            Values::Utf8(v) => v.push(None),
            Values::Bool(v) => v.push(None),
            Values::Date32(v) => v.push(None),
            Values::Timestamp(v) => v.push(None),
            Values::Decimal(v, _, _) => v.push(None),
        }
    }

    /// Converts and appends a non-null JSON value; the error says why it
    /// cannot be converted.
    pub fn push(&mut self, value: &Value, legacy_offsets: bool) -> Result<(), String> {
        match self {
            Values::Int64(v) => v.push(Some(to_int64(value)?)),
            Values::Float64(v) => v.push(Some(to_float64(value)?)),
            Values::Utf8(v) => v.push(Some(to_utf8(value))),
            Values::Bool(v) => v.push(Some(to_bool(value)?)),
            Values::Date32(v) => v.push(Some(to_date32(value)?)),
            Values::Timestamp(v) => v.push(Some(to_timestamp(value, legacy_offsets)?)),
            Values::Decimal(v, p, s) => {
                let text = match value {
                    Value::Number(n) => n.as_str(),
                    Value::String(s) => s.trim(),
                    _ => return Err("expected a number or a numeric string".into()),
                };
                v.push(Some(parse_decimal(text, *p, *s)?));
            }
        }
        Ok(())
    }

    /// The column, emptying these values.
    pub fn take_array(&mut self) -> Result<ArrayRef, Error> {
        Ok(match self {
            Values::Int64(v) => Arc::new(Int64Array::from(std::mem::take(v))),
            Values::Float64(v) => Arc::new(Float64Array::from(std::mem::take(v))),
            Values::Utf8(v) => Arc::new(StringArray::from(std::mem::take(v))),
            Values::Bool(v) => Arc::new(BooleanArray::from(std::mem::take(v))),
            Values::Date32(v) => Arc::new(Date32Array::from(std::mem::take(v))),
            Values::Timestamp(v) => {
                Arc::new(TimestampMicrosecondArray::from(std::mem::take(v)).with_timezone(UTC))
            }
            Values::Decimal(v, p, s) => {
                Arc::new(Decimal128Array::from(std::mem::take(v)).with_precision_and_scale(*p, *s)?)
            }
        })
    }
}

fn to_int64(value: &Value) -> Result<i64, String> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| "expected an integer that fits in int64".into()),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| "expected an integer that fits in int64".into()),
        _ => Err("expected an integer".into()),
    }
}

fn to_float64(value: &Value) -> Result<f64, String> {
    let f = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => return Err("expected a number".into()),
    };
    match f {
        Some(f) if f.is_finite() => Ok(f),
        _ => Err("expected a finite number".into()),
    }
}

/// Strings as they are; numbers, bools, arrays and objects as JSON text.
fn to_utf8(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn to_bool(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.trim() == "true" => Ok(true),
        Value::String(s) if s.trim() == "false" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

fn to_date32(value: &Value) -> Result<i32, String> {
    let Value::String(s) = value else {
        return Err("expected a date string YYYY-MM-DD".into());
    };
    let date = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|e| format!("expected a date YYYY-MM-DD: {e}"))?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    i32::try_from((date - epoch).num_days()).map_err(|_| "date out of range".into())
}

/// Microseconds since the epoch, UTC. Digits below a microsecond are
/// dropped (rounding down). With `legacy_offsets` the offset is ignored: the
/// local time is taken as UTC (the old bug).
fn to_timestamp(value: &Value, legacy_offsets: bool) -> Result<i64, String> {
    let Value::String(s) = value else {
        return Err("expected an RFC 3339 timestamp string".into());
    };
    let ts = DateTime::parse_from_rfc3339(s.trim())
        .map_err(|e| format!("expected an RFC 3339 timestamp: {e}"))?;
    Ok(if legacy_offsets {
        ts.naive_local().and_utc().timestamp_micros()
    } else {
        ts.timestamp_micros()
    })
}

/// Parses decimal text (`-12.50`, `1e3`, `0.125E+1`) into the unscaled value
/// of a `decimal128(precision, scale)`, exactly: digits beyond the scale must
/// be zeros, and the value must fit the precision.
pub fn parse_decimal(text: &str, precision: u8, scale: i8) -> Result<i128, String> {
    let bad = || format!("`{text}` is not a decimal number");
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => {
            let exp: i64 = rest[i + 1..].parse().map_err(|_| bad())?;
            (&rest[..i], exp)
        }
        None => (rest, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part) {
        return Err(bad());
    }
    // value = digits * 10^(exponent - frac_len); unscaled = value * 10^scale.
    let digits: String = int_part.chars().chain(frac_part.chars()).collect();
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(0);
    }
    let shift = exponent
        .saturating_sub(frac_part.len() as i64)
        .saturating_add(scale as i64);
    let too_big = || format!("needs more than {precision} digits (precision {precision})");
    let digits = if shift < 0 {
        let drop = usize::try_from(-shift).unwrap_or(usize::MAX);
        let keep = digits.len().saturating_sub(drop);
        if !digits[keep..].bytes().all(|b| b == b'0') {
            return Err(format!(
                "has more than {scale} decimal places (scale {scale})"
            ));
        }
        &digits[..keep]
    } else {
        digits
    };
    if digits.len() > 38 {
        return Err(too_big());
    }
    let mut unscaled: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| bad())?
    };
    if shift > 0 {
        let factor = u32::try_from(shift)
            .ok()
            .and_then(|s| 10i128.checked_pow(s))
            .ok_or_else(too_big)?;
        unscaled = unscaled.checked_mul(factor).ok_or_else(too_big)?;
    }
    if unscaled >= 10i128.pow(precision as u32) {
        return Err(too_big());
    }
    Ok(if negative { -unscaled } else { unscaled })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal("12.5", 10, 2), Ok(1250));
        assert_eq!(parse_decimal("-12.50", 10, 2), Ok(-1250));
        assert_eq!(parse_decimal("+0.01", 10, 2), Ok(1));
        assert_eq!(parse_decimal("1e3", 10, 2), Ok(100000));
        assert_eq!(parse_decimal("1.25E-1", 10, 3), Ok(125));
        assert_eq!(parse_decimal("12.3400", 10, 2), Ok(1234));
        assert_eq!(parse_decimal("0", 1, 0), Ok(0));
        assert_eq!(parse_decimal("000.000", 3, 2), Ok(0));
        assert_eq!(parse_decimal("7.", 3, 0), Ok(7));
        assert_eq!(parse_decimal(".5", 3, 1), Ok(5));
        assert_eq!(
            parse_decimal("12345678901234567890123456.789012345678", 38, 12),
            Ok(12345678901234567890123456789012345678)
        );
        assert!(
            parse_decimal("12.345", 10, 2)
                .unwrap_err()
                .contains("decimal places")
        );
        assert!(
            parse_decimal("1000", 3, 0)
                .unwrap_err()
                .contains("precision")
        );
        assert!(parse_decimal("10", 3, 2).unwrap_err().contains("precision"));
        assert!(
            parse_decimal("1e40", 38, 0)
                .unwrap_err()
                .contains("precision")
        );
        assert!(parse_decimal("1e-99999999999999", 38, 0).is_err());
        for bad in ["", "-", "1.2.3", "abc", "1e", "1,5", "e5", " 1"] {
            assert!(parse_decimal(bad, 10, 2).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps() {
        let v = Value::String("2025-02-18T10:00:00+02:00".into());
        assert_eq!(to_timestamp(&v, false), Ok(1_739_865_600_000_000));
        assert_eq!(to_timestamp(&v, true), Ok(1_739_872_800_000_000));
        let z = Value::String("2025-02-18T08:00:00.123456789Z".into());
        assert_eq!(to_timestamp(&z, false), Ok(1_739_865_600_123_456));
        assert_eq!(to_timestamp(&z, true), Ok(1_739_865_600_123_456));
        assert!(to_timestamp(&Value::String("2025-02-18".into()), false).is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(to_date32(&Value::String("1970-01-02".into())), Ok(1));
        assert_eq!(to_date32(&Value::String("1969-12-31".into())), Ok(-1));
        assert!(to_date32(&Value::String("2025-02-30".into())).is_err());
    }
}
