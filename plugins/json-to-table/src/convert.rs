//! JSON values to column values.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate};
use serde_json::Value;
use strata_sdk::Error;
use strata_sdk::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use strata_sdk::arrow::buffer::{Buffer, NullBuffer, OffsetBuffer};
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

/// A JSON scalar, borrowed from the input where possible: what the streaming
/// parser hands over for a field, and what a `Value` scalar converts as.
#[derive(Debug, Clone, Copy)]
pub enum Scalar<'a> {
    Bool(bool),
    /// A non-negative integer that fits in a u64, as serde_json delivers it.
    U64(u64),
    /// A negative integer that fits in an i64, as serde_json delivers it.
    I64(i64),
    /// Any number as serde_json's arbitrary-precision text (what
    /// `Number::as_str` gives): every digit kept, exponents as `e+N`/`e-N`.
    Number(&'a str),
    Str(&'a str),
}

/// The strings of one column: the bytes of every value, one after the other.
#[derive(Default)]
pub struct Strings {
    bytes: String,
    /// Where each row's value ends in `bytes`.
    ends: Vec<usize>,
    valid: Vec<bool>,
}

impl Strings {
    fn push(&mut self, value: &str) {
        self.bytes.push_str(value);
        self.ends.push(self.bytes.len());
        self.valid.push(true);
    }

    fn push_null(&mut self) {
        self.ends.push(self.bytes.len());
        self.valid.push(false);
    }

    fn truncate(&mut self, len: usize) {
        if len < self.ends.len() {
            let end = if len == 0 { 0 } else { self.ends[len - 1] };
            self.bytes.truncate(end);
            self.ends.truncate(len);
            self.valid.truncate(len);
        }
    }

    /// The array `StringArray::from(Vec<Option<String>>)` makes of the same
    /// values: the same offsets, bytes and validity (none if no row is null).
    fn take(&mut self) -> StringArray {
        let Strings { bytes, ends, valid } = std::mem::take(self);
        let offsets = std::iter::once(0)
            .chain(
                ends.iter()
                    .map(|&end| i32::try_from(end).expect("byte array offset overflow")),
            )
            .collect::<Vec<i32>>();
        let nulls = valid.contains(&false).then(|| NullBuffer::from(valid));
        StringArray::new(
            OffsetBuffer::new(offsets.into()),
            Buffer::from(bytes.into_bytes()),
            nulls,
        )
    }
}

/// The values of one output column, built row by row.
pub enum Values {
    Int64(Vec<Option<i64>>),
    Float64(Vec<Option<f64>>),
    Utf8(Strings),
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
            Kind::Utf8 => Values::Utf8(Strings::default()),
            Kind::Bool => Values::Bool(Vec::new()),
            Kind::Date32 => Values::Date32(Vec::new()),
            Kind::TimestampUtc => Values::Timestamp(Vec::new()),
            Kind::Decimal(p, s) => Values::Decimal(Vec::new(), p, s),
        }
    }

    /// The number of rows so far.
    pub fn len(&self) -> usize {
        match self {
            Values::Int64(v) => v.len(),
            Values::Float64(v) => v.len(),
            Values::Utf8(v) => v.ends.len(),
            Values::Bool(v) => v.len(),
            Values::Date32(v) => v.len(),
            Values::Timestamp(v) => v.len(),
            Values::Decimal(v, _, _) => v.len(),
        }
    }

    /// Drops the rows from `len` on.
    pub fn truncate(&mut self, len: usize) {
        match self {
            Values::Int64(v) => v.truncate(len),
            Values::Float64(v) => v.truncate(len),
            Values::Utf8(v) => v.truncate(len),
            Values::Bool(v) => v.truncate(len),
            Values::Date32(v) => v.truncate(len),
            Values::Timestamp(v) => v.truncate(len),
            Values::Decimal(v, _, _) => v.truncate(len),
        }
    }

    pub fn push_null(&mut self) {
        match self {
            Values::Int64(v) => v.push(None),
            Values::Float64(v) => v.push(None),
            Values::Utf8(v) => v.push_null(),
            Values::Bool(v) => v.push(None),
            Values::Date32(v) => v.push(None),
            Values::Timestamp(v) => v.push(None),
            Values::Decimal(v, _, _) => v.push(None),
        }
    }

    /// Converts and appends a non-null JSON value; the error says why it
    /// cannot be converted.
    pub fn push(&mut self, value: &Value, legacy_offsets: bool) -> Result<(), String> {
        let scalar = match value {
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => Scalar::Number(n.as_str()),
            Value::String(s) => Scalar::Str(s),
            // Strings keep nulls, arrays and objects as JSON text; every
            // other type refuses them as it refuses a bool.
            Value::Null | Value::Array(_) | Value::Object(_) => {
                return match self {
                    Values::Utf8(v) => {
                        v.push(&value.to_string());
                        Ok(())
                    }
                    _ => Err(self.refusal().into()),
                };
            }
        };
        self.push_scalar(scalar, legacy_offsets)
    }

    /// Converts and appends a non-null JSON scalar; the error says why it
    /// cannot be converted (the same reasons as [`Values::push`]).
    pub fn push_scalar(&mut self, value: Scalar, legacy_offsets: bool) -> Result<(), String> {
        match self {
            Values::Int64(v) => v.push(Some(to_int64(value)?)),
            Values::Float64(v) => v.push(Some(to_float64(value)?)),
            Values::Utf8(v) => {
                let mut digits = IntText::default();
                v.push(match value {
                    Scalar::Str(s) | Scalar::Number(s) => s,
                    Scalar::U64(u) => digits.format(u, false),
                    Scalar::I64(i) => digits.format(i.unsigned_abs(), i < 0),
                    Scalar::Bool(true) => "true",
                    Scalar::Bool(false) => "false",
                });
            }
            Values::Bool(v) => v.push(Some(to_bool(value)?)),
            Values::Date32(v) => v.push(Some(to_date32(value)?)),
            Values::Timestamp(v) => v.push(Some(to_timestamp(value, legacy_offsets)?)),
            Values::Decimal(v, p, s) => {
                let mut digits = IntText::default();
                let text = match value {
                    Scalar::Number(n) => n,
                    Scalar::U64(u) => digits.format(u, false),
                    Scalar::I64(i) => digits.format(i.unsigned_abs(), i < 0),
                    Scalar::Str(s) => trim(s),
                    Scalar::Bool(_) => return Err(self.refusal().into()),
                };
                v.push(Some(parse_decimal(text, *p, *s)?));
            }
        }
        Ok(())
    }

    /// Why a bool, an array or an object is refused.
    fn refusal(&self) -> &'static str {
        match self {
            Values::Int64(_) => "expected an integer",
            Values::Float64(_) => "expected a number",
            Values::Utf8(_) => unreachable!("strings take every value"),
            Values::Bool(_) => "expected true or false",
            Values::Date32(_) => "expected a date string YYYY-MM-DD",
            Values::Timestamp(_) => "expected an RFC 3339 timestamp string",
            Values::Decimal(..) => "expected a number or a numeric string",
        }
    }

    /// The column, emptying these values.
    pub fn take_array(&mut self) -> Result<ArrayRef, Error> {
        Ok(match self {
            Values::Int64(v) => Arc::new(Int64Array::from(std::mem::take(v))),
            Values::Float64(v) => Arc::new(Float64Array::from(std::mem::take(v))),
            Values::Utf8(v) => Arc::new(v.take()),
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

/// The decimal text of an integer, without allocating: what serde_json
/// keeps as the text of a number that fits in 64 bits.
#[derive(Default)]
struct IntText {
    buf: [u8; 20],
}

impl IntText {
    fn format(&mut self, magnitude: u64, negative: bool) -> &str {
        let mut at = self.buf.len();
        let mut rest = magnitude;
        loop {
            at -= 1;
            self.buf[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        if negative {
            at -= 1;
            self.buf[at] = b'-';
        }
        std::str::from_utf8(&self.buf[at..]).expect("ASCII digits")
    }
}

/// `str::trim`, without decoding characters when neither end can be
/// whitespace: ASCII whitespace is at most a space, and any other starts with
/// a non-ASCII byte.
fn trim(s: &str) -> &str {
    let solid = |b: &u8| (b'!'..0x80).contains(b);
    match s.as_bytes() {
        [first, .., last] if solid(first) && solid(last) => s,
        [only] if solid(only) => s,
        _ => s.trim(),
    }
}

fn to_int64(value: Scalar) -> Result<i64, String> {
    let too_big = || "expected an integer that fits in int64".to_string();
    match value {
        Scalar::U64(u) => i64::try_from(u).map_err(|_| too_big()),
        Scalar::I64(i) => Ok(i),
        // What `Number::as_i64` does with arbitrary precision.
        Scalar::Number(n) => n.parse().map_err(|_| too_big()),
        Scalar::Str(s) => trim(s).parse().map_err(|_| too_big()),
        Scalar::Bool(_) => Err("expected an integer".into()),
    }
}

fn to_float64(value: Scalar) -> Result<f64, String> {
    let f = match value {
        // Both round to the nearest f64 (ties to even), as parsing the
        // integer's text does.
        Scalar::U64(u) => Some(u as f64),
        Scalar::I64(i) => Some(i as f64),
        // What `Number::as_f64` does with arbitrary precision.
        Scalar::Number(n) => n.parse::<f64>().ok().filter(|f| f.is_finite()),
        Scalar::Str(s) => trim(s).parse().ok(),
        Scalar::Bool(_) => return Err("expected a number".into()),
    };
    match f {
        Some(f) if f.is_finite() => Ok(f),
        _ => Err("expected a finite number".into()),
    }
}

fn to_bool(value: Scalar) -> Result<bool, String> {
    match value {
        Scalar::Bool(b) => Ok(b),
        Scalar::Str(s) if trim(s) == "true" => Ok(true),
        Scalar::Str(s) if trim(s) == "false" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

fn to_date32(value: Scalar) -> Result<i32, String> {
    let Scalar::Str(s) = value else {
        return Err("expected a date string YYYY-MM-DD".into());
    };
    let date = NaiveDate::parse_from_str(trim(s), "%Y-%m-%d")
        .map_err(|e| format!("expected a date YYYY-MM-DD: {e}"))?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    i32::try_from((date - epoch).num_days()).map_err(|_| "date out of range".into())
}

/// Microseconds since the epoch, UTC. Digits below a microsecond are
/// dropped (rounding down). With `legacy_offsets` the offset is ignored: the
/// local time is taken as UTC (the old bug).
fn to_timestamp(value: Scalar, legacy_offsets: bool) -> Result<i64, String> {
    let Scalar::Str(s) = value else {
        return Err("expected an RFC 3339 timestamp string".into());
    };
    let ts = DateTime::parse_from_rfc3339(trim(s))
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
    let (mantissa, exponent) = match rest.bytes().position(|b| (b | 0x20) == b'e') {
        Some(i) => {
            let exp: i64 = rest[i + 1..].parse().map_err(|_| bad())?;
            (&rest[..i], exp)
        }
        None => (rest, 0),
    };
    let (int_part, frac_part) = match mantissa.bytes().position(|b| b == b'.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part) {
        return Err(bad());
    }
    // value = digits * 10^(exponent - frac_len); unscaled = value * 10^scale,
    // where digits are those of both parts, leading zeros dropped.
    let all = int_part.as_bytes().iter().chain(frac_part.as_bytes());
    let leading = all.clone().take_while(|&&b| b == b'0').count();
    let len = int_part.len() + frac_part.len() - leading;
    if len == 0 {
        return Ok(0);
    }
    let digits = all.skip(leading);
    let shift = exponent
        .saturating_sub(frac_part.len() as i64)
        .saturating_add(scale as i64);
    let too_big = || format!("needs more than {precision} digits (precision {precision})");
    let keep = if shift < 0 {
        let drop = usize::try_from(shift.unsigned_abs()).unwrap_or(usize::MAX);
        let keep = len.saturating_sub(drop);
        if !digits.clone().skip(keep).all(|&b| b == b'0') {
            return Err(format!(
                "has more than {scale} decimal places (scale {scale})"
            ));
        }
        keep
    } else {
        len
    };
    if keep > 38 {
        return Err(too_big());
    }
    // At most 38 digits: fits an i128.
    let mut unscaled = digits
        .take(keep)
        .fold(0i128, |n, &b| n * 10 + i128::from(b - b'0'));
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
        let v = Scalar::Str("2025-02-18T10:00:00+02:00");
        assert_eq!(to_timestamp(v, false), Ok(1_739_865_600_000_000));
        assert_eq!(to_timestamp(v, true), Ok(1_739_872_800_000_000));
        let z = Scalar::Str("2025-02-18T08:00:00.123456789Z");
        assert_eq!(to_timestamp(z, false), Ok(1_739_865_600_123_456));
        assert_eq!(to_timestamp(z, true), Ok(1_739_865_600_123_456));
        assert!(to_timestamp(Scalar::Str("2025-02-18"), false).is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(to_date32(Scalar::Str("1970-01-02")), Ok(1));
        assert_eq!(to_date32(Scalar::Str("1969-12-31")), Ok(-1));
        assert!(to_date32(Scalar::Str("2025-02-30")).is_err());
    }
}
