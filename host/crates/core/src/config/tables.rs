//! `[tables]`: whether every non-raw dataset is also a Delta Lake table,
//! and how long files an older table version still references are kept.
//!
//! ```toml
//! [tables]
//! format = "delta"          # the default; "none": Hive-style folders only
//! retention = "7d"          # like VACUUM's retention: time travel works this far back
//! checkpoint_interval = 10  # a checkpoint every N table versions
//! ```
//!
//! As data: the log itself is the store's business (`strata_store::delta`).

use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use crate::units::parse_duration;

/// What a pipeline's datasets are besides Hive-style folders of Parquet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TableFormat {
    /// A Delta Lake log (`_delta_log/`) in every non-raw dataset's folder.
    Delta,
    /// No table log: readers glob the folders.
    None,
}

/// `[tables]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    pub format: TableFormat,
    /// Files a table version still references are kept this long after
    /// the version that stopped referencing them (`host gc` removes them
    /// after); time travel works this far back.
    pub retention: Duration,
    /// A checkpoint every this many table versions, so readers do not
    /// replay every commit.
    pub checkpoint_interval: u64,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            format: TableFormat::Delta,
            retention: Duration::from_secs(7 * 86400),
            checkpoint_interval: 10,
        }
    }
}

impl Tables {
    /// Whether replaced data files must outlive their partition's commit
    /// (until `host gc` after the retention), because a table version
    /// may still reference them.
    pub fn keeps_replaced_files(&self) -> bool {
        self.format == TableFormat::Delta
    }
}

/// `[tables]`: the Delta Lake log of every non-raw dataset.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTables {
    /// `"delta"` (the default): every non-raw dataset's folder is also a
    /// Delta Lake table (`_delta_log/`); `"none"`: Hive-style folders only.
    #[schemars(with = "Option<TableFormat>")]
    format: Option<Spanned<String>>,
    /// Files an older table version still references are kept this long
    /// after it (`host gc` removes them after): time travel works this far
    /// back. A duration, default `"7d"`.
    #[schemars(with = "Option<String>")]
    retention: Option<Spanned<String>>,
    /// A checkpoint every this many table versions (at least 1), so
    /// readers do not replay every commit. Default 10.
    #[schemars(with = "Option<std::num::NonZeroU64>")]
    checkpoint_interval: Option<Spanned<i64>>,
}

/// A config error: its line and what is wrong.
type Error = (usize, String);

pub(super) fn parse(
    raw: Option<Spanned<RawTables>>,
    line_of: &dyn Fn(usize) -> usize,
) -> Result<Tables, Error> {
    let mut tables = Tables::default();
    let Some(raw) = raw else {
        return Ok(tables);
    };
    let raw = raw.into_inner();
    let at = |span: std::ops::Range<usize>, message: String| (line_of(span.start), message);
    if let Some(format) = &raw.format {
        tables.format = match format.get_ref().as_str() {
            "delta" => TableFormat::Delta,
            "none" => TableFormat::None,
            other => {
                return Err(at(
                    format.span(),
                    format!("[tables]: unknown format `{other}`: write \"delta\" or \"none\""),
                ));
            }
        };
    }
    if let Some(retention) = &raw.retention {
        tables.retention = parse_duration(retention.get_ref())
            .map_err(|m| at(retention.span(), format!("[tables].retention: {m}")))?;
    }
    if let Some(interval) = &raw.checkpoint_interval {
        tables.checkpoint_interval = u64::try_from(*interval.get_ref())
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                at(
                    interval.span(),
                    format!(
                        "[tables]: checkpoint_interval must be at least 1, not {}",
                        interval.get_ref()
                    ),
                )
            })?;
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Tables, Error> {
        #[derive(Deserialize)]
        struct File {
            tables: Option<Spanned<RawTables>>,
        }
        let file: File = toml::from_str(text).expect("toml");
        let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
        parse(file.tables, &line_of)
    }

    #[test]
    fn defaults_and_values() {
        assert_eq!(parse_text("").unwrap(), Tables::default());
        let t = parse_text(
            "[tables]\nformat = \"none\"\nretention = \"36h\"\ncheckpoint_interval = 3\n",
        )
        .unwrap();
        assert_eq!(t.format, TableFormat::None);
        assert_eq!(t.retention, Duration::from_secs(36 * 3600));
        assert_eq!(t.checkpoint_interval, 3);
        assert!(!t.keeps_replaced_files());
        assert!(Tables::default().keeps_replaced_files());
    }

    #[test]
    fn errors_name_the_line() {
        for (text, line, message) in [
            (
                "[tables]\nformat = \"iceberg\"",
                2,
                "unknown format `iceberg`",
            ),
            (
                "[tables]\n\nretention = \"7 days\"",
                3,
                "[tables].retention",
            ),
            ("[tables]\ncheckpoint_interval = 0", 2, "at least 1"),
        ] {
            let (l, m) = parse_text(text).unwrap_err();
            assert_eq!(l, line, "{text}");
            assert!(m.contains(message), "{m}");
        }
    }
}
