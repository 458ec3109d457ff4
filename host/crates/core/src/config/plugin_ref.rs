//! What a dataset's `plugin = "..."` names: a file, or a standard plugin
//! compiled into the host (`std:NAME`).

use std::fmt;
use std::path::{Path, PathBuf};

/// The standard plugins' names, as `std:NAME` takes them. The host carries
/// their bytes (crate `strata-std-plugins`, whose tests check that it has
/// exactly these); core only needs the names, to check a pipeline.
pub const STD_PLUGINS: &[&str] = &["json-to-table", "clean-dedupe", "aggregate"];

/// What a pipeline writes before a standard plugin's name.
pub const STD_PREFIX: &str = "std:";

/// A dataset's plugin. Either way it is identified by the sha256 of its
/// bytes: a file and `std:` with the same bytes are the same plugin.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PluginRef {
    /// A `.wasm` file (absolute, or relative to the folder of pipeline.toml
    /// resolved against it).
    File(PathBuf),
    /// A standard plugin by name, one of [`STD_PLUGINS`] (without `std:`).
    Std(String),
}

impl PluginRef {
    /// Parses what `plugin = "..."` says; a path is taken relative to
    /// `dir`. An unknown `std:` name is an error saying which there are.
    pub fn parse(text: &str, dir: &Path) -> Result<PluginRef, String> {
        match text.strip_prefix(STD_PREFIX) {
            Some(name) if STD_PLUGINS.contains(&name) => Ok(PluginRef::Std(name.to_owned())),
            Some(name) => Err(format!(
                "there is no standard plugin `{name}`; the standard plugins are {} \
                 (`host plugin list` shows them), or give the path of a .wasm file",
                STD_PLUGINS
                    .iter()
                    .map(|n| format!("`{STD_PREFIX}{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            None => Ok(PluginRef::File(dir.join(text))),
        }
    }

    /// The file, if it is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            PluginRef::File(path) => Some(path),
            PluginRef::Std(_) => None,
        }
    }
}

impl fmt::Display for PluginRef {
    /// `std:NAME`, or the file's path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginRef::File(path) => write!(f, "{}", path.display()),
            PluginRef::Std(name) => write!(f, "{STD_PREFIX}{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_std_names_and_paths() {
        let dir = Path::new("/p");
        assert_eq!(
            PluginRef::parse("std:aggregate", dir),
            Ok(PluginRef::Std("aggregate".into()))
        );
        assert_eq!(
            PluginRef::parse("plugins/a.wasm", dir),
            Ok(PluginRef::File("/p/plugins/a.wasm".into()))
        );
        let err = PluginRef::parse("std:nope", dir).unwrap_err();
        assert!(err.contains("no standard plugin `nope`"), "{err}");
        assert!(
            err.contains("`std:json-to-table`, `std:clean-dedupe`, `std:aggregate`"),
            "{err}"
        );
        assert_eq!(
            PluginRef::Std("aggregate".into()).to_string(),
            "std:aggregate"
        );
        assert_eq!(PluginRef::File("/p/a.wasm".into()).to_string(), "/p/a.wasm");
    }
}
