//! Sources make raw partitions: the data exactly as delivered, one folder
//! per period. Raw is never transformed and never stale by hash (the source
//! is the truth): a missing raw partition is fetched, a present one is kept.

mod files;

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::period::Period;

pub use files::FilesSpec;

/// A raw dataset's `source = { kind = "...", ... }` table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SourceSpec {
    /// Files in a landing folder, picked per period by a name pattern.
    Files(FilesSpec),
}

impl SourceSpec {
    /// Checks what can be checked without fetching.
    pub fn validate(&self, pipeline_dir: &Path) -> Result<(), String> {
        match self {
            SourceSpec::Files(spec) => spec.validate(pipeline_dir),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            SourceSpec::Files(_) => "files",
        }
    }

    /// Builds the source.
    pub fn build(&self, pipeline_dir: &Path) -> Result<Arc<dyn Source>> {
        Ok(match self {
            SourceSpec::Files(spec) => Arc::new(files::FilesSource::new(spec, pipeline_dir)?),
        })
    }

    /// What identifies this source in a raw manifest's key: its settings,
    /// without anything secret.
    pub fn identity(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// One file of a raw partition.
#[derive(Debug, Clone)]
pub struct FetchedFile {
    /// The name it is stored under in the partition folder.
    pub name: String,
    pub bytes: Bytes,
    /// Where it came from (recorded in the manifest; no secrets).
    pub origin: serde_json::Value,
}

/// What a source has for a period.
#[derive(Debug)]
pub enum Fetch {
    /// Every file of the period.
    Ready(Vec<FetchedFile>),
    /// Nothing yet: not an error, the period is `waiting`.
    Waiting(String),
}

/// A source of raw data.
#[async_trait::async_trait]
pub trait Source: Send + Sync {
    /// Everything the source has for `period`, or that it has nothing yet.
    /// A partial delivery is an error, never `Ready`.
    async fn fetch(&self, period: &Period) -> Result<Fetch>;
}
