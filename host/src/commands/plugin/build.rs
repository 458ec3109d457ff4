//! `host plugin build`: a project folder to a `.wasm` component with its
//! language's toolchain (cargo, componentize-py, the Strata JS build).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use clap::Args;

use super::{COMPONENTIZE_PY, templates};

/// Build a plugin project (Rust, Python or JavaScript, told by its files)
/// into a `.wasm` component; prints its path.
#[derive(Args)]
pub(in crate::commands) struct BuildCommand {
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
    pub(super) fn execute(self) -> Result<ExitCode> {
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
    let tmp = tempfile::Builder::new()
        .prefix("strata-build-")
        .tempdir()
        .context("creating a scratch folder for componentize-py")?;
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

/// A JS toolchain elsewhere: `$STRATA_JS_TOOLCHAIN`, a folder with
/// build.mjs and its node_modules (a checkout's plugins/js, say).
fn js_toolchain() -> Option<PathBuf> {
    std::env::var_os("STRATA_JS_TOOLCHAIN")
        .map(PathBuf::from)
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
            "no JavaScript toolchain: run `npm ci` in {} (or set STRATA_JS_TOOLCHAIN to a folder \
             with build.mjs and node_modules, such as a Strata checkout's plugins/js)",
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
