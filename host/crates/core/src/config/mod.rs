//! `pipeline.toml`: parsing and validation.
//!
//! Every mistake a user can make in the file is reported with the file name,
//! the line, what is wrong and what to write instead. A `Pipeline` that comes
//! out of here is consistent: inputs exist, there are no cycles, plugin files
//! exist, dates parse, and datasets are in dependency order.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDateTime;
use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

mod checks;
mod http;
mod operations;
mod plugin_ref;
mod schema;
mod source;
mod tables;

pub use checks::{Check, CheckKind, Severity};
pub use http::{CompiledHttp, HttpSpec, Method, Pagination, Pairs};
pub use operations::{
    Endpoint, History, Lineage, LineageTarget, Notify, NotifyEvent, NotifyKind, Operations,
};
pub use plugin_ref::{PluginRef, STD_PLUGINS, STD_PREFIX};
pub use schema::{SCHEMA_ID, json_schema};
pub use source::{FilesSpec, SourceSpec};
pub use tables::{TableFormat, Tables};

use crate::id::{DatasetId, valid_segment};
use crate::period::{Granularity, parse_instant};
use crate::units::{parse_duration, parse_size};

/// How an input's partitions map onto the output's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// The same period.
    Same,
    /// The last N periods, ending with the output's own.
    Window(u32),
    /// Every partition of the input.
    All,
}

#[derive(Debug, Clone)]
pub struct Input {
    pub dataset: DatasetId,
    pub mapping: Mapping,
}

/// Per-partition limits for a plugin.
#[derive(Debug, Clone)]
pub struct PluginLimits {
    pub memory_bytes: u64,
    pub timeout: Duration,
    pub output_bytes: u64,
}

impl Default for PluginLimits {
    /// What `[limits]` means when it says nothing (README: pipeline.toml).
    fn default() -> Self {
        PluginLimits {
            memory_bytes: 2 << 30,
            timeout: Duration::from_secs(300),
            output_bytes: 8 << 30,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Producer {
    Source(SourceSpec),
    Plugin {
        /// A `.wasm` file or a standard plugin (`std:NAME`).
        plugin: PluginRef,
        sha256: Option<String>,
        /// Params as given, as a JSON object (keys sorted).
        params: serde_json::Map<String, serde_json::Value>,
        inputs: Vec<Input>,
        limits: PluginLimits,
    },
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub id: DatasetId,
    pub producer: Producer,
    /// Its `[[datasets.checks]]`, in config order.
    pub checks: Vec<Check>,
    /// Line of its `[[datasets]]` entry, for messages.
    pub line: usize,
}

impl Dataset {
    pub fn inputs(&self) -> &[Input] {
        match &self.producer {
            Producer::Source(_) => &[],
            Producer::Plugin { inputs, .. } => inputs,
        }
    }

    /// A dataset whose inputs are all read whole has one partition, `all`.
    pub fn is_partitioned(&self) -> bool {
        let inputs = self.inputs();
        inputs.is_empty() || inputs.iter().any(|i| i.mapping != Mapping::All)
    }
}

#[derive(Debug, Clone)]
pub struct Partitioning {
    pub every: Granularity,
    pub start: NaiveDateTime,
    pub end: Option<NaiveDateTime>,
    /// A period counts as complete this long after it ends.
    pub settle: Duration,
}

#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `file:///abs/path`, `memory://`, `s3://bucket/prefix`, …
    pub url: String,
    /// Extra object_store options (endpoint, region, allow_http, …).
    /// Credentials belong in the environment, never here.
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The config file, for messages.
    pub path: PathBuf,
    /// Its folder: relative paths are relative to it.
    pub dir: PathBuf,
    pub store: StoreConfig,
    pub partitions: Partitioning,
    /// In dependency order: every dataset after its inputs.
    pub datasets: Vec<Dataset>,
    /// `[[notify]]`, `[history]`, `[lineage]`.
    pub operations: Operations,
    /// `[tables]`: the Delta Lake log of every non-raw dataset.
    pub tables: Tables,
}

impl Pipeline {
    pub fn dataset(&self, id: &DatasetId) -> Option<&Dataset> {
        self.datasets.iter().find(|d| &d.id == id)
    }
}

/// A config error: where and what.
#[derive(Debug, thiserror::Error)]
#[error("{path}{}: {message}", .line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

// ---- the file as written ------------------------------------------------

/// A pipeline: where its partitions are stored, which periods it has, and
/// its datasets, each made by a source (raw data) or by a WebAssembly plugin
/// from other datasets. Unknown keys are errors.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    /// Where every layer is stored. Without it: the folder `store` next to
    /// this file.
    store: Option<RawStore>,
    /// The periods the pipeline has: one partition of each partitioned
    /// dataset per period.
    #[schemars(with = "RawPartitions")]
    partitions: Spanned<RawPartitions>,
    /// Default per-partition limits for every plugin; a dataset's own
    /// `limits` table overrides them key by key.
    #[serde(default)]
    limits: RawLimits,
    /// The datasets (`[[datasets]]`), in any order: they run in dependency
    /// order.
    #[serde(default)]
    #[schemars(with = "Vec<RawDataset>")]
    datasets: Vec<Spanned<RawDataset>>,
    /// Where runs are reported (`[[notify]]`): webhooks or Slack, told
    /// about failures and recoveries.
    #[serde(default)]
    #[schemars(with = "Vec<operations::RawNotify>")]
    notify: Vec<Spanned<operations::RawNotify>>,
    /// The run records kept under `_strata/runs/` in the store.
    #[schemars(with = "Option<operations::RawHistory>")]
    history: Option<Spanned<operations::RawHistory>>,
    /// Where OpenLineage run events go: an HTTP endpoint or a file.
    #[schemars(with = "Option<operations::RawLineage>")]
    lineage: Option<Spanned<operations::RawLineage>>,
    /// Whether every non-raw dataset is also a Delta Lake table, and how
    /// long files an older table version references are kept.
    #[schemars(with = "Option<tables::RawTables>")]
    tables: Option<Spanned<tables::RawTables>>,
}

/// `[store]`: the object-store root every layer lives under.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawStore {
    /// A folder relative to this file (`"store"`), or a URL: `file:///abs`,
    /// `memory://`, `s3://bucket/prefix`, `gs://bucket/prefix`,
    /// `az://container/prefix` (also `s3a://`, `abfs://`, `abfss://`,
    /// `azure://`).
    #[schemars(with = "String")]
    url: Spanned<String>,
    /// object_store options as strings, e.g. `{ endpoint =
    /// "http://127.0.0.1:9000", allow_http = "true", region = "eu-west-1" }`.
    /// Credentials belong in the environment (`AWS_*`, `GOOGLE_*`,
    /// `AZURE_*`), never here.
    #[serde(default)]
    options: BTreeMap<String, String>,
}

/// `[partitions]`: the periods, from `start` to `end` (or the last complete
/// period).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawPartitions {
    /// How long one period is: `"hour"`, `"day"` (the default) or
    /// `"month"`.
    #[serde(default)]
    every: Granularity,
    /// The first period, UTC: `"YYYY-MM-DD"` (e.g. `"2025-02-01"`) or
    /// `"YYYY-MM-DDTHH:MM:SS"`.
    #[schemars(with = "String")]
    start: Spanned<String>,
    /// The last period, inclusive, written like `start`. Without it: up to
    /// the last complete period.
    #[schemars(with = "Option<String>")]
    end: Option<Spanned<String>>,
    /// A period counts as complete this long after it ends, a duration such
    /// as `"2h"` (units `ms`, `s`, `m`, `h`, `d`). Default `"0s"`.
    #[schemars(with = "Option<String>")]
    settle: Option<Spanned<String>>,
}

/// Per-partition limits for a plugin.
#[derive(Deserialize, JsonSchema, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    /// Total linear memory of the plugin per partition, a size such as
    /// `"2GiB"` (units `KiB`, `MiB`, `GiB`, `KB`, `MB`, `GB`). Default
    /// `"2GiB"`.
    #[schemars(with = "Option<String>")]
    memory: Option<Spanned<String>>,
    /// CPU time per partition, a duration such as `"5m"` (units `ms`, `s`,
    /// `m`, `h`, `d`). Default `"5m"`.
    #[schemars(with = "Option<String>")]
    timeout: Option<Spanned<String>>,
    /// Output bytes per partition, a size such as `"8GiB"`. Default
    /// `"8GiB"`.
    #[schemars(with = "Option<String>")]
    output: Option<Spanned<String>>,
}

/// `[[datasets]]`: one table in one layer, made by a `source` (raw data) or
/// by a `plugin` from its `inputs`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawDataset {
    /// The layer, a folder name: `"raw"`, `"bronze"`, `"silver"`, `"gold"`
    /// or any other (letters, digits, `_`, `-`, `.`).
    #[schemars(with = "String")]
    layer: Spanned<String>,
    /// The dataset's name within its layer, a folder name (letters, digits,
    /// `_`, `-`, `.`); `layer/name` identifies it, e.g. `"raw/transactions"`.
    #[schemars(with = "String")]
    name: Spanned<String>,
    /// What to fetch for each period, for a raw dataset: `{ kind = "files",
    /// … }` or `{ kind = "http", … }`. A dataset has a `source` or a
    /// `plugin`, not both.
    source: Option<SourceSpec>,
    /// The WebAssembly component that makes this dataset from its `inputs`:
    /// a path relative to this file's folder (`"plugins/aggregate.wasm"`),
    /// or `"std:NAME"` for a standard plugin built into the host
    /// (`"std:json-to-table"`, `"std:clean-dedupe"`, `"std:aggregate"`).
    /// Identified by the sha256 of its bytes: a changed plugin recomputes
    /// what it made.
    #[schemars(with = "Option<String>")]
    plugin: Option<Spanned<String>>,
    /// Optional: the sha256 (64 hex digits) the plugin's bytes must have;
    /// any other build is refused.
    #[schemars(with = "Option<String>")]
    sha256: Option<Spanned<String>>,
    /// The datasets the plugin reads, in order: `"layer/name"` reads the
    /// same period, `{ dataset = "layer/name", window = 7 }` the last 7
    /// periods up to its own, `{ dataset = "layer/name", all = true }` every
    /// partition.
    #[serde(default)]
    #[schemars(with = "Vec<RawInput>")]
    inputs: Vec<Spanned<RawInput>>,
    /// Handed to the plugin as they are (strings as strings, anything else
    /// as JSON text); part of every partition's key, so a change
    /// recomputes. E.g. `columns = [{ name = "id", type = "utf8" }]`.
    #[serde(default)]
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    params: toml::Table,
    /// This dataset's plugin limits; keys not given come from the
    /// top-level `[limits]`.
    limits: Option<RawLimits>,
    /// Data quality checks (`[[datasets.checks]]`) run on every partition
    /// computed; results are recorded in its manifest.
    #[serde(default)]
    #[schemars(with = "Vec<checks::RawCheck>")]
    checks: Vec<Spanned<toml::Table>>,
}

/// An input: a dataset name, or a table saying which of its partitions
/// are read.
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
enum RawInput {
    /// `"layer/name"`: the input's partition of the same period.
    Name(String),
    /// `{ dataset = "layer/name", window = N }` or `{ dataset = …, all =
    /// true }`.
    Table(RawInputTable),
}

/// An input as a table.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawInputTable {
    /// The input dataset, `"layer/name"`, e.g. `"silver/transactions"`.
    dataset: String,
    /// Read the last N periods (N ≥ 1), ending with the output's own.
    /// Not with `all`.
    #[schemars(range(min = 1))]
    window: Option<u32>,
    /// Read every partition of the input (default false). A dataset whose
    /// inputs are all `all` has one partition, `all`.
    #[serde(default)]
    all: bool,
}

/// Reads and validates a pipeline file.
pub fn load(path: &Path) -> Result<Pipeline, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.display().to_string(),
        line: None,
        message: format!(
            "cannot read the pipeline config: {e}. Pass --config PATH or run from the folder with pipeline.toml"
        ),
    })?;
    parse(path, &text)
}

/// Validates a pipeline given as text; `path` locates it (relative paths in
/// it are relative to its folder).
pub fn parse(path: &Path, text: &str) -> Result<Pipeline, ConfigError> {
    let ctx = Ctx { path, text };
    let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
        path: path.display().to_string(),
        line: e.span().map(|s| ctx.line_of(s.start)),
        message: e.message().trim().to_owned(),
    })?;
    let dir = path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(Path::new("."))
        .to_owned();
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);

    let store = match raw.store {
        None => StoreConfig {
            url: file_url(&dir.join("store")),
            options: BTreeMap::new(),
        },
        Some(s) => StoreConfig {
            url: ctx.store_url(&dir, &s.url)?,
            options: s.options,
        },
    };

    let partitions = ctx.partitions(raw.partitions)?;
    let default_limits = ctx.limits(&raw.limits, None)?;

    let mut datasets = Vec::new();
    let mut seen: HashMap<DatasetId, usize> = HashMap::new();
    for spanned in raw.datasets {
        let line = ctx.line_of(spanned.span().start);
        let d = spanned.into_inner();
        let id = DatasetId {
            layer: d.layer.get_ref().clone(),
            name: d.name.get_ref().clone(),
        };
        for part in [&d.layer, &d.name] {
            if !valid_segment(part.get_ref()) {
                return Err(ctx.err(
                    part,
                    format!(
                        "`{}` cannot be a folder name: use letters, digits, `_`, `-` or `.`",
                        part.get_ref()
                    ),
                ));
            }
        }
        if let Some(first) = seen.insert(id.clone(), line) {
            return Err(ctx.at(
                line,
                format!("dataset `{id}` is defined twice (first on line {first}); rename one"),
            ));
        }
        let producer = match (d.source, d.plugin) {
            (Some(_), Some(p)) => {
                return Err(ctx.err(
                    &p,
                    format!("dataset `{id}` has both a source and a plugin: keep one"),
                ));
            }
            (None, None) => {
                return Err(ctx.at(
                    line,
                    format!(
                        "dataset `{id}` needs `source = {{ kind = \"files\", ... }}` (raw data) \
                         or `plugin = \"path/to/plugin.wasm\"` (or \"std:NAME\") with `inputs`"
                    ),
                ));
            }
            (Some(source), None) => {
                if !d.inputs.is_empty() {
                    return Err(ctx.at(
                        line,
                        format!("dataset `{id}` has a source, so it takes no `inputs`"),
                    ));
                }
                source
                    .validate(&dir)
                    .map_err(|m| ctx.at(line, format!("dataset `{id}`: {m}")))?;
                Producer::Source(source)
            }
            (None, Some(plugin)) => {
                let plugin_ref = PluginRef::parse(plugin.get_ref(), &dir)
                    .map_err(|m| ctx.err(&plugin, format!("dataset `{id}`: {m}")))?;
                if let Some(file) = plugin_ref.file()
                    && !file.is_file()
                {
                    return Err(ctx.err(
                        &plugin,
                        format!(
                            "plugin file {} does not exist (paths are relative to the folder of {}); \
                             build the plugin, fix the path, or name a standard plugin (`std:NAME`)",
                            file.display(),
                            path.display()
                        ),
                    ));
                }
                if d.inputs.is_empty() {
                    return Err(ctx.at(
                        line,
                        format!(
                            "dataset `{id}` has a plugin but no `inputs`: add e.g. inputs = [\"raw/{}\"]",
                            id.name
                        ),
                    ));
                }
                let sha256 = match d.sha256 {
                    None => None,
                    Some(s) => {
                        let v = s.get_ref().to_ascii_lowercase();
                        if v.len() != 64 || !v.chars().all(|c| c.is_ascii_hexdigit()) {
                            return Err(ctx.err(&s, "sha256 must be 64 hex digits".into()));
                        }
                        Some(v)
                    }
                };
                let inputs = d
                    .inputs
                    .iter()
                    .map(|i| ctx.input(i))
                    .collect::<Result<Vec<_>, _>>()?;
                let limits = match &d.limits {
                    Some(l) => ctx.limits(l, Some(&default_limits))?,
                    None => default_limits.clone(),
                };
                let params = serde_json::to_value(&d.params)
                    .ok()
                    .and_then(|v| v.as_object().cloned())
                    .unwrap_or_default();
                Producer::Plugin {
                    plugin: plugin_ref,
                    sha256,
                    params,
                    inputs,
                    limits,
                }
            }
        };
        let checks = d
            .checks
            .iter()
            .map(|c| {
                let line = ctx.line_of(c.span().start);
                checks::parse_check(c, line, &dir)
                    .map_err(|m| ctx.at(line, format!("dataset `{id}`: {m}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        datasets.push(Dataset {
            id,
            producer,
            checks,
            line,
        });
    }
    if datasets.is_empty() {
        return Err(ctx.at(
            1,
            "the pipeline has no datasets: add a [[datasets]] table".into(),
        ));
    }
    let datasets = ctx.dependency_order(datasets)?;
    let line_of = |offset| ctx.line_of(offset);
    let operations = operations::parse(raw.notify, raw.history, raw.lineage, &dir, &line_of)
        .map_err(|(line, m)| ctx.at(line, m))?;
    let tables = tables::parse(raw.tables, &line_of).map_err(|(line, m)| ctx.at(line, m))?;
    Ok(Pipeline {
        path: path.to_owned(),
        dir,
        store,
        partitions,
        datasets,
        operations,
        tables,
    })
}

pub fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .bytes()
            .filter(|b| *b == b'\n')
            .count()
            + 1
    }

    fn at(&self, line: usize, message: String) -> ConfigError {
        ConfigError {
            path: self.path.display().to_string(),
            line: Some(line),
            message,
        }
    }

    fn err<T>(&self, spanned: &Spanned<T>, message: String) -> ConfigError {
        self.at(self.line_of(spanned.span().start), message)
    }

    fn store_url(&self, dir: &Path, url: &Spanned<String>) -> Result<String, ConfigError> {
        let u = url.get_ref();
        if u.starts_with("file://") || u.starts_with("memory://") {
            return Ok(u.clone());
        }
        for scheme in [
            "s3://", "s3a://", "gs://", "az://", "abfs://", "abfss://", "azure://",
        ] {
            if let Some(rest) = u.strip_prefix(scheme) {
                if rest.is_empty() || rest.starts_with('/') {
                    return Err(self.err(
                        url,
                        format!("`{u}` names no bucket: write {scheme}BUCKET/PREFIX"),
                    ));
                }
                return Ok(u.clone());
            }
        }
        if u.contains("://") {
            return Err(self.err(
                url,
                format!("unsupported store URL `{u}`: use a folder path, file://, memory://, s3://, gs:// or az://"),
            ));
        }
        Ok(file_url(&dir.join(u)))
    }

    fn date(&self, value: &Spanned<String>, what: &str) -> Result<NaiveDateTime, ConfigError> {
        let v = value.get_ref();
        parse_instant(v).ok_or_else(|| {
            self.err(
                value,
                format!("{what} `{v}` is not a date: write YYYY-MM-DD, e.g. \"2025-02-18\""),
            )
        })
    }

    fn partitions(&self, raw: Spanned<RawPartitions>) -> Result<Partitioning, ConfigError> {
        let p = raw.into_inner();
        let start = self.date(&p.start, "start")?;
        let end = p.end.as_ref().map(|e| self.date(e, "end")).transpose()?;
        if let (Some(end_at), Some(end)) = (end, &p.end)
            && end_at < start
        {
            return Err(self.err(
                end,
                format!(
                    "end {} is before start {}",
                    end.get_ref(),
                    p.start.get_ref()
                ),
            ));
        }
        let settle = match &p.settle {
            None => Duration::ZERO,
            Some(s) => parse_duration(s.get_ref()).map_err(|m| self.err(s, m))?,
        };
        Ok(Partitioning {
            every: p.every,
            start,
            end,
            settle,
        })
    }

    fn limits(
        &self,
        raw: &RawLimits,
        base: Option<&PluginLimits>,
    ) -> Result<PluginLimits, ConfigError> {
        let base = base.cloned().unwrap_or_default();
        Ok(PluginLimits {
            memory_bytes: match &raw.memory {
                Some(m) => parse_size(m.get_ref()).map_err(|e| self.err(m, e))?,
                None => base.memory_bytes,
            },
            timeout: match &raw.timeout {
                Some(t) => parse_duration(t.get_ref()).map_err(|e| self.err(t, e))?,
                None => base.timeout,
            },
            output_bytes: match &raw.output {
                Some(o) => parse_size(o.get_ref()).map_err(|e| self.err(o, e))?,
                None => base.output_bytes,
            },
        })
    }

    fn input(&self, raw: &Spanned<RawInput>) -> Result<Input, ConfigError> {
        let (name, mapping) = match raw.get_ref() {
            RawInput::Name(n) => (n.clone(), Mapping::Same),
            RawInput::Table(t) => {
                let mapping = match (t.window, t.all) {
                    (Some(_), true) => {
                        return Err(self.err(
                            raw,
                            "an input takes `window = N` or `all = true`, not both".into(),
                        ));
                    }
                    (Some(0), _) => {
                        return Err(self.err(raw, "`window` must be at least 1".into()));
                    }
                    (Some(n), false) => Mapping::Window(n),
                    (None, true) => Mapping::All,
                    (None, false) => Mapping::Same,
                };
                (t.dataset.clone(), mapping)
            }
        };
        let dataset = DatasetId::parse(&name).ok_or_else(|| {
            self.err(
                raw,
                format!("input `{name}` is not `layer/name`, e.g. \"raw/transactions\""),
            )
        })?;
        Ok(Input { dataset, mapping })
    }

    fn dependency_order(&self, datasets: Vec<Dataset>) -> Result<Vec<Dataset>, ConfigError> {
        let known: Vec<String> = datasets.iter().map(|d| d.id.to_string()).collect();
        for d in &datasets {
            for i in d.inputs() {
                if !datasets.iter().any(|o| o.id == i.dataset) {
                    return Err(self.at(
                        d.line,
                        format!(
                            "dataset `{}` reads `{}`, which is not defined; defined are: {}",
                            d.id,
                            i.dataset,
                            known.join(", ")
                        ),
                    ));
                }
                if i.dataset == d.id {
                    return Err(self.at(d.line, format!("dataset `{}` reads itself", d.id)));
                }
            }
        }
        let mut ordered: Vec<Dataset> = Vec::with_capacity(datasets.len());
        let mut pending = datasets;
        while !pending.is_empty() {
            let before = pending.len();
            let mut rest = Vec::new();
            for d in pending {
                if d.inputs()
                    .iter()
                    .all(|i| ordered.iter().any(|o| o.id == i.dataset))
                {
                    ordered.push(d);
                } else {
                    rest.push(d);
                }
            }
            if rest.len() == before {
                let names: Vec<String> = rest.iter().map(|d| d.id.to_string()).collect();
                return Err(self.at(
                    rest[0].line,
                    format!(
                        "these datasets read each other in a cycle: {}; a dataset can only read datasets that do not read it",
                        names.join(" → ")
                    ),
                ));
            }
            pending = rest;
        }
        Ok(ordered)
    }
}
