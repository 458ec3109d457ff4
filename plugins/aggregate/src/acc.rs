//! Aggregate functions: per-group accumulators over typed columns.

use std::cmp::Ordering;
use std::sync::Arc;

use strata_sdk::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Date64Array, Decimal128Array,
    Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, LargeStringArray,
    StringArray, TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
    TimestampSecondArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use strata_sdk::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, Float32Type, Float64Type, Int8Type,
    Int16Type, Int32Type, Int64Type, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Sum,
    Count,
    Min,
    Max,
    Avg,
}

impl Func {
    pub fn parse(name: &str) -> Option<Func> {
        Some(match name {
            "sum" => Func::Sum,
            "count" => Func::Count,
            "min" => Func::Min,
            "max" => Func::Max,
            "avg" => Func::Avg,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Func::Sum => "sum",
            Func::Count => "count",
            Func::Min => "min",
            Func::Max => "max",
            Func::Avg => "avg",
        }
    }
}

/// How a column's values are read: as exact integers (all integer types,
/// dates, timestamps, decimals, bools), as floats, or as strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repr {
    Int,
    Float,
    Str,
}

fn repr(data_type: &DataType) -> Option<Repr> {
    Some(match data_type {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(_, _)
        | DataType::Decimal128(_, _)
        | DataType::Boolean => Repr::Int,
        DataType::Float32 | DataType::Float64 => Repr::Float,
        DataType::Utf8 | DataType::LargeUtf8 => Repr::Str,
        _ => return None,
    })
}

fn is_integer(data_type: &DataType) -> bool {
    data_type.is_integer()
}

/// Per-group state of one aggregate.
pub enum Acc {
    CountRows(Vec<i64>),
    CountValues(Vec<i64>),
    /// Integer sums, checked against int64 at the end.
    SumInt(Vec<Option<i128>>),
    SumFloat(Vec<Option<f64>>),
    /// Decimal sums of unscaled values at the input's scale.
    SumDecimal(Vec<Option<i128>>, i8),
    AvgInt(Vec<(i128, i64)>),
    AvgFloat(Vec<(f64, i64)>),
    AvgDecimal(Vec<(i128, i64)>, i8),
    MinMaxInt(Vec<Option<i128>>, bool),
    MinMaxFloat(Vec<Option<f64>>, bool),
    MinMaxStr(Vec<Option<String>>, bool),
}

impl Acc {
    /// The accumulator for `func` over a column of `input` type (`None`: no
    /// column, counts rows), or why that is not supported.
    pub fn new(func: Func, input: Option<&DataType>) -> Result<Acc, String> {
        let Some(dt) = input else {
            return match func {
                Func::Count => Ok(Acc::CountRows(Vec::new())),
                _ => Err(format!("`{}` needs a column", func.name())),
            };
        };
        let unsupported = || format!("`{}` of a {dt} column is not supported", func.name());
        let repr = repr(dt);
        Ok(match (func, dt) {
            (Func::Count, _) => Acc::CountValues(Vec::new()),
            (Func::Sum, dt) if is_integer(dt) => Acc::SumInt(Vec::new()),
            (Func::Sum, DataType::Float32 | DataType::Float64) => Acc::SumFloat(Vec::new()),
            (Func::Sum, DataType::Decimal128(_, s)) => Acc::SumDecimal(Vec::new(), *s),
            (Func::Avg, dt) if is_integer(dt) => Acc::AvgInt(Vec::new()),
            (Func::Avg, DataType::Float32 | DataType::Float64) => Acc::AvgFloat(Vec::new()),
            (Func::Avg, DataType::Decimal128(_, s)) => Acc::AvgDecimal(Vec::new(), *s),
            (Func::Min | Func::Max, _) => {
                let max = func == Func::Max;
                match repr.ok_or_else(unsupported)? {
                    Repr::Int => Acc::MinMaxInt(Vec::new(), max),
                    Repr::Float => Acc::MinMaxFloat(Vec::new(), max),
                    Repr::Str => Acc::MinMaxStr(Vec::new(), max),
                }
            }
            _ => return Err(unsupported()),
        })
    }

    /// The output type for an input of type `input`.
    pub fn output_type(&self, input: Option<&DataType>) -> DataType {
        match self {
            Acc::CountRows(_) | Acc::CountValues(_) | Acc::SumInt(_) => DataType::Int64,
            Acc::SumFloat(_) | Acc::AvgInt(_) | Acc::AvgFloat(_) => DataType::Float64,
            Acc::SumDecimal(_, s) => DataType::Decimal128(38, *s),
            Acc::AvgDecimal(_, s) => DataType::Decimal128(38, avg_scale(*s)),
            Acc::MinMaxInt(..) | Acc::MinMaxFloat(..) | Acc::MinMaxStr(..) => {
                input.expect("min/max has a column").clone()
            }
        }
    }

    pub fn resize(&mut self, groups: usize) {
        match self {
            Acc::CountRows(v) | Acc::CountValues(v) => v.resize(groups, 0),
            Acc::SumInt(v) | Acc::SumDecimal(v, _) | Acc::MinMaxInt(v, _) => v.resize(groups, None),
            Acc::SumFloat(v) | Acc::MinMaxFloat(v, _) => v.resize(groups, None),
            Acc::AvgInt(v) | Acc::AvgDecimal(v, _) => v.resize(groups, (0, 0)),
            Acc::AvgFloat(v) => v.resize(groups, (0.0, 0)),
            Acc::MinMaxStr(v, _) => v.resize(groups, None),
        }
    }

    /// Adds the rows of one batch; `groups[row]` is the row's group.
    pub fn update(&mut self, column: Option<&ArrayRef>, groups: &[u32]) -> Result<(), String> {
        let overflow = || "sum overflows".to_string();
        match self {
            Acc::CountRows(counts) => {
                for &g in groups {
                    counts[g as usize] += 1;
                }
            }
            Acc::CountValues(counts) => {
                let column = column.expect("count of a column");
                for (row, &g) in groups.iter().enumerate() {
                    if column.is_valid(row) {
                        counts[g as usize] += 1;
                    }
                }
            }
            Acc::SumInt(sums) | Acc::SumDecimal(sums, _) => {
                for (v, &g) in read_ints(column.expect("sum of a column")).zip(groups) {
                    if let Some(v) = v {
                        let sum = sums[g as usize].unwrap_or(0);
                        sums[g as usize] = Some(sum.checked_add(v).ok_or_else(overflow)?);
                    }
                }
            }
            Acc::SumFloat(sums) => {
                for (v, &g) in read_floats(column.expect("sum of a column")).zip(groups) {
                    if let Some(v) = v {
                        *sums[g as usize].get_or_insert(0.0) += v;
                    }
                }
            }
            Acc::AvgInt(state) | Acc::AvgDecimal(state, _) => {
                for (v, &g) in read_ints(column.expect("avg of a column")).zip(groups) {
                    if let Some(v) = v {
                        let (sum, count) = &mut state[g as usize];
                        *sum = sum.checked_add(v).ok_or_else(overflow)?;
                        *count += 1;
                    }
                }
            }
            Acc::AvgFloat(state) => {
                for (v, &g) in read_floats(column.expect("avg of a column")).zip(groups) {
                    if let Some(v) = v {
                        let (sum, count) = &mut state[g as usize];
                        *sum += v;
                        *count += 1;
                    }
                }
            }
            Acc::MinMaxInt(best, max) => {
                for (v, &g) in read_ints(column.expect("min/max of a column")).zip(groups) {
                    keep_best(&mut best[g as usize], v, *max, |a, b| a.cmp(b));
                }
            }
            Acc::MinMaxFloat(best, max) => {
                for (v, &g) in read_floats(column.expect("min/max of a column")).zip(groups) {
                    keep_best(&mut best[g as usize], v, *max, f64::total_cmp);
                }
            }
            Acc::MinMaxStr(best, max) => {
                let column = column.expect("min/max of a column");
                let values: Box<dyn Iterator<Item = Option<&str>>> = match column.data_type() {
                    DataType::LargeUtf8 => Box::new(column.as_string::<i64>().iter()),
                    _ => Box::new(column.as_string::<i32>().iter()),
                };
                for (v, &g) in values.zip(groups) {
                    let slot = &mut best[g as usize];
                    if let Some(v) = v {
                        let better = match slot.as_deref() {
                            None => true,
                            Some(b) => (v > b && *max) || (v < b && !*max),
                        };
                        if better {
                            *slot = Some(v.to_string());
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The result column, one value per group in group order.
    pub fn finish(self, output: &DataType) -> Result<ArrayRef, String> {
        Ok(match self {
            Acc::CountRows(v) | Acc::CountValues(v) => Arc::new(Int64Array::from(v)),
            Acc::SumInt(v) => Arc::new(
                v.into_iter()
                    .map(|s| s.map(i64::try_from).transpose())
                    .collect::<Result<Int64Array, _>>()
                    .map_err(|_| "sum overflows int64".to_string())?,
            ),
            Acc::SumFloat(v) => Arc::new(Float64Array::from(v)),
            Acc::SumDecimal(v, s) => {
                if v.iter()
                    .flatten()
                    .any(|x| x.unsigned_abs() >= 10u128.pow(38))
                {
                    return Err(format!("sum overflows decimal128(38,{s})"));
                }
                decimal_array(v, 38, s)?
            }
            Acc::AvgInt(v) => Arc::new(Float64Array::from_iter(
                v.into_iter()
                    .map(|(sum, n)| (n > 0).then(|| sum as f64 / n as f64)),
            )),
            Acc::AvgFloat(v) => Arc::new(Float64Array::from_iter(
                v.into_iter()
                    .map(|(sum, n)| (n > 0).then(|| sum / n as f64)),
            )),
            Acc::AvgDecimal(v, s) => {
                let out_scale = avg_scale(s);
                let factor = 10i128.pow((out_scale - s) as u32);
                let avgs = v
                    .into_iter()
                    .map(|(sum, n)| {
                        if n == 0 {
                            return Ok(None);
                        }
                        let scaled = sum
                            .checked_mul(factor)
                            .ok_or_else(|| "avg overflows decimal128(38)".to_string())?;
                        Ok(Some(div_round_half_away(scaled, n as i128)))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                decimal_array(avgs, 38, out_scale)?
            }
            Acc::MinMaxInt(v, _) => int_array(output, v)?,
            Acc::MinMaxFloat(v, _) => match output {
                DataType::Float32 => Arc::new(Float32Array::from_iter(
                    v.into_iter().map(|x| x.map(|x| x as f32)),
                )),
                _ => Arc::new(Float64Array::from(v)),
            },
            Acc::MinMaxStr(v, _) => match output {
                DataType::LargeUtf8 => Arc::new(LargeStringArray::from(v)),
                _ => Arc::new(StringArray::from(v)),
            },
        })
    }
}

/// The scale of the average of a decimal of scale `s`: four more digits.
fn avg_scale(s: i8) -> i8 {
    (s.saturating_add(4)).min(38)
}

fn div_round_half_away(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if 2 * r.unsigned_abs() >= d.unsigned_abs() {
        q + n.signum()
    } else {
        q
    }
}

fn keep_best<T: Copy>(
    slot: &mut Option<T>,
    value: Option<T>,
    max: bool,
    cmp: impl Fn(&T, &T) -> Ordering,
) {
    let Some(v) = value else { return };
    let better = match slot {
        None => true,
        Some(b) => match cmp(&v, b) {
            Ordering::Greater => max,
            Ordering::Less => !max,
            Ordering::Equal => false,
        },
    };
    if better {
        *slot = Some(v);
    }
}

macro_rules! ints_of {
    ($column:expr, $t:ty) => {
        Box::new(
            $column
                .as_primitive::<$t>()
                .iter()
                .map(|v| v.map(i128::from)),
        )
    };
}

/// The values of an integer-like column as exact integers.
pub fn read_ints(column: &ArrayRef) -> Box<dyn Iterator<Item = Option<i128>> + '_> {
    match column.data_type() {
        DataType::Int8 => ints_of!(column, Int8Type),
        DataType::Int16 => ints_of!(column, Int16Type),
        DataType::Int32 => ints_of!(column, Int32Type),
        DataType::Int64 => ints_of!(column, Int64Type),
        DataType::UInt8 => ints_of!(column, UInt8Type),
        DataType::UInt16 => ints_of!(column, UInt16Type),
        DataType::UInt32 => ints_of!(column, UInt32Type),
        DataType::UInt64 => ints_of!(column, UInt64Type),
        DataType::Date32 => ints_of!(column, Date32Type),
        DataType::Date64 => ints_of!(column, Date64Type),
        DataType::Timestamp(TimeUnit::Second, _) => ints_of!(column, TimestampSecondType),
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            ints_of!(column, TimestampMillisecondType)
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            ints_of!(column, TimestampMicrosecondType)
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => ints_of!(column, TimestampNanosecondType),
        DataType::Decimal128(_, _) => Box::new(column.as_primitive::<Decimal128Type>().iter()),
        DataType::Boolean => Box::new(column.as_boolean().iter().map(|b| b.map(i128::from))),
        other => unreachable!("checked when planning: {other} is not integer-like"),
    }
}

/// The values of a float column.
pub fn read_floats(column: &ArrayRef) -> Box<dyn Iterator<Item = Option<f64>> + '_> {
    match column.data_type() {
        DataType::Float32 => Box::new(
            column
                .as_primitive::<Float32Type>()
                .iter()
                .map(|v| v.map(f64::from)),
        ),
        _ => Box::new(column.as_primitive::<Float64Type>().iter()),
    }
}

fn decimal_array(values: Vec<Option<i128>>, precision: u8, scale: i8) -> Result<ArrayRef, String> {
    Ok(Arc::new(
        Decimal128Array::from(values)
            .with_precision_and_scale(precision, scale)
            .map_err(|e| e.to_string())?,
    ))
}

macro_rules! native_array {
    ($array:ty, $values:expr) => {
        Arc::new(
            $values
                .into_iter()
                .map(|v| v.map(|v| v.try_into().expect("value came from this type")))
                .collect::<$array>(),
        ) as ArrayRef
    };
}

/// An integer-like column of type `data_type` from exact integers.
fn int_array(data_type: &DataType, v: Vec<Option<i128>>) -> Result<ArrayRef, String> {
    Ok(match data_type {
        DataType::Int8 => native_array!(Int8Array, v),
        DataType::Int16 => native_array!(Int16Array, v),
        DataType::Int32 => native_array!(Int32Array, v),
        DataType::Int64 => native_array!(Int64Array, v),
        DataType::UInt8 => native_array!(UInt8Array, v),
        DataType::UInt16 => native_array!(UInt16Array, v),
        DataType::UInt32 => native_array!(UInt32Array, v),
        DataType::UInt64 => native_array!(UInt64Array, v),
        DataType::Date32 => native_array!(Date32Array, v),
        DataType::Date64 => native_array!(Date64Array, v),
        DataType::Timestamp(unit, tz) => {
            let tz = tz.clone();
            match unit {
                TimeUnit::Second => Arc::new(
                    v.into_iter()
                        .map(|v| v.map(|v| v as i64))
                        .collect::<TimestampSecondArray>()
                        .with_timezone_opt(tz),
                ),
                TimeUnit::Millisecond => Arc::new(
                    v.into_iter()
                        .map(|v| v.map(|v| v as i64))
                        .collect::<TimestampMillisecondArray>()
                        .with_timezone_opt(tz),
                ),
                TimeUnit::Microsecond => Arc::new(
                    v.into_iter()
                        .map(|v| v.map(|v| v as i64))
                        .collect::<TimestampMicrosecondArray>()
                        .with_timezone_opt(tz),
                ),
                TimeUnit::Nanosecond => Arc::new(
                    v.into_iter()
                        .map(|v| v.map(|v| v as i64))
                        .collect::<TimestampNanosecondArray>()
                        .with_timezone_opt(tz),
                ),
            }
        }
        DataType::Decimal128(p, s) => decimal_array(v, *p, *s)?,
        DataType::Boolean => Arc::new(
            v.into_iter()
                .map(|v| v.map(|v| v != 0))
                .collect::<BooleanArray>(),
        ),
        other => return Err(format!("cannot build a {other} column")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding() {
        assert_eq!(div_round_half_away(5, 2), 3);
        assert_eq!(div_round_half_away(-5, 2), -3);
        assert_eq!(div_round_half_away(4, 3), 1);
        assert_eq!(div_round_half_away(-4, 3), -1);
        assert_eq!(div_round_half_away(2, 3), 1);
    }

    #[test]
    fn errors() {
        assert!(Acc::new(Func::Sum, Some(&DataType::Utf8)).is_err());
        assert!(Acc::new(Func::Sum, None).is_err());
        assert!(Acc::new(Func::Max, Some(&DataType::Binary)).is_err());
    }
}
