//! Checks of a partition as a whole: `row_count`, `volume` and `schema`.

use super::*;

// ---- row_count and volume -------------------------------------------------

pub(super) fn row_count(rows: u64, min: Option<u64>, max: Option<u64>) -> Outcome {
    let expected = match (min, max) {
        (Some(lo), Some(hi)) => format!("expected between {lo} and {hi}"),
        (Some(lo), None) => format!("expected at least {lo}"),
        (None, Some(hi)) => format!("expected at most {hi}"),
        (None, None) => "no bounds".to_owned(),
    };
    let within = min.is_none_or(|lo| rows >= lo) && max.is_none_or(|hi| rows <= hi);
    if within {
        Outcome::pass(format!("{} ({expected})", count(rows)))
    } else {
        Outcome::fail(1, format!("{}, {expected}", count(rows)), vec![])
    }
}

pub(super) struct Volume {
    /// The median row count of the last `window` partitions; None without
    /// history.
    pub(super) median: Option<f64>,
    /// How many partitions the median is of.
    pub(super) partitions: usize,
    pub(super) max_change: f64,
}

impl Volume {
    pub(super) fn finish(self, rows: u64) -> Outcome {
        let Some(median) = self.median else {
            return Outcome::pass(format!("{}; no history yet", count(rows)));
        };
        let of = match self.partitions {
            1 => "the previous partition".to_owned(),
            n => format!("the median of the last {n} partitions"),
        };
        let shown = if median.fract() == 0.0 {
            format!("{median:.0}")
        } else {
            format!("{median:.1}")
        };
        if median == 0.0 {
            return if rows == 0 {
                Outcome::pass(format!("0 rows, as {of} ({shown})"))
            } else {
                Outcome::fail(1, format!("{}, where {of} has 0", count(rows)), vec![])
            };
        }
        let change = (rows as f64 - median).abs() / median;
        let direction = if rows as f64 >= median {
            "above"
        } else {
            "below"
        };
        let message = format!(
            "{}, {} {direction} {of} ({shown}); at most {} allowed",
            count(rows),
            percent(change),
            percent(self.max_change)
        );
        if change > self.max_change {
            Outcome::fail(1, message, vec![])
        } else {
            Outcome::pass(message)
        }
    }
}

pub(super) fn median(counts: &[u64]) -> Option<f64> {
    let mut sorted = counts.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2] as f64),
        _ => Some((sorted[n / 2 - 1] as f64 + sorted[n / 2] as f64) / 2.0),
    }
}

/// `0.5` → `50%`, `0.3333` → `33.3%`.
pub(super) fn percent(fraction: f64) -> String {
    let text = format!("{:.1}", fraction * 100.0);
    format!("{}%", text.strip_suffix(".0").unwrap_or(&text))
}

// ---- schema ---------------------------------------------------------------

pub(super) fn schema_outcome(
    expected: &[(String, String)],
    exact: bool,
    columns: &[Column],
) -> Result<Outcome, String> {
    // (column, what is wrong) for each column that differs.
    let mut differences: Vec<(String, String)> = Vec::new();
    for (name, type_text) in expected {
        let want = parse_type(type_text).map_err(|e| format!("column `{name}`: {e}"))?;
        match columns.iter().find(|c| c.name == *name) {
            None => differences.push((name.clone(), "missing".into())),
            Some(column) => {
                let same = parse_type(&column.data_type).is_ok_and(|have| have == want);
                if !same {
                    differences.push((
                        name.clone(),
                        format!("{}, expected {}", column.data_type, type_name(&want)),
                    ));
                }
            }
        }
    }
    if exact {
        for column in columns {
            if !expected.iter().any(|(name, _)| *name == column.name) {
                differences.push((column.name.clone(), "not expected".into()));
            }
        }
    }
    if differences.is_empty() {
        let n = expected.len();
        let what = if n == 1 {
            "expected column, with its type".to_owned()
        } else {
            format!("{n} expected columns, with their types")
        };
        return Ok(Outcome::pass(if exact {
            format!("exactly the {what}")
        } else {
            format!("the {what}")
        }));
    }
    let described = describe_differences(&differences);
    let n = differences.len();
    let message = format!(
        "{n} {} from the expected schema: {described}",
        if n == 1 {
            "column differs"
        } else {
            "columns differ"
        }
    );
    let samples = differences
        .iter()
        .take(MAX_SAMPLES)
        .map(|(name, what)| clip(format!("{name}: {what}")))
        .collect();
    Ok(Outcome::fail(n as u64, message, samples))
}

/// `amount is int64, expected decimal128(12,2); note is not expected`,
/// then `and N more`.
pub(super) fn describe_differences(differences: &[(String, String)]) -> String {
    let mut parts = differences
        .iter()
        .take(LISTED_COLUMNS)
        .map(|(name, what)| match what.as_str() {
            "missing" => format!("{name} is missing"),
            "not expected" => format!("{name} is not expected"),
            other => format!("{name} is {other}"),
        })
        .collect::<Vec<_>>();
    if differences.len() > LISTED_COLUMNS {
        parts.push(format!("and {} more", differences.len() - LISTED_COLUMNS));
    }
    parts.join("; ")
}
