//! The contract's versions have one source of truth each, the `package`
//! line of their WIT: `wit/strata.wit` (the newest) and `wit/v0.1/`. The
//! runtime binds both; partition keys carry the contract's semantics, not
//! a package version; every SDK names a version the host speaks.

use std::path::Path;

use strata_runtime::Contract;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// `strata:plugin@X.Y.Z` as the WIT package at `path` names it.
fn wit_package(path: &str) -> String {
    let wit = std::fs::read_to_string(repo().join(path)).unwrap();
    wit.lines()
        .find_map(|l| l.trim().strip_prefix("package "))
        .and_then(|p| p.trim().strip_suffix(';'))
        .unwrap_or_else(|| panic!("{path} has a package line"))
        .to_owned()
}

/// Every `strata:plugin/<interface>@<version>` a source file names.
fn named_versions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("strata:plugin/") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || "/:@.-_".contains(c)))
            .unwrap_or(tail.len());
        if let Some((_, version)) = tail[..end].split_once('@') {
            out.push(version.to_owned());
        }
        rest = &tail[end..];
    }
    out
}

#[test]
fn the_runtime_speaks_every_wit_of_the_repository() {
    assert_eq!(Contract::NEWEST.package(), wit_package("wit/strata.wit"));
    assert_eq!(Contract::V0_1.package(), wit_package("wit/v0.1/strata.wit"));
}

/// A store built by a 0.1 host stays fresh under this one: keys still say
/// what 0.1 keys said (see `strata_core::CONTRACT_SEMANTICS`).
#[test]
fn keys_carry_the_semantics_0_1_hosts_wrote_not_the_newest_package() {
    assert_eq!(
        strata_core::CONTRACT_SEMANTICS,
        wit_package("wit/v0.1/strata.wit")
    );
    assert_ne!(strata_core::CONTRACT_SEMANTICS, Contract::NEWEST.package());
}

#[test]
fn every_sdk_names_a_contract_version_the_host_speaks() {
    let spoken: Vec<&str> = Contract::ALL.iter().map(|c| c.version()).collect();
    // The Rust SDK binds the newest wit/ itself (wit-bindgen); the Python
    // SDK binds the WIT it is built with (componentize-py); the JavaScript
    // SDK imports the host interface by name, so its name carries the
    // version, one version throughout each SDK.
    let rust = std::fs::read_to_string(repo().join("plugins/sdk/src/lib.rs")).unwrap();
    assert!(
        rust.contains(r#"path: "../../wit","#),
        "the Rust SDK binds wit/"
    );
    let js = std::fs::read_to_string(repo().join("plugins/js/sdk/strata-plugin.js")).unwrap();
    assert!(
        !named_versions(&js).is_empty(),
        "the JS SDK imports the host interface"
    );
    for sdks in [
        &["plugins/js/sdk/strata-plugin.js", "plugins/js/sdk/arrow.js"][..],
        &["plugins/python/sdk/strata_plugin.py"],
        &["plugins/sdk/src/lib.rs"],
    ] {
        let mut found: Vec<String> = sdks
            .iter()
            .flat_map(|sdk| named_versions(&std::fs::read_to_string(repo().join(sdk)).unwrap()))
            .collect();
        found.dedup();
        assert!(
            found.len() <= 1,
            "{sdks:?} name several versions: {found:?}"
        );
        for version in found {
            assert!(
                spoken.contains(&version.as_str()),
                "{sdks:?} name contract version {version}, which the host does not speak"
            );
        }
    }
}
