//! Compiled components on disk, so a plugin is compiled once per machine,
//! not once per process.
//!
//! An entry is named by the plugin's sha256 and the engine's compatibility
//! hash (wasmtime version, target, settings): a different engine never
//! reads an entry it cannot use. Entries are written to a temp file and
//! renamed, so a crash or a concurrent writer never leaves a torn entry.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

/// Where compiled components are kept. `None` turns the cache off.
pub struct ComponentCache {
    dir: Option<PathBuf>,
    engine_hash: String,
}

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadOrigin {
    /// Compiled by Cranelift in this process.
    Compiled,
    /// Read from the on-disk cache; no compilation.
    Cached,
}

impl ComponentCache {
    pub fn new(engine: &Engine, dir: Option<PathBuf>) -> Self {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        ComponentCache {
            dir,
            engine_hash: format!("{:016x}", hasher.finish()),
        }
    }

    /// The default location: `$STRATA_CACHE_DIR`, else the user's cache
    /// folder (`$XDG_CACHE_HOME/strata` or `~/.cache/strata`).
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("STRATA_CACHE_DIR") {
            return Some(PathBuf::from(dir));
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
        Some(base.join("strata").join("components"))
    }

    fn entry(&self, sha256: &str) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{sha256}-{}.cwasm", self.engine_hash)))
    }

    /// The compiled component for `bytes`, from the cache or compiled now
    /// (and then stored for next time).
    pub fn load(
        &self,
        engine: &Engine,
        sha256: &str,
        bytes: &[u8],
    ) -> wasmtime::Result<(Component, LoadOrigin)> {
        let entry = self.entry(sha256);
        if let Some(path) = &entry
            && path.is_file()
        {
            // SAFETY: entries are only ever written by `store` below, from
            // `Component::serialize` of this same engine configuration (the
            // name carries its compatibility hash), and are renamed into
            // place whole. The cache folder must be as trusted as the
            // host binary itself.
            match unsafe { Component::deserialize_file(engine, path) } {
                Ok(component) => return Ok((component, LoadOrigin::Cached)),
                Err(e) => tracing::warn!(
                    "ignoring unreadable compiled-component cache entry {}: {e}",
                    path.display()
                ),
            }
        }
        let component = Component::new(engine, bytes)?;
        if let Some(path) = &entry
            && let Err(e) = store(&component, path)
        {
            tracing::warn!(
                "could not write compiled-component cache entry {}: {e:#}",
                path.display()
            );
        }
        Ok((component, LoadOrigin::Compiled))
    }
}

fn store(component: &Component, path: &Path) -> anyhow::Result<()> {
    let dir = path.parent().expect("cache entries live in a folder");
    std::fs::create_dir_all(dir)?;
    let bytes = component.serialize().map_err(anyhow::Error::from)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
