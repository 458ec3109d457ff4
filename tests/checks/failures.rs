//! Failure records: a deterministic failure is not recomputed while its
//! key is unchanged, `--retry-failed` recomputes it, and fixing the cause
//! (here the plugin's params) heals exactly what failed.

use crate::util::{DEDUPE, Medallion, day};

use super::*;

#[test]
fn a_deterministic_failure_waits_for_a_change_or_retry_failed() {
    // Silver fails in `finish` on every day: a plugin error.
    let ws = Medallion::new()
        .days(2)
        .silver("test_fail_at", "at = \"finish\"\nhow = \"error\"")
        .workspace();
    ws.add_plugin("test_fail_at", "test_fail_at");
    let first = ws.run(&[]);
    assert_eq!(first.code, Some(1));
    let failures = failed(&first, "silver/transactions");
    assert_eq!(failures.len(), 2);
    assert!(
        failures.iter().all(|f| f.1 == "plugin-error"),
        "{failures:?}"
    );
    let attempts = |ws: &crate::util::Workspace| -> Vec<u64> {
        let out = ws.host(&["status", "--json"]);
        let status: Value = serde_json::from_slice(&out.stdout).unwrap();
        status["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["dataset"] == "silver/transactions")
            .map(|p| {
                assert_eq!(p["state"], "failed", "{p}");
                assert_eq!(p["failure"]["kind"], "plugin-error", "{p}");
                p["failure"]["attempts"].as_u64().unwrap()
            })
            .collect()
    };
    assert_eq!(attempts(&ws), [1, 1]);

    // Nothing changed: not recomputed, still failed, still exit 1.
    let second = ws.run(&[]);
    assert_eq!(second.code, Some(1));
    assert_eq!(failed(&second, "silver/transactions").len(), 2);
    let entry = &second.dataset("silver/transactions")["failed_partitions"][0];
    assert_eq!(entry["attempted"], false, "{entry}");
    assert_eq!(attempts(&ws), [1, 1]);

    // --retry-failed computes them again.
    let retried = ws.run(&["--retry-failed"]);
    assert_eq!(retried.code, Some(1));
    let entry = &retried.dataset("silver/transactions")["failed_partitions"][0];
    assert_eq!(entry["attempted"], true, "{entry}");
    assert_eq!(attempts(&ws), [2, 2]);

    // The fix: the plugin and its params change, so the key changes.
    let fixed = Medallion::new()
        .days(2)
        .silver("clean_dedupe", DEDUPE)
        .toml();
    ws.write_config(&fixed);
    let healed = ws.run(&[]);
    healed.assert_ok();
    assert_eq!(healed.computed("silver/transactions"), [day(1), day(2)]);
    assert!(silver_states(&ws).iter().all(|s| s == "fresh"));

    // Byte for byte what a clean run of the fixed pipeline gives.
    let clean = Medallion::new().days(2).workspace();
    clean.run(&[]).assert_ok();
    for d in [1, 2] {
        let (a, b) = (
            ws.manifest("silver/transactions", &day(d)),
            clean.manifest("silver/transactions", &day(d)),
        );
        assert_eq!(a["content_hash"], b["content_hash"]);
        assert_eq!(a["key"], b["key"]);
    }
}

#[test]
fn a_changed_check_heals_a_rejected_day_without_other_work() {
    // A check too strict for day 2 (35 rows) rejects it on the first run.
    let strict = "[[datasets.checks]]\ncheck = \"row_count\"\nmax = 32";
    let ws = three_days(strict);
    let first = ws.run(&[]);
    assert_eq!(first.code, Some(1));
    assert_eq!(failed(&first, "silver/transactions")[0].0, day(2));
    assert!(!ws.partition_dir("silver/transactions", &day(2)).exists());

    // Loosened: the failed day is computed (its key never had a manifest),
    // and the days that passed only have the new check evaluated.
    set_silver_checks(&ws, "[[datasets.checks]]\ncheck = \"row_count\"\nmax = 40");
    let second = ws.run(&[]);
    second.assert_ok();
    assert_eq!(second.computed("silver/transactions"), [day(2)]);
    assert_eq!(checked(&second, "silver/transactions"), [day(1), day(3)]);
    assert_eq!(second.count("bronze/transactions", "computed"), 0);
    let r = silver_result(&ws, 2, "row_count");
    assert_eq!(
        (r["passed"].as_bool(), r["violations"].as_u64()),
        (Some(true), Some(0))
    );
}
