//! A raw dataset's `source` table: what to fetch, as data. Fetching it is
//! the sources crate's business.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::http::HttpSpec;
use crate::template::Template;

/// A raw dataset's `source = { kind = "...", ... }` table.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SourceSpec {
    /// Files in a landing folder, picked per period by a name pattern.
    Files(FilesSpec),
    /// A REST API: one request (or one per page) per period.
    Http(Box<HttpSpec>),
}

impl SourceSpec {
    /// Checks what can be checked without fetching.
    pub fn validate(&self, pipeline_dir: &Path) -> Result<(), String> {
        match self {
            SourceSpec::Files(spec) => spec.validate(pipeline_dir),
            SourceSpec::Http(spec) => spec.validate(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            SourceSpec::Files(_) => "files",
            SourceSpec::Http(_) => "http",
        }
    }

    /// How many of the most recent complete periods to fetch again on every
    /// run, for sources that correct recent data. A refetch is committed
    /// only if the bytes changed.
    pub fn refetch_recent(&self) -> usize {
        match self {
            SourceSpec::Files(_) => 0,
            SourceSpec::Http(spec) => spec.refetch_recent,
        }
    }

    /// What identifies this source in a raw manifest's key: its settings,
    /// without anything secret.
    pub fn identity(&self) -> serde_json::Value {
        match self {
            SourceSpec::Http(spec) => spec.identity(),
            SourceSpec::Files(_) => serde_json::to_value(self).unwrap_or_default(),
        }
    }
}

/// `source = { kind = "files", dir = "landing", pattern = "tx-{date}.json" }`
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilesSpec {
    /// The landing folder: a path relative to pipeline.toml's folder
    /// (`"landing"`), or an object-store URL (`"s3://bucket/landing"`).
    pub dir: String,
    /// The names of one period's files, relative to `dir`: a template that
    /// must name the period (`{date}` is its label, `2025-02-18`;
    /// `{%Y%m%d}` any strftime format of its start) in which `*` matches any
    /// characters, e.g. `"transactions-{date}.json"`.
    pub pattern: String,
}

impl FilesSpec {
    /// Checks the pattern and that a local landing folder exists.
    pub fn validate(&self, pipeline_dir: &Path) -> Result<(), String> {
        let pattern = self.template()?;
        if !pattern.mentions_period() {
            return Err(format!(
                "files pattern `{}` does not mention the period: add {{date}}, e.g. \"data-{{date}}.json\"",
                self.pattern
            ));
        }
        if let Some(name) = pattern.env_names().next() {
            return Err(format!(
                "files pattern `{}` reads the environment variable {name}: a pattern names files, write it out",
                self.pattern
            ));
        }
        if !self.dir.contains("://") && !pipeline_dir.join(&self.dir).is_dir() {
            return Err(format!(
                "landing folder {} does not exist",
                pipeline_dir.join(&self.dir).display()
            ));
        }
        Ok(())
    }

    /// The pattern as a template.
    pub fn template(&self) -> Result<Template, String> {
        Template::parse(&self.pattern).map_err(|e| format!("files pattern: {e}"))
    }
}
