//! Check config errors name the file and line, like every config error.

use crate::util::Medallion;

/// `host status` on the example with these silver checks: its stderr.
fn status_error(checks: &str) -> String {
    let ws = Medallion::new().days(2).silver_checks(checks).workspace();
    let out = ws.host(&["status"]);
    assert!(!out.status.success(), "accepted:\n{checks}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The line of `needle` in the example's pipeline.toml with these checks.
fn line_of(checks: &str, needle: &str) -> usize {
    let text = Medallion::new().days(2).silver_checks(checks).toml();
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn unknown_kinds_and_bad_values_are_config_errors_with_the_line() {
    for (checks, expected) in [
        (
            "[[datasets.checks]]\ncheck = \"not_nul\"\ncolumn = \"id\"",
            "unknown check `not_nul`; the kinds are: not_null, unique",
        ),
        (
            "[[datasets.checks]]\ncheck = \"range\"\ncolumn = \"amount\"",
            "check `range` needs `min`, `max` or both",
        ),
        (
            "[[datasets.checks]]\ncheck = \"row_count\"\nmin = 10\nmax = 2",
            "min 10 is above max 2",
        ),
        (
            "[[datasets.checks]]\ncheck = \"accepted_values\"\ncolumn = \"currency\"\nvalues = []",
            "`values` is empty",
        ),
        (
            "[[datasets.checks]]\ncheck = \"volume\"\nmax_change = -1",
            "`max_change` is a fraction",
        ),
        (
            "[[datasets.checks]]\ncheck = \"freshness\"\nmax_age = \"soon\"",
            "check `freshness`",
        ),
        (
            "[[datasets.checks]]\ncheck = \"not_null\"\ncolumn = \"id\"\nseverity = \"fatal\"",
            "unknown variant `fatal`",
        ),
        (
            "[[datasets.checks]]\ncheck = \"plugin\"\nplugin = \"plugins/nope.wasm\"",
            "check plugin",
        ),
    ] {
        let error = status_error(checks);
        let line = line_of(checks, "[[datasets.checks]]");
        assert!(
            error.contains(&format!("pipeline.toml:{line}:")),
            "no line {line} in: {error}"
        );
        assert!(error.contains(expected), "`{expected}` not in: {error}");
        assert!(error.contains("silver/transactions"), "{error}");
    }
}

#[test]
fn a_column_the_dataset_does_not_have_is_a_config_error_with_the_line() {
    let ws = Medallion::new().days(2).workspace();
    ws.run(&[]).assert_ok();
    let checks = "[[datasets.checks]]\ncheck = \"not_null\"\ncolumns = [\"id\", \"amout\"]";
    ws.write_config(&Medallion::new().days(2).silver_checks(checks).toml());
    let line = line_of(checks, "[[datasets.checks]]");
    for command in [&["run"][..], &["status"][..]] {
        let out = ws.host(command);
        assert!(!out.status.success());
        let error = String::from_utf8_lossy(&out.stderr);
        for needle in [
            format!("pipeline.toml:{line}:"),
            "`amout`".to_owned(),
            "silver/transactions".to_owned(),
            "amount".to_owned(),
        ] {
            assert!(error.contains(&needle), "`{needle}` not in: {error}");
        }
    }
    // Nothing was computed or rewritten.
    let manifest = ws.manifest("silver/transactions", "date=2025-02-01");
    assert!(manifest.get("checks").is_none());
}
