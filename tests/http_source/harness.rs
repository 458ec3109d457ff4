//! Pipelines against the local API and the `host` runs that drive them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::util::{RunSummary, Workspace, shared_cache};

use super::api::*;

pub(super) fn date(d: u32) -> String {
    format!("2025-02-{d:02}")
}

pub(super) fn day(d: u32) -> String {
    format!("date=2025-02-{d:02}")
}

pub(super) fn weather_example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/weather")
}

/// A workspace with the plugins the weather pipeline uses.
pub(super) fn workspace() -> Workspace {
    let ws = Workspace {
        dir: tempfile::tempdir().unwrap(),
    };
    std::fs::create_dir_all(ws.path().join("plugins")).unwrap();
    ws.add_plugin("json_to_table", "json_to_table");
    ws.add_plugin("aggregate", "aggregate");
    ws
}

/// examples/weather/pipeline.toml as shipped, pointed at the local API, for
/// February 1 to `last`, with `extra` lines added to its source table.
pub(super) fn example_config(api: &Api, last: u32, extra: &str) -> String {
    let text = std::fs::read_to_string(weather_example().join("pipeline.toml")).unwrap();
    let mut out = text.clone();
    for (from, to) in [
        ("https://archive-api.open-meteo.com", api.base.clone()),
        (
            "start = \"2025-01-01\"",
            "start = \"2025-02-01\"".to_owned(),
        ),
        (
            "end = \"2025-02-28\"",
            format!("end = \"2025-02-{last:02}\""),
        ),
        ("kind = \"http\"\n", format!("kind = \"http\"\n{extra}\n")),
    ] {
        assert!(out.contains(from), "the example no longer has `{from}`");
        out = out.replacen(from, &to, 1);
    }
    out
}

/// The weather pipeline with its source written out by the test.
pub(super) fn config(last: u32, source: &str, layers: bool) -> String {
    let mut text = format!(
        r#"
[partitions]
start = "2025-02-01"
end = "2025-02-{last:02}"

[[datasets]]
layer = "raw"
name = "weather"
[datasets.source]
kind = "http"
{source}
"#
    );
    if layers {
        text.push_str(
            r#"
[[datasets]]
layer = "bronze"
name = "weather"
plugin = "plugins/json_to_table.wasm"
inputs = ["raw/weather"]
[datasets.params]
columns = [
  { name = "date", type = "date32", from = "/daily/time/0", nullable = false },
  { name = "latitude", type = "float64", nullable = false },
  { name = "longitude", type = "float64", nullable = false },
  { name = "temperature_max", type = "float64", from = "/daily/temperature_2m_max/0" },
  { name = "temperature_min", type = "float64", from = "/daily/temperature_2m_min/0" },
  { name = "precipitation", type = "float64", from = "/daily/precipitation_sum/0" },
]

[[datasets]]
layer = "gold"
name = "last_30_days"
plugin = "plugins/aggregate.wasm"
inputs = [{ dataset = "bronze/weather", window = 30 }]
[datasets.params]
group_by = ["latitude", "longitude"]
aggregates = [
  { fn = "count", as = "days" },
  { column = "temperature_max", fn = "max", as = "warmest" },
]
"#,
        );
    }
    text
}

/// The archive endpoint of `api`, for `config`.
pub(super) fn archive_source(api: &Api, extra: &str) -> String {
    format!(
        r#"url = "{}/v1/archive"
backoff = "10ms"
{extra}
[datasets.source.query]
latitude = "52.52,48.85"
longitude = "13.41,2.35"
start_date = "{{date}}"
end_date = "{{date}}"
daily = "temperature_2m_max,temperature_2m_min,precipitation_sum"
timezone = "UTC"
"#,
        api.base
    )
}

/// Runs `host ARGS` with `env` added; proxies and `API_TOKEN` removed
/// unless given.
pub(super) fn host(ws: &Workspace, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_host"));
    cmd.args(args)
        .current_dir(ws.path())
        .env("STRATA_CACHE_DIR", shared_cache())
        .env("NO_COLOR", "1");
    for var in [
        "STRATA_CONFIG",
        "STRATA_NOW",
        "STRATA_LOG",
        "API_TOKEN",
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("running host")
}

/// `host run --json ARGS` with `env`.
pub(super) fn run(ws: &Workspace, args: &[&str], env: &[(&str, &str)]) -> RunSummary {
    let mut all = vec!["run", "--json"];
    all.extend_from_slice(args);
    RunSummary::of(host(ws, &all, env))
}

/// The failed partitions of a dataset, each a failure of `kind` (`source`
/// for a raw http dataset): partition → error message.
pub(super) fn failures(run: &RunSummary, dataset: &str, kind: &str) -> BTreeMap<String, String> {
    run.dataset(dataset)["failed_partitions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    assert_eq!(f["error"]["kind"], kind, "the failure's kind: {f}");
                    (
                        f["partition"].as_str().unwrap().to_owned(),
                        f["error"]["message"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn raw_file(ws: &Workspace, d: u32, name: &str) -> Vec<u8> {
    std::fs::read(ws.partition_dir("raw/weather", &day(d)).join(name)).unwrap()
}

/// The file names a raw manifest lists, in order.
pub(super) fn manifest_files(ws: &Workspace, d: u32) -> Vec<String> {
    ws.manifest("raw/weather", &day(d))["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect()
}

/// What a raw manifest says each file came from.
pub(super) fn origins(ws: &Workspace, d: u32) -> Vec<Value> {
    let manifest = ws.manifest("raw/weather", &day(d));
    find_key(&manifest, "fetched")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_else(|| panic!("no `fetched` in {manifest}"))
}

pub(super) fn find_key<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => m
            .get(key)
            .or_else(|| m.values().find_map(|v| find_key(v, key))),
        Value::Array(a) => a.iter().find_map(|v| find_key(v, key)),
        _ => None,
    }
}

pub(super) fn committed(ws: &Workspace, dataset: &str, d: u32) -> bool {
    ws.partition_dir(dataset, &day(d))
        .join("_manifest.json")
        .exists()
}
