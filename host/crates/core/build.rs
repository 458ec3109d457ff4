//! Reads the contract version from `wit/strata.wit` (its `package` line),
//! so the version in partition keys and the WIT the runtime binds are one.

use std::path::PathBuf;

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let wit = manifest_dir.join("../../../wit/v0.1/strata.wit");
    println!("cargo:rerun-if-changed={}", wit.display());
    let text = std::fs::read_to_string(&wit)
        .unwrap_or_else(|e| panic!("reading the plugin contract {}: {e}", wit.display()));
    let package = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("package "))
        .and_then(|rest| rest.trim().strip_suffix(';'))
        .unwrap_or_else(|| panic!("{} has no `package name@version;` line", wit.display()));
    assert!(
        package.contains('@'),
        "the package of {} carries no version: `{package}`",
        wit.display()
    );
    println!("cargo:rustc-env=STRATA_CONTRACT_VERSION={package}");
}
