//! The files `host plugin new` writes: a plugin per language and layer, its
//! sample data and expected output, a README, and (for Python and
//! JavaScript) a copy of the SDK and the WIT so the project builds alone.

use std::path::Path;

use anyhow::{Context, Result};

use super::{Lang, Layer, rust_sdk};

/// The plugin contract (the newest, which the Rust SDK speaks).
pub(super) const WIT: &str = include_str!("../../../../wit/strata.wit");
/// The Python SDK.
pub(super) const PYTHON_SDK: &str = include_str!("../../../../plugins/python/sdk/strata_plugin.py");
/// The JavaScript SDK and build script.
const JS_SDK: &str = include_str!("../../../../plugins/js/sdk/strata-plugin.js");
const JS_BUILD: &str = include_str!("../../../../plugins/js/build.mjs");
/// The JavaScript toolchain's pinned versions (its package.json and lock).
const JS_PACKAGE: &str = include_str!("../../../../plugins/js/package.json");
const JS_LOCK: &str = include_str!("../../../../plugins/js/package-lock.json");

/// What to scaffold.
pub(super) struct Spec<'a> {
    pub name: &'a str,
    pub lang: Lang,
    pub layer: Layer,
    /// Rust: the `strata-sdk` crate's folder; none for the copy vendored
    /// into the project (see `rust_sdk`).
    pub sdk: Option<&'a Path>,
}

/// Every file of the project: (path relative to the project, text).
pub(super) fn files(spec: &Spec) -> Result<Vec<(String, String)>> {
    let name = spec.name;
    let snake = name.replace('-', "_");
    let class: String = name
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{snake}}", &snake)
            .replace("{{class}}", &class)
    };
    let mut files: Vec<(String, String)> = Vec::new();
    let (source_path, source) = match spec.lang {
        Lang::Rust => ("src/lib.rs".to_string(), rust_source(spec.layer)),
        Lang::Python => (format!("{snake}.py"), python_source(spec.layer)),
        Lang::Js => (format!("{name}.js"), js_source(spec.layer)),
    };
    files.push((source_path, fill(source)));
    match spec.lang {
        Lang::Rust => {
            let sdk = match spec.sdk {
                Some(dir) => dir.display().to_string().replace('\\', "/"),
                None => {
                    files.extend(rust_sdk::files()?);
                    rust_sdk::DIR.to_owned()
                }
            };
            let extra = if spec.layer == Layer::Bronze {
                "serde_json = \"1\"\n"
            } else {
                ""
            };
            files.push((
                "Cargo.toml".into(),
                fill(RUST_CARGO)
                    .replace("{{sdk}}", &sdk)
                    .replace("{{extra}}", extra),
            ));
            files.push(("Cargo.lock".into(), rust_sdk::LOCK.into()));
            files.push((".gitignore".into(), "/target\n/build\n".into()));
        }
        Lang::Python => {
            files.push(("strata_plugin.py".into(), PYTHON_SDK.into()));
            files.push(("wit/strata.wit".into(), WIT.into()));
            files.push((".gitignore".into(), "/build\n__pycache__/\n".into()));
        }
        Lang::Js => {
            files.push(("strata-plugin.js".into(), JS_SDK.into()));
            files.push(("build.mjs".into(), JS_BUILD.into()));
            files.push(("wit/strata.wit".into(), WIT.into()));
            files.push(("package.json".into(), js_package(name, &snake)));
            files.push(("package-lock.json".into(), js_lock(name)?));
            files.push((".gitignore".into(), "/build\nnode_modules/\n".into()));
        }
    }
    let (samples, test) = samples(spec.layer);
    for (path, text) in samples {
        files.push((path.to_string(), text.to_string()));
    }
    files.push((
        "README.md".into(),
        fill(&readme(spec.lang, spec.layer)).replace("{{test}}", &fill(test)),
    ));
    Ok(files)
}

/// The JS project's package.json: the toolchain's pinned dev dependencies.
fn js_package(name: &str, snake: &str) -> String {
    let toolchain: serde_json::Value = serde_json::from_str(JS_PACKAGE).unwrap_or_default();
    let doc = serde_json::json!({
        "name": name,
        "version": "0.1.0",
        "private": true,
        "type": "module",
        "scripts": {
            "build": format!("node build.mjs {name}.js -o build/{snake}.wasm"),
        },
        "devDependencies": toolchain["devDependencies"],
        "overrides": toolchain["overrides"],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// The JS project's package-lock.json: the toolchain's, for a package of
/// this name, so `npm ci` installs exactly what the shipped JS plugins are
/// built with.
fn js_lock(name: &str) -> Result<String> {
    let mut lock: serde_json::Value =
        serde_json::from_str(JS_LOCK).context("the embedded plugins/js/package-lock.json")?;
    lock["name"] = name.into();
    lock["version"] = "0.1.0".into();
    let root = lock["packages"][""]
        .as_object_mut()
        .context("the embedded package-lock.json has no root package")?;
    root.insert("name".into(), name.into());
    root.insert("version".into(), "0.1.0".into());
    // As the package.json it goes with (js_package) says.
    root.remove("license");
    root.remove("engines");
    Ok(serde_json::to_string_pretty(&lock)? + "\n")
}

fn samples(layer: Layer) -> (Vec<(&'static str, &'static str)>, &'static str) {
    match layer {
        Layer::Bronze => (
            vec![
                (
                    "samples/day.json",
                    "[\n  {\"id\": \"a1\", \"amount\": 12.5},\n  {\"id\": \"a2\", \"amount\": null},\n  {\"id\": \"a3\", \"amount\": 3}\n]\n",
                ),
                (
                    "samples/expected.jsonl",
                    "{\"id\": \"a1\", \"amount\": 12.5, \"file\": \"day.json\"}\n\
                     {\"id\": \"a2\", \"amount\": null, \"file\": \"day.json\"}\n\
                     {\"id\": \"a3\", \"amount\": 3.0, \"file\": \"day.json\"}\n",
                ),
            ],
            "host plugin test build/{{snake}}.wasm --raw --input samples/day.json --expect samples/expected.jsonl",
        ),
        Layer::Silver => (
            vec![
                (
                    "samples/input.jsonl",
                    "{\"id\": \"a1\", \"customer\": \"  Ada \", \"amount\": 12.5}\n\
                     {\"id\": null, \"customer\": \"Bob\", \"amount\": 3.0}\n\
                     {\"id\": \"a3\", \"customer\": \"Cy\", \"amount\": null}\n",
                ),
                (
                    "samples/expected.jsonl",
                    "{\"id\": \"a1\", \"customer\": \"Ada\", \"amount\": 12.5}\n\
                     {\"id\": \"a3\", \"customer\": \"Cy\", \"amount\": null}\n",
                ),
            ],
            "host plugin test build/{{snake}}.wasm --input samples/input.jsonl --expect samples/expected.jsonl",
        ),
        Layer::Gold => (
            vec![
                (
                    "samples/input.jsonl",
                    "{\"customer\": \"bob\", \"amount\": 3.0}\n\
                     {\"customer\": \"ada\", \"amount\": 12.5}\n\
                     {\"customer\": null, \"amount\": 1.0}\n\
                     {\"customer\": \"ada\", \"amount\": 1.5}\n",
                ),
                (
                    "samples/expected.jsonl",
                    "{\"customer\": null, \"rows\": 1}\n\
                     {\"customer\": \"ada\", \"rows\": 2}\n\
                     {\"customer\": \"bob\", \"rows\": 1}\n",
                ),
            ],
            "host plugin test build/{{snake}}.wasm --input samples/input.jsonl --expect samples/expected.jsonl",
        ),
    }
}

fn readme(lang: Lang, layer: Layer) -> String {
    let what = match layer {
        Layer::Bronze => {
            "it reads raw JSON files (the raw layer's table, one row per file: \
             `file`, `body`), each an array of records, and writes typed rows \
             `id: utf8`, `amount: float64`, `file: utf8`."
        }
        Layer::Silver => {
            "it drops rows whose key column (param `key`, default `id`) is \
             null and trims surrounding whitespace of every string column."
        }
        Layer::Gold => {
            "it counts rows per value of a string column (param `group_by`, \
             default `customer`): one row per value, sorted, with `rows: int64`."
        }
    };
    let (files, build, toolchain) = match lang {
        Lang::Rust => (
            "- `src/lib.rs`: the plugin (with the Rust SDK `strata-sdk`, Arrow record batches in and out)\n\
             - `Cargo.toml`: a `cdylib` crate, its own workspace; `Cargo.lock`: the versions the \
             shipped plugins are tested with\n\
             - `strata-sdk/`: the Rust SDK, vendored from the host that made this project (it \
             speaks that host's contract; `host plugin new --sdk DIR` depends on another copy instead)",
            "cargo build --release --target wasm32-wasip2\n\
             # the component: target/wasm32-wasip2/release/{{snake}}.wasm",
            "Rust with the `wasm32-wasip2` target (`rustup target add wasm32-wasip2`).",
        ),
        Lang::Python => (
            "- `{{snake}}.py`: the plugin (a class with `open`/`process`/`finish` over lists of dicts)\n\
             - `strata_plugin.py`: the Python SDK (a copy; rows cross as JSON lines)\n\
             - `wit/strata.wit`: the plugin contract",
            "componentize-py -d wit -w plugin componentize {{snake}} -p . -o build/{{snake}}.wasm --stub-wasi",
            "componentize-py (`pip install componentize-py==0.25.1`). `--stub-wasi` is required: \
             CPython's libc imports wasi:sockets, which the sandbox refuses.",
        ),
        Lang::Js => (
            "- `{{name}}.js`: the plugin (a class with `open`/`process`/`finish` over arrays of row objects)\n\
             - `strata-plugin.js`: the JavaScript SDK (a copy; rows cross as JSON lines)\n\
             - `build.mjs`: bundles with esbuild, then `jco componentize` with http and fetch-event disabled\n\
             - `wit/strata.wit`: the plugin contract",
            "npm ci\nnpm run build      # node build.mjs {{name}}.js -o build/{{snake}}.wasm",
            "Node.js 20 or later; `npm ci` brings esbuild, jco and componentize-js at the \
             versions in `package-lock.json` (`npm ci --offline` works from npm's cache). \
             `host plugin build` can also use a toolchain folder elsewhere: set \
             STRATA_JS_TOOLCHAIN to a folder with build.mjs and node_modules.",
        ),
    };
    format!(
        "# {{{{name}}}}\n\n\
         A Strata plugin in {lang} for the **{layer}** layer: {what}\n\n\
         {files}\n\
         - `samples/`: sample input and the output it must give\n\n\
         ## Build\n\n\
         ```sh\n\
         host plugin build .          # prints build/{{{{snake}}}}.wasm\n\
         ```\n\n\
         or with the toolchain directly:\n\n\
         ```sh\n\
         {build}\n\
         ```\n\n\
         Needs {toolchain}\n\n\
         ## Test\n\n\
         ```sh\n\
         {{{{test}}}}\n\
         ```\n\n\
         runs the plugin in the same sandbox `host run` uses and exits 1, showing both, if the \
         output rows differ from the expected ones. Drop `--expect …` to just see the rows \
         (`--table` for a table); add `--params key=value` to try params.\n\n\
         ## Use it\n\n\
         ```toml\n\
         [[datasets]]\n\
         layer = \"{layer}\"\n\
         name = \"…\"\n\
         plugin = \"plugins/{{{{snake}}}}.wasm\"\n\
         inputs = [\"…\"]\n\
         ```\n\n\
         `host plugin inspect build/{{{{snake}}}}.wasm` shows what it declares and imports. \
         The contract, the limits and how Strata recomputes when a plugin changes: \
         docs/plugins.md in the Strata repository.\n",
        lang = match lang {
            Lang::Rust => "Rust",
            Lang::Python => "Python",
            Lang::Js => "JavaScript",
        },
        layer = match layer {
            Layer::Bronze => "bronze",
            Layer::Silver => "silver",
            Layer::Gold => "gold",
        },
    )
}

const RUST_CARGO: &str = r#"[package]
name = "{{name}}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
strata-sdk = { path = "{{sdk}}" }
{{extra}}
# Its own workspace, wherever the folder is.
[workspace]

# As the plugins Strata ships are built.
[profile.release]
opt-level = 3
lto = true
codegen-units = 1
strip = "debuginfo"
"#;

fn rust_source(layer: Layer) -> &'static str {
    match layer {
        Layer::Bronze => {
            r#"//! {{name}}: a bronze plugin. Parses raw JSON files, each an array of
//! records `{"id": "...", "amount": 1.5}`, into typed rows.

use std::sync::Arc;

use strata_sdk::arrow::array::{AsArray, Float64Builder, RecordBatch, StringBuilder};
use strata_sdk::arrow::datatypes::{DataType, Field, Schema};
use strata_sdk::{Context, Error, Info, Map};

pub struct {{class}};

impl Map for {{class}} {
    fn info() -> Info {
        Info::new("{{name}}", "0.1.0", "Parses raw JSON records into id, amount, file")
    }

    fn open(ctx: &Context) -> Result<Self, Error> {
        ctx.params.check_known(&[])?;
        Ok({{class}})
    }

    fn map(&mut self, batch: RecordBatch) -> Result<RecordBatch, Error> {
        let not_raw = || Error::BadInput("the input is not raw files (`file`, `body`)".into());
        let files = batch
            .column_by_name("file")
            .and_then(|c| c.as_string_opt::<i32>())
            .ok_or_else(not_raw)?;
        let bodies = batch
            .column_by_name("body")
            .and_then(|c| c.as_binary_opt::<i32>())
            .ok_or_else(not_raw)?;
        let mut ids = StringBuilder::new();
        let mut amounts = Float64Builder::new();
        let mut names = StringBuilder::new();
        for (file, body) in files.iter().zip(bodies.iter()) {
            let (file, body) = (file.unwrap_or_default(), body.unwrap_or_default());
            let records: Vec<serde_json::Value> = serde_json::from_slice(body)
                .map_err(|e| Error::BadInput(format!("{file} is not a JSON array: {e}")))?;
            for (i, record) in records.iter().enumerate() {
                let id = record["id"].as_str().ok_or_else(|| {
                    Error::BadInput(format!("{file} record {i}: no string `id`"))
                })?;
                ids.append_value(id);
                amounts.append_option(record["amount"].as_f64());
                names.append_value(file);
            }
        }
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("amount", DataType::Float64, true),
            Field::new("file", DataType::Utf8, false),
        ]));
        Ok(RecordBatch::try_new(
            schema,
            vec![
                Arc::new(ids.finish()),
                Arc::new(amounts.finish()),
                Arc::new(names.finish()),
            ],
        )?)
    }
}

strata_sdk::export_map!({{class}});
"#
        }
        Layer::Silver => {
            r#"//! {{name}}: a silver plugin. Drops rows whose key column (param `key`,
//! default `id`) is null and trims surrounding whitespace of every string
//! column.

use std::sync::Arc;

use strata_sdk::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, RecordBatch, StringArray,
};
use strata_sdk::arrow::compute::filter_record_batch;
use strata_sdk::arrow::datatypes::DataType;
use strata_sdk::{Context, Error, Info, Map};

pub struct {{class}} {
    key: String,
}

impl Map for {{class}} {
    fn info() -> Info {
        Info::new("{{name}}", "0.1.0", "Drops rows without a key and trims strings")
    }

    fn open(ctx: &Context) -> Result<Self, Error> {
        ctx.params.check_known(&["key"])?;
        Ok({{class}} {
            key: ctx.params.get("key").unwrap_or("id").to_string(),
        })
    }

    fn map(&mut self, batch: RecordBatch) -> Result<RecordBatch, Error> {
        let key = batch.column_by_name(&self.key).ok_or_else(|| {
            Error::BadParams(format!("param `key`: the input has no column `{}`", self.key))
        })?;
        let keep: BooleanArray = (0..key.len()).map(|i| Some(key.is_valid(i))).collect();
        let batch = filter_record_batch(&batch, &keep)?;
        let columns = batch
            .columns()
            .iter()
            .map(|column| match column.data_type() {
                DataType::Utf8 => {
                    let trimmed: StringArray = column
                        .as_string::<i32>()
                        .iter()
                        .map(|v| v.map(str::trim))
                        .collect();
                    Arc::new(trimmed) as ArrayRef
                }
                _ => column.clone(),
            })
            .collect();
        Ok(RecordBatch::try_new(batch.schema(), columns)?)
    }
}

strata_sdk::export_map!({{class}});
"#
        }
        Layer::Gold => {
            r#"//! {{name}}: a gold plugin. Counts rows per value of a string column
//! (param `group_by`, default `customer`), sorted by value (null first).

use std::collections::BTreeMap;
use std::sync::Arc;

use strata_sdk::arrow::array::{AsArray, Int64Array, RecordBatch, StringArray};
use strata_sdk::arrow::datatypes::{DataType, Field, Schema};
use strata_sdk::{Context, Error, Info, Plan, Transform};

pub struct {{class}} {
    column: String,
    counts: BTreeMap<Option<String>, i64>,
}

impl Transform for {{class}} {
    fn info() -> Info {
        Info::new("{{name}}", "0.1.0", "Counts rows per value of a column")
    }

    fn open(ctx: &Context) -> Result<Self, Error> {
        ctx.params.check_known(&["group_by"])?;
        Ok({{class}} {
            column: ctx.params.get("group_by").unwrap_or("customer").to_string(),
            counts: BTreeMap::new(),
        })
    }

    /// Only the counted column is read, and a window's days may come in
    /// any order: counts do not depend on it.
    fn plan(&self, ctx: &Context) -> Plan {
        (0..ctx.inputs.len()).fold(Plan::new(), |plan, i| {
            plan.columns(i, [self.column.as_str()]).unordered(i)
        })
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        let column = batch.column_by_name(&self.column).ok_or_else(|| {
            Error::BadParams(format!(
                "param `group_by`: the input has no column `{}`",
                self.column
            ))
        })?;
        let values = column.as_string_opt::<i32>().ok_or_else(|| {
            Error::BadParams(format!(
                "param `group_by`: `{}` is not a string column",
                self.column
            ))
        })?;
        for value in values.iter() {
            *self.counts.entry(value.map(str::to_string)).or_default() += 1;
        }
        Ok(Vec::new())
    }

    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        let schema = Arc::new(Schema::new(vec![
            Field::new(&self.column, DataType::Utf8, true),
            Field::new("rows", DataType::Int64, false),
        ]));
        let values: StringArray = self.counts.keys().map(|k| k.as_deref()).collect();
        let rows: Int64Array = self.counts.values().copied().map(Some).collect();
        Ok(vec![RecordBatch::try_new(
            schema,
            vec![Arc::new(values), Arc::new(rows)],
        )?])
    }
}

strata_sdk::export_transform!({{class}});
"#
        }
    }
}

fn python_source(layer: Layer) -> &'static str {
    match layer {
        Layer::Bronze => {
            r#""""{{name}}: a bronze plugin. Parses raw JSON files, each an array of
records {"id": "...", "amount": 1.5}, into typed rows."""

import json

import strata_plugin as sp


class {{class}}(sp.Plugin):
    name = "{{name}}"
    version = "0.1.0"
    description = "Parses raw JSON records into id, amount, file"

    def open(self, ctx):
        ctx.params.check_known([])
        return [
            sp.Field("id", "utf8", False),
            sp.Field("amount", "float64", True),
            sp.Field("file", "utf8", False),
        ]

    def process(self, input, partition, rows):
        out = []
        for row in rows:  # one row per raw file: file (str), body (bytes)
            try:
                records = json.loads(row["body"])
            except ValueError as e:
                raise sp.BadInput(f"{row['file']} is not a JSON array: {e}")
            for i, record in enumerate(records):
                if not isinstance(record.get("id"), str):
                    raise sp.BadInput(f"{row['file']} record {i}: no string `id`")
                out.append({"id": record["id"], "amount": record.get("amount"), "file": row["file"]})
        return out


Transform = sp.export({{class}})
"#
        }
        Layer::Silver => {
            r#""""{{name}}: a silver plugin. Drops rows whose key column (param `key`,
default `id`) is null and trims surrounding whitespace of every string
column."""

import strata_plugin as sp


class {{class}}(sp.Plugin):
    name = "{{name}}"
    version = "0.1.0"
    description = "Drops rows without a key and trims strings"

    def open(self, ctx):
        ctx.params.check_known(["key"])
        self.key = ctx.params.get("key", "id", str)  # params are JSON values: a str here
        fields = ctx.inputs[0].fields
        if ctx.inputs[0].field(self.key) is None:
            raise sp.BadParams(f"param `key`: the input has no column `{self.key}`")
        self.strings = [f.name for f in fields if f.type == "utf8"]
        return fields  # the output has the input's columns

    def process(self, input, partition, rows):
        out = []
        for row in rows:
            if row.get(self.key) is None:
                continue
            for name in self.strings:
                if row.get(name) is not None:
                    row[name] = row[name].strip()
            out.append(row)
        return out


Transform = sp.export({{class}})
"#
        }
        Layer::Gold => {
            r#""""{{name}}: a gold plugin. Counts rows per value of a string column
(param `group_by`, default `customer`), sorted by value (null first)."""

import strata_plugin as sp


class {{class}}(sp.Plugin):
    name = "{{name}}"
    version = "0.1.0"
    description = "Counts rows per value of a column"

    def open(self, ctx):
        ctx.params.check_known(["group_by"])
        self.column = ctx.params.get("group_by", "customer", str)
        field = ctx.inputs[0].field(self.column)
        if field is None or field.type != "utf8":
            raise sp.BadParams(f"param `group_by`: `{self.column}` is not a string column of the input")
        # Only this column is read; its partitions (a window, say) in any order.
        ctx.inputs[0].read(columns=[self.column], ordered=False)
        self.counts = {}
        return [sp.Field(self.column, "utf8", True), sp.Field("rows", "int64", False)]

    def process(self, input, partition, rows):
        for row in rows:
            value = row.get(self.column)
            self.counts[value] = self.counts.get(value, 0) + 1

    def finish(self):
        # Yielded rows go to the host a chunk at a time (returning a list works too).
        for value in sorted(self.counts, key=lambda v: (v is not None, v or "")):
            yield {self.column: value, "rows": self.counts[value]}


Transform = sp.export({{class}})
"#
        }
    }
}

fn js_source(layer: Layer) -> &'static str {
    match layer {
        Layer::Bronze => {
            r#"// {{name}}: a bronze plugin. Parses raw JSON files, each an array of
// records {"id": "...", "amount": 1.5}, into typed rows.

import { BadInput, Plugin, exportPlugin } from "./strata-plugin.js";

const text = new TextDecoder();

class {{class}} extends Plugin {
  static info = { name: "{{name}}", version: "0.1.0", description: "Parses raw JSON records into id, amount, file" };

  open(ctx) {
    ctx.params.checkKnown([]);
    return [
      { name: "id", type: "utf8", nullable: false },
      { name: "amount", type: "float64", nullable: true },
      { name: "file", type: "utf8", nullable: false },
    ];
  }

  process(_input, _partition, rows) {
    const out = [];
    for (const row of rows) {
      // One row per raw file: file (string), body (Uint8Array).
      let records;
      try {
        records = JSON.parse(text.decode(row.body));
      } catch (e) {
        throw new BadInput(`${row.file} is not a JSON array: ${e.message}`);
      }
      records.forEach((record, i) => {
        if (typeof record.id !== "string") throw new BadInput(`${row.file} record ${i}: no string \`id\``);
        out.push({ id: record.id, amount: record.amount ?? null, file: row.file });
      });
    }
    return out;
  }
}

export const transform = exportPlugin({{class}});
"#
        }
        Layer::Silver => {
            r#"// {{name}}: a silver plugin. Drops rows whose key column (param `key`,
// default `id`) is null and trims surrounding whitespace of every string
// column.

import { BadParams, Plugin, exportPlugin } from "./strata-plugin.js";

class {{class}} extends Plugin {
  static info = { name: "{{name}}", version: "0.1.0", description: "Drops rows without a key and trims strings" };

  open(ctx) {
    ctx.params.checkKnown(["key"]);
    this.key = ctx.params.get("key", "id", "string"); // params are JSON values: a string here
    const fields = ctx.inputs[0].fields;
    if (!fields.some((f) => f.name === this.key)) {
      throw new BadParams(`param \`key\`: the input has no column \`${this.key}\``);
    }
    this.strings = fields.filter((f) => f.type === "utf8").map((f) => f.name);
    return fields; // the output has the input's columns
  }

  process(_input, _partition, rows) {
    const out = [];
    for (const row of rows) {
      if (row[this.key] == null) continue;
      for (const name of this.strings) {
        if (row[name] != null) row[name] = row[name].trim();
      }
      out.push(row);
    }
    return out;
  }
}

export const transform = exportPlugin({{class}});
"#
        }
        Layer::Gold => {
            r#"// {{name}}: a gold plugin. Counts rows per value of a string column
// (param `group_by`, default `customer`), sorted by value (null first).

import { BadParams, Plugin, exportPlugin } from "./strata-plugin.js";

class {{class}} extends Plugin {
  static info = { name: "{{name}}", version: "0.1.0", description: "Counts rows per value of a column" };

  open(ctx) {
    ctx.params.checkKnown(["group_by"]);
    this.column = ctx.params.get("group_by", "customer", "string");
    const field = ctx.inputs[0].field(this.column);
    if (field === undefined || field.type !== "utf8") {
      throw new BadParams(`param \`group_by\`: \`${this.column}\` is not a string column of the input`);
    }
    // Only this column is read; its partitions (a window, say) in any order.
    ctx.inputs[0].read({ columns: [this.column], ordered: false });
    this.counts = new Map();
    return [
      { name: this.column, type: "utf8", nullable: true },
      { name: "rows", type: "int64", nullable: false },
    ];
  }

  process(_input, _partition, rows) {
    for (const row of rows) {
      const value = row[this.column] ?? null;
      this.counts.set(value, (this.counts.get(value) ?? 0) + 1);
    }
  }

  // Yielded rows go to the host a chunk at a time (returning an array works too).
  *finish() {
    const values = [...this.counts.keys()].sort((a, b) =>
      a === null ? -1 : b === null ? 1 : a < b ? -1 : a > b ? 1 : 0,
    );
    for (const v of values) yield { [this.column]: v, rows: this.counts.get(v) };
  }
}

export const transform = exportPlugin({{class}});
"#
        }
    }
}
