//! Hostile plugins: misbehaving in `describe`, `open` and `finish`,
//! flooding the host's log, built for another contract, a core module
//! instead of a component, a json-lines plugin declaring no schema, one
//! calling `wasi:cli/exit`, one emitting a type outside the contract. Each
//! is contained: the runtime names the cause, and `host run --json` fails
//! only the partitions of that plugin with the failure's kind, and blocks
//! what reads them.

use std::path::Path;

use serde_json::Value;
use strata_runtime::{LoadError, RunError};

use super::{concat, default_limits, fails, good_plugin_still_runs, raw, run, runtime};
use crate::util::{RunSummary, Workspace, day, plugin};

/// The days the tiny pipeline covers.
const DAYS: [u32; 2] = [1, 2];

/// A pipeline of three datasets over two days of the example's landing
/// files: `raw/transactions`, `silver/hostile` computed by the plugin file
/// `plugins/hostile.wasm` with `params`, and `gold/after` (test_passthrough)
/// reading silver.
fn tiny(params: &str) -> Workspace {
    let ws = Workspace::with_example_landing();
    ws.add_plugin("test_passthrough", "passthrough");
    ws.write_config(&format!(
        r#"
[store]
url = "store"

[partitions]
start = "2025-02-01"
end = "2025-02-02"

[[datasets]]
layer = "raw"
name = "transactions"
source = {{ kind = "files", dir = "landing", pattern = "transactions-{{date}}.json" }}

[[datasets]]
layer = "silver"
name = "hostile"
plugin = "plugins/hostile.wasm"
inputs = ["raw/transactions"]
[datasets.params]
{params}

[[datasets]]
layer = "gold"
name = "after"
plugin = "plugins/passthrough.wasm"
inputs = ["silver/hostile"]
"#
    ));
    ws
}

/// The tiny pipeline with the test plugin `name` as silver.
fn tiny_with(name: &str, params: &str) -> Workspace {
    let ws = tiny(params);
    ws.add_plugin(name, "hostile");
    ws
}

/// Runs the tiny pipeline, which must fail exactly silver's two partitions
/// with `kind`, block gold's two, commit nothing for either and still
/// compute raw; returns silver's failure messages.
fn fails_silver(ws: &Workspace, kind: &str) -> Vec<String> {
    let run = ws.run(&[]);
    assert_eq!(run.code, Some(1), "a failed partition fails the run");
    let failures: &Vec<Value> = run.dataset("silver/hostile")["failed_partitions"]
        .as_array()
        .unwrap();
    let partitions: Vec<&str> = failures
        .iter()
        .map(|f| f["partition"].as_str().unwrap())
        .collect();
    assert_eq!(partitions.len(), DAYS.len(), "{}", run.json);
    let mut messages = Vec::new();
    for failure in failures {
        assert_eq!(failure["error"]["kind"], kind, "{failure}");
        let message = failure["error"]["message"].as_str().unwrap().to_owned();
        // A plugin that does not load is named by its file; one that ran,
        // by the dataset and partition it failed.
        let place = if kind == "plugin-load" {
            "plugins/hostile.wasm"
        } else {
            "silver/hostile"
        };
        assert!(message.contains(place), "{message}");
        messages.push(message);
    }
    assert_eq!(run.count("raw/transactions", "computed"), 2);
    assert_eq!(run.count("gold/after", "blocked"), 2);
    assert_eq!(run.count("gold/after", "computed"), 0);
    for d in DAYS {
        for dataset in ["silver/hostile", "gold/after"] {
            assert!(
                !ws.partition_dir(dataset, &day(d))
                    .join("_manifest.json")
                    .exists(),
                "{dataset} {} has a manifest",
                day(d)
            );
        }
    }
    messages
}

/// Every message contains every needle.
fn all_name(messages: &[String], needles: &[&str]) {
    for message in messages {
        for needle in needles {
            assert!(message.contains(needle), "no `{needle}` in: {message}");
        }
    }
}

/// Loading `path` fails.
fn load_fails(path: &Path) -> LoadError {
    let err = runtime()
        .load(path)
        .err()
        .unwrap_or_else(|| panic!("{} loaded", path.display()));
    good_plugin_still_runs();
    err
}

pub(super) mod test_describe_panic {
    use super::*;

    #[test]
    fn a_panic_in_describe_fails_the_load_with_its_message() {
        let err = load_fails(&plugin("test_describe_panic"));
        assert!(
            matches!(&err, LoadError::Describe { message, .. }
                if message.contains("plugin panicked: describe refuses to say what it is, on purpose")),
            "{err:?}"
        );
        let messages = fails_silver(&tiny_with("test_describe_panic", ""), "plugin-load");
        all_name(
            &messages,
            &["describe() failed", "describe refuses to say what it is"],
        );
    }
}

pub(super) mod test_fail_at {
    use super::*;

    fn fail_at(at: &str, how: &str) -> RunError {
        run(
            "test_fail_at",
            &[("at", at), ("how", how)],
            vec![raw(&[("f", "x")])],
        )
        .expect_err("test_fail_at fails")
    }

    #[test]
    fn a_panic_or_an_error_in_open_or_finish_is_named() {
        for at in ["open", "finish"] {
            let err = fail_at(at, "panic");
            let expected = format!("panic in {at} on purpose");
            assert!(
                matches!(&err, RunError::Panic { message } if message.contains(&expected)),
                "{err:?}"
            );
            let err = fail_at(at, "error");
            assert!(
                matches!(&err, RunError::Failed(m) if *m == format!("error in {at} on purpose")),
                "{err:?}"
            );
        }
        good_plugin_still_runs();
        let err = run("test_fail_at", &[], vec![raw(&[("f", "x")])]).expect_err("`at` is required");
        assert!(matches!(err, RunError::BadParams(_)), "{err:?}");
    }

    #[test]
    fn a_panic_in_finish_fails_the_partition_as_a_trap() {
        let ws = tiny_with("test_fail_at", r#"at = "finish""#);
        let messages = fails_silver(&ws, "trap");
        all_name(
            &messages,
            &["plugin panicked", "panic in finish on purpose"],
        );
    }

    #[test]
    fn an_error_in_open_fails_the_partition_as_a_plugin_error() {
        let ws = tiny_with("test_fail_at", "at = \"open\"\nhow = \"error\"");
        let messages = fails_silver(&ws, "plugin-error");
        all_name(&messages, &["plugin failed: error in open on purpose"]);
    }
}

pub(super) mod test_log_flood {
    use super::*;

    #[test]
    fn a_log_flood_keeps_a_bounded_number_of_lines_and_computes() {
        let input = raw(&[("f", "x"), ("g", "y")]);
        let out = run("test_log_flood", &[("lines", "5000")], vec![input.clone()]).unwrap();
        assert_eq!(concat(&out), input);

        // 100000 log calls per partition: the host writes the first
        // PARTITION_LOG_LINES and one line counting the rest.
        let ws = tiny_with("test_log_flood", "");
        let run: RunSummary = ws.run(&[]);
        run.assert_ok();
        assert_eq!(run.computed("silver/hostile"), [day(1), day(2)]);
        assert_eq!(run.computed("gold/after"), [day(1), day(2)]);
        let kept = strata_runtime::PARTITION_LOG_LINES;
        for d in DAYS {
            let partition = format!("partition={}", day(d));
            let lines: Vec<&str> = run
                .stderr
                .lines()
                .filter(|l| l.contains(&partition) && l.contains("test-log-flood"))
                .collect();
            // The numbers of the lines kept: the first `kept`, in order.
            let numbers: Vec<usize> = lines
                .iter()
                .filter_map(|l| l.split("flood line ").nth(1))
                .map(|rest| rest.split_whitespace().next().unwrap().parse().unwrap())
                .collect();
            assert_eq!(
                numbers,
                (0..kept).collect::<Vec<_>>(),
                "lines kept for {}",
                day(d)
            );
            let dropped: Vec<&&str> = lines
                .iter()
                .filter(|l| l.contains("more log lines dropped"))
                .collect();
            assert_eq!(dropped.len(), 1, "{dropped:?}");
            assert!(
                dropped[0].contains(&format!(
                    "{} more log lines dropped (a plugin may log {kept} lines per partition)",
                    100_000 - kept
                )),
                "{}",
                dropped[0]
            );
        }
    }
}

pub(super) mod test_other_contract {
    use super::*;

    #[test]
    fn its_wit_is_this_contract_at_another_version() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let ours = std::fs::read_to_string(root.join("wit/strata.wit")).unwrap();
        let theirs =
            std::fs::read_to_string(root.join("plugins/test/other-contract/wit/strata.wit"))
                .unwrap();
        let package = |text: &str| {
            text.lines()
                .find(|l| l.starts_with("package "))
                .unwrap()
                .to_owned()
        };
        assert_eq!(package(&theirs), "package strata:plugin@0.3.0;");
        assert_ne!(package(&ours), package(&theirs));
        assert_eq!(
            ours.replace(&package(&ours), ""),
            theirs.replace(&package(&theirs), ""),
            "the copy of wit/ drifted from wit/ beyond its version"
        );
    }

    #[test]
    fn a_plugin_for_another_contract_fails_to_load_saying_so() {
        let err = load_fails(&plugin("test_other_contract"));
        assert!(
            matches!(&err, LoadError::OtherContract { found, expected, .. }
                if found.contains(&"strata:plugin/transform@0.3.0".to_owned())
                    && expected == &["strata:plugin@0.1.0", "strata:plugin@0.2.0"]),
            "{err:?}"
        );
        let messages = fails_silver(&tiny_with("test_other_contract", ""), "plugin-load");
        all_name(
            &messages,
            &[
                "is built for another contract",
                "strata:plugin/transform@0.3.0",
                "this host speaks strata:plugin@0.1.0 and strata:plugin@0.2.0",
            ],
        );
    }
}

/// The 8 bytes of an empty core WebAssembly module: magic and version 1.
const EMPTY_CORE_MODULE: &[u8] = b"\0asm\x01\0\0\0";

#[test]
fn a_core_module_is_not_a_component_and_fails_to_load_saying_so() {
    let path = Path::new("empty-core-module.wasm");
    let err = runtime()
        .load_bytes(path, EMPTY_CORE_MODULE)
        .err()
        .expect("a core module is no plugin");
    assert!(matches!(err, LoadError::CoreModule { .. }), "{err:?}");
    good_plugin_still_runs();

    let ws = tiny("");
    std::fs::write(ws.path().join("plugins/hostile.wasm"), EMPTY_CORE_MODULE).unwrap();
    let messages = fails_silver(&ws, "plugin-load");
    all_name(
        &messages,
        &["is a core WebAssembly module, not a component"],
    );
}

pub(super) mod test_json_no_schema {
    use super::*;

    #[test]
    fn a_json_lines_plugin_declaring_no_schema_is_bad_output() {
        let err = fails("test_json_no_schema", &default_limits());
        assert!(
            matches!(&err, RunError::Malformed(m)
                if m == "a json-lines plugin must return its output schema from open()"),
            "{err:?}"
        );
        let messages = fails_silver(&tiny_with("test_json_no_schema", ""), "bad-output");
        all_name(&messages, &["must return its output schema from open()"]);
    }
}

pub(super) mod test_exit {
    use super::*;

    /// WASI 0.2's `exit` carries success or failure, not a number: Rust's
    /// `std::process::exit(3)` reaches the host as status 1, `exit(0)` as 0.
    #[test]
    fn calling_exit_is_a_trap_naming_the_status() {
        let err = fails("test_exit", &default_limits());
        assert!(matches!(err, RunError::Exit { code: 1, .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "plugin called exit with status 1 (wasi:cli/exit) instead of returning"
        );
        let err = run("test_exit", &[("code", "0")], vec![raw(&[("f", "x")])])
            .expect_err("exit 0 is no success either");
        assert!(matches!(err, RunError::Exit { code: 0, .. }), "{err:?}");
        let messages = fails_silver(&tiny_with("test_exit", "code = \"7\""), "trap");
        all_name(
            &messages,
            &["plugin called exit with status 1 (wasi:cli/exit) instead of returning"],
        );
    }
}

pub(super) mod test_large_utf8 {
    use super::*;
    use arrow::datatypes::DataType;

    #[test]
    fn the_runtime_passes_a_large_utf8_column_through_as_it_is() {
        let out = run("test_large_utf8", &[], vec![raw(&[("f", "x"), ("g", "y")])]).unwrap();
        let out = concat(&out);
        assert_eq!(out.num_rows(), 2);
        assert_eq!(
            out.schema().field_with_name("note").unwrap().data_type(),
            &DataType::LargeUtf8
        );
    }

    /// Regression: an arrow-ipc plugin that emits a type outside the
    /// contract (LargeUtf8) committed a manifest with an empty schema, and
    /// its readers were told that empty schema.
    #[test]
    fn an_arrow_ipc_plugin_emitting_a_type_outside_the_contract_commits_a_manifest_with_an_empty_schema()
     {
        let ws = tiny_with("test_large_utf8", "");
        let messages = fails_silver(&ws, "bad-output");
        all_name(
            &messages,
            &["column `note` has type LargeUtf8", "outside the contract"],
        );
    }
}
