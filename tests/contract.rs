//! The contract version has one source of truth, the `package` line of
//! `wit/strata.wit`: the host's partition keys, the runtime's bindings and
//! every SDK must name the same version.

use std::path::Path;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// `strata:plugin@X.Y.Z` as the WIT package names it.
fn wit_package() -> String {
    let wit = std::fs::read_to_string(repo().join("wit/v0.1/strata.wit")).unwrap();
    wit.lines()
        .find_map(|l| l.trim().strip_prefix("package "))
        .and_then(|p| p.trim().strip_suffix(';'))
        .expect("wit/strata.wit has a package line")
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
fn the_host_keys_partitions_with_the_wit_package_version() {
    assert_eq!(strata_core::CONTRACT_VERSION, wit_package());
}

#[test]
fn every_sdk_names_the_wit_package_version() {
    let version = wit_package()
        .split_once('@')
        .map(|(_, v)| v.to_owned())
        .unwrap();
    // The Rust SDK and the Python SDK bind wit/ itself (wit-bindgen,
    // componentize-py); the JavaScript SDK imports the host interface by
    // name, so its name must carry the version.
    let js = std::fs::read_to_string(repo().join("plugins/js/sdk/strata-plugin.js")).unwrap();
    let js_versions = named_versions(&js);
    assert!(
        !js_versions.is_empty(),
        "the JS SDK imports the host interface"
    );
    for sdk in [
        "plugins/js/sdk/strata-plugin.js",
        "plugins/js/sdk/arrow.js",
        "plugins/python/sdk/strata_plugin.py",
        "plugins/sdk/src/lib.rs",
    ] {
        let text = std::fs::read_to_string(repo().join(sdk)).unwrap();
        for found in named_versions(&text) {
            assert_eq!(found, version, "{sdk} names contract version {found}");
        }
    }
}
