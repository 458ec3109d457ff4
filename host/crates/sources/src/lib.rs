//! Sources make raw partitions: the data exactly as delivered, one folder
//! per period. Raw is never transformed and never stale by hash (the source
//! is the truth): a missing raw partition is fetched, a present one is kept
//! (except the last `refetch_recent` periods, fetched again on every run and
//! committed only if their bytes changed).
//!
//! - `files` (`FilesSpec`): the files of a landing folder whose names match
//!   a pattern with the period in it.
//! - `http` (`HttpSpec`): a REST API, one request (or one request per
//!   page) per period; every response stored as `page-0001.json`, … with the
//!   bytes as received. Secrets come from the environment (`${API_TOKEN}`)
//!   and are shown as `***` in manifests, logs and errors.
//!
//! What a source is configured with is `strata_core::config::SourceSpec`.
//! A source is built once per dataset and run ([`build`]) and then
//! asked for each period that needs fetching (`Source::fetch`), several
//! periods at once: anything it shares across periods (a connection pool, a
//! rate limit) lives in the built source.

mod files;
mod http;

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use bytes::Bytes;
use strata_core::config::SourceSpec;
use strata_core::period::Period;

/// Builds the source a raw dataset's spec describes, once per dataset and
/// run.
pub fn build(spec: &SourceSpec, pipeline_dir: &Path) -> Result<Arc<dyn Source>> {
    Ok(match spec {
        SourceSpec::Files(spec) => Arc::new(files::FilesSource::new(spec, pipeline_dir)?),
        SourceSpec::Http(spec) => Arc::new(http::HttpSource::new(spec)?),
    })
}

/// One file of a raw partition.
#[derive(Debug, Clone)]
pub struct FetchedFile {
    /// The name it is stored under in the partition folder.
    pub name: String,
    pub bytes: Bytes,
    /// Where it came from (recorded in the manifest; no secrets): for
    /// `files` the landing file, for `http` the page number, the URL with
    /// secrets as `***`, the status, the content type and the size.
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
