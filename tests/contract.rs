//! The contract's versions have one source of truth each, the `package`
//! line of their WIT: `wit/strata.wit` (the newest) and `wit/v0.1/`. The
//! runtime binds both; partition keys carry the contract's semantics, not
//! a package version; every SDK names a version the host speaks.

use std::path::Path;

use strata_runtime::Contract;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// `strata:plugin@X.Y.Z` as the WIT package at `path` names it.
fn wit_package(path: &str) -> String {
    let wit = std::fs::read_to_string(repo().join(path)).unwrap();
    wit.lines()
        .find_map(|l| l.trim().strip_prefix("package "))
        .and_then(|p| p.trim().strip_suffix(';'))
        .unwrap_or_else(|| panic!("{path} has a package line"))
        .to_owned()
}

/// Every `strata:plugin/<interface>@<version>` a source file names.
fn named_versions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("strata:plugin/") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || "/:@.-_".contains(c)))
            .unwrap_or(tail.len());
        if let Some((_, version)) = tail[..end].split_once('@') {
            out.push(version.to_owned());
        }
        rest = &tail[end..];
    }
    out
}

#[test]
fn the_runtime_speaks_every_wit_of_the_repository() {
    assert_eq!(Contract::NEWEST.package(), wit_package("wit/strata.wit"));
    assert_eq!(Contract::V0_1.package(), wit_package("wit/v0.1/strata.wit"));
}

/// A store built by a 0.1 host stays fresh under this one: keys still say
/// what 0.1 keys said (see `strata_core::CONTRACT_SEMANTICS`).
#[test]
fn keys_carry_the_semantics_0_1_hosts_wrote_not_the_newest_package() {
    assert_eq!(
        strata_core::CONTRACT_SEMANTICS,
        wit_package("wit/v0.1/strata.wit")
    );
    assert_ne!(strata_core::CONTRACT_SEMANTICS, Contract::NEWEST.package());
}

#[test]
fn every_sdk_names_a_contract_version_the_host_speaks() {
    let spoken: Vec<&str> = Contract::ALL.iter().map(|c| c.version()).collect();
    // The Rust SDK binds the newest wit/ itself (wit-bindgen); the Python
    // SDK binds the WIT it is built with (componentize-py); the JavaScript
    // SDK imports the host interface by name, so its name carries the
    // version, one version throughout each SDK.
    let rust = std::fs::read_to_string(repo().join("plugins/sdk/src/lib.rs")).unwrap();
    assert!(
        rust.contains(r#"path: "../../wit","#),
        "the Rust SDK binds wit/"
    );
    let js = std::fs::read_to_string(repo().join("plugins/js/sdk/strata-plugin.js")).unwrap();
    assert!(
        !named_versions(&js).is_empty(),
        "the JS SDK imports the host interface"
    );
    for sdks in [
        &["plugins/js/sdk/strata-plugin.js", "plugins/js/sdk/arrow.js"][..],
        &["plugins/python/sdk/strata_plugin.py"],
        &["plugins/sdk/src/lib.rs"],
    ] {
        let mut found: Vec<String> = sdks
            .iter()
            .flat_map(|sdk| named_versions(&std::fs::read_to_string(repo().join(sdk)).unwrap()))
            .collect();
        found.dedup();
        assert!(
            found.len() <= 1,
            "{sdks:?} name several versions: {found:?}"
        );
        for version in found {
            assert!(
                spoken.contains(&version.as_str()),
                "{sdks:?} name contract version {version}, which the host does not speak"
            );
        }
    }
}

// --- Contract 0.2 through `host run`: old and new plugins side by side,
// batches tagged with their partition, projections read less, params
// keep their types, streamed output is held to the limit, and the shipped
// plugins make the bytes they made under 0.1.

use std::collections::BTreeMap;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use serde_json::Value;

use crate::util::{Columns, Medallion, RunSummary, Workspace, day, example_dir};

const DAYS: u32 = 4;

/// The example's raw and bronze (0.2), silver by the 0.1 passthrough, and
/// `gold` appended verbatim (datasets over `silver/transactions`).
fn mixed(gold: &str) -> Workspace {
    let pipeline = Medallion::new()
        .days(DAYS)
        .bronze("json_to_table", Columns::All)
        .silver("test_contract_v0_1", "");
    let ws = pipeline.workspace();
    for p in ["test_contract_v0_1", "test_probe", "test_stream"] {
        ws.add_plugin(p, p);
    }
    ws.write_config(&format!("{}\n{gold}", pipeline.toml()));
    ws
}

fn probe(name: &str, inputs: &str, params: &str) -> String {
    format!(
        r#"
[[datasets]]
layer = "gold"
name = "{name}"
plugin = "plugins/test_probe.wasm"
inputs = [{inputs}]
[datasets.params]
{params}
"#
    )
}

fn read_rows(ws: &Workspace, dataset: &str, partition: &str) -> RecordBatch {
    let mut batches = Vec::new();
    for file in ws.data_files(dataset, partition) {
        let bytes = bytes::Bytes::from(std::fs::read(file).unwrap());
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
            .unwrap()
            .build()
            .unwrap();
        batches.extend(reader.map(Result::unwrap));
    }
    arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
}

fn texts(batch: &RecordBatch, column: &str) -> Vec<String> {
    batch
        .column_by_name(column)
        .unwrap()
        .as_string::<i32>()
        .iter()
        .map(|v| v.unwrap().to_owned())
        .collect()
}

fn ints(batch: &RecordBatch, column: &str) -> Vec<i64> {
    batch
        .column_by_name(column)
        .unwrap()
        .as_primitive::<Int64Type>()
        .values()
        .to_vec()
}

/// A plugin on contract 0.1 beside 0.2 plugins.
pub(crate) mod test_contract_v0_1 {
    use super::*;

    #[test]
    fn a_0_1_plugin_and_a_0_2_plugin_run_in_one_pipeline() {
        let ws = mixed(&probe("probe", r#""silver/transactions""#, ""));
        let run = ws.run(&[]);
        run.assert_ok();
        let all: Vec<String> = (1..=DAYS).map(day).collect();
        for dataset in ["bronze/transactions", "silver/transactions", "gold/probe"] {
            assert_eq!(run.computed(dataset), all, "{dataset}");
        }
        // The 0.1 passthrough hands bronze on unchanged: same rows, same bytes.
        for d in 1..=DAYS {
            let bronze = ws.manifest("bronze/transactions", &day(d));
            let silver = ws.manifest("silver/transactions", &day(d));
            assert_eq!(bronze["rows"], silver["rows"]);
            assert_eq!(bronze["files"], silver["files"]);
            // The 0.2 probe downstream got every column of the 0.1 output.
            let seen = read_rows(&ws, "gold/probe", &day(d));
            assert_eq!(
                texts(&seen, "columns")[0],
                "id,customer_id,amount,currency,status,merchant,updated_at"
            );
            assert_eq!(
                ints(&seen, "rows").iter().sum::<i64>(),
                bronze["rows"].as_i64().unwrap()
            );
        }
        // Each plugin is listed with the contract it speaks.
        let list = ws.host(&["plugin", "inspect", "plugins/test_contract_v0_1.wasm"]);
        let text = String::from_utf8_lossy(&list.stdout);
        assert!(text.contains("0.1.0"), "{text}");
    }
}

/// What a 0.2 plugin is handed: tags, projections, typed params.
pub(crate) mod test_probe {
    use super::*;

    #[test]
    fn window_batches_say_which_partition_they_come_from() {
        let ws = mixed(&probe(
            "probe",
            r#"{ dataset = "silver/transactions", window = 3 }"#,
            "",
        ));
        ws.run(&[]).assert_ok();
        let seen = read_rows(&ws, "gold/probe", &day(3));
        let ids = texts(&seen, "partition_id");
        let indexes = ints(&seen, "partition");
        // Days 1, 2 and 3, in order (the plan did not say unordered), each
        // batch tagged with the index of its day in the context's list.
        let mut tagged: Vec<(i64, String)> = indexes.into_iter().zip(ids).collect();
        tagged.dedup();
        assert_eq!(
            tagged,
            vec![(0, day(1)), (1, day(2)), (2, day(3))],
            "batches in order, each tagged with its own day"
        );
        for d in 1..=3 {
            let rows: i64 = ints(&seen, "rows")
                .iter()
                .zip(texts(&seen, "partition_id"))
                .filter(|(_, id)| *id == day(d))
                .map(|(r, _)| r)
                .sum();
            assert_eq!(
                rows,
                ws.manifest("silver/transactions", &day(d))["rows"]
                    .as_i64()
                    .unwrap(),
                "day {d}: every row of the day, under its tag"
            );
        }
    }

    #[test]
    fn a_projection_reads_only_the_declared_columns() {
        let window = r#"{ dataset = "silver/transactions", window = 3 }"#;
        let ws = mixed(&format!(
            "{}{}",
            probe("whole", window, ""),
            probe("projected", window, r#"columns = ["amount", "id"]"#)
        ));
        let run = ws.run(&[]);
        run.assert_ok();
        // Handed over in the input's column order, whatever order the plan
        // named them in.
        for d in 1..=DAYS {
            let seen = read_rows(&ws, "gold/projected", &day(d));
            for columns in texts(&seen, "columns") {
                assert_eq!(columns, "id,amount");
            }
        }
        let read = |name: &str| run.dataset(name)["inputs_read"].clone();
        let (whole, projected) = (read("gold/whole"), read("gold/projected"));
        // Each distinct input day read once per dataset (the windows share
        // it): the same partitions, fewer bytes.
        assert_eq!(whole["partitions"], projected["partitions"]);
        let silver_bytes: u64 = (1..=DAYS)
            .map(|d| {
                ws.manifest("silver/transactions", &day(d))["files"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["size"].as_u64().unwrap())
                    .sum::<u64>()
            })
            .sum();
        assert_eq!(whole["bytes"].as_u64().unwrap(), silver_bytes, "{whole}");
        let projected_bytes = projected["bytes"].as_u64().unwrap();
        assert!(
            projected_bytes > 0 && projected_bytes < silver_bytes,
            "projected {projected_bytes} of {silver_bytes} bytes"
        );
    }

    #[test]
    fn a_projection_of_a_column_the_input_lacks_fails_naming_it() {
        let ws = mixed(&probe(
            "probe",
            r#""silver/transactions""#,
            r#"columns = ["amount", "colour"]"#,
        ));
        let run = ws.run(&[]);
        assert_ne!(run.code, Some(0));
        let failures = run.dataset("gold/probe")["failed_partitions"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(failures.len(), DAYS as usize);
        let message = failures[0]["error"]["message"].as_str().unwrap();
        assert!(message.contains("colour"), "{message}");
    }

    #[test]
    fn params_arrive_with_their_types() {
        let ws = mixed(&format!(
            "{}{}",
            probe(
                "typed",
                r#""silver/transactions""#,
                "n = 3\nratio = 0.5\nname = \"3\"\nflag = true\nkeys = [\"a\"]"
            ),
            probe("mistyped", r#""silver/transactions""#, "n = \"3\"")
        ));
        let run = ws.run(&[]);
        let seen = read_rows(&ws, "gold/typed", &day(1));
        assert_eq!(
            texts(&seen, "params")[0],
            r#"{"flag":true,"keys":["a"],"n":3,"name":"3","ratio":0.5}"#
        );
        assert_eq!(
            texts(&seen, "param_types")[0],
            r#"{"flag":"bool","keys":"array","n":"integer","name":"string","ratio":"float"}"#
        );
        // 3 and "3" no longer look alike: the probe wants a number.
        let failures = run.dataset("gold/mistyped")["failed_partitions"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(failures.len(), DAYS as usize);
        let error = &failures[0]["error"];
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains(r#"plugin rejected its params: param `n`: invalid type: string "3""#),
            "{error}"
        );
    }
}

/// Output streamed through `finish` until it is drained.
pub(crate) mod test_stream {
    use super::*;

    #[test]
    fn streamed_output_over_the_output_limit_fails_naming_the_limit() {
        let stream = |name: &str, params: &str| {
            format!(
                r#"
[[datasets]]
layer = "gold"
name = "{name}"
plugin = "plugins/test_stream.wasm"
inputs = ["silver/transactions"]
limits = {{ output = "1MiB" }}
[datasets.params]
{params}
"#
            )
        };
        let ws = mixed(&format!(
            "{}{}",
            // 20 batches of 1,000 int64s: about 160 KB in all, under the limit.
            stream("within", "rows = 1000\nbatches = 20"),
            // Never stops on its own: the host stops it at 1 MiB.
            stream("endless", "rows = 10000"),
        ));
        let run = ws.run(&[]);
        assert_eq!(
            run.computed("gold/within"),
            (1..=DAYS).map(day).collect::<Vec<_>>()
        );
        assert_eq!(
            ws.manifest("gold/within", &day(1))["rows"].as_u64(),
            Some(20_000)
        );
        let failures = run.dataset("gold/endless")["failed_partitions"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(failures.len(), DAYS as usize);
        let message = failures[0]["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("output exceeded the limit of 1 MiB"),
            "{message}"
        );
        // Nothing of the failed output is left in its partitions.
        for d in 1..=DAYS {
            assert!(!ws.partition_dir("gold/endless", &day(d)).exists());
        }
    }
}

/// The example pipeline (shipped plugins as `std:` names) writes, partition
/// for partition, the bytes it wrote when its plugins spoke contract 0.1
/// (tests/fixtures/README.md): the move to 0.2 changed the plugins' bytes,
/// so a store built before recomputes once, and its data stays the same.
#[test]
fn the_example_makes_the_bytes_it_made_under_0_1() {
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/transactions-0.1.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let ws = Workspace::with_example_landing();
    ws.write_config(&std::fs::read_to_string(example_dir().join("pipeline.toml")).unwrap());
    let run: RunSummary = ws.run(&[]);
    run.assert_ok();
    let mut compared = 0;
    for (dataset, partitions) in fixture["partitions"].as_object().unwrap() {
        for (partition, expected) in partitions.as_object().unwrap() {
            let manifest = ws.manifest(dataset, partition);
            let files: BTreeMap<String, String> = manifest["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["path"].as_str().unwrap().to_owned(),
                        f["sha256"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let expected_files: BTreeMap<String, String> =
                serde_json::from_value(expected["files"].clone()).unwrap();
            assert_eq!(files, expected_files, "{dataset} {partition}");
            assert_eq!(
                manifest["content_hash"], expected["content_hash"],
                "{dataset} {partition}"
            );
            assert_eq!(manifest["rows"], expected["rows"], "{dataset} {partition}");
            compared += 1;
        }
    }
    assert_eq!(compared, 64);
}
