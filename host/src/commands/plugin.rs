//! `host plugin`: tools for plugin authors. `new` scaffolds a plugin project
//! in Rust, Python or JavaScript; `build` builds one with its language's
//! toolchain; `inspect` shows what a `.wasm` is and what it imports; `test`
//! runs one on sample data.

mod templates;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use clap::{Args, Subcommand, ValueEnum};

use strata_core::CONTRACT_VERSION;
use strata_core::config::PluginLimits;
use strata_core::manifest::Column;
use strata_runtime::{PartitionContext, Runtime, is_granted};
use strata_runtime::{jsonl, schema};

use super::GlobalOptions;

/// Tools for plugin authors: scaffold, build, inspect and test plugins.
#[derive(Subcommand)]
pub(super) enum PluginCommand {
    New(NewCommand),
    Build(BuildCommand),
    Inspect(InspectCommand),
    Test(TestCommand),
}

impl PluginCommand {
    pub(super) async fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        // Plugins run synchronously (a plugin's stdout blocks on WASI
        // streams), so never on an async worker.
        tokio::task::block_in_place(|| match self {
            PluginCommand::New(c) => c.execute(),
            PluginCommand::Build(c) => c.execute(),
            PluginCommand::Inspect(c) => c.execute(global),
            PluginCommand::Test(c) => c.execute(global),
        })
    }
}

/// A plugin language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Lang {
    Rust,
    Python,
    Js,
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::Js => "js",
        })
    }
}

/// The layer a scaffolded plugin is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Layer {
    /// Raw files in (one row per file: `file`, `body`), typed rows out.
    Bronze,
    /// Rows in, cleaned rows out.
    Silver,
    /// Rows in, aggregates out.
    Gold,
}

/// The pinned componentize-py, as CI installs it.
pub(super) const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";

/// The Strata repository this host was built from, if it is still there:
/// the Rust SDK, the JS toolchain and the lock file the scaffolds use.
fn repo_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    dir.join("plugins")
        .is_dir()
        .then(|| dir.canonicalize().ok())
        .flatten()
}

// --- new --------------------------------------------------------------------

/// Create a plugin project that builds as it stands and passes a test on
/// sample data (see the README it writes).
#[derive(Args)]
pub(super) struct NewCommand {
    /// The plugin's name (lowercase letters, digits and `-`).
    name: String,
    /// Its language.
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    lang: Lang,
    /// The layer it is written for: what sample data and code it starts with.
    #[arg(long, value_enum, default_value_t = Layer::Silver)]
    layer: Layer,
    /// Where to create it [default: ./NAME].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Rust only: the `strata-sdk` crate to depend on [default: plugins/sdk of the Strata repository this host was built from].
    #[arg(long, value_name = "DIR")]
    sdk: Option<PathBuf>,
}

impl NewCommand {
    fn execute(self) -> Result<ExitCode> {
        let valid = self
            .name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !self.name.ends_with('-');
        if !valid {
            bail!(
                "`{}` is not a plugin name: use lowercase letters, digits and `-`, starting with a letter",
                self.name
            );
        }
        let dir = self
            .dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(&self.name));
        if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
            bail!("{} already exists and is not empty", dir.display());
        }
        let sdk = match (self.lang, &self.sdk) {
            (Lang::Rust, Some(sdk)) => Some(
                sdk.canonicalize()
                    .with_context(|| format!("--sdk {}", sdk.display()))?,
            ),
            (Lang::Rust, None) => Some(
                repo_dir()
                    .map(|r| r.join("plugins/sdk"))
                    .filter(|p| p.join("Cargo.toml").is_file())
                    .context(
                        "cannot find the Rust SDK (plugins/sdk of the Strata repository); pass --sdk DIR",
                    )?,
            ),
            _ => None,
        };
        let files = templates::files(&templates::Spec {
            name: &self.name,
            lang: self.lang,
            layer: self.layer,
            sdk: sdk.as_deref(),
        });
        for (path, text) in &files {
            let path = dir.join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        }
        if self.lang == Lang::Rust {
            // The versions the shipped plugins are tested with (and, with a
            // shared target directory, their compiled dependencies).
            if let Some(lock) = repo_dir().map(|r| r.join("plugins/Cargo.lock"))
                && lock.is_file()
            {
                std::fs::copy(&lock, dir.join("Cargo.lock"))?;
            }
        }
        println!(
            "created {} ({} {} plugin)\n  build: host plugin build {}\n  test:  see {}",
            dir.display(),
            self.lang,
            format!("{:?}", self.layer).to_lowercase(),
            dir.display(),
            dir.join("README.md").display()
        );
        Ok(ExitCode::SUCCESS)
    }
}

// --- build ------------------------------------------------------------------

/// Build a plugin project (Rust, Python or JavaScript, told by its files)
/// into a `.wasm` component; prints its path.
#[derive(Args)]
pub(super) struct BuildCommand {
    /// The project folder.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Where to write the component [default: DIR/build/NAME.wasm].
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
}

/// A plugin project, by language.
enum Project {
    /// A cdylib crate.
    Rust,
    /// The module that exports `Transform`.
    Python { module: String },
    /// The module that exports `transform`.
    Js { entry: PathBuf },
}

/// Which language a project folder is in, and its entry point.
fn detect(dir: &Path) -> Result<Project> {
    if dir.join("Cargo.toml").is_file() {
        return Ok(Project::Rust);
    }
    let mut python = Vec::new();
    let mut js = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let is = |ext: &str| file.ends_with(ext) && path.is_file();
        if is(".py") && !file.starts_with("test_") && file != "strata_plugin.py" {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if text
                .lines()
                .any(|l| l.starts_with("Transform =") || l.starts_with("class Transform"))
            {
                python.push(file.trim_end_matches(".py").to_string());
            }
        } else if (is(".js") || is(".mjs"))
            && !["build.mjs", "strata-plugin.js", "arrow.js"].contains(&file)
        {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if text
                .lines()
                .any(|l| l.starts_with("export const transform"))
            {
                js.push(path.clone());
            }
        }
    }
    match (python.as_slice(), js.as_slice()) {
        ([module], []) => Ok(Project::Python {
            module: module.clone(),
        }),
        ([], [entry]) => Ok(Project::Js {
            entry: entry.clone(),
        }),
        ([], []) => bail!(
            "{} is not a plugin project: no Cargo.toml, no Python module with `Transform = …`, \
             no JavaScript module with `export const transform`",
            dir.display()
        ),
        _ => bail!(
            "{} has more than one plugin entry point ({}); keep one per folder",
            dir.display(),
            python
                .iter()
                .map(|m| format!("{m}.py"))
                .chain(js.iter().map(|p| p.display().to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Whether a program runs (`PROGRAM --version`).
fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run(cmd: &mut Command, what: &str) -> Result<std::process::Output> {
    eprintln!("running: {cmd:?}");
    let output = cmd
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .output()
        .with_context(|| format!("running {what}"))?;
    if !output.status.success() {
        bail!("{what} failed ({}); its messages are above", output.status);
    }
    Ok(output)
}

/// A folder holding `name` with `text`, unless `dir/name` is already there.
fn embedded_or(dir: &Path, sub: &str, name: &str, text: &str, tmp: &Path) -> Result<PathBuf> {
    let own = dir.join(sub);
    if own.join(name).is_file() || (sub == "wit" && has_wit(&own)) {
        return Ok(own);
    }
    let made = tmp.join(sub);
    std::fs::create_dir_all(&made)?;
    std::fs::write(made.join(name), text)?;
    Ok(made)
}

fn has_wit(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "wit"))
        })
        .unwrap_or(false)
}

impl BuildCommand {
    fn execute(self) -> Result<ExitCode> {
        let dir = self
            .dir
            .canonicalize()
            .with_context(|| format!("{} does not exist", self.dir.display()))?;
        let out_for = |name: &str| -> Result<PathBuf> {
            let out = match &self.out {
                Some(out) => std::path::absolute(out)?,
                None => dir.join("build").join(format!("{name}.wasm")),
            };
            if let Some(parent) = out.parent() {
                std::fs::create_dir_all(parent)?;
            }
            Ok(out)
        };
        let out = match detect(&dir)? {
            Project::Rust => build_rust(&dir, out_for)?,
            Project::Python { module } => {
                let out = out_for(&module)?;
                build_python(&dir, &module, &out)?;
                out
            }
            Project::Js { entry } => {
                let name = entry
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("plugin")
                    .replace('-', "_");
                let out = out_for(&name)?;
                build_js(&dir, &entry, &out)?;
                out
            }
        };
        println!("{}", out.display());
        Ok(ExitCode::SUCCESS)
    }
}

fn build_rust(dir: &Path, out_for: impl Fn(&str) -> Result<PathBuf>) -> Result<PathBuf> {
    let output = run(
        Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .current_dir(dir)
            .args(["build", "--release", "--target", "wasm32-wasip2"])
            .arg("--message-format=json-render-diagnostics")
            .arg("--manifest-path")
            .arg(dir.join("Cargo.toml")),
        "cargo build",
    )?;
    let mut built = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let is_cdylib = message["reason"] == "compiler-artifact"
            && message["target"]["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "cdylib"));
        if !is_cdylib {
            continue;
        }
        let wasm = message["filenames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str())
            .find(|f| f.ends_with(".wasm"));
        if let (Some(wasm), Some(name)) = (wasm, message["target"]["name"].as_str()) {
            built = Some((PathBuf::from(wasm), name.replace('-', "_")));
        }
    }
    let (wasm, name) = built.context(
        "cargo built no .wasm: the crate must be a `cdylib` (see the README `host plugin new` writes)",
    )?;
    let out = out_for(&name)?;
    std::fs::copy(&wasm, &out)
        .with_context(|| format!("copying {} to {}", wasm.display(), out.display()))?;
    Ok(out)
}

fn build_python(dir: &Path, module: &str, out: &Path) -> Result<()> {
    if !have("componentize-py") {
        bail!("componentize-py is not installed; install it with: pip install {COMPONENTIZE_PY}");
    }
    let tmp = TempDir::new()?;
    let wit = embedded_or(dir, "wit", "strata.wit", templates::WIT, tmp.path())?;
    let mut cmd = Command::new("componentize-py");
    cmd.current_dir(dir)
        .arg("-d")
        .arg(&wit)
        .args(["-w", "plugin", "componentize", module, "-p"])
        .arg(dir);
    if !dir.join("strata_plugin.py").is_file() {
        let sdk = tmp.path().join("sdk");
        std::fs::create_dir_all(&sdk)?;
        std::fs::write(sdk.join("strata_plugin.py"), templates::PYTHON_SDK)?;
        cmd.arg("-p").arg(sdk);
    }
    // Every WASI import stubbed: CPython's libc links wasi:sockets, which
    // the sandbox refuses (see docs/plugins.md).
    cmd.arg("-o").arg(out).arg("--stub-wasi");
    run(&mut cmd, "componentize-py")?;
    Ok(())
}

/// A scratch folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("strata-build-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(TempDir(dir))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The Strata JS toolchain: a folder with build.mjs and its node_modules.
fn js_toolchain() -> Option<PathBuf> {
    std::env::var_os("STRATA_JS_TOOLCHAIN")
        .map(PathBuf::from)
        .or_else(|| repo_dir().map(|r| r.join("plugins/js")))
        .filter(|d| d.join("build.mjs").is_file() && d.join("node_modules").is_dir())
}

fn build_js(dir: &Path, entry: &Path, out: &Path) -> Result<()> {
    if !have("node") {
        bail!("node is not installed; JavaScript plugins need Node.js 20 or later");
    }
    let script = if dir.join("build.mjs").is_file() && dir.join("node_modules").is_dir() {
        dir.join("build.mjs")
    } else if let Some(toolchain) = js_toolchain() {
        toolchain.join("build.mjs")
    } else {
        bail!(
            "no JavaScript toolchain: run `npm install` in {} (or `npm ci` in plugins/js of the \
             Strata repository, or set STRATA_JS_TOOLCHAIN to such a folder)",
            dir.display()
        );
    };
    run(
        Command::new("node")
            .current_dir(dir)
            .arg(script)
            .arg(entry)
            .arg("-o")
            .arg(out),
        "the JavaScript build",
    )?;
    Ok(())
}

// --- inspect ----------------------------------------------------------------

/// Print what a plugin says about itself and what it imports, marking the
/// imports the sandbox refuses.
#[derive(Args)]
pub(super) struct InspectCommand {
    /// The plugin's `.wasm` file.
    file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

impl InspectCommand {
    fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let runtime = Runtime::new(global.cache_dir())?;
        let bytes = std::fs::read(&self.file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", self.file.display()))?;
        let imports = runtime.component_imports(&self.file, &bytes)?;
        let refused: Vec<&String> = imports.iter().filter(|i| !is_granted(i)).collect();
        // A refused plugin cannot be instantiated, so it cannot describe itself.
        let plugin = if refused.is_empty() {
            Some(runtime.load_bytes(&self.file, &bytes)?)
        } else {
            None
        };
        let sha256 = strata_core::manifest::sha256_hex(&bytes);
        let code = if refused.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
        if self.json {
            let doc = serde_json::json!({
                "info": plugin.as_ref().map(|p| &p.info),
                "sha256": sha256,
                "contract": CONTRACT_VERSION,
                "size": bytes.len(),
                "imports": imports
                    .iter()
                    .map(|i| serde_json::json!({ "name": i, "refused": !is_granted(i) }))
                    .collect::<Vec<_>>(),
                "refused": refused,
                "loads": refused.is_empty(),
                "compiled": plugin
                    .as_ref()
                    .map(|p| p.origin == strata_runtime::LoadOrigin::Compiled),
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
            return Ok(code);
        }
        match &plugin {
            Some(plugin) => {
                let info = &plugin.info;
                println!("name         {}", info.name);
                println!("version      {}", info.version);
                println!("description  {}", info.description);
                println!("contract     {CONTRACT_VERSION}");
                println!(
                    "format       {}",
                    match info.format {
                        strata_runtime::DataFormat::ArrowIpc => "arrow-ipc",
                        strata_runtime::DataFormat::JsonLines => "json-lines",
                    }
                );
            }
            None => {
                println!("name         (unknown: the sandbox refuses to load this plugin)");
                println!("contract     {CONTRACT_VERSION}");
            }
        }
        println!("sha256       {sha256}");
        println!("size         {} bytes", bytes.len());
        if let Some(plugin) = &plugin {
            println!("load         {:?}", plugin.origin);
        }
        println!("imports:");
        for import in &imports {
            println!(
                "  {import}{}",
                if is_granted(import) {
                    ""
                } else {
                    "  (refused)"
                }
            );
        }
        if !refused.is_empty() {
            println!(
                "refused: the sandbox will not load this plugin: it imports {} \
                 (plugins get no network, no HTTP and no files); rebuild it without that dependency",
                refused
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        Ok(code)
    }
}

// --- test -------------------------------------------------------------------

/// Run a plugin on sample data and print its output rows: a quick loop
/// while writing a plugin.
#[derive(Args)]
pub(super) struct TestCommand {
    /// The plugin's `.wasm` file.
    file: PathBuf,
    /// A sample input: JSON lines (`.jsonl`, `.ndjson`, `.json`; or a JSON
    /// array of objects), CSV (`.csv`, with a header) or Parquet
    /// (`.parquet`). Repeat for several inputs (input 0, 1, …).
    #[arg(long, short = 'i', value_name = "SAMPLE", required = true)]
    input: Vec<PathBuf>,
    /// The inputs are raw files, as the raw layer presents them: one row
    /// per file, `file: utf8`, `body: binary` (a folder: every file in it).
    #[arg(long)]
    raw: bool,
    /// Params, as `KEY=VALUE` (strings as they are; lists and tables as
    /// JSON, e.g. `key=["id"]`, as pipeline.toml hands them over).
    #[arg(long = "params", alias = "param", short = 'p', value_name = "KEY=VALUE", num_args = 1..)]
    params: Vec<String>,
    /// The sample's column types instead of guessing them from JSON or CSV:
    /// a JSON list `[{"name": "id", "type": "utf8", "nullable": false}, …]`,
    /// or `@FILE` holding one.
    #[arg(long, value_name = "JSON")]
    schema: Option<String>,
    /// The partition the plugin is told it computes: `YYYY-MM-DD` (a day,
    /// with its period) or any partition id.
    #[arg(long, default_value = "sample")]
    partition: String,
    /// Rows per input batch (so `process` is called several times).
    #[arg(long, default_value_t = 4096)]
    batch_rows: usize,
    /// Print the output as a table instead of JSON lines.
    #[arg(long)]
    table: bool,
    /// Compare the output with these JSON lines (read by the output
    /// schema); exit 1 and show both if they differ.
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    /// Time loading the plugin (compiling it, or reading it from the
    /// cache), opening a partition and the rows per second, instead of
    /// printing the output. Measures, never asserts.
    #[arg(long)]
    bench: bool,
}

impl TestCommand {
    fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let declared = self.schema.as_deref().map(read_schema_arg).transpose()?;
        let mut inputs = Vec::new();
        for path in &self.input {
            let (name, batch) = if self.raw {
                ("raw", read_raw(path)?)
            } else {
                ("sample", read_sample(path, declared.clone())?)
            };
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("input")
                .to_string();
            inputs.push((format!("{name}/{stem}"), batch));
        }
        let params = self
            .params
            .iter()
            .map(|p| {
                p.split_once('=')
                    .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                    .with_context(|| format!("param `{p}` is not KEY=VALUE"))
            })
            .collect::<Result<Vec<_>>>()?;
        let (partition, period_start, period_end) =
            match chrono::NaiveDate::parse_from_str(&self.partition, "%Y-%m-%d") {
                Ok(day) => (
                    format!("date={day}"),
                    format!("{day}T00:00:00Z"),
                    format!("{}T00:00:00Z", day.succ_opt().unwrap_or(day)),
                ),
                Err(_) => (self.partition.clone(), String::new(), String::new()),
            };
        let context = PartitionContext {
            dataset: "test/out".into(),
            partition,
            period_start,
            period_end,
            params,
            inputs: inputs
                .iter()
                .map(|(name, batch)| (name.clone(), batch.schema()))
                .collect(),
        };

        let runtime = Runtime::new(global.cache_dir())?;
        let started = Instant::now();
        let plugin = runtime.load(&self.file)?;
        let load_time = started.elapsed();
        eprintln!(
            "{}@{} ({}) on {} input(s)",
            plugin.info.name,
            plugin.info.version,
            match plugin.info.format {
                strata_runtime::DataFormat::ArrowIpc => "arrow-ipc",
                strata_runtime::DataFormat::JsonLines => "json-lines",
            },
            inputs.len()
        );
        let step = self.batch_rows.max(1);
        let batches = inputs.iter().enumerate().flat_map(|(index, (_, batch))| {
            let starts = (0..batch.num_rows().max(1)).step_by(step);
            starts.map(move |start| {
                let len = step.min(batch.num_rows() - start);
                Ok::<_, anyhow::Error>((index as u32, batch.slice(start, len)))
            })
        });
        let limits = strata_engine::runtime_limits(&PluginLimits::default());
        let started = Instant::now();
        let mut output = Vec::new();
        plugin.run_partition(&runtime, &context, &limits, batches, &mut |batch| {
            output.push(batch);
            Ok(())
        })?;
        let run_time = started.elapsed();

        let rows: usize = output.iter().map(RecordBatch::num_rows).sum();
        if self.bench {
            let rows_in: usize = inputs.iter().map(|(_, b)| b.num_rows()).sum();
            println!(
                "load {:.3}s ({}), {rows_in} rows in and {rows} out in {:.3}s (open to finish): {:.0} rows/s",
                load_time.as_secs_f64(),
                match plugin.origin {
                    strata_runtime::LoadOrigin::Compiled => "compiled",
                    strata_runtime::LoadOrigin::Cached => "cached",
                },
                run_time.as_secs_f64(),
                rows_in as f64 / run_time.as_secs_f64().max(1e-9),
            );
            return Ok(ExitCode::SUCCESS);
        }
        let columns = output
            .first()
            .map(|b| schema::describe(&b.schema()))
            .unwrap_or_else(|| "no output batch".into());
        eprintln!("output: {rows} row(s); {columns}");
        if self.table {
            println!("{}", arrow::util::pretty::pretty_format_batches(&output)?);
        } else {
            for batch in &output {
                print!("{}", String::from_utf8_lossy(&jsonl_text(batch)?));
            }
        }
        match &self.expect {
            None => Ok(ExitCode::SUCCESS),
            Some(path) => compare(&output, path),
        }
    }
}

fn jsonl_text(batch: &RecordBatch) -> Result<Vec<u8>> {
    jsonl::encode(batch).map_err(|e| anyhow::anyhow!(e))
}

/// Exit 0 if the output is the expected rows, else 1 with both shown.
fn compare(output: &[RecordBatch], path: &Path) -> Result<ExitCode> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let actual_text: Vec<u8> = output
        .iter()
        .map(jsonl_text)
        .collect::<Result<Vec<_>>>()?
        .concat();
    let same = match output.first() {
        None => String::from_utf8_lossy(&text).trim().is_empty(),
        Some(first) => {
            let schema = first.schema();
            let expected = jsonl::decode(&text, schema.clone())
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let expected = arrow::compute::concat_batches(&schema, &expected)?;
            let actual = arrow::compute::concat_batches(&schema, output)?;
            expected == actual
        }
    };
    if same {
        eprintln!("ok: the output is the rows of {}", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "FAILED: the output is not the rows of {}\n--- expected\n{}--- actual\n{}",
        path.display(),
        String::from_utf8_lossy(&text),
        String::from_utf8_lossy(&actual_text)
    );
    Ok(ExitCode::FAILURE)
}

fn read_schema_arg(arg: &str) -> Result<SchemaRef> {
    let text = match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?,
        None => arg.to_string(),
    };
    let columns: Vec<Column> = serde_json::from_str(&text)
        .context("--schema must be a JSON list of {\"name\", \"type\", \"nullable\"}")?;
    strata_engine::schema::to_arrow(&columns).map_err(|e| anyhow::anyhow!("--schema: {e}"))
}

/// The raw layer's table of a file or every file of a folder.
fn read_raw(path: &Path) -> Result<RecordBatch> {
    let mut files = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            let p = entry?.path();
            if p.is_file() {
                files.push(p);
            }
        }
        files.sort();
    } else {
        files.push(path.to_owned());
    }
    let mut names = Vec::new();
    let mut bodies = Vec::new();
    for f in &files {
        names.push(
            f.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        bodies.push(std::fs::read(f).with_context(|| format!("reading {}", f.display()))?);
    }
    Ok(RecordBatch::try_new(
        schema::raw_schema(),
        vec![
            Arc::new(arrow::array::StringArray::from(names)),
            Arc::new(arrow::array::BinaryArray::from_iter_values(bodies)),
        ],
    )?)
}

/// A sample file as one batch.
fn read_sample(path: &Path, declared: Option<SchemaRef>) -> Result<RecordBatch> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let batches = match ext.as_str() {
        "parquet" => {
            let batches = strata_store::parquet_io::read(bytes.into())?
                .collect::<Result<Vec<_>>>()
                .with_context(|| format!("reading {}", path.display()))?;
            let Some(first) = batches.first() else {
                bail!("{} has no rows", path.display());
            };
            let schema = first.schema();
            return Ok(arrow::compute::concat_batches(&schema, &batches)?);
        }
        "csv" => {
            let text = String::from_utf8(bytes)
                .with_context(|| format!("{} is not UTF-8", path.display()))?;
            let values = csv_rows(&text).with_context(|| format!("reading {}", path.display()))?;
            json_rows(&values, declared)?
        }
        "json" | "jsonl" | "ndjson" => {
            let text = String::from_utf8(bytes)
                .with_context(|| format!("{} is not UTF-8", path.display()))?;
            let values: Vec<serde_json::Value> = if text.trim_start().starts_with('[') {
                serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a JSON array", path.display()))?
            } else {
                text.lines()
                    .enumerate()
                    .filter(|(_, l)| !l.trim().is_empty())
                    .map(|(i, l)| {
                        serde_json::from_str(l)
                            .with_context(|| format!("{} line {}", path.display(), i + 1))
                    })
                    .collect::<Result<_>>()?
            };
            json_rows(&values, declared)?
        }
        _ => bail!(
            "{}: the sample must be .jsonl, .ndjson, .json, .csv or .parquet (or use --raw)",
            path.display()
        ),
    };
    Ok(batches)
}

/// Rows of JSON objects as one batch, typed by `declared` or by their
/// values (integers int64, other numbers float64, strings utf8, bools bool).
fn json_rows(values: &[serde_json::Value], declared: Option<SchemaRef>) -> Result<RecordBatch> {
    if let Some(v) = values.iter().find(|v| !v.is_object()) {
        bail!("every sample row must be a JSON object, not {v}");
    }
    let schema = match declared {
        Some(s) => s,
        None => {
            let inferred =
                arrow::json::reader::infer_json_schema_from_iterator(values.iter().map(Ok))?;
            let fields: Vec<Field> = inferred
                .fields()
                .iter()
                .map(|f| match f.data_type() {
                    DataType::Null => Field::new(f.name(), DataType::Utf8, true),
                    _ => f.as_ref().clone().with_nullable(true),
                })
                .collect();
            Arc::new(Schema::new(fields))
        }
    };
    let mut text = Vec::new();
    for v in values {
        serde_json::to_writer(&mut text, v)?;
        text.push(b'\n');
    }
    let batches = jsonl::decode(&text, schema.clone()).map_err(|e| anyhow::anyhow!(e))?;
    Ok(arrow::compute::concat_batches(&schema, &batches)?)
}

/// A CSV text (header row first) as JSON objects: empty unquoted fields
/// are null; a column whose values all parse as integers holds integers,
/// else floats, else `true`/`false` bools, else strings.
fn csv_rows(text: &str) -> Result<Vec<serde_json::Value>> {
    let records = parse_csv(text)?;
    let Some((header, rows)) = records.split_first() else {
        bail!("no header row");
    };
    let names: Vec<String> = header.iter().map(|(v, _)| v.trim().to_string()).collect();
    let column = |i: usize| {
        rows.iter()
            .filter_map(move |r| r.get(i))
            .filter(|c| !is_null(c))
    };
    let kinds: Vec<&str> = (0..names.len())
        .map(|i| {
            if column(i).all(|(v, _)| v.trim().parse::<i64>().is_ok()) && column(i).next().is_some()
            {
                "int"
            } else if column(i).all(|(v, _)| v.trim().parse::<f64>().is_ok())
                && column(i).next().is_some()
            {
                "float"
            } else if column(i).all(|(v, _)| matches!(v.trim(), "true" | "false"))
                && column(i).next().is_some()
            {
                "bool"
            } else {
                "str"
            }
        })
        .collect();
    let mut out = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        if row.len() != names.len() {
            bail!(
                "row {} has {} fields, the header {}",
                n + 2,
                row.len(),
                names.len()
            );
        }
        let mut object = serde_json::Map::new();
        for ((name, cell), kind) in names.iter().zip(row).zip(&kinds) {
            let value = if is_null(cell) {
                serde_json::Value::Null
            } else {
                let v = cell.0.trim();
                match *kind {
                    "int" => serde_json::Value::from(v.parse::<i64>()?),
                    "float" => serde_json::Value::from(v.parse::<f64>()?),
                    "bool" => serde_json::Value::from(v == "true"),
                    _ => serde_json::Value::from(cell.0.clone()),
                }
            };
            object.insert(name.clone(), value);
        }
        out.push(serde_json::Value::Object(object));
    }
    Ok(out)
}

fn is_null(cell: &(String, bool)) -> bool {
    !cell.1 && cell.0.trim().is_empty()
}

/// RFC 4180 CSV: fields (value, was quoted) per record.
fn parse_csv(text: &str) -> Result<Vec<Vec<(String, bool)>>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut line = 1;
    loop {
        let Some(c) = chars.next() else {
            if !field.is_empty() || quoted || !record.is_empty() {
                record.push((std::mem::take(&mut field), quoted));
                records.push(std::mem::take(&mut record));
            }
            break;
        };
        match c {
            '"' if field.is_empty() && !quoted => {
                quoted = true;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            field.push(c);
                        }
                        None => bail!("line {line}: a quoted field does not end"),
                    }
                }
            }
            ',' => record.push((
                std::mem::take(&mut field),
                std::mem::replace(&mut quoted, false),
            )),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                line += 1;
                record.push((
                    std::mem::take(&mut field),
                    std::mem::replace(&mut quoted, false),
                ));
                let record = std::mem::take(&mut record);
                if !(record.len() == 1 && record[0].0.is_empty() && !record[0].1) {
                    records.push(record);
                }
            }
            c if quoted => bail!("line {line}: `{c}` after a closing quote"),
            c => field.push(c),
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_is_parsed_and_typed() {
        let rows =
            csv_rows("id,n,x,ok,name\r\na,1,1.5,true,\"b, \"\"c\"\"\"\nb,,2,false,\n").unwrap();
        assert_eq!(
            serde_json::Value::Array(rows),
            serde_json::json!([
                {"id": "a", "n": 1, "x": 1.5, "ok": true, "name": "b, \"c\""},
                {"id": "b", "n": null, "x": 2.0, "ok": false, "name": null},
            ])
        );
        assert!(parse_csv("a,\"b\n").is_err());
    }
}
