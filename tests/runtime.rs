//! The plugin runtime on real plugins built from source: what they compute,
//! how every kind of misbehaviour is contained and named (runtime/contained.rs,
//! runtime/hostile.rs), what the sandbox lets them see, and the
//! compiled-component cache.
//!
//! Every test plugin (`test_*`) has a module of tests named after it; the
//! list of test plugins comes from `strata_test_plugins::foreach_test_plugin!`,
//! so a test plugin without its module does not compile.

mod contained;
mod hostile;
mod languages;

#[allow(unused_imports)]
use contained::*;
#[allow(unused_imports)]
use hostile::*;
#[allow(unused_imports)]
use languages::*;
// The contract 0.2 test plugins are run through `host run`.
#[allow(unused_imports)]
use crate::contract::{test_contract_v0_1, test_probe, test_stream};

/// Names the module of tests of the test plugin `$name`: a compile error
/// (unresolved import) if there is none.
macro_rules! has_tests {
    ($name:ident) => {
        #[allow(unused_imports)]
        use self::$name as _;
    };
}

strata_test_plugins::foreach_test_plugin!(has_tests);

use std::sync::{Arc, OnceLock};

use arrow::array::{Array, AsArray, BinaryArray, RecordBatch, StringArray};
use arrow::datatypes::{Decimal128Type, Int64Type, SchemaRef, TimestampMicrosecondType};
use strata_core::config::PluginLimits;
use strata_runtime::{
    InputContext, Limits, LoadOrigin, PartitionContext, Plugin, RunError, Runtime,
};
use strata_runtime::{ipc, schema};

use crate::util::{plugin, shared_cache};

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new(Some(shared_cache())).expect("runtime"))
}

fn load(name: &str) -> Plugin {
    runtime()
        .load(&plugin(name))
        .unwrap_or_else(|e| panic!("loading {name}: {e}"))
}

/// A partition's context; each input is one partition, the one computed.
/// A param value that is JSON is taken as JSON (`["id"]`, `3`), anything
/// else as a string, as `host plugin test --params` reads them.
fn context(params: &[(&str, &str)], inputs: &[(&str, SchemaRef)]) -> PartitionContext {
    PartitionContext {
        dataset: "test/out".into(),
        partition: "date=2025-02-18".into(),
        period_start: "2025-02-18T00:00:00Z".into(),
        period_end: "2025-02-19T00:00:00Z".into(),
        params: params
            .iter()
            .map(|(k, v)| {
                let value = serde_json::from_str(v)
                    .unwrap_or_else(|_| serde_json::Value::String(v.to_string()));
                (k.to_string(), value)
            })
            .collect(),
        inputs: inputs
            .iter()
            .map(|(n, s)| InputContext {
                dataset: n.to_string(),
                schema: s.clone(),
                partitions: vec!["date=2025-02-18".into()],
            })
            .collect(),
    }
}

/// The limits a pipeline gives a plugin when it says nothing.
fn default_limits() -> Limits {
    strata_engine::runtime_limits(&PluginLimits::default())
}

/// Runs a plugin over batches of input 0 with the given limits.
fn run_with(
    name: &str,
    params: &[(&str, &str)],
    input: Vec<RecordBatch>,
    limits: &Limits,
) -> Result<Vec<RecordBatch>, RunError> {
    let plugin = load(name);
    let schema = input
        .first()
        .map(|b| b.schema())
        .unwrap_or_else(schema::raw_schema);
    let context = context(params, &[("in/data", schema)]);
    let mut out = Vec::new();
    let batches = input.into_iter().map(|b| Ok((0, 0, b)));
    plugin.run_partition(runtime(), &context, limits, batches, &mut |b| {
        out.push(b);
        Ok(())
    })?;
    Ok(out)
}

fn run(
    name: &str,
    params: &[(&str, &str)],
    input: Vec<RecordBatch>,
) -> Result<Vec<RecordBatch>, RunError> {
    run_with(name, params, input, &default_limits())
}

fn raw(files: &[(&str, &str)]) -> RecordBatch {
    RecordBatch::try_new(
        schema::raw_schema(),
        vec![
            Arc::new(StringArray::from_iter_values(files.iter().map(|f| f.0))),
            Arc::new(BinaryArray::from_iter_values(
                files.iter().map(|f| f.1.as_bytes()),
            )),
        ],
    )
    .unwrap()
}

fn concat(batches: &[RecordBatch]) -> RecordBatch {
    arrow::compute::concat_batches(&batches[0].schema(), batches).unwrap()
}

fn strings(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    let col = batch
        .column_by_name(column)
        .unwrap_or_else(|| panic!("no column {column}"));
    col.as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect()
}

const COLUMNS: &str = r#"[
  {"name": "id", "type": "utf8", "nullable": true},
  {"name": "amount", "type": "decimal128(12,2)", "nullable": false},
  {"name": "currency", "type": "utf8", "nullable": false},
  {"name": "status", "type": "utf8", "nullable": false},
  {"name": "merchant", "type": "utf8", "nullable": true},
  {"name": "updated_at", "type": "timestamp-us-utc", "nullable": false}
]"#;

const DAY: &str = r#"{"records": [
  {"id": "a", "amount": "10.50", "currency": "EUR", "status": "pending", "merchant": "  Book Nook ", "updated_at": "2025-02-18T10:00:00Z"},
  {"id": "b", "amount": 3, "currency": "USD", "status": "settled", "merchant": null, "updated_at": "2025-02-18T12:00:00+02:00"},
  {"id": "a", "amount": "11.00", "currency": "EUR", "status": "settled", "merchant": "BOOK NOOK", "updated_at": "2025-02-18T11:00:00Z"},
  {"id": null, "amount": "1.00", "currency": "EUR", "status": "settled", "merchant": "x", "updated_at": "2025-02-18T09:00:00Z"}
]}"#;

fn bronze() -> RecordBatch {
    concat(
        &run(
            "json_to_table",
            &[("columns", COLUMNS)],
            vec![raw(&[("day.json", DAY)])],
        )
        .unwrap(),
    )
}

#[test]
fn json_to_table_types_raw_responses() {
    let b = bronze();
    assert_eq!(b.num_rows(), 4);
    assert_eq!(
        strings(&b, "id"),
        [Some("a"), Some("b"), Some("a"), None].map(|s| s.map(String::from))
    );
    let amount = b
        .column_by_name("amount")
        .unwrap()
        .as_primitive::<Decimal128Type>();
    assert_eq!(amount.values().to_vec(), vec![1050, 300, 1100, 100]);
    let ts = b
        .column_by_name("updated_at")
        .unwrap()
        .as_primitive::<TimestampMicrosecondType>();
    // 12:00+02:00 is 10:00Z.
    assert_eq!(ts.value(1), 1_739_872_800_000_000);
    assert!(b.column_by_name("merchant").unwrap().is_null(1));
}

#[test]
fn json_to_table_names_the_file_and_record_it_cannot_convert() {
    let bad = r#"{"records": [{"id": "ok", "amount": "1", "currency": "EUR", "status": "s", "updated_at": "2025-02-18T10:00:00Z"},
                              {"id": "tx-9", "amount": "ten", "currency": "EUR", "status": "s", "updated_at": "2025-02-18T10:00:00Z"}]}"#;
    let err = run(
        "json_to_table",
        &[("columns", COLUMNS)],
        vec![raw(&[("page-0002.json", bad)])],
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, RunError::BadInput(_)), "{err:?}");
    for needle in ["page-0002.json", "tx-9", "amount", "ten"] {
        assert!(msg.contains(needle), "error does not name {needle}: {msg}");
    }
    let err = run(
        "json_to_table",
        &[("columns", COLUMNS)],
        vec![raw(&[("broken.json", "{\"records\": [")])],
    )
    .unwrap_err();
    assert!(err.to_string().contains("broken.json"), "{err}");
}

#[test]
fn clean_dedupe_keeps_the_latest_row_per_key() {
    let params = [
        ("key", "id"),
        ("order_by", "updated_at"),
        ("trim", "merchant"),
        ("lowercase", "merchant"),
    ];
    let out = concat(&run("clean_dedupe", &params, vec![bronze()]).unwrap());
    assert_eq!(strings(&out, "id"), [Some("a".into()), Some("b".into())]);
    assert_eq!(
        strings(&out, "status"),
        [Some("settled".into()), Some("settled".into())]
    );
    assert_eq!(strings(&out, "merchant"), [Some("book nook".into()), None]);
}

#[test]
fn aggregate_groups_and_sums() {
    let params = [
        ("group_by", r#"["currency"]"#),
        (
            "aggregates",
            r#"[{"fn": "count", "as": "n"}, {"column": "amount", "fn": "sum", "as": "total"}, {"column": "amount", "fn": "max", "as": "largest"}]"#,
        ),
    ];
    let out = concat(&run("aggregate", &params, vec![bronze()]).unwrap());
    assert_eq!(
        strings(&out, "currency"),
        [Some("EUR".into()), Some("USD".into())]
    );
    let n = out.column_by_name("n").unwrap().as_primitive::<Int64Type>();
    assert_eq!(n.values().to_vec(), vec![3, 1]);
    let total = out
        .column_by_name("total")
        .unwrap()
        .as_primitive::<Decimal128Type>();
    assert_eq!(total.values().to_vec(), vec![2250, 300]);
}

#[test]
fn the_same_input_gives_byte_identical_output() {
    let encode = |batches: Vec<RecordBatch>| -> Vec<Vec<u8>> {
        batches.iter().map(|b| ipc::encode(b).unwrap()).collect()
    };
    for _ in 0..2 {
        let params = [("key", "id"), ("order_by", "updated_at")];
        let a = encode(run("clean_dedupe", &params, vec![bronze()]).unwrap());
        let b = encode(run("clean_dedupe", &params, vec![bronze()]).unwrap());
        assert_eq!(a, b);
    }
}

/// After a failure the same runtime still computes a good partition.
fn good_plugin_still_runs() {
    let out = run("test_passthrough", &[], vec![raw(&[("f", "x")])]).unwrap();
    assert_eq!(concat(&out).num_rows(), 1);
}

fn fails(name: &str, limits: &Limits) -> RunError {
    let err =
        run_with(name, &[], vec![raw(&[("f", "x")])], limits).expect_err("the plugin should fail");
    good_plugin_still_runs();
    err
}

#[test]
fn compiled_components_are_cached_and_changed_plugins_recompiled() {
    let cache = tempfile::tempdir().unwrap();
    let path = plugin("test_passthrough");
    let bytes = std::fs::read(&path).unwrap();

    let first = Runtime::new(Some(cache.path().to_owned())).unwrap();
    assert_eq!(
        first.load_bytes(&path, &bytes).unwrap().origin,
        LoadOrigin::Compiled
    );
    let entries = std::fs::read_dir(cache.path()).unwrap().count();
    assert_eq!(entries, 1, "one cache entry per plugin");

    // A new runtime, as in the next process: no compilation.
    let second = Runtime::new(Some(cache.path().to_owned())).unwrap();
    let again = second.load_bytes(&path, &bytes).unwrap();
    assert_eq!(again.origin, LoadOrigin::Cached);
    assert_eq!(again.info.name, "test-passthrough");

    // Different bytes (a custom section appended): a new identity, compiled.
    let mut changed = bytes.clone();
    changed.extend_from_slice(&[0, 6, 5, b'n', b'o', b't', b'e', b'x']);
    let changed = second.load_bytes(&path, &changed).unwrap();
    assert_eq!(changed.origin, LoadOrigin::Compiled);
    assert_ne!(changed.info.sha256, again.info.sha256);
}
