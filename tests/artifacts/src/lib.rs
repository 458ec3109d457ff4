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
//!
//! The Python plugins (`clean_dedupe_py`, `test_misbehave_py`) and the
//! JavaScript ones (`aggregate_js`, `test_misbehave_js`,
//! `test_arrow_passthrough_js`) are there when their toolchains were found
//! at build time; [`missing`] tells why one is not.
//!
//! `foreach_test_plugin!(m)` expands to `m!(name);` for every test plugin
//! (`test_*`, built or not), so a test crate can require a test for each:
//!
//! ```ignore
//! macro_rules! has_tests {
//!     ($name:ident) => {
//!         #[allow(unused_imports)]
//!         use self::$name as _;
//!     };
//! }
//! strata_test_plugins::foreach_test_plugin!(has_tests);
//! ```

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
    if let Some(why) = missing(&normalized) {
        panic!("the plugin `{normalized}` was not built: {why}");
    }
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

/// Why a plugin was not built (its toolchain was missing at build time:
/// the message says what to install), or `None`.
pub fn missing(name: &str) -> Option<&'static str> {
    let normalized = name.trim_end_matches(".wasm").replace('-', "_");
    MISSING
        .iter()
        .find(|(n, _)| *n == normalized)
        .map(|(_, why)| *why)
}
