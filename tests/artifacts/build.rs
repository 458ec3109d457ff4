//! Builds the plugins workspace (`plugins/`) for wasm32-wasip2 and tells the
//! crate where the components are.
//!
//! The plugins are built by a second Cargo, in release, with its own target
//! directory `<target>/wasm-plugins` (the root workspace's target directory,
//! so `cargo build`, `cargo clippy` and `cargo test` share one build). Every
//! component is then copied to `<target>/wasm-plugins/out/<name>.wasm`:
//! `<name>` is the crate name (`json_to_table`, `test_panic`, …) or a
//! variant's name (`json_to_table_legacy`, `test_passthrough_alter`).
//!
//! The standard plugins (json-to-table, clean-dedupe, aggregate) are not
//! built here: `strata-std-plugins`, which the host includes them from,
//! builds them into the same nested target directory, and this script
//! copies its files (`--workspace --exclude` them here). So the tests run
//! the very bytes the host carries, compiled once, and the two builds never
//! write one hash-less cdylib with different feature unification. What the
//! two scripts share is in `host/crates/std-plugins/build_support.rs`.
//!
//! The Python and JavaScript plugins (`plugins/python`, `plugins/js`) are
//! built too, from source, when their toolchains are here: `componentize-py`
//! on PATH for Python; Node.js and `plugins/js/node_modules` (`npm ci`) for
//! JavaScript. Each is rebuilt only when its sources, the SDK, the WIT or
//! the toolchain changed. A missing toolchain is not a build error: the
//! crate records why its plugins are missing, and `wasm(name)` panics with
//! what to install (see `missing`); a toolchain that is there but fails
//! the build is one.

#[path = "../../host/crates/std-plugins/build_support.rs"]
mod build_support;

use std::collections::{BTreeMap, BTreeSet};
use std::env;
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;

use build_support::{cargo_build, check_wasm_target, copy_if_changed, target_dir, watch};

/// Builds of a plugin with a feature, by the name its component gets. They
/// use the plugins workspace's `variant` profile, so their own directory: a
/// cdylib's file name has no hash, and two feature sets of one crate built
/// into one directory would overwrite each other (and fool Cargo's freshness
/// check into taking one for the other). Each package at most once.
const VARIANTS: &[(&str, &str, &str)] = &[
    ("json-to-table", "legacy-offsets", "json_to_table_legacy"),
    ("test-passthrough", "alter", "test_passthrough_alter"),
];

/// The Python plugins: (folder under plugins/python, module, component name).
const PYTHON_PLUGINS: &[(&str, &str, &str)] = &[
    ("clean-dedupe", "clean_dedupe", "clean_dedupe_py"),
    ("checks/not-blank", "not_blank", "check_not_blank_py"),
    ("test/misbehave", "misbehave", "test_misbehave_py"),
];

/// The JavaScript plugins: (entry under plugins/js, component name).
const JS_PLUGINS: &[(&str, &str)] = &[
    ("aggregate/aggregate.js", "aggregate_js"),
    ("test/misbehave/misbehave.js", "test_misbehave_js"),
    (
        "test/arrow-passthrough/arrow-passthrough.js",
        "test_arrow_passthrough_js",
    ),
];

/// What CI installs, and so what a developer needs, for each language.
const PYTHON_INSTALL: &str = "pip install componentize-py==0.25.1";
const JS_INSTALL: &str = "npm ci (in plugins/js; needs Node.js 20 or later)";

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .join("../..")
        .canonicalize()
        .expect("the repository root");
    let plugins = root.join("plugins");

    watch(&plugins);
    watch(&root.join("wit"));
    check_wasm_target("the test plugins");

    let target_dir = target_dir(&root).join("wasm-plugins");
    let out = target_dir.join("out");
    fs::create_dir_all(&out).unwrap_or_else(|e| panic!("creating {}: {e}", out.display()));

    // The standard plugins are built by strata-std-plugins (a dependency,
    // so its build script has run): the same files as the host includes.
    let std_dir = PathBuf::from(env::var_os("DEP_STRATA_STD_PLUGINS_DIR").expect(
        "DEP_STRATA_STD_PLUGINS_DIR: strata-std-plugins must be a dependency of this crate",
    ));
    let std_crates =
        env::var("DEP_STRATA_STD_PLUGINS_CRATES").expect("DEP_STRATA_STD_PLUGINS_CRATES");
    let mut components = BTreeMap::new();
    let mut args = vec!["--release", "--workspace"];
    for crate_name in std_crates.split(',') {
        components.insert(
            crate_name.to_string(),
            std_dir.join(format!("{crate_name}.wasm")),
        );
    }
    let excluded: Vec<String> = std_crates.split(',').map(|c| c.replace('_', "-")).collect();
    for package in &excluded {
        args.extend(["--exclude", package]);
    }
    components.extend(cargo_build(&plugins, &target_dir, &args));
    // All variants in one build (each package at most once in VARIANTS).
    let mut args = vec!["--profile", "variant"];
    let mut features = Vec::new();
    for (package, feature, _) in VARIANTS {
        args.extend(["--package", package]);
        features.push(format!("{package}/{feature}"));
    }
    let features = features.join(",");
    args.extend(["--features", &features]);
    let built = cargo_build(&plugins, &target_dir, &args);
    for (package, feature, name) in VARIANTS {
        let crate_name = package.replace('-', "_");
        let path = built
            .get(&crate_name)
            .unwrap_or_else(|| panic!("building {package} with {feature} made no component"));
        components.insert(name.to_string(), path.clone());
    }
    let polyglot = target_dir.join("polyglot");
    let (python, js) = thread::scope(|scope| {
        let python = scope.spawn(|| build_python(&plugins, &root.join("wit"), &polyglot));
        let js = scope.spawn(|| build_js(&plugins, &root.join("wit"), &polyglot));
        (
            python.join().expect("the Python build panicked"),
            js.join().expect("the JavaScript build panicked"),
        )
    });
    let mut missing = Vec::new();
    for result in [python, js] {
        match result {
            Ok(built) => components.extend(built),
            Err((names, why)) => {
                println!(
                    "cargo:warning=not building {}: {why}; tests that need them are skipped (and fail in CI)",
                    names.join(", ")
                );
                // A path that never exists: the script runs again on every
                // build, so installing the toolchain is noticed.
                println!(
                    "cargo:rerun-if-changed={}",
                    polyglot.join("toolchain-missing").display()
                );
                missing.extend(names.into_iter().map(|n| (n, why.clone())));
            }
        }
    }

    for (name, path) in &components {
        copy_if_changed(path, &out.join(format!("{name}.wasm")));
    }
    remove_stale(&out, &components);

    let names: Vec<&str> = components.keys().map(String::as_str).collect();
    let mut generated = format!(
        "/// The folder holding every built plugin as `<name>.wasm`.\n\
         pub const DIR: &str = {dir:?};\n\
         /// Every plugin's name, sorted.\n\
         pub const NAMES: &[&str] = &{names:?};\n\
         /// Plugins not built because their toolchain is missing: (name, what to install).\n\
         pub const MISSING: &[(&str, &str)] = &{missing:?};\n",
        dir = out.to_str().expect("a UTF-8 target path"),
    );
    // Built or not: a test plugin whose toolchain is missing still needs a test.
    let test_plugins: BTreeSet<&str> = names
        .iter()
        .copied()
        .chain(missing.iter().map(|(n, _)| n.as_str()))
        .filter(|n| n.starts_with("test_"))
        .collect();
    generated.push_str(&foreach_macro(&test_plugins));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::write(out_dir.join("plugins.rs"), generated).expect("writing plugins.rs");
}

/// `foreach_test_plugin!(m)`, which expands to `m!(name);` for every test
/// plugin (`test_*`), as wasmtime's test-programs list theirs: a test crate
/// passes a macro that names a test after each plugin, so a plugin without
/// a test is a compile error.
fn foreach_macro(test_plugins: &BTreeSet<&str>) -> String {
    let calls: String = test_plugins
        .iter()
        .map(|name| format!("        $m!({name});\n"))
        .collect();
    format!(
        "/// Calls `$m!(name)` once for every test plugin (`test_*`, built or not),\n\
         /// `name` an identifier.\n\
         #[macro_export]\n\
         macro_rules! foreach_test_plugin {{\n    \
             ($m:ident) => {{\n{calls}    }};\n\
         }}\n"
    )
}

/// Removes components of plugins that no longer exist.
fn remove_stale(out: &Path, components: &BTreeMap<String, PathBuf>) {
    let keep: BTreeSet<String> = components.keys().map(|n| format!("{n}.wasm")).collect();
    for entry in fs::read_dir(out).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".wasm") && !keep.contains(&name) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Built components by name, or the names not built and why (a missing
/// toolchain).
type Built = Result<BTreeMap<String, PathBuf>, (Vec<String>, String)>;

/// The output of `PROGRAM ARGS` if it runs and succeeds.
fn probe(program: &str, args: &[&str]) -> Option<String> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// A hash of every file under `paths` (build output and caches excepted)
/// and of `extra`: a component whose inputs hash the same is not rebuilt.
fn inputs_hash(paths: &[PathBuf], extra: &str) -> String {
    fn add(path: &Path, hasher: &mut DefaultHasher) {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = fs::read_dir(path)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    let name = p.file_name().unwrap_or_default();
                    !["node_modules", "__pycache__", "build", "target"]
                        .iter()
                        .any(|s| name == *s)
                })
                .collect();
            entries.sort();
            for entry in entries {
                add(&entry, hasher);
            }
        } else if let Ok(bytes) = fs::read(path) {
            path.hash(hasher);
            bytes.hash(hasher);
        }
    }
    let mut hasher = DefaultHasher::new();
    for path in paths {
        add(path, &mut hasher);
    }
    extra.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Builds `out` with `command` unless its stamp says the inputs are the
/// same as last time.
fn build_stamped(name: &str, out: &Path, hash: &str, mut command: Command) -> PathBuf {
    let stamp = out.with_extension("wasm.inputs");
    if out.is_file() && fs::read_to_string(&stamp).is_ok_and(|s| s == hash) {
        return out.to_path_buf();
    }
    let _ = fs::remove_file(&stamp);
    eprintln!("running: {command:?}");
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running the build of {name}: {e}"));
    if !output.status.success() || !out.is_file() {
        panic!(
            "\n\nbuilding the plugin {name} failed ({}):\n{}\n{}\nTo see it directly: {command:?}\n\n",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
    fs::write(&stamp, hash).unwrap_or_else(|e| panic!("writing {}: {e}", stamp.display()));
    out.to_path_buf()
}

/// The Python plugins, with componentize-py.
fn build_python(plugins: &Path, wit: &Path, polyglot: &Path) -> Built {
    let names = || PYTHON_PLUGINS.iter().map(|p| p.2.to_string()).collect();
    let Some(version) = probe("componentize-py", &["--version"]) else {
        return Err((
            names(),
            format!("componentize-py is not on PATH; install it with: {PYTHON_INSTALL}"),
        ));
    };
    let python = plugins.join("python");
    let sdk = python.join("sdk");
    fs::create_dir_all(polyglot).expect("creating the polyglot output folder");
    let mut built = BTreeMap::new();
    for (folder, module, name) in PYTHON_PLUGINS {
        let dir = python.join(folder);
        let out = polyglot.join(format!("{name}.wasm"));
        let hash = inputs_hash(&[dir.clone(), sdk.clone(), wit.to_owned()], &version);
        let mut cmd = Command::new("componentize-py");
        // Every WASI import stubbed: CPython's libc links wasi:sockets,
        // which the sandbox refuses.
        cmd.current_dir(&dir)
            .arg("-d")
            .arg(wit)
            .args(["-w", "plugin", "componentize", module, "-p"])
            .arg(&dir)
            .arg("-p")
            .arg(&sdk)
            .arg("-o")
            .arg(&out)
            .arg("--stub-wasi")
            .env("PYTHONDONTWRITEBYTECODE", "1");
        built.insert(name.to_string(), build_stamped(name, &out, &hash, cmd));
    }
    Ok(built)
}

/// The JavaScript plugins, with plugins/js/build.mjs (esbuild, jco).
fn build_js(plugins: &Path, wit: &Path, polyglot: &Path) -> Built {
    let names = || JS_PLUGINS.iter().map(|p| p.1.to_string()).collect();
    let Some(version) = probe("node", &["--version"]) else {
        return Err((
            names(),
            format!("node is not on PATH; install Node.js 20 or later, then {JS_INSTALL}"),
        ));
    };
    let js = plugins.join("js");
    let modules = js.join("node_modules");
    for package in [
        "esbuild",
        "@bytecodealliance/jco",
        "@bytecodealliance/componentize-js",
    ] {
        if !modules.join(package).join("package.json").is_file() {
            return Err((
                names(),
                format!("plugins/js/node_modules has no {package}; run {JS_INSTALL}"),
            ));
        }
    }
    fs::create_dir_all(polyglot).expect("creating the polyglot output folder");
    let mut built = BTreeMap::new();
    for (entry, name) in JS_PLUGINS {
        let source = js.join(entry);
        let dir = source.parent().expect("an entry in a folder").to_path_buf();
        let out = polyglot.join(format!("{name}.wasm"));
        let hash = inputs_hash(
            &[
                dir,
                js.join("sdk"),
                js.join("build.mjs"),
                js.join("package-lock.json"),
                wit.to_owned(),
            ],
            &version,
        );
        let mut cmd = Command::new("node");
        cmd.current_dir(&js)
            .arg(js.join("build.mjs"))
            .arg(&source)
            .arg("-o")
            .arg(&out)
            .arg("--wit")
            .arg(wit);
        built.insert(name.to_string(), build_stamped(name, &out, &hash, cmd));
    }
    Ok(built)
}
