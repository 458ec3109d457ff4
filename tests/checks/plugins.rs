//! Check plugins: the transform contract, output rows are the violations.
//! One written in Rust (plugins/checks/max-value), one in Python
//! (plugins/python/checks/not-blank).

use crate::util::{Workspace, day};

use super::*;

fn with_check_plugins(checks: &str) -> Workspace {
    let ws = three_days(checks);
    ws.add_plugin("check_max_value", "check_max_value");
    if crate::polyglot::polyglot("check_not_blank_py").is_some() {
        ws.add_plugin("check_not_blank_py", "check_not_blank_py");
    }
    ws
}

fn max_value(max: u32) -> String {
    format!(
        "[[datasets.checks]]\ncheck = \"plugin\"\nplugin = \"plugins/check_max_value.wasm\"\n\
         params = {{ column = \"amount\", max = {max} }}"
    )
}

#[test]
fn a_rust_check_plugin_reports_its_rows_as_violations() {
    let ws = with_check_plugins(&max_value(1000));
    ws.run(&[]).assert_ok();
    let r = silver_result(&ws, 1, "plugin(check-max-value)");
    assert_eq!(
        (r["passed"].as_bool(), r["violations"].as_u64()),
        (Some(true), Some(0))
    );

    set_silver_checks(&ws, &max_value(200));
    let run = ws.run(&[]);
    assert_eq!(run.code, Some(1), "{}", run.json);
    assert_eq!(run.count("silver/transactions", "computed"), 0);
    let r = silver_result(&ws, 1, "plugin(check-max-value)");
    assert_eq!(r["passed"], false);
    let violations = r["violations"].as_u64().unwrap();
    // The same rows a built-in range check finds.
    set_silver_checks(
        &ws,
        "[[datasets.checks]]\ncheck = \"range\"\ncolumn = \"amount\"\nmax = 200\nseverity = \"warn\"",
    );
    ws.run(&[]);
    let range = silver_result(&ws, 1, "range(amount)");
    assert_eq!(range["violations"].as_u64(), Some(violations));
    let sample = r["samples"][0].as_str().unwrap();
    assert!(
        sample.contains("id=tx-0201-") && sample.contains("amount="),
        "{r}"
    );
}

#[test]
fn a_python_check_plugin_reports_its_rows_as_violations() {
    if crate::polyglot::polyglot("check_not_blank_py").is_none() {
        return;
    }
    let check = |column: &str| {
        format!(
            "[[datasets.checks]]\ncheck = \"plugin\"\nplugin = \"plugins/check_not_blank_py.wasm\"\n\
             params = {{ column = \"{column}\", key = \"id\" }}\n\n\
             [[datasets.checks]]\ncheck = \"not_null\"\ncolumn = \"customer_id\"\nseverity = \"warn\""
        )
    };
    let ws = with_check_plugins(&check("id"));
    ws.run(&[]).assert_ok();
    let r = silver_result(&ws, 1, "plugin(check-not-blank-py)");
    assert_eq!(r["passed"], true, "{r}");

    // customer_id is null on some rows: the Python check finds exactly the
    // rows the built-in not_null finds.
    set_silver_checks(&ws, &check("customer_id"));
    let run = ws.run(&[]);
    assert_eq!(run.code, Some(1), "{}", run.json);
    for d in 1..=3 {
        let python = silver_result(&ws, d, "plugin(check-not-blank-py)");
        let builtin = silver_result(&ws, d, "not_null(customer_id)");
        assert_eq!(python["passed"], false);
        assert_eq!(python["violations"], builtin["violations"], "day {d}");
        assert!(python["samples"][0].as_str().unwrap().contains("id=tx-"));
    }
    assert_eq!(failed(&run, "silver/transactions")[0].0, day(1));
}
