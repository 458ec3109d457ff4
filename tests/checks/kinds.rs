//! Each built-in kind, passing then failing. The failing variant is reached
//! by changing the check, which re-evaluates it on the published content
//! without computing anything.

use serde_json::Value;

use super::*;

/// Runs the example with `pass` on silver, asserts the result `label`
/// passed on every day; then swaps in `fail` and asserts the re-check
/// computed nothing, failed every day in `failing_days` (others pass) and
/// left those days `failed`. Returns the failing result of the first
/// failing day.
fn pass_then_fail(label: &str, pass: &str, fail: &str, failing_days: &[u32]) -> Value {
    pass_then_fail_as(label, label, pass, fail, failing_days)
}

/// [`pass_then_fail`] where the passing check and the failing one have
/// other labels (other columns).
fn pass_then_fail_as(
    pass_label: &str,
    label: &str,
    pass: &str,
    fail: &str,
    failing_days: &[u32],
) -> Value {
    let ws = three_days(pass);
    ws.run(&[]).assert_ok();
    for d in 1..=3 {
        let r = silver_result(&ws, d, pass_label);
        assert_eq!(r["passed"], true, "{r}");
        assert_eq!(r["violations"], 0, "{r}");
    }
    assert_eq!(silver_states(&ws), ["fresh"; 3]);
    let data_before = ws.data_files("silver/transactions", &day(1));

    set_silver_checks(&ws, fail);
    let run = ws.run(&[]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.json, run.stderr);
    // Nothing computed: the check was evaluated on what is published.
    for dataset in [
        "raw/transactions",
        "bronze/transactions",
        "silver/transactions",
    ] {
        assert_eq!(run.count(dataset, "computed"), 0, "{dataset}: {}", run.json);
    }
    assert_eq!(
        checked(&run, "silver/transactions").len(),
        3 - failing_days.len()
    );
    assert_eq!(ws.data_files("silver/transactions", &day(1)), data_before);
    let failures = failed(&run, "silver/transactions");
    let failed_days: Vec<String> = failures.iter().map(|f| f.0.clone()).collect();
    let expected: Vec<String> = failing_days.iter().map(|d| day(*d)).collect();
    assert_eq!(failed_days, expected, "{}", run.json);
    for (_, kind, message) in &failures {
        assert_eq!(kind, "check");
        assert!(message.contains(label), "{message}");
    }
    let states = silver_states(&ws);
    for d in 1..=3u32 {
        let r = silver_result(&ws, d, label);
        let failing = failing_days.contains(&d);
        assert_eq!(r["passed"], !failing, "day {d}: {r}");
        assert_eq!(r["severity"], "error");
        assert_eq!(
            states[d as usize - 1],
            if failing { "failed" } else { "fresh" }
        );
    }
    silver_result(&ws, failing_days[0], label)
}

#[test]
fn not_null() {
    let r = pass_then_fail_as(
        "not_null(id, amount)",
        "not_null(customer_id)",
        "[[datasets.checks]]\ncheck = \"not_null\"\ncolumns = [\"id\", \"amount\"]",
        "[[datasets.checks]]\ncheck = \"not_null\"\ncolumn = \"customer_id\"",
        &[1, 2, 3],
    );
    assert!(r["violations"].as_u64().unwrap() > 0, "{r}");
    assert!(
        r["message"].as_str().unwrap().contains("customer_id"),
        "{r}"
    );
}

#[test]
fn unique() {
    let r = pass_then_fail_as(
        "unique(id)",
        "unique(currency, status)",
        "[[datasets.checks]]\ncheck = \"unique\"\ncolumns = [\"id\"]",
        "[[datasets.checks]]\ncheck = \"unique\"\ncolumns = [\"currency\", \"status\"]",
        &[1, 2, 3],
    );
    let samples = r["samples"].as_array().unwrap();
    assert!(!samples.is_empty() && samples.len() <= 5, "{r}");
    assert!(
        samples.iter().any(|s| s.as_str().unwrap().contains("EUR")),
        "{r}"
    );
}

#[test]
fn accepted_values() {
    let r = pass_then_fail(
        "accepted_values(currency)",
        "[[datasets.checks]]\ncheck = \"accepted_values\"\ncolumn = \"currency\"\nvalues = [\"EUR\", \"USD\", \"GBP\"]",
        "[[datasets.checks]]\ncheck = \"accepted_values\"\ncolumn = \"currency\"\nvalues = [\"EUR\", \"USD\"]",
        &[1, 2, 3],
    );
    let samples: Vec<&str> = r["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(samples, ["GBP"], "{r}");
}

#[test]
fn range() {
    // Decimal amounts against integer and decimal bounds; timestamps
    // against a date.
    let r = pass_then_fail(
        "range(amount)",
        "[[datasets.checks]]\ncheck = \"range\"\ncolumn = \"amount\"\nmin = 0\nmax = \"1000.00\"\n\n\
         [[datasets.checks]]\ncheck = \"range\"\ncolumn = \"updated_at\"\nmin = \"2025-01-01T00:00:00Z\"",
        "[[datasets.checks]]\ncheck = \"range\"\ncolumn = \"amount\"\nmax = 200",
        &[1, 2, 3],
    );
    assert!(r["violations"].as_u64().unwrap() > 0, "{r}");
    for s in r["samples"].as_array().unwrap() {
        let v: f64 = s.as_str().unwrap().parse().unwrap();
        assert!(v > 200.0, "{r}");
    }
}

#[test]
fn row_count() {
    let r = pass_then_fail(
        "row_count",
        "[[datasets.checks]]\ncheck = \"row_count\"\nmin = 1\nmax = 1000",
        "[[datasets.checks]]\ncheck = \"row_count\"\nmin = 1000",
        &[1, 2, 3],
    );
    assert_eq!(r["violations"], 1, "{r}");
}

#[test]
fn volume() {
    // Day 1 has no history; days 2 and 3 differ from the median of the days
    // before them by a few percent, more than 1%.
    let r = pass_then_fail(
        "volume",
        "[[datasets.checks]]\ncheck = \"volume\"\nwindow = 7\nmax_change = 0.5",
        "[[datasets.checks]]\ncheck = \"volume\"\nwindow = 7\nmax_change = 0.01",
        &[2, 3],
    );
    assert_eq!(r["violations"], 1, "{r}");
}

#[test]
fn schema() {
    let r = pass_then_fail(
        "schema",
        "[[datasets.checks]]\ncheck = \"schema\"\ncolumns = { id = \"utf8\", amount = \"decimal128(12,2)\" }",
        "[[datasets.checks]]\ncheck = \"schema\"\ncolumns = { amount = \"int64\", id = \"utf8\" }",
        &[1, 2, 3],
    );
    assert_eq!(r["violations"], 1, "{r}");
    assert!(r["message"].as_str().unwrap().contains("amount"), "{r}");
}

#[test]
fn freshness_is_evaluated_per_run() {
    // The days end on 2025-02-03, so the newest fresh raw day ends at
    // 2025-02-04T00:00.
    let checks = |max_age: &str| {
        format!("[[datasets.checks]]\ncheck = \"freshness\"\nmax_age = \"{max_age}\"")
    };
    let ws = Medallion::new()
        .days(3)
        .raw_checks(&checks("2d"))
        .workspace();
    let run = ws.run(&["--now", "2025-02-05T00:00:00"]);
    run.assert_ok();
    let r = result_in(run.dataset("raw/transactions"), "freshness");
    assert_eq!(r["passed"], true, "{r}");
    // Not recorded in any manifest: it is not a property of one partition.
    assert!(
        ws.manifest("raw/transactions", &day(3))
            .get("checks")
            .is_none()
    );

    ws.write_config(&Medallion::new().days(3).raw_checks(&checks("12h")).toml());
    let run = ws.run(&["--now", "2025-02-05T00:00:00"]);
    assert_eq!(run.code, Some(1), "{}", run.json);
    for dataset in [
        "raw/transactions",
        "bronze/transactions",
        "silver/transactions",
    ] {
        assert_eq!(run.count(dataset, "computed"), 0);
        assert_eq!(run.count(dataset, "failed"), 0);
    }
    let r = result_in(run.dataset("raw/transactions"), "freshness");
    assert_eq!(r["passed"], false, "{r}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("2025-02-04T00:00:00Z"),
        "{r}"
    );
    let status = ws.host(&["status", "--json", "--now", "2025-02-05T00:00:00"]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["checks"][0]["dataset"], "raw/transactions");
    assert_eq!(status["checks"][0]["result"]["passed"], false);
}
