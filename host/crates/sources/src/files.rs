//! The `files` source: copies the files of a landing folder that belong to
//! a period, byte for byte.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use futures::TryStreamExt;
use object_store::{ObjectStore, ObjectStoreExt};
use strata_core::config::{FilesSpec, file_url};
use strata_core::period::Period;
use strata_core::template::{EnvMode, Template};
use strata_store::open_object_store;
use tokio::sync::OnceCell;

use super::{Fetch, FetchedFile, Source};

pub(crate) struct FilesSource {
    spec: FilesSpec,
    pattern: Template,
    landing: Arc<dyn ObjectStore>,
    /// Every file in the landing folder, listed once per run.
    listing: OnceCell<Vec<String>>,
}

impl FilesSource {
    pub(crate) fn new(spec: &FilesSpec, pipeline_dir: &Path) -> Result<Self> {
        let url = if spec.dir.contains("://") {
            spec.dir.clone()
        } else {
            file_url(&pipeline_dir.join(&spec.dir))
        };
        Ok(FilesSource {
            spec: spec.clone(),
            pattern: spec.template().map_err(anyhow::Error::msg)?,
            landing: open_object_store(&url, &Default::default())?,
            listing: OnceCell::new(),
        })
    }

    async fn listing(&self) -> Result<&Vec<String>> {
        self.listing
            .get_or_try_init(|| async {
                let mut names: Vec<String> = self
                    .landing
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
        let wanted = self.pattern.render(period, &EnvMode::Redact);
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

/// `*` matches any run of characters; everything else literally.
fn glob_match(pattern: &str, text: &str) -> bool {
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

    #[test]
    fn stars_match_any_run_of_characters() {
        assert!(glob_match("2025/0218-*.json", "2025/0218-a.json"));
        assert!(!glob_match("2025/0218-*.json", "2025/0219-a.json"));
        assert!(glob_match("a*b*c", "aXbYc"));
        assert!(!glob_match("a*b*c", "aXc"));
    }
}
