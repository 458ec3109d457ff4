//! What the build scripts that build the plugins workspace (`plugins/`) to
//! wasm32-wasip2 share: `host/crates/std-plugins/build.rs` (the standard
//! plugins compiled into the host) and `tests/artifacts/build.rs` (every
//! other plugin, for the tests). Each includes this file with
//! `#[path = "…"] mod build_support;`, so there is one copy.
//!
//! Both build into one nested target directory, `<target>/wasm-plugins`
//! (see [`target_dir`]), with a second Cargo: a plugin built for the host
//! is the plugin the tests use, compiled once.

use std::collections::BTreeMap;
use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The target the plugins are built for.
pub(crate) const WASM_TARGET: &str = "wasm32-wasip2";

/// Reruns this script when any file under `dir` changes, except build output.
pub(crate) fn watch(dir: &Path) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.expect("a directory entry");
        let path = entry.path();
        let file_type = entry.file_type().expect("a file type");
        if file_type.is_dir() {
            let skip = ["target", "node_modules", "__pycache__", "build"];
            if !skip.iter().any(|s| entry.file_name() == *s) {
                watch(&path);
            }
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

/// Fails early, and says what to do, if the standard library for the wasm
/// target is not installed.
///
/// `needs` says what needs it ("the test plugins", …).
pub(crate) fn check_wasm_target(needs: &str) {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(sysroot) = sysroot
        && !sysroot.join("lib/rustlib").join(WASM_TARGET).exists()
    {
        panic!(
            "\n\nThe Rust target {WASM_TARGET} is not installed for {}; {needs} need it.\n\
             Run: rustup target add {WASM_TARGET}\n\n",
            sysroot.display()
        );
    }
}

/// The root workspace's target directory. Taken from `OUT_DIR`
/// (`<target>/[<triple>/]<profile>/build/<package>-<hash>/out`), which also
/// reflects `CARGO_TARGET_DIR` and `--target-dir`; if its layout is not that,
/// from `CARGO_TARGET_DIR` or `<root>/target`.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let build = out_dir.ancestors().nth(2);
    if let Some(profile_dir) = build
        .filter(|b| b.file_name().is_some_and(|n| n == "build"))
        .and_then(Path::parent)
        && let Some(mut target) = profile_dir.parent()
    {
        let triple = env::var("TARGET").unwrap_or_default();
        if target.file_name().is_some_and(|n| n == triple.as_str())
            && let Some(parent) = target.parent()
        {
            target = parent;
        }
        return target.to_path_buf();
    }
    match env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// Runs `cargo build` in the plugins workspace; returns the built components
/// by crate name.
pub(crate) fn cargo_build(
    plugins: &Path,
    target_dir: &Path,
    args: &[&str],
) -> BTreeMap<String, PathBuf> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(cargo);
    // In the plugins folder, so that its .cargo/config.toml applies.
    cmd.current_dir(plugins)
        .arg("build")
        .args(args)
        .arg("--manifest-path")
        .arg(plugins.join("Cargo.toml"))
        .args(["--target", WASM_TARGET])
        .arg("--message-format=json-render-diagnostics")
        .env("CARGO_TARGET_DIR", target_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // What this build of the host was given is not for the plugins.
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let drop = matches!(
            key,
            "RUSTFLAGS"
                | "RUSTDOCFLAGS"
                | "CARGO_ENCODED_RUSTFLAGS"
                | "CARGO_ENCODED_RUSTDOCFLAGS"
                | "CARGO_BUILD_TARGET"
                | "CARGO_BUILD_RUSTFLAGS"
                | "CARGO_BUILD_RUSTDOCFLAGS"
                | "CARGO_BUILD_TARGET_DIR"
                | "CARGO_BUILD_BUILD_DIR"
                | "CARGO_INCREMENTAL"
                | "RUSTC_WORKSPACE_WRAPPER"
                | "CLIPPY_ARGS"
                | "CLIPPY_CONF_DIR"
                | "LLVM_PROFILE_FILE"
                | "TARGET"
                | "HOST"
                | "OUT_DIR"
                | "OPT_LEVEL"
                | "DEBUG"
                | "PROFILE"
                | "NUM_JOBS"
                | "RUSTC_LINKER"
        ) || key.starts_with("CARGO_PROFILE_")
            || (key.starts_with("CARGO_TARGET_") && key != "CARGO_TARGET_DIR")
            || key.starts_with("CARGO_LLVM_COV")
            || key.starts_with("__CARGO_FIX");
        if drop {
            cmd.env_remove(key);
        }
    }
    eprintln!("running: {cmd:?}");
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("running cargo for the plugins: {e}"));
    if !output.status.success() {
        panic!(
            "\n\nbuilding the plugins failed ({}); the compiler's messages are above.\n\
             To see them directly: cd plugins && cargo build {}\n\n",
            output.status,
            args.join(" ")
        );
    }
    let mut built = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let is_cdylib = message["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"));
        if !is_cdylib {
            continue;
        }
        let name = message["target"]["name"]
            .as_str()
            .expect("an artifact has a target name")
            .replace('-', "_");
        let wasm = message["filenames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str())
            .find(|f| f.ends_with(".wasm"));
        if let Some(wasm) = wasm {
            built.insert(name, PathBuf::from(wasm));
        }
    }
    if built.is_empty() {
        panic!("cargo built no plugin component in {}", plugins.display());
    }
    built
}

/// Copies `from` to `to` unless `to` already holds the same bytes, through a
/// temporary file so that a reader never sees half a file.
pub(crate) fn copy_if_changed(from: &Path, to: &Path) {
    let bytes = fs::read(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display()));
    if fs::read(to).is_ok_and(|old| old == bytes) {
        return;
    }
    let tmp = to.with_extension(format!("wasm.tmp{}", std::process::id()));
    fs::write(&tmp, &bytes).unwrap_or_else(|e| panic!("writing {}: {e}", tmp.display()));
    fs::rename(&tmp, to).unwrap_or_else(|e| panic!("renaming to {}: {e}", to.display()));
}
