//! `host schema`: every pipeline.toml in the repository (examples, the
//! tests' generated configs, bench/bench.py's) is valid under the JSON
//! Schema it prints, checked by a real validator (Python's `jsonschema`,
//! the reference implementation; .ci/run installs it); a misspelt key
//! and a wrong type are not; and every key has a description.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{Gold, Medallion};

/// The repository's root (the host package is `host/`).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repository root")
        .to_owned()
}

/// `host schema`, parsed.
fn host_schema() -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_host"))
        .arg("schema")
        .env_remove("STRATA_CONFIG")
        .output()
        .expect("running host schema");
    assert!(
        out.status.success(),
        "host schema failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("host schema prints JSON")
}

/// Every `pipeline.toml` under `dir`, except in build output, dependencies
/// and hidden folders.
fn pipeline_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                pipeline_files(&path, found);
            }
        } else if name == "pipeline.toml" {
            found.push(path);
        }
    }
}

/// The validator's errors for each named TOML text (and for bench's
/// pipelines, `bench:…`, and the schema itself, `schema`), or `None` when
/// python3 with jsonschema is missing outside CI.
fn validate(documents: &[(String, String)]) -> Option<serde_json::Map<String, Value>> {
    let probe = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have python3 with jsonschema: {probe:?}"
        );
        eprintln!("SKIPPED: python3 with jsonschema is not available ({probe:?})");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("pipeline.schema.json");
    std::fs::write(&schema, host_schema().to_string()).unwrap();
    let mut files = Vec::new();
    for (i, (name, text)) in documents.iter().enumerate() {
        let file = dir.path().join(format!("{i}.toml"));
        std::fs::write(&file, text).unwrap();
        files.push((name.clone(), file));
    }
    let out = Command::new("python3")
        .arg(repo_root().join("tests/schema/validate.py"))
        .arg(&schema)
        .arg(repo_root())
        .args(files.iter().map(|(_, f)| f))
        .output()
        .expect("running python3");
    assert!(
        out.status.success(),
        "validate.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let Value::Object(mut report) = serde_json::from_slice(&out.stdout).expect("json") else {
        panic!("validate.py prints an object");
    };
    // Under the names the caller gave.
    for (name, file) in files {
        let errors = report
            .remove(file.to_str().unwrap())
            .expect("a result per file");
        report.insert(name, errors);
    }
    Some(report)
}

/// The configs the integration tests generate, in their variety: every
/// gold mapping, every check kind, the http source, and the operations
/// tables.
fn test_fixtures() -> Vec<(String, String)> {
    let raw_checks = r#"
[[datasets.checks]]
check = "freshness"
max_age = "2d"
severity = "warn"

[[datasets.checks]]
check = "plugin"
plugin = "checks/no_future.wasm"
params = { column = "updated_at", limit = 3 }
"#;
    let silver_checks = r#"
[[datasets.checks]]
check = "unique"
columns = ["id"]

[[datasets.checks]]
check = "not_null"
column = "amount"

[[datasets.checks]]
check = "accepted_values"
column = "currency"
values = ["EUR", "USD", "GBP"]

[[datasets.checks]]
check = "range"
column = "updated_at"
min = 2025-01-01
max = "2026-01-01"

[[datasets.checks]]
check = "row_count"
min = 1
max = 1000

[[datasets.checks]]
check = "volume"
max_change = 0.5

[[datasets.checks]]
check = "schema"
columns = { id = "utf8", amount = "decimal128(12,2)" }
exact = false
"#;
    let operations = r#"
[store]
url = "memory://"
options = { allow_http = "true" }

[limits]
memory = "1GiB"
timeout = "2m"
output = "1GiB"

[tables]
format = "none"
retention = "36h"
checkpoint_interval = 5

[history]
keep = "30d"

[lineage]
file = "lineage.jsonl"
namespace = "prod"

[[notify]]
kind = "slack"
url = "https://hooks.example.com/x?token=${HOOK_TOKEN}"
on = ["failure", "warning"]
remind = "24h"
max_attempts = 2
"#;
    let http = r#"{ kind = "http", url = "https://api.example.com/v1/orders", method = "POST", body = '{"day": "{date}"}', query = { from = "{start}", limit = 100 }, headers = { Authorization = "Bearer ${API_TOKEN}" }, pagination = { style = "page", param = "page", records_pointer = "/data" }, refetch_recent = 2, timeout = "30s", max_attempts = 3, rate_limit = 0.5, max_response_bytes = "16MiB", max_pages = 50 }"#;
    vec![
        (
            "tests: medallion with gold".into(),
            Medallion::new()
                .gold(
                    "aggregate",
                    &[Gold::DailyTotals, Gold::Rolling3d, Gold::AllTime],
                )
                .toml(),
        ),
        (
            "tests: every check kind".into(),
            Medallion::new()
                .raw_checks(raw_checks)
                .silver_checks(silver_checks)
                .toml(),
        ),
        (
            "tests: operations tables".into(),
            Medallion::new().store_toml(operations).toml(),
        ),
        (
            "tests: http source".into(),
            Medallion::new().source(http).toml(),
        ),
    ]
}

#[test]
fn every_pipeline_toml_in_the_repository_is_valid() {
    let mut files = Vec::new();
    pipeline_files(&repo_root(), &mut files);
    files.sort();
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("examples/transactions/pipeline.toml")),
        "{files:?}"
    );
    let mut documents: Vec<(String, String)> = files
        .iter()
        .map(|f| {
            let name = f.strip_prefix(repo_root()).unwrap().display().to_string();
            (name, std::fs::read_to_string(f).unwrap())
        })
        .collect();
    documents.extend(test_fixtures());
    // And what `host init` writes, for each source.
    let init = tempfile::tempdir().unwrap();
    for source in ["files", "http"] {
        let dir = init.path().join(source);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_host"))
            .args(["init", "--source", source])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = std::fs::read_to_string(dir.join("pipeline.toml")).unwrap();
        assert!(
            text.starts_with("#:schema ./pipeline.schema.json\n"),
            "{text}"
        );
        // The schema beside it is `host schema`'s.
        let beside: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("pipeline.schema.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(beside, host_schema());
        documents.push((format!("host init --source {source}"), text));
    }
    let Some(report) = validate(&documents) else {
        return;
    };
    assert_eq!(report["schema"], Value::Array(vec![]), "the schema itself");
    assert!(report.contains_key("bench:checks"), "{report:?}");
    let invalid: Vec<_> = report
        .iter()
        .filter(|(_, errors)| errors.as_array().is_some_and(|e| !e.is_empty()))
        .collect();
    assert!(invalid.is_empty(), "rejected: {invalid:#?}");
    assert!(report.len() >= documents.len() + 4, "{report:?}");
}

#[test]
fn misspelt_keys_and_wrong_types_are_rejected() {
    let example =
        std::fs::read_to_string(repo_root().join("examples/transactions/pipeline.toml")).unwrap();
    let changed = |from: &str, to: &str| {
        assert!(example.contains(from), "`{from}` not in the example");
        example.replacen(from, to, 1)
    };
    let checks = |check: &str| Medallion::new().silver_checks(check).toml();
    // (what, the pipeline, a word the error names)
    let cases = [
        (
            "misspelt dataset key",
            changed("plugin = ", "plugn = "),
            "plugn",
        ),
        (
            "misspelt top-level table",
            changed("[partitions]", "[partition]"),
            "partition",
        ),
        (
            "inputs a number",
            changed(r#"inputs = ["raw/transactions"]"#, "inputs = 3"),
            "3",
        ),
        (
            "window a string",
            changed("window = 7", r#"window = "x""#),
            "x",
        ),
        (
            "unknown period",
            changed(r#"every = "day""#, r#"every = "week""#),
            "week",
        ),
        (
            "unknown check kind",
            checks("[[datasets.checks]]\ncheck = \"not_nul\"\ncolumn = \"id\""),
            "not_nul",
        ),
        (
            "a key the check kind does not take",
            checks("[[datasets.checks]]\ncheck = \"not_null\"\ncolumn = \"id\"\nmax = 3"),
            "",
        ),
        (
            "a check without its required key",
            checks("[[datasets.checks]]\ncheck = \"volume\"\nwindow = 3"),
            "",
        ),
    ];
    let documents: Vec<(String, String)> = cases
        .iter()
        .map(|(what, text, _)| (what.to_string(), text.clone()))
        .collect();
    let Some(report) = validate(&documents) else {
        return;
    };
    for (what, _, word) in cases {
        let errors = report[what].as_array().expect("errors");
        assert!(!errors.is_empty(), "{what}: accepted");
        let text = Value::Array(errors.clone()).to_string();
        assert!(text.contains(word), "{what}: `{word}` not in {text}");
    }
}

/// Every key an editor can offer carries a description: every property
/// of every object in the schema, nested or under `$defs`.
#[test]
fn every_property_has_a_description() {
    fn walk(value: &Value, path: &str, missing: &mut Vec<String>, count: &mut usize) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Object(properties)) = map.get("properties") {
                    for (key, property) in properties {
                        *count += 1;
                        let described = property
                            .get("description")
                            .and_then(Value::as_str)
                            .is_some_and(|d| d.trim().len() > 10);
                        if !described {
                            missing.push(format!("{path}/properties/{key}"));
                        }
                    }
                }
                for (key, v) in map {
                    walk(v, &format!("{path}/{key}"), missing, count);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{path}/{i}"), missing, count);
                }
            }
            _ => {}
        }
    }
    let schema = host_schema();
    let (mut missing, mut count) = (Vec::new(), 0);
    walk(&schema, "#", &mut missing, &mut count);
    assert!(missing.is_empty(), "no description: {missing:#?}");
    // The pipeline's keys, a dataset's, the http source's, every check's:
    // far more than a handful.
    assert!(count > 80, "only {count} properties");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert!(schema["$id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(schema["title"], "Strata pipeline.toml");
}
