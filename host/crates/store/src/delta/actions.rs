//! The actions of a Delta log commit (PROTOCOL.md, "Actions"), as JSON:
//! one action per line, each an object with one key naming its kind.
//! Only what Strata writes is modelled; other kinds another writer may
//! have left (`txn`, `cdc`, `domainMetadata`, …) are read and ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `protocol`: the reader and writer versions a table needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Protocol {
    pub min_reader_version: u32,
    pub min_writer_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_features: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer_features: Option<Vec<String>>,
}

impl Protocol {
    /// Reader 1, writer 2: what every Delta reader reads.
    pub fn base() -> Protocol {
        Protocol {
            min_reader_version: 1,
            min_writer_version: 2,
            reader_features: None,
            writer_features: None,
        }
    }

    /// Reader 3, writer 7 with the `timestampNtz` feature: needed as soon
    /// as a column is a timestamp without a time zone.
    pub fn with_timestamp_ntz() -> Protocol {
        Protocol {
            min_reader_version: 3,
            min_writer_version: 7,
            reader_features: Some(vec!["timestampNtz".into()]),
            writer_features: Some(vec!["timestampNtz".into()]),
        }
    }
}

/// `metaData.format`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Format {
    pub provider: String,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// `metaData`: the table's identity, schema and partition columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetaData {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub format: Format,
    /// The schema as Spark's JSON struct type (`schema::StructType`).
    pub schema_string: String,
    pub partition_columns: Vec<String>,
    #[serde(default)]
    pub configuration: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<i64>,
}

/// `add`: a data file is part of the table from this version on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Add {
    /// Relative to the table folder, URI-encoded.
    pub path: String,
    pub partition_values: BTreeMap<String, Option<String>>,
    pub size: u64,
    /// Milliseconds since the epoch.
    pub modification_time: i64,
    pub data_change: bool,
    /// Per-file column statistics, as a JSON string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<String>,
}

/// `remove`: a data file is no longer part of the table from this version
/// on; it stays on disk for readers of older versions (a tombstone) until
/// the retention has passed since `deletion_timestamp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Remove {
    pub path: String,
    /// Milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<i64>,
    pub data_change: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_file_metadata: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_values: Option<BTreeMap<String, Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// One line of a commit or one row of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    CommitInfo(serde_json::Value),
    Protocol(Protocol),
    MetaData(MetaData),
    Add(Add),
    Remove(Remove),
}

impl Action {
    /// Parses one line of a commit; `None` for an action kind Strata does
    /// not model.
    pub fn parse_line(line: &str) -> Result<Option<Action>, serde_json::Error> {
        let value: serde_json::Value = serde_json::from_str(line)?;
        let known = value.as_object().is_some_and(|o| {
            o.keys().any(|k| {
                matches!(
                    k.as_str(),
                    "commitInfo" | "protocol" | "metaData" | "add" | "remove"
                )
            })
        });
        if !known {
            return Ok(None);
        }
        serde_json::from_value(value).map(Some)
    }
}

/// A commit's bytes: one JSON object per line.
pub fn commit_bytes(actions: &[Action]) -> Vec<u8> {
    let mut out = Vec::new();
    for action in actions {
        serde_json::to_writer(&mut out, action).expect("an action always serialises");
        out.push(b'\n');
    }
    out
}

/// A table-relative path as the log writes it: percent-encoded, `/`
/// between folders. Partition folders and file names are plain already
/// (`date=2025-02-18/part-….parquet`); anything else is encoded.
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The inverse of [`encode_path`], for paths any writer wrote.
pub fn decode_path(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&path[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_and_unknown_kinds_are_skipped() {
        let add = Action::Add(Add {
            path: "date=2025-02-18/part-0.parquet".into(),
            partition_values: [("date".to_owned(), Some("2025-02-18".to_owned()))].into(),
            size: 10,
            modification_time: 1,
            data_change: true,
            stats: Some("{\"numRecords\":3}".into()),
        });
        let bytes = commit_bytes(std::slice::from_ref(&add));
        let line = std::str::from_utf8(&bytes).unwrap().trim_end();
        assert!(line.starts_with("{\"add\":{\"path\":"), "{line}");
        assert_eq!(Action::parse_line(line).unwrap(), Some(add));
        assert_eq!(
            Action::parse_line("{\"txn\":{\"appId\":\"x\",\"version\":1}}").unwrap(),
            None
        );
    }

    #[test]
    fn paths_encode_and_decode() {
        assert_eq!(
            encode_path("date=2025-02-18/part-ab.parquet"),
            "date=2025-02-18/part-ab.parquet"
        );
        assert_eq!(encode_path("a b:c"), "a%20b%3Ac");
        assert_eq!(decode_path("a%20b%3Ac"), "a b:c");
    }
}
