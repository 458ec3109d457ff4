//! Test support: temp pipelines driven through the real `host` binary, and
//! the plugins built from source by `strata-test-plugins`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// A built plugin by name (`json_to_table`, `test_panic`, …).
pub(crate) fn plugin(name: &str) -> PathBuf {
    strata_test_plugins::wasm(name)
}

/// One compiled-component cache for the whole test run: compiling a plugin
/// is the slow part, and the cache is keyed by the plugin's hash anyway.
pub(crate) fn shared_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("component-cache")
}

/// The example's landing files.
pub(crate) fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/transactions")
}

/// A pipeline in a temp folder.
pub(crate) struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    /// An empty workspace with the example's landing folder copied in.
    pub(crate) fn with_example_landing() -> Workspace {
        let ws = Workspace {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        let landing = ws.path().join("landing");
        std::fs::create_dir_all(&landing).unwrap();
        for entry in std::fs::read_dir(example_dir().join("landing")).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), landing.join(entry.file_name())).unwrap();
        }
        std::fs::create_dir_all(ws.path().join("plugins")).unwrap();
        ws
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn store(&self) -> PathBuf {
        self.path().join("store")
    }

    /// Copies a built plugin into the workspace as `plugins/<as_name>.wasm`.
    pub(crate) fn add_plugin(&self, name: &str, as_name: &str) {
        std::fs::copy(
            plugin(name),
            self.path().join("plugins").join(format!("{as_name}.wasm")),
        )
        .unwrap();
    }

    pub(crate) fn write_config(&self, text: &str) {
        std::fs::write(self.path().join("pipeline.toml"), text).unwrap();
    }

    /// Runs `host ARGS` in the workspace.
    pub(crate) fn host(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_host"))
            .args(args)
            .current_dir(self.path())
            .env("STRATA_CACHE_DIR", shared_cache())
            .env_remove("STRATA_CONFIG")
            .env_remove("STRATA_NOW")
            .env("NO_COLOR", "1")
            .output()
            .expect("running host")
    }

    /// `host run --json`, returning the summary and the exit code.
    pub(crate) fn run(&self, extra: &[&str]) -> RunSummary {
        let mut args = vec!["run", "--json"];
        args.extend_from_slice(extra);
        RunSummary::of(self.host(&args))
    }

    /// `host status --json` as (dataset, partition) → (state, reason).
    pub(crate) fn status(&self) -> BTreeMap<(String, String), (String, String)> {
        parse_status(&self.host(&["status", "--json"]))
    }

    /// Every partition file under the store with its sha256: all files but
    /// the host's own bookkeeping under `_strata/` (the run lease and the
    /// manifest caches) and the datasets' Delta logs (`_delta_log/`).
    pub(crate) fn snapshot(&self) -> BTreeMap<String, String> {
        let mut all = self.all_files();
        all.retain(|path, _| !path.starts_with("_strata/") && !path.contains("/_delta_log/"));
        all
    }

    /// Every file under the store with its sha256.
    pub(crate) fn all_files(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let root = self.store();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p
                        .strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    out.insert(rel, hex::encode(Sha256::digest(std::fs::read(&p).unwrap())));
                }
            }
        }
        out
    }

    pub(crate) fn partition_dir(&self, dataset: &str, partition: &str) -> PathBuf {
        self.store().join(dataset).join(partition)
    }

    /// The data files of a partition (everything but the manifest).
    pub(crate) fn data_files(&self, dataset: &str, partition: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.partition_dir(dataset, partition))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('_'))
            .collect();
        files.sort();
        files
    }

    pub(crate) fn manifest(&self, dataset: &str, partition: &str) -> Value {
        let bytes = std::fs::read(
            self.partition_dir(dataset, partition)
                .join("_manifest.json"),
        )
        .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }
}

/// What `host run --json` said.
pub(crate) struct RunSummary {
    pub json: Value,
    pub code: Option<i32>,
    pub stderr: String,
}

impl RunSummary {
    /// The summary `host run --json` printed, with its exit code and stderr.
    pub(crate) fn of(out: Output) -> RunSummary {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "host run printed no JSON ({e}); stdout:\n{}\nstderr:\n{stderr}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        RunSummary {
            json,
            code: out.status.code(),
            stderr,
        }
    }

    pub(crate) fn dataset(&self, name: &str) -> &Value {
        self.json["datasets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["dataset"] == name)
            .unwrap_or_else(|| panic!("no dataset {name} in {}", self.json))
    }

    /// Partitions of `dataset` computed by this run, sorted.
    pub(crate) fn computed(&self, dataset: &str) -> Vec<String> {
        let mut v: Vec<String> = self.dataset(dataset)["computed_partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["partition"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    }

    /// Partitions computed with a different content hash than before.
    pub(crate) fn changed(&self, dataset: &str) -> Vec<String> {
        let mut v: Vec<String> = self.dataset(dataset)["computed_partitions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["changed"] == true)
            .map(|p| p["partition"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    }

    pub(crate) fn count(&self, dataset: &str, what: &str) -> u64 {
        self.dataset(dataset)[what].as_u64().unwrap()
    }

    /// Panics with the log unless the run succeeded.
    pub(crate) fn assert_ok(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "run failed:\n{}\n{}",
            self.json,
            self.stderr
        );
        self
    }
}

/// `date=2025-02-DD` for the example's days.
pub(crate) fn day(d: u32) -> String {
    format!("date=2025-02-{d:02}")
}

/// The example's medallion pipeline as pipeline.toml text: raw
/// transactions from the landing folder, bronze parsed by `json_to_table`,
/// silver cleaned by `clean_dedupe`, and the gold datasets a test asks for.
/// Every part can be swapped: the store, the days, the raw source, the
/// plugin file of each layer, the bronze columns, silver's params.
///
/// ```ignore
/// let toml = Medallion::new().silver("passthrough", "").gold("aggregate", &[Gold::DailyTotals]).toml();
/// ```
#[derive(Clone)]
pub(crate) struct Medallion {
    store: String,
    days: u32,
    source: String,
    bronze: String,
    columns: Columns,
    silver: String,
    silver_params: String,
    gold_plugin: String,
    gold: Vec<Gold>,
    raw_checks: String,
    silver_checks: String,
}

/// Which columns bronze parses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Columns {
    /// id, customer_id, amount, currency, status, merchant, updated_at.
    All,
    /// id, amount, currency, status, updated_at.
    Core,
}

/// The gold datasets of the example, as the tests use them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gold {
    /// `daily_totals`: settled transactions per day and currency, counted
    /// and summed.
    DailyTotals,
    /// `daily_totals` as a plain sum of every amount per day and currency.
    DailySum,
    /// `rolling_3d`: the amounts of three days summed per currency.
    Rolling3d,
    /// `rolling_3d` with many aggregates per currency and status (every
    /// aggregate function and column type the plugins share).
    Rolling3dWide,
    /// `all_time`: every transaction counted per currency.
    AllTimeByCurrency,
    /// `all_time`: every transaction counted, customer ids summed.
    AllTime,
}

/// clean_dedupe's params for the full bronze columns.
pub(crate) const DEDUPE: &str = r#"key = "id"
order_by = "updated_at"
trim = ["merchant"]
lowercase = ["merchant"]"#;

/// clean_dedupe's params for the core bronze columns (no merchant).
pub(crate) const DEDUPE_BY_KEY: &str = r#"key = "id"
order_by = "updated_at""#;

impl Medallion {
    /// Sixteen days into `store/`, the full bronze columns, clean_dedupe
    /// with [`DEDUPE`], no gold.
    pub(crate) fn new() -> Medallion {
        Medallion {
            store: "[store]\nurl = \"store\"\n".into(),
            days: 16,
            source: r#"{ kind = "files", dir = "landing", pattern = "transactions-{date}.json" }"#
                .into(),
            bronze: "json_to_table".into(),
            columns: Columns::All,
            silver: "clean_dedupe".into(),
            silver_params: DEDUPE.into(),
            gold_plugin: "aggregate".into(),
            gold: vec![],
            raw_checks: String::new(),
            silver_checks: String::new(),
        }
    }

    /// `[[datasets.checks]]` tables of the raw dataset, verbatim.
    pub(crate) fn raw_checks(mut self, text: &str) -> Self {
        self.raw_checks = text.to_owned();
        self
    }

    /// `[[datasets.checks]]` tables of silver, verbatim.
    pub(crate) fn silver_checks(mut self, text: &str) -> Self {
        self.silver_checks = text.to_owned();
        self
    }

    /// The `[store]` table (and anything else before `[partitions]`),
    /// verbatim.
    pub(crate) fn store_toml(mut self, text: &str) -> Self {
        self.store = text.to_owned();
        self
    }

    /// February 1 to `days`.
    pub(crate) fn days(mut self, days: u32) -> Self {
        self.days = days;
        self
    }

    /// The raw dataset's source, as an inline TOML table.
    pub(crate) fn source(mut self, inline_table: &str) -> Self {
        self.source = inline_table.to_owned();
        self
    }

    /// Bronze's plugin, `plugins/<file>.wasm`, parsing `columns`.
    pub(crate) fn bronze(mut self, file: &str, columns: Columns) -> Self {
        self.bronze = file.to_owned();
        self.columns = columns;
        self
    }

    /// Silver's plugin, `plugins/<file>.wasm`, with `params` (TOML lines
    /// of its `[datasets.params]` table).
    pub(crate) fn silver(mut self, file: &str, params: &str) -> Self {
        self.silver = file.to_owned();
        self.silver_params = params.to_owned();
        self
    }

    /// The gold datasets, all run by `plugins/<file>.wasm`, in this order.
    pub(crate) fn gold(mut self, file: &str, datasets: &[Gold]) -> Self {
        self.gold_plugin = file.to_owned();
        self.gold = datasets.to_vec();
        self
    }

    /// The pipeline.toml text.
    pub(crate) fn toml(&self) -> String {
        let columns = match self.columns {
            Columns::All => {
                r#"  { name = "id", type = "utf8", nullable = true },
  { name = "customer_id", type = "int64", nullable = true },
  { name = "amount", type = "decimal128(12,2)", nullable = false },
  { name = "currency", type = "utf8", nullable = false },
  { name = "status", type = "utf8", nullable = false },
  { name = "merchant", type = "utf8", nullable = true },
  { name = "updated_at", type = "timestamp-us-utc", nullable = false },"#
            }
            Columns::Core => {
                r#"  { name = "id", type = "utf8", nullable = true },
  { name = "amount", type = "decimal128(12,2)", nullable = false },
  { name = "currency", type = "utf8", nullable = false },
  { name = "status", type = "utf8", nullable = false },
  { name = "updated_at", type = "timestamp-us-utc", nullable = false },"#
            }
        };
        let mut text = format!(
            r#"
{store}
[partitions]
start = "2025-02-01"
end = "2025-02-{days:02}"

[[datasets]]
layer = "raw"
name = "transactions"
source = {source}
{raw_checks}

[[datasets]]
layer = "bronze"
name = "transactions"
plugin = "plugins/{bronze}.wasm"
inputs = ["raw/transactions"]
[datasets.params]
columns = [
{columns}
]

[[datasets]]
layer = "silver"
name = "transactions"
plugin = "plugins/{silver}.wasm"
inputs = ["bronze/transactions"]
[datasets.params]
{silver_params}
{silver_checks}
"#,
            store = self.store,
            days = self.days,
            source = self.source,
            bronze = self.bronze,
            silver = self.silver,
            silver_params = self.silver_params,
            raw_checks = self.raw_checks,
            silver_checks = self.silver_checks,
        );
        for gold in &self.gold {
            let (name, inputs, params) = gold.table();
            text.push_str(&format!(
                r#"
[[datasets]]
layer = "gold"
name = "{name}"
plugin = "plugins/{plugin}.wasm"
inputs = [{inputs}]
[datasets.params]
{params}
"#,
                plugin = self.gold_plugin,
            ));
        }
        text
    }

    /// A workspace with the example's landing files, `json_to_table`,
    /// `clean_dedupe` and `aggregate` under their own names, and this
    /// pipeline.
    pub(crate) fn workspace(&self) -> Workspace {
        let ws = Workspace::with_example_landing();
        for p in ["json_to_table", "clean_dedupe", "aggregate"] {
            ws.add_plugin(p, p);
        }
        ws.write_config(&self.toml());
        ws
    }
}

impl Gold {
    /// Name, inputs (inside the brackets) and params of the dataset.
    fn table(self) -> (&'static str, &'static str, &'static str) {
        const DAY: &str = r#""silver/transactions""#;
        const WINDOW: &str = r#"{ dataset = "silver/transactions", window = 3 }"#;
        const ALL: &str = r#"{ dataset = "silver/transactions", all = true }"#;
        match self {
            Gold::DailyTotals => (
                "daily_totals",
                DAY,
                r#"group_by = ["currency"]
filter = { column = "status", equals = "settled" }
aggregates = [
  { fn = "count", as = "transactions" },
  { column = "amount", fn = "sum", as = "total" },
]"#,
            ),
            Gold::DailySum => (
                "daily_totals",
                DAY,
                r#"group_by = ["currency"]
aggregates = [{ column = "amount", fn = "sum", as = "total" }]"#,
            ),
            Gold::Rolling3d => (
                "rolling_3d",
                WINDOW,
                r#"group_by = ["currency"]
aggregates = [{ column = "amount", fn = "sum", as = "total" }]"#,
            ),
            Gold::Rolling3dWide => (
                "rolling_3d",
                WINDOW,
                r#"group_by = ["currency", "status"]
aggregates = [
  { column = "amount", fn = "sum", as = "total" },
  { column = "amount", fn = "avg" },
  { column = "amount", fn = "max" },
  { column = "customer_id", fn = "avg" },
  { column = "customer_id", fn = "count" },
  { column = "updated_at", fn = "min", as = "first_update" },
  { column = "merchant", fn = "max" },
]"#,
            ),
            Gold::AllTimeByCurrency => (
                "all_time",
                ALL,
                r#"group_by = ["currency"]
aggregates = [{ fn = "count", as = "transactions" }]"#,
            ),
            Gold::AllTime => (
                "all_time",
                ALL,
                r#"aggregates = [
  { fn = "count", as = "transactions" },
  { column = "customer_id", fn = "sum" },
]"#,
            ),
        }
    }
}

/// The output of a successful `host status --json` as (dataset, partition)
/// → (state, reason).
pub(crate) fn parse_status(out: &Output) -> BTreeMap<(String, String), (String, String)> {
    assert!(
        out.status.success(),
        "host status failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    json["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                (
                    p["dataset"].as_str().unwrap().to_owned(),
                    p["partition"].as_str().unwrap().to_owned(),
                ),
                (
                    p["state"].as_str().unwrap().to_owned(),
                    p["reason"].as_str().unwrap_or_default().to_owned(),
                ),
            )
        })
        .collect()
}
