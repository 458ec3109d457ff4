//! The Rust SDK (`plugins/sdk`), carried inside the host so `host plugin
//! new --lang rust` works from an installed binary: the scaffold gets a
//! vendored copy in `strata-sdk/`, pinned to this host's contract, and the
//! lock file the shipped plugins are built and tested with.

use anyhow::{Context, Result, bail};

use super::templates::WIT;

/// The SDK's sources, by path under its `src/`.
const SOURCES: &[(&str, &str)] = &[
    (
        "context.rs",
        include_str!("../../../../plugins/sdk/src/context.rs"),
    ),
    (
        "error.rs",
        include_str!("../../../../plugins/sdk/src/error.rs"),
    ),
    ("ipc.rs", include_str!("../../../../plugins/sdk/src/ipc.rs")),
    ("lib.rs", include_str!("../../../../plugins/sdk/src/lib.rs")),
    ("log.rs", include_str!("../../../../plugins/sdk/src/log.rs")),
    ("raw.rs", include_str!("../../../../plugins/sdk/src/raw.rs")),
    (
        "transform.rs",
        include_str!("../../../../plugins/sdk/src/transform.rs"),
    ),
    (
        "types.rs",
        include_str!("../../../../plugins/sdk/src/types.rs"),
    ),
];
/// Its manifest, which takes versions from the plugins workspace's.
const MANIFEST: &str = include_str!("../../../../plugins/sdk/Cargo.toml");
const WORKSPACE_MANIFEST: &str = include_str!("../../../../plugins/Cargo.toml");
/// The versions the shipped plugins are built and tested with (and, with a
/// shared target directory or an offline registry cache, already there).
pub(super) const LOCK: &str = include_str!("../../../../plugins/Cargo.lock");

/// Where the SDK finds the WIT in the repository, and in a vendored copy.
const WIT_IN_REPO: &str = r#"path: "../../wit","#;
const WIT_VENDORED: &str = r#"path: "wit","#;

/// The folder of the vendored copy, relative to the plugin project.
pub(super) const DIR: &str = "strata-sdk";

/// The vendored SDK's files: (path relative to the plugin project, text).
pub(super) fn files() -> Result<Vec<(String, String)>> {
    let mut files = vec![
        (format!("{DIR}/Cargo.toml"), standalone_manifest()?),
        (format!("{DIR}/wit/strata.wit"), WIT.to_owned()),
    ];
    for (name, text) in SOURCES {
        let text = if *name == "lib.rs" {
            if !text.contains(WIT_IN_REPO) {
                bail!("the embedded SDK's lib.rs does not load the WIT from {WIT_IN_REPO}");
            }
            text.replace(WIT_IN_REPO, WIT_VENDORED)
        } else {
            (*text).to_owned()
        };
        files.push((format!("{DIR}/src/{name}"), text));
    }
    Ok(files)
}

/// The SDK's Cargo.toml with what it takes from the plugins workspace
/// (`x.workspace = true`) written in, and without the parts that only make
/// sense there (lints, examples).
fn standalone_manifest() -> Result<String> {
    let workspace: toml::Table =
        toml::from_str(WORKSPACE_MANIFEST).context("the embedded plugins/Cargo.toml")?;
    let mut manifest: toml::Table =
        toml::from_str(MANIFEST).context("the embedded plugins/sdk/Cargo.toml")?;
    let inherited = |section: &str, key: &str| -> Result<toml::Value> {
        workspace
            .get("workspace")
            .and_then(|w| w.get(section))
            .and_then(|s| s.get(key))
            .cloned()
            .with_context(|| format!("plugins/Cargo.toml has no workspace.{section}.{key}"))
    };
    let is_inherited = |v: &toml::Value| {
        v.get("workspace")
            .and_then(toml::Value::as_bool)
            .unwrap_or(false)
    };
    if let Some(toml::Value::Table(package)) = manifest.get_mut("package") {
        for (key, value) in package.iter_mut() {
            if is_inherited(value) {
                *value = inherited("package", key)?;
            }
        }
        package.insert(
            "description".into(),
            toml::Value::String(format!(
                "{} (vendored by `host plugin new`: the SDK of {})",
                package
                    .get("description")
                    .and_then(toml::Value::as_str)
                    .unwrap_or("The Strata plugin SDK"),
                strata_runtime::Contract::NEWEST
            )),
        );
    }
    if let Some(toml::Value::Table(deps)) = manifest.get_mut("dependencies") {
        for (name, value) in deps.iter_mut() {
            if !is_inherited(value) {
                continue;
            }
            // `x = { workspace = true, features = [...] }`: the workspace's
            // entry, with the local keys added.
            let mut entry = match inherited("dependencies", name)? {
                toml::Value::String(version) => {
                    let mut t = toml::Table::new();
                    t.insert("version".into(), toml::Value::String(version));
                    t
                }
                toml::Value::Table(t) => t,
                other => bail!("workspace.dependencies.{name} is {other}, not a version or table"),
            };
            if let toml::Value::Table(local) = value {
                for (k, v) in local.iter().filter(|(k, _)| *k != "workspace") {
                    entry.insert(k.clone(), v.clone());
                }
            }
            *value = toml::Value::Table(entry);
        }
    }
    manifest.remove("lints");
    manifest.remove("example");
    Ok(format!(
        "# The Strata Rust SDK, vendored by `host plugin new` from the host that\n\
         # made this project. Leave it as it is: it speaks that host's contract.\n{}",
        toml::to_string(&manifest)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every source file of plugins/sdk/src is carried (a new module there
    /// must be added to SOURCES).
    #[test]
    fn every_sdk_source_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk/src");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = SOURCES.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(embedded, on_disk);
    }

    #[test]
    fn the_vendored_manifest_stands_alone() {
        let text = standalone_manifest().unwrap();
        assert!(!text.contains("workspace"), "{text}");
        let manifest: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(manifest["package"]["name"].as_str(), Some("strata-sdk"));
        assert_eq!(manifest["package"]["version"].as_str(), Some("0.1.0"));
        let wit_bindgen = &manifest["dependencies"]["wit-bindgen"];
        assert_eq!(wit_bindgen["default-features"].as_bool(), Some(false));
        assert!(wit_bindgen["version"].as_str().is_some(), "{text}");
        assert!(manifest.get("example").is_none() && manifest.get("lints").is_none());
    }

    #[test]
    fn the_vendored_sdk_reads_its_own_wit() {
        let files = files().unwrap();
        let lib = &files
            .iter()
            .find(|(p, _)| p == "strata-sdk/src/lib.rs")
            .unwrap()
            .1;
        assert!(lib.contains(WIT_VENDORED) && !lib.contains(WIT_IN_REPO));
        assert!(
            files
                .iter()
                .any(|(p, t)| p == "strata-sdk/wit/strata.wit" && t == WIT)
        );
    }
}
