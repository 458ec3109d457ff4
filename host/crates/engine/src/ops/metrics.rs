//! Prometheus metrics in the text exposition format: per dataset,
//! partitions by state (as `host status` plans them) and the end of the
//! newest fresh period; the last run's start, duration, outcome and, per
//! dataset, partitions computed and failed, rows and bytes written.
//!
//! `host run --metrics-file` writes them where node_exporter's textfile
//! collector reads them: to a temp name first, then renamed, so the
//! collector never reads half a file.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use strata_core::config::Pipeline;
use strata_core::planner;

use super::history::{DatasetRecord, PartitionRecord, RunRecord, RunStatus};
use crate::report::Report;

/// The states `host status` names, in its order.
const STATES: [&str; 7] = [
    "fresh", "stale", "missing", "damaged", "failed", "blocked", "waiting",
];

/// The metrics text for a pipeline whose plan is `status` (a
/// `strata_engine::status` report, taken after the run) and whose last run
/// is `run` (its per-dataset numbers from its record). Without a run (none
/// recorded yet: `host serve` on a new store) the last-run families are
/// left out.
pub fn render(
    pipeline: &Pipeline,
    status: &Report,
    now: NaiveDateTime,
    run: Option<&RunRecord>,
) -> String {
    let mut out = String::new();
    let period_end: HashMap<String, NaiveDateTime> = planner::pipeline_periods(pipeline, now)
        .iter()
        .map(|p| (p.id(), p.end()))
        .collect();
    let last_end = period_end.values().max().copied();

    family(
        &mut out,
        "strata_partitions",
        "Partitions by state, as `host status` plans them.",
    );
    for d in &status.datasets {
        for state in STATES {
            let n = d
                .partitions
                .iter()
                .filter(|p| p.planned.name() == state)
                .count();
            sample(
                &mut out,
                "strata_partitions",
                &[("dataset", &d.dataset), ("state", state)],
                n as f64,
            );
        }
    }

    family(
        &mut out,
        "strata_fresh_until_timestamp_seconds",
        "The end of the newest fresh period of each dataset (Unix time); absent if none is fresh.",
    );
    for d in &status.datasets {
        let newest = d
            .partitions
            .iter()
            .filter(|p| p.planned.name() == "fresh")
            .filter_map(|p| {
                if p.partition == planner::ALL {
                    last_end
                } else {
                    period_end.get(&p.partition).copied()
                }
            })
            .max();
        if let Some(end) = newest {
            sample(
                &mut out,
                "strata_fresh_until_timestamp_seconds",
                &[("dataset", &d.dataset)],
                end.and_utc().timestamp() as f64,
            );
        }
    }

    let Some(run) = run else {
        return out;
    };
    family(
        &mut out,
        "strata_last_run_start_timestamp_seconds",
        "When the last run started (Unix time).",
    );
    sample(
        &mut out,
        "strata_last_run_start_timestamp_seconds",
        &[],
        run.started_at.timestamp_millis() as f64 / 1000.0,
    );
    family(
        &mut out,
        "strata_last_run_duration_seconds",
        "How long the last run took.",
    );
    sample(
        &mut out,
        "strata_last_run_duration_seconds",
        &[],
        run.duration_ms.unwrap_or_default() as f64 / 1000.0,
    );
    family(
        &mut out,
        "strata_last_run_success",
        "1 if the last run ended ok, 0 otherwise.",
    );
    sample(
        &mut out,
        "strata_last_run_success",
        &[],
        f64::from(u8::from(run.status == RunStatus::Ok)),
    );
    family(
        &mut out,
        "strata_last_run_status",
        "How the last run ended: 1 for its status (ok, failed, stopped), 0 for the others.",
    );
    for status in [RunStatus::Ok, RunStatus::Failed, RunStatus::Stopped] {
        sample(
            &mut out,
            "strata_last_run_status",
            &[("status", status.name())],
            f64::from(u8::from(run.status == status)),
        );
    }

    let per_dataset: [(&str, &str, DatasetCount); 4] = [
        (
            "strata_last_run_partitions_computed",
            "Partitions the last run computed.",
            |d| d.counts.computed as u64,
        ),
        (
            "strata_last_run_partitions_failed",
            "Partitions that failed in the last run.",
            |d| d.counts.failed as u64,
        ),
        (
            "strata_last_run_rows_written",
            "Rows the last run wrote.",
            |d| d.partitions.iter().map(|p| stat(p, "rows_written")).sum(),
        ),
        (
            "strata_last_run_bytes_written",
            "Bytes the last run wrote.",
            |d| d.partitions.iter().map(|p| stat(p, "bytes_written")).sum(),
        ),
    ];
    for (name, help, count) in per_dataset {
        family(&mut out, name, help);
        for d in &run.datasets {
            sample(&mut out, name, &[("dataset", &d.dataset)], count(d) as f64);
        }
    }
    out
}

/// A per-dataset number of the last run, from its record.
type DatasetCount = fn(&DatasetRecord) -> u64;

/// One of a computed partition's stats (`rows_written`, …), 0 if none.
fn stat(partition: &PartitionRecord, name: &str) -> u64 {
    partition
        .stats
        .as_ref()
        .and_then(|s| s.get(name))
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0)
}

fn family(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
            .collect();
        let _ = write!(out, "{{{}}}", labels.join(","));
    }
    let _ = writeln!(out, " {value}");
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Writes `text` to `path` through a temp file in the same folder and a
/// rename, so a reader sees the old file or the new one, never half.
pub fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("{} names no file", path.display()))?;
    let mut temp_name = name.to_os_string();
    temp_name.push(format!(".tmp-{}", std::process::id()));
    let temp = path.with_file_name(temp_name);
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        anyhow::anyhow!("writing the metrics file {}: {e}", path.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        sample(&mut out, "m", &[("dataset", "a\"b\\c\nd")], 3.0);
        assert_eq!(out, "m{dataset=\"a\\\"b\\\\c\\nd\"} 3\n");
    }
}
