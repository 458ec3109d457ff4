//! `host check`: every check evaluated on demand on what is published,
//! computing no data, within --dataset, --from and --to.

use super::*;

#[test]
fn host_check_evaluates_published_partitions_in_scope_and_computes_nothing() {
    let ws = three_days("[[datasets.checks]]\ncheck = \"row_count\"\nmin = 1");
    ws.run(&[]).assert_ok();
    let before = ws.snapshot();

    let out = ws.host(&[
        "check",
        "--json",
        "--dataset",
        "silver/transactions",
        "--from",
        "2025-02-02",
        "--to",
        "2025-02-02",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], true);
    let silver = report["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["dataset"] == "silver/transactions")
        .unwrap();
    assert_eq!(silver["partitions_checked"], 1, "{silver}");
    assert_eq!(silver["results"][0]["partition"], day(2));
    assert_eq!(silver["results"][0]["passed"], true);
    // No data file was written or changed.
    let mut after = ws.snapshot();
    let mut before = before;
    after.retain(|p, _| !p.ends_with("_manifest.json"));
    before.retain(|p, _| !p.ends_with("_manifest.json"));
    assert_eq!(after, before);

    // A stricter check, evaluated on demand: day 2 (35 rows) fails, exit 1,
    // and the result is recorded in its manifest.
    set_silver_checks(&ws, "[[datasets.checks]]\ncheck = \"row_count\"\nmax = 32");
    let out = ws.host(&["check", "--dataset", "silver/transactions"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAILED date=2025-02-02 row_count"), "{text}");
    let r = silver_result(&ws, 2, "row_count");
    assert_eq!(r["passed"], false);
    assert_eq!(silver_result(&ws, 1, "row_count")["passed"], true);
    assert_eq!(silver_states(&ws), ["fresh", "failed", "fresh"]);
}
