//! `accepted_values` and `range`: values of one column against a list or bounds.

use super::*;

// ---- accepted_values ------------------------------------------------------

pub(super) struct AcceptedValues {
    pub(super) input: Input,
    pub(super) matcher: Matcher,
    /// The accepted values as the column's type shows them: `[EUR, USD]`.
    pub(super) listing: String,
    pub(super) outside: u64,
    pub(super) samples: ValueSamples,
}

/// How `accepted_values` tells accepted values.
pub(super) enum Matcher {
    /// A few values: one `eq` kernel each.
    Kernel(Vec<Scalar<ArrayRef>>),
    /// Many: a set of their row encodings, looked up row by row.
    Rows {
        converter: RowConverter,
        accepted: HashSet<Box<[u8]>>,
    },
}

impl Matcher {
    /// True where the column holds a value not accepted, null where it is
    /// null.
    pub(super) fn outside(&self, column: &ArrayRef) -> Result<BooleanArray, ArrowError> {
        match self {
            Matcher::Kernel(values) => {
                let mut inside: Option<BooleanArray> = None;
                for value in values {
                    let equal = cmp::eq(column, value)?;
                    inside = Some(match inside {
                        None => equal,
                        Some(acc) => or(&acc, &equal)?,
                    });
                }
                match inside {
                    Some(inside) => not(&inside),
                    None => Ok(BooleanArray::new(
                        BooleanBuffer::new_set(column.len()),
                        column.nulls().cloned(),
                    )),
                }
            }
            Matcher::Rows {
                converter,
                accepted,
            } => {
                let rows = converter.convert_columns(std::slice::from_ref(column))?;
                let outside = BooleanBuffer::collect_bool(rows.num_rows(), |i| {
                    !accepted.contains(rows.row(i).as_ref())
                });
                Ok(BooleanArray::new(outside, column.nulls().cloned()))
            }
        }
    }
}

impl AcceptedValues {
    pub(super) fn observe(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let column = self.input.get(batch)?;
        let outside = self.matcher.outside(&column).map_err(arrow_error)?;
        let found = outside.true_count() as u64;
        if found > 0 {
            self.outside += found;
            self.samples.add(&column, &outside).map_err(arrow_error)?;
        }
        Ok(())
    }

    pub(super) fn finish(self, rows: u64) -> Outcome {
        let (column, listing) = (&self.input.name, &self.listing);
        if self.outside == 0 {
            Outcome::pass(format!(
                "every non-null {column} is in {listing} ({})",
                count(rows)
            ))
        } else {
            Outcome::fail(
                self.outside,
                format!(
                    "{} of {rows} rows have {column} outside {listing}",
                    self.outside
                ),
                self.samples.text,
            )
        }
    }
}

/// `[EUR, USD, GBP]`, or `[a, b, …, j, and 30 more]` for a long list.
pub(super) fn listing(values: &[ArrayRef]) -> String {
    let shown = values
        .iter()
        .take(LISTED_VALUES)
        .map(|v| display(v, 0))
        .collect::<Vec<_>>()
        .join(", ");
    if values.len() > LISTED_VALUES {
        format!("[{shown}, and {} more]", values.len() - LISTED_VALUES)
    } else {
        format!("[{shown}]")
    }
}

// ---- range ----------------------------------------------------------------

pub(super) struct Range {
    pub(super) input: Input,
    pub(super) min: Option<Bound>,
    pub(super) max: Option<Bound>,
    pub(super) below: u64,
    pub(super) above: u64,
    pub(super) samples: ValueSamples,
}

/// A `range` bound as a value of the column's type.
pub(super) struct Bound {
    pub(super) value: Scalar<ArrayRef>,
    /// As the column's type shows it: `1000.00`.
    pub(super) text: String,
}

impl Range {
    pub(super) fn observe(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let column = self.input.get(batch)?;
        let below = match &self.min {
            Some(min) => Some(cmp::lt(&column, &min.value).map_err(arrow_error)?),
            None => None,
        };
        let above = match &self.max {
            Some(max) => Some(cmp::gt(&column, &max.value).map_err(arrow_error)?),
            None => None,
        };
        let below_count = below.as_ref().map_or(0, |b| b.true_count() as u64);
        let above_count = above.as_ref().map_or(0, |a| a.true_count() as u64);
        self.below += below_count;
        self.above += above_count;
        if below_count + above_count > 0 && !self.samples.full() {
            let outside = match (below, above) {
                (Some(b), Some(a)) => or(&b, &a).map_err(arrow_error)?,
                (Some(one), None) | (None, Some(one)) => one,
                (None, None) => return Ok(()),
            };
            self.samples.add(&column, &outside).map_err(arrow_error)?;
        }
        Ok(())
    }

    pub(super) fn finish(self, rows: u64) -> Outcome {
        let column = &self.input.name;
        let violations = self.below + self.above;
        let (min, max) = (
            self.min.as_ref().map(|b| b.text.as_str()),
            self.max.as_ref().map(|b| b.text.as_str()),
        );
        if violations == 0 {
            let message = match (min, max) {
                (Some(min), Some(max)) => {
                    format!("every non-null {column} is within [{min}, {max}]")
                }
                (Some(min), None) => format!("no {column} below {min}"),
                (None, Some(max)) => format!("no {column} above {max}"),
                (None, None) => format!("no bounds for {column}"),
            };
            return Outcome::pass(format!("{message} ({})", count(rows)));
        }
        let message = match (min, max) {
            (Some(min), Some(max)) if self.below > 0 && self.above > 0 => format!(
                "{violations} of {rows} rows have {column} outside [{min}, {max}]: {} below, {} above",
                self.below, self.above
            ),
            (Some(min), _) if self.below > 0 => {
                format!("{violations} of {rows} rows have {column} below {min}")
            }
            (_, Some(max)) => format!("{violations} of {rows} rows have {column} above {max}"),
            _ => format!("{violations} of {rows} rows have {column} out of range"),
        };
        Outcome::fail(violations, message, self.samples.text)
    }
}

/// A `range` bound as a value of the column's type.
pub(super) fn range_bound(
    what: &str,
    value: &Value,
    column: &str,
    data_type: &DataType,
) -> Result<Bound, String> {
    if value.is_number() && matches!(data_type, DataType::Utf8 | DataType::Binary) {
        return Err(format!(
            "`{what}` {value} is a number, but `{column}` is {} and compares as text; \
             write the bound as a string",
            type_name(data_type)
        ));
    }
    let typed = typed_value(&format!("`{what}`"), value, column, data_type)?;
    Ok(Bound {
        text: display(&typed, 0),
        value: Scalar::new(typed),
    })
}
