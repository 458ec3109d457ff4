//! The plugins of `plugins/`, built to wasm32-wasip2 components by this
//! crate's build script, for the host's tests.
//!
//! ```ignore
//! let path = strata_test_plugins::wasm("json_to_table");
//! ```
//!
//! Names are crate names with underscores (`json_to_table`, `clean_dedupe`,
//! `aggregate`, `test_panic`, `test_passthrough`, …) and the feature variants
//! `json_to_table_legacy` (feature `legacy-offsets`) and
//! `test_passthrough_alter` (feature `alter`). See [`NAMES`].

use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/plugins.rs"));

/// The folder holding every built plugin as `<name>.wasm`.
pub fn dir() -> &'static Path {
    Path::new(DIR)
}

/// The path of a built plugin's component. `name` may use `-` or `_` and
/// may end in `.wasm`.
///
/// # Panics
///
/// If there is no plugin of that name, or its file is gone.
pub fn wasm(name: &str) -> PathBuf {
    let normalized = name.trim_end_matches(".wasm").replace('-', "_");
    if !NAMES.contains(&normalized.as_str()) {
        panic!(
            "no test plugin named `{name}`; the plugins are: {}.\n\
             A new plugin must be a member of plugins/Cargo.toml (a cdylib).",
            NAMES.join(", ")
        );
    }
    let path = dir().join(format!("{normalized}.wasm"));
    if !path.is_file() {
        panic!(
            "{} is missing: it was deleted after the build script ran. \
             Rebuild it with `touch tests/artifacts/build.rs` and build again.",
            path.display()
        );
    }
    path
}
