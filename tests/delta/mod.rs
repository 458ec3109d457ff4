//! Every non-raw dataset is also a Delta table (issue 15): read by real
//! Delta readers (the `deltalake` Python package, Polars `scan_delta`,
//! DuckDB `delta_scan` from the duckdb-ext-delta wheel), across plugin
//! swaps, time travel, gc, crashes, readers during a run, and S3 and
//! Azure with two writers racing for a version.
//!
//! The readers run through `read_table.py` (and `read_loop.py` for the
//! reader during a run). Without the Python packages a test skips loudly;
//! with `CI=true` it fails.

mod evolution;
mod readers;
mod reliability;
mod stores;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::Workspace;

/// What a Delta reader saw: the table's columns and rows per partition
/// value (`2025-02-01`, or `all`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableRead {
    pub columns: Vec<String>,
    pub rows: BTreeMap<String, u64>,
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/delta")
        .join(name)
}

/// Says that a reader is missing: a failure with `CI=true`, else a loud
/// skip (`false`).
pub(crate) fn reader_missing(why: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI must have the Delta readers (.ci/run installs them): {why}");
    }
    eprintln!("\n!! SKIPPED a Delta reader check: {why}\n");
    false
}

/// Reads a table with `reader` (`deltalake`, `polars`, `duckdb`), at
/// `version` or the latest; `None` if the reader is not installed.
pub(crate) fn read_table(table: &Path, reader: &str, version: Option<u64>) -> Option<TableRead> {
    let mut cmd = Command::new("python3");
    cmd.arg(script("read_table.py")).arg(reader).arg(table);
    if let Some(v) = version {
        cmd.arg(v.to_string());
    }
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => {
            reader_missing(&format!("python3 does not run: {e}"));
            return None;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) {
        reader_missing(&format!("{reader}: {stderr}"));
        return None;
    }
    assert!(
        out.status.success(),
        "{reader} could not read {} (version {version:?}):\n{stderr}",
        table.display()
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    Some(TableRead {
        columns: json["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect(),
        rows: json["rows"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .collect(),
    })
}

/// What the manifests of a dataset say: rows per partition value, and the
/// columns of the newest partition with the partition column last.
pub(crate) fn manifests(ws: &Workspace, dataset: &str) -> TableRead {
    let dir = ws.store().join(dataset);
    let mut rows = BTreeMap::new();
    let mut columns = vec![];
    let mut partitions: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('_'))
        .collect();
    partitions.sort();
    let mut partitioned = false;
    for partition in partitions {
        let Ok(bytes) = std::fs::read(dir.join(&partition).join("_manifest.json")) else {
            continue;
        };
        let m: Value = serde_json::from_slice(&bytes).unwrap();
        let key = match partition.split_once('=') {
            Some((_, value)) => {
                partitioned = true;
                value.to_owned()
            }
            None => partition.clone(),
        };
        rows.insert(key, m["rows"].as_u64().unwrap());
        columns = m["schema"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect();
    }
    if partitioned {
        columns.push("date".into());
    }
    TableRead { columns, rows }
}

/// The versions in a dataset's `_delta_log/`.
pub(crate) fn log_versions(ws: &Workspace, dataset: &str) -> Vec<u64> {
    let dir = ws.store().join(dataset).join("_delta_log");
    let mut versions: Vec<u64> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                name.strip_suffix(".json")?.parse().ok()
            })
            .collect(),
        Err(_) => vec![],
    };
    versions.sort();
    versions
}

/// The `table` object `host run --json` printed for a dataset.
pub(crate) fn table_of<'a>(run: &'a crate::util::RunSummary, dataset: &str) -> &'a Value {
    &run.dataset(dataset)["table"]
}
