//! `host run --metrics-file`: the Prometheus text format, read back with
//! the Prometheus Python client's own parser, with counts equal to what
//! `host status --json` says.

use std::collections::BTreeMap;

use super::{host, python};
use crate::util::{Gold, Medallion, parse_status};

/// Parses the metrics file with prometheus_client and prints every sample
/// as `[name, labels, value]`.
const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
samples = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        samples.append([s.name, s.labels, s.value])
print(json.dumps(samples))
"#;

#[test]
fn the_metrics_file_parses_and_its_counts_equal_status() {
    // Four days; silver fails on every day (so gold is blocked), and the
    // run only goes to the third day (so the fourth stays missing).
    let ws = Medallion::new()
        .days(4)
        .silver("fail_at", "at = \"open\"\nhow = \"error\"")
        .gold("aggregate", &[Gold::DailySum])
        .workspace();
    ws.add_plugin("test_fail_at", "fail_at");
    std::fs::create_dir(ws.path().join("metrics")).unwrap();
    let out = host(
        &ws,
        &[
            "run",
            "--to",
            "2025-02-03",
            "--metrics-file",
            "metrics/strata.prom",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<String> = std::fs::read_dir(ws.path().join("metrics"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["strata.prom"], "no temp file is left");
    let text = std::fs::read_to_string(ws.path().join("metrics/strata.prom")).unwrap();

    let status = parse_status(&host(&ws, &["status", "--json"]));
    let mut expected: BTreeMap<(String, String), f64> = BTreeMap::new();
    for ((dataset, _), (state, _)) in &status {
        *expected
            .entry((dataset.clone(), state.clone()))
            .or_default() += 1.0;
    }
    let Some(parsed) = python(PARSE, &text, ws.path(), "prometheus_client") else {
        return;
    };
    let samples: Vec<(String, BTreeMap<String, String>, f64)> =
        serde_json::from_str(&parsed).unwrap();
    let value = |name: &str, labels: &[(&str, &str)]| -> Option<f64> {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && l.len() == labels.len()
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(v))
            })
            .map(|(_, _, v)| *v)
    };

    let mut partitions: BTreeMap<(String, String), f64> = BTreeMap::new();
    for (name, labels, v) in &samples {
        if name == "strata_partitions" && *v > 0.0 {
            partitions.insert((labels["dataset"].clone(), labels["state"].clone()), *v);
        }
    }
    assert_eq!(partitions, expected, "{text}");
    // The states the scenario is about are there.
    assert_eq!(expected[&("raw/transactions".into(), "fresh".into())], 3.0);
    assert_eq!(
        expected[&("raw/transactions".into(), "missing".into())],
        1.0
    );
    assert!(expected.contains_key(&("gold/daily_totals".into(), "blocked".into())));

    assert_eq!(value("strata_last_run_success", &[]), Some(0.0));
    assert_eq!(
        value("strata_last_run_status", &[("status", "failed")]),
        Some(1.0)
    );
    assert_eq!(
        value(
            "strata_last_run_partitions_failed",
            &[("dataset", "silver/transactions")]
        ),
        Some(3.0)
    );
    assert_eq!(
        value(
            "strata_last_run_partitions_computed",
            &[("dataset", "bronze/transactions")]
        ),
        Some(3.0)
    );
    assert!(value("strata_last_run_duration_seconds", &[]).is_some_and(|d| d >= 0.0));
    // Freshness: bronze is fresh up to the end of February 3.
    let feb_4 = chrono::NaiveDate::from_ymd_opt(2025, 2, 4)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp() as f64;
    assert_eq!(
        value(
            "strata_fresh_until_timestamp_seconds",
            &[("dataset", "bronze/transactions")]
        ),
        Some(feb_4)
    );
    assert_eq!(
        value(
            "strata_fresh_until_timestamp_seconds",
            &[("dataset", "silver/transactions")]
        ),
        None,
        "nothing of silver is fresh"
    );
}
