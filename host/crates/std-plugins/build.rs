//! Builds the standard plugins (json-to-table, clean-dedupe, aggregate from
//! the plugins workspace, `plugins/`) to wasm32-wasip2 components, copies
//! them to `<target>/wasm-plugins/std/<crate name>.wasm` and generates
//! `std.rs`, which includes their bytes.
//!
//! The build is a second Cargo in release, into the nested target directory
//! `<target>/wasm-plugins` that tests/artifacts/build.rs uses too. That
//! script builds every other plugin with `--workspace --exclude` these
//! three and takes these from here (its `DEP_STRATA_STD_PLUGINS_DIR`), so
//! they are compiled once, and never by two builds with different feature
//! unification into the same (hash-less) cdylib file.

#[path = "build_support.rs"]
mod build_support;

use std::env;
use std::fs;
use std::path::PathBuf;

use build_support::{cargo_build, check_wasm_target, copy_if_changed, target_dir, watch};

/// The standard plugins' packages in the plugins workspace, in pipeline
/// order (bronze, silver, gold). A `std:` name is the package name.
const PACKAGES: &[&str] = &["json-to-table", "clean-dedupe", "aggregate"];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .join("../../..")
        .canonicalize()
        .expect("the repository root");
    let plugins = root.join("plugins");

    // Only what these plugins are made of: editing a test plugin does not
    // rebuild the host.
    for dir in PACKAGES.iter().copied().chain(["sdk"]) {
        watch(&plugins.join(dir));
    }
    for file in ["Cargo.toml", "Cargo.lock", ".cargo/config.toml"] {
        println!("cargo:rerun-if-changed={}", plugins.join(file).display());
    }
    watch(&root.join("wit"));
    println!("cargo:rerun-if-changed=build_support.rs");
    check_wasm_target("the standard plugins compiled into the host");

    let target_dir = target_dir(&root).join("wasm-plugins");
    let mut args = vec!["--release"];
    for package in PACKAGES {
        args.extend(["--package", package]);
    }
    let built = cargo_build(&plugins, &target_dir, &args);

    // A copy of its own: what the host includes changes only when these
    // plugins do, whatever else is built in the nested target directory.
    let dir = target_dir.join("std");
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let mut includes = String::new();
    for package in PACKAGES {
        let crate_name = package.replace('-', "_");
        let from = built
            .get(&crate_name)
            .unwrap_or_else(|| panic!("building {package} made no component"));
        let to = dir.join(format!("{crate_name}.wasm"));
        copy_if_changed(from, &to);
        let to = to.to_str().expect("a UTF-8 target path");
        includes.push_str(&format!("    include_bytes!({to:?}),\n"));
    }
    let generated = format!(
        "/// The standard plugins' names (`std:NAME` in pipeline.toml), in\n\
         /// pipeline order.\n\
         pub const NAMES: &[&str] = &{PACKAGES:?};\n\
         /// Their components, in the order of [`NAMES`].\n\
         const COMPONENTS: &[&[u8]] = &[\n{includes}];\n"
    );
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::write(out_dir.join("std.rs"), generated).expect("writing std.rs");

    // For tests/artifacts/build.rs: the folder, and the files in it by
    // crate name.
    println!("cargo::metadata=dir={}", dir.display());
    let crates: Vec<String> = PACKAGES.iter().map(|p| p.replace('-', "_")).collect();
    println!("cargo::metadata=crates={}", crates.join(","));
}
