//! Partitioning by time: which periods a pipeline expects, and how a period
//! is named in paths (`date=2025-02-18`, `hour=2025-02-18T05`, `month=2025-02`).

use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How long one period is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    Default,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// One hour, UTC: partitions `date=2025-02-18T13`.
    Hour,
    /// One day, UTC: partitions `date=2025-02-18` (the default).
    #[default]
    Day,
    /// One calendar month: partitions `date=2025-02`.
    Month,
}

/// One period: the half-open interval [start, end) in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    start: NaiveDateTime,
    granularity: Granularity,
}

impl Period {
    /// The period of `granularity` that contains `instant`.
    pub fn containing(granularity: Granularity, instant: NaiveDateTime) -> Period {
        let date = instant.date();
        let start = match granularity {
            Granularity::Hour => date.and_hms_opt(instant.hour(), 0, 0).expect("valid hour"),
            Granularity::Day => date.and_time(NaiveTime::MIN),
            Granularity::Month => NaiveDate::from_ymd_opt(date.year(), date.month(), 1)
                .expect("first of month")
                .and_time(NaiveTime::MIN),
        };
        Period { start, granularity }
    }

    pub fn start(&self) -> NaiveDateTime {
        self.start
    }

    pub fn end(&self) -> NaiveDateTime {
        self.next().start
    }

    pub fn next(&self) -> Period {
        let start = match self.granularity {
            Granularity::Hour => self.start + Duration::hours(1),
            Granularity::Day => self.start + Duration::days(1),
            Granularity::Month => {
                let d = self.start.date();
                let (y, m) = if d.month() == 12 {
                    (d.year() + 1, 1)
                } else {
                    (d.year(), d.month() + 1)
                };
                NaiveDate::from_ymd_opt(y, m, 1)
                    .expect("first of month")
                    .and_time(NaiveTime::MIN)
            }
        };
        Period {
            start,
            granularity: self.granularity,
        }
    }

    pub fn prev(&self) -> Period {
        let probe = self.start - Duration::seconds(1);
        Period::containing(self.granularity, probe)
    }

    /// The value in the folder name: `2025-02-18`, `2025-02-18T05`, `2025-02`.
    pub fn granularity(&self) -> Granularity {
        self.granularity
    }

    pub fn label(&self) -> String {
        match self.granularity {
            Granularity::Hour => self.start.format("%Y-%m-%dT%H").to_string(),
            Granularity::Day => self.start.format("%Y-%m-%d").to_string(),
            Granularity::Month => self.start.format("%Y-%m").to_string(),
        }
    }

    /// The Hive-style folder name: `date=2025-02-18`.
    pub fn id(&self) -> String {
        format!("{}={}", key_name(self.granularity), self.label())
    }

    /// Formats the period start with a strftime pattern.
    pub fn format(&self, pattern: &str) -> String {
        self.start.format(pattern).to_string()
    }

    /// Parses a folder name (`date=…`) or a bare label (`2025-02-18`).
    pub fn parse(granularity: Granularity, text: &str) -> Option<Period> {
        let label = text
            .strip_prefix(&format!("{}=", key_name(granularity)))
            .unwrap_or(text);
        let start = match granularity {
            Granularity::Hour => {
                NaiveDateTime::parse_from_str(&format!("{label}:00:00"), "%Y-%m-%dT%H:%M:%S")
                    .ok()?
            }
            Granularity::Day => NaiveDate::parse_from_str(label, "%Y-%m-%d")
                .ok()?
                .and_time(NaiveTime::MIN),
            Granularity::Month => NaiveDate::parse_from_str(&format!("{label}-01"), "%Y-%m-%d")
                .ok()?
                .and_time(NaiveTime::MIN),
        };
        let period = Period { start, granularity };
        (period.label() == label).then_some(period)
    }

    pub fn rfc3339_start(&self) -> String {
        rfc3339(self.start)
    }

    pub fn rfc3339_end(&self) -> String {
        rfc3339(self.end())
    }
}

fn rfc3339(t: NaiveDateTime) -> String {
    DateTime::<Utc>::from_naive_utc_and_offset(t, Utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn key_name(granularity: Granularity) -> &'static str {
    match granularity {
        Granularity::Hour => "hour",
        Granularity::Day => "date",
        Granularity::Month => "month",
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

/// A date or a date-time as people write one, in UTC: `2025-02-18`,
/// `2025-02-18T05:30:00` or `2025-02-18T05`. The one date parser of the
/// config and the command line.
pub fn parse_instant(text: &str) -> Option<NaiveDateTime> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.and_time(NaiveTime::MIN))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H"))
        .ok()
}

/// The periods from the one containing `first` up to the one containing
/// `last` (inclusive), keeping only those complete by `now - settle`.
pub fn complete_periods(
    granularity: Granularity,
    first: NaiveDateTime,
    last: Option<NaiveDateTime>,
    now: NaiveDateTime,
    settle: Duration,
) -> Vec<Period> {
    let mut out = Vec::new();
    let mut p = Period::containing(granularity, first);
    let last = last.map(|l| Period::containing(granularity, l));
    loop {
        if last.is_some_and(|l| p > l) || p.end() + settle > now {
            break;
        }
        out.push(p);
        p = p.next();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn ids_round_trip() {
        for (g, id) in [
            (Granularity::Day, "date=2025-02-18"),
            (Granularity::Hour, "hour=2025-02-18T05"),
            (Granularity::Month, "month=2025-12"),
        ] {
            let p = Period::parse(g, id).unwrap();
            assert_eq!(p.id(), id);
        }
        assert!(Period::parse(Granularity::Day, "date=2025-02-30").is_none());
        assert!(Period::parse(Granularity::Day, "2025-2-1").is_none());
    }

    #[test]
    fn months_roll_over_years() {
        let dec = Period::parse(Granularity::Month, "2025-12").unwrap();
        assert_eq!(dec.next().id(), "month=2026-01");
        assert_eq!(dec.next().prev(), dec);
    }

    #[test]
    fn unsettled_periods_are_not_expected() {
        let days = complete_periods(
            Granularity::Day,
            at("2025-02-01 00:00"),
            None,
            at("2025-02-04 01:00"),
            Duration::hours(2),
        );
        // Feb 3 ended at 00:00 on Feb 4 but needs two hours to settle.
        let ids: Vec<_> = days.iter().map(Period::id).collect();
        assert_eq!(ids, ["date=2025-02-01", "date=2025-02-02"]);
    }
}
