//! The `files` source: copies the files of a landing folder that belong to
//! a period, byte for byte.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use futures::TryStreamExt;
use object_store::{ObjectStore, ObjectStoreExt};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use super::{Fetch, FetchedFile, Source};
use crate::config::{StoreConfig, file_url};
use crate::period::Period;
use crate::store::Store;

/// `source = { kind = "files", dir = "landing", pattern = "tx-{date}.json" }`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FilesSpec {
    /// A folder (relative to pipeline.toml) or an object-store URL.
    pub dir: String,
    /// File names of one period, relative to `dir`: `{date}` is the period
    /// label (2025-02-18), `{%Y%m%d}` any strftime format of its start, and
    /// `*` matches any run of characters.
    pub pattern: String,
}

impl FilesSpec {
    pub fn validate(&self, pipeline_dir: &Path) -> Result<(), String> {
        if !self.pattern.contains('{') {
            return Err(format!(
                "files pattern `{}` does not mention the period: add {{date}}, e.g. \"data-{{date}}.json\"",
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
}

pub struct FilesSource {
    spec: FilesSpec,
    landing: Store,
    /// Every file in the landing folder, listed once per run.
    listing: OnceCell<Vec<String>>,
}

impl FilesSource {
    pub fn new(spec: &FilesSpec, pipeline_dir: &Path) -> Result<Self> {
        let url = if spec.dir.contains("://") {
            spec.dir.clone()
        } else {
            file_url(&pipeline_dir.join(&spec.dir))
        };
        let landing = Store::open(&StoreConfig {
            url,
            options: Default::default(),
        })?;
        Ok(FilesSource {
            spec: spec.clone(),
            landing,
            listing: OnceCell::new(),
        })
    }

    async fn listing(&self) -> Result<&Vec<String>> {
        self.listing
            .get_or_try_init(|| async {
                let store: &Arc<dyn ObjectStore> = self.landing.object_store();
                let mut names: Vec<String> = store
                    .list(None)
                    .map_ok(|m| m.location.to_string())
                    .try_collect()
                    .await
                    .with_context(|| format!("listing the landing folder {}", self.spec.dir))?;
                names.sort();
                Ok(names)
            })
            .await
    }
}

#[async_trait::async_trait]
impl Source for FilesSource {
    async fn fetch(&self, period: &Period) -> Result<Fetch> {
        let wanted = render(&self.spec.pattern, period);
        let names: Vec<&String> = self
            .listing()
            .await?
            .iter()
            .filter(|n| glob_match(&wanted, n))
            .collect();
        if names.is_empty() {
            return Ok(Fetch::Waiting(format!(
                "no file matches {wanted} in {}",
                self.spec.dir
            )));
        }
        let mut files = Vec::with_capacity(names.len());
        for name in names {
            let path = object_store::path::Path::from(name.as_str());
            let bytes = self
                .landing
                .object_store()
                .get(&path)
                .await
                .with_context(|| format!("reading {name} from {}", self.spec.dir))?
                .bytes()
                .await?;
            files.push(FetchedFile {
                name: name.replace('/', "__"),
                bytes,
                origin: serde_json::json!({ "file": name }),
            });
        }
        Ok(Fetch::Ready(files))
    }
}

/// The pattern with the period filled in.
pub fn render(pattern: &str, period: &Period) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let token = &rest[open + 1..open + close];
        match token {
            "date" | "period" => out.push_str(&period.label()),
            t if t.starts_with('%') => out.push_str(&period.format(t)),
            t => {
                out.push('{');
                out.push_str(t);
                out.push('}');
            }
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// `*` matches any run of characters; everything else literally.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::Granularity;

    #[test]
    fn patterns_name_one_period() {
        let p = Period::parse(Granularity::Day, "2025-02-18").unwrap();
        assert_eq!(render("tx-{date}.json", &p), "tx-2025-02-18.json");
        assert_eq!(render("{%Y}/{%m%d}-*.json", &p), "2025/0218-*.json");
        assert!(glob_match("2025/0218-*.json", "2025/0218-a.json"));
        assert!(!glob_match("2025/0218-*.json", "2025/0219-a.json"));
        assert!(glob_match("a*b*c", "aXbYc"));
        assert!(!glob_match("a*b*c", "aXc"));
    }
}
