//! The partition store: Hive-style folders of data files plus a
//! `_manifest.json` commit marker, on any `object_store` backend.
//!
//! ```text
//! <root>/<layer>/<dataset>/date=2025-02-18/part-<hash>.parquet
//! <root>/<layer>/<dataset>/date=2025-02-18/_manifest.json
//! ```
//!
//! Commit protocol: data files go in under names derived from their content,
//! the manifest is written last in one atomic put, then files the previous
//! manifest named and the new one does not are deleted. A crash anywhere
//! leaves the old complete partition or the new one. The store knows nothing
//! about plugins or staleness.

mod columns;
mod data_file;
pub mod delta;
pub mod lease;
mod listing;
#[cfg(unix)]
mod local;
mod manifest_cache;
pub mod parquet_io;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::{Context, Result};
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

pub use columns::ColumnBatches;
pub use data_file::DataFileWriter;
use lease::{Fence, LeaseLost};
pub use manifest_cache::ManifestCache;
use strata_core::DatasetId;
use strata_core::config::StoreConfig;
use strata_core::manifest::{MANIFEST_FILE, Manifest, ManifestError, sha256_hex};

/// What a LIST of one partition folder found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderListing {
    /// File name → size, the manifest included.
    pub files: BTreeMap<String, u64>,
    /// The entity tag of `_manifest.json`, where the store gives one.
    pub manifest_tag: Option<String>,
}

impl FolderListing {
    pub fn has_manifest(&self) -> bool {
        self.files.contains_key(MANIFEST_FILE)
    }
}

/// A partition's manifest as read from the store.
#[derive(Debug, Clone)]
pub enum ManifestRead {
    /// No manifest: the partition does not exist (whatever else is in the folder).
    Missing,
    /// A manifest that cannot be trusted.
    Invalid(ManifestError),
    Valid(Box<Manifest>),
}

/// Why a commit wrote no manifest.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// The run no longer holds its lease: it must stop writing.
    #[error(transparent)]
    LeaseLost(#[from] LeaseLost),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

/// Whether a partition's files match its manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Intact,
    Damaged(String),
}

/// The object store behind a URL: `file://` (created if missing, every
/// write fsynced), `memory://`, `s3://`, `gs://` or `az://` with a prefix.
/// The one place a backend is built, for stores and landing folders alike.
/// Credentials come from the environment, `options` (endpoint, region,
/// allow_http, …) from the config.
pub fn open_object_store(
    url: &str,
    options: &BTreeMap<String, String>,
) -> Result<Arc<dyn ObjectStore>> {
    use object_store::ObjectStoreScheme as Scheme;
    if let Some(path) = url.strip_prefix("file://") {
        std::fs::create_dir_all(path)
            .with_context(|| format!("creating the store folder {path}"))?;
        return Ok(Arc::new(
            object_store::local::LocalFileSystem::new_with_prefix(path)
                .with_context(|| format!("opening the store folder {path}"))?
                // A committed partition must survive a power cut:
                // files and manifest reach the disk before the next step.
                .with_fsync(true)
                // A folder whose last file is deleted goes too: a rejected
                // or failed partition leaves no empty folder behind.
                .with_automatic_cleanup(true),
        ));
    }
    if url.starts_with("memory://") {
        return Ok(Arc::new(object_store::memory::InMemory::new()));
    }
    let parsed = url::Url::parse(url).with_context(|| format!("store URL `{url}`"))?;
    let (scheme, prefix) = Scheme::parse(&parsed).with_context(|| format!("store URL `{url}`"))?;
    /// Applies the config's options to a builder made from the environment.
    fn configured<B, K: std::str::FromStr>(
        mut builder: B,
        options: &BTreeMap<String, String>,
        backend: &str,
        set: fn(B, K, &str) -> B,
    ) -> Result<B>
    where
        K::Err: std::error::Error + Send + Sync + 'static,
    {
        for (k, v) in options {
            let key = k
                .parse()
                .with_context(|| format!("{backend} option `{k}`"))?;
            builder = set(builder, key, v);
        }
        Ok(builder)
    }
    let opening = || format!("opening {url}");
    let store: Arc<dyn ObjectStore> = match scheme {
        Scheme::AmazonS3 => {
            let b = object_store::aws::AmazonS3Builder::from_env().with_url(url);
            let b = configured(b, options, "S3", |b, k, v| b.with_config(k, v))?;
            Arc::new(b.build().with_context(opening)?)
        }
        Scheme::GoogleCloudStorage => {
            let b = object_store::gcp::GoogleCloudStorageBuilder::from_env().with_url(url);
            let b = configured(b, options, "GCS", |b, k, v| b.with_config(k, v))?;
            Arc::new(b.build().with_context(opening)?)
        }
        Scheme::MicrosoftAzure => {
            let b = object_store::azure::MicrosoftAzureBuilder::from_env().with_url(url);
            let b = configured(b, options, "Azure", |b, k, v| b.with_config(k, v))?;
            Arc::new(b.build().with_context(opening)?)
        }
        other => anyhow::bail!("store URL `{url}`: unsupported scheme {other:?}"),
    };
    Ok(if prefix.as_ref().is_empty() {
        store
    } else {
        Arc::new(object_store::prefix::PrefixStore::new(store, prefix))
    })
}

/// Whether a folder of a dataset can be a partition: not the table's
/// `_delta_log` or any other folder whose name starts with `_` or `.`
/// (readers skip those too, and `host gc` must never see their files as
/// garbage).
fn is_partition_folder(name: &str) -> bool {
    !name.starts_with(['_', '.'])
}

/// An entity tag as one string whichever way the store spelled it: Azure
/// quotes it in headers but not in listings.
fn entity_tag(tag: String) -> String {
    let bare = tag.strip_prefix("W/").unwrap_or(&tag);
    bare.trim_matches('"').to_owned()
}

#[derive(Clone)]
pub struct Store {
    inner: Arc<dyn ObjectStore>,
    /// The URL as configured, for messages (never carries credentials).
    pub url: String,
}

impl Store {
    /// Opens the store a pipeline names. Credentials come from the
    /// environment (AWS_*, GOOGLE_*, AZURE_*), options from the config.
    pub fn open(config: &StoreConfig) -> Result<Store> {
        Ok(Store {
            inner: open_object_store(&config.url, &config.options)?,
            url: config.url.clone(),
        })
    }

    /// A store over an existing object store (tests, embedding).
    pub fn from_object_store(inner: Arc<dyn ObjectStore>, url: impl Into<String>) -> Store {
        Store {
            inner,
            url: url.into(),
        }
    }

    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.inner
    }

    pub fn dataset_dir(dataset: &DatasetId) -> Path {
        Path::from_iter([dataset.layer.as_str(), dataset.name.as_str()])
    }

    pub fn partition_dir(dataset: &DatasetId, partition: &str) -> Path {
        Path::from_iter([dataset.layer.as_str(), dataset.name.as_str(), partition])
    }

    pub fn file_path(dataset: &DatasetId, partition: &str, name: &str) -> Path {
        Self::partition_dir(dataset, partition).join(name)
    }

    /// Lists every partition folder of a dataset: one recursive LIST (on a
    /// local store, one read of each folder: `local`).
    pub async fn scan(&self, dataset: &DatasetId) -> Result<HashMap<String, FolderListing>> {
        self.list_folders(dataset, &[], &ManifestCache::default())
            .await
    }

    /// The dataset's manifest cache (see `manifest_cache`) and its partition
    /// folders from its first `expected` partition on. On an object store
    /// the cache comes first: the listing is a LIST per range of about a
    /// page of keys, as many as the cached manifests say the folders hold,
    /// at once (`listing`). A local folder is read whole whatever the cache
    /// says, so there both are read at once.
    pub async fn scan_expected(
        &self,
        dataset: &DatasetId,
        expected: &[String],
    ) -> (Result<HashMap<String, FolderListing>>, ManifestCache) {
        if self.local_root().is_some() {
            let none = ManifestCache::default();
            return tokio::join!(
                self.list_folders(dataset, expected, &none),
                self.manifest_cache(dataset)
            );
        }
        let cache = self.manifest_cache(dataset).await;
        (self.list_folders(dataset, expected, &cache).await, cache)
    }

    async fn list_folders(
        &self,
        dataset: &DatasetId,
        expected: &[String],
        known: &ManifestCache,
    ) -> Result<HashMap<String, FolderListing>> {
        #[cfg(unix)]
        if let Some(root) = self.local_root() {
            let dir = root.join(&dataset.layer).join(&dataset.name);
            return tokio::task::spawn_blocking(move || local::scan(&dir))
                .await?
                .with_context(|| format!("listing {dataset} in {}", self.url));
        }
        let keys = |partition: &str| known.keys(partition).unwrap_or(listing::KEYS_OF_UNKNOWN);
        listing::scan(&self.inner, &Self::dataset_dir(dataset), expected, keys)
            .await
            .with_context(|| format!("listing {dataset} in {}", self.url))
    }

    /// Reads and checks a partition's manifest.
    pub async fn read_manifest(
        &self,
        dataset: &DatasetId,
        partition: &str,
    ) -> Result<ManifestRead> {
        Ok(self.read_manifest_tagged(dataset, partition).await?.0)
    }

    /// Reads and checks a partition's manifest; with the entity tag of the
    /// object read, where the store gives one.
    pub async fn read_manifest_tagged(
        &self,
        dataset: &DatasetId,
        partition: &str,
    ) -> Result<(ManifestRead, Option<String>)> {
        let path = Self::file_path(dataset, partition, MANIFEST_FILE);
        let read = match self.inner.get(&path).await {
            Ok(r) => {
                let tag = r.meta.e_tag.clone().map(entity_tag);
                r.bytes().await.map(|bytes| (bytes, tag))
            }
            Err(e) => Err(e),
        };
        match read {
            Ok((bytes, tag)) => Ok(
                match Manifest::parse(&bytes, &dataset.to_string(), partition) {
                    Ok(m) => (ManifestRead::Valid(Box::new(m)), tag),
                    Err(e) => (ManifestRead::Invalid(e), None),
                },
            ),
            Err(object_store::Error::NotFound { .. }) => Ok((ManifestRead::Missing, None)),
            Err(e) => Err(e).with_context(|| format!("reading {path} in {}", self.url)),
        }
    }

    fn manifest_cache_path(dataset: &DatasetId) -> Path {
        Path::from_iter([
            "_strata",
            "manifests",
            dataset.layer.as_str(),
            &format!("{}.json", dataset.name),
        ])
    }

    /// The manifest cache of a dataset (see `manifest_cache`); empty if
    /// there is none or it cannot be read.
    pub async fn manifest_cache(&self, dataset: &DatasetId) -> ManifestCache {
        let path = Self::manifest_cache_path(dataset);
        let bytes = match self.inner.get(&path).await {
            Ok(r) => r.bytes().await,
            Err(e) => Err(e),
        };
        match bytes {
            Ok(bytes) => ManifestCache::parse(&bytes, &dataset.to_string()),
            Err(object_store::Error::NotFound { .. }) => ManifestCache::stale(),
            Err(e) => {
                tracing::debug!("manifest cache of {dataset} not read: {e}");
                ManifestCache::stale()
            }
        }
    }

    /// Writes the manifest cache of a dataset if it changed. A failure is
    /// logged, not fatal: the next run reads the manifests themselves.
    pub async fn save_manifest_cache(&self, dataset: &DatasetId, cache: &mut ManifestCache) {
        if !cache.changed() {
            return;
        }
        let path = Self::manifest_cache_path(dataset);
        let bytes = cache.to_json(&dataset.to_string());
        match self.inner.put(&path, PutPayload::from(bytes)).await {
            Ok(_) => cache.saved(),
            Err(e) => tracing::warn!("could not write the manifest cache {path}: {e}"),
        }
    }

    /// Checks a manifest against a LIST of its folder: every file present
    /// with its recorded size.
    pub fn check(manifest: &Manifest, folder: Option<&FolderListing>) -> Health {
        for f in &manifest.files {
            match folder.and_then(|l| l.files.get(&f.path)) {
                None => return Health::Damaged(format!("file {} is missing", f.path)),
                Some(size) if *size != f.size => {
                    return Health::Damaged(format!(
                        "file {} has {size} bytes, the manifest says {}",
                        f.path, f.size
                    ));
                }
                Some(_) => {}
            }
        }
        Health::Intact
    }

    /// Rehashes every file of a partition against its manifest.
    pub async fn verify(&self, dataset: &DatasetId, manifest: &Manifest) -> Result<Health> {
        for f in &manifest.files {
            let path = Self::file_path(dataset, &manifest.partition, &f.path);
            let bytes = match self.inner.get(&path).await {
                Ok(r) => r.bytes().await,
                Err(e) => Err(e),
            };
            let bytes = match bytes {
                Ok(b) => b,
                Err(object_store::Error::NotFound { .. }) => {
                    return Ok(Health::Damaged(format!("file {} is missing", f.path)));
                }
                Err(e) => return Err(e).with_context(|| format!("reading {path}")),
            };
            if sha256_hex(&bytes) != f.sha256 {
                return Ok(Health::Damaged(format!(
                    "file {} does not match its sha256 in the manifest",
                    f.path
                )));
            }
        }
        Ok(Health::Intact)
    }

    /// Reads one data file of a partition.
    pub async fn read_file(
        &self,
        dataset: &DatasetId,
        partition: &str,
        name: &str,
    ) -> Result<Bytes> {
        self.read_object(&Self::file_path(dataset, partition, name))
            .await
    }

    async fn read_object(&self, path: &Path) -> Result<Bytes> {
        let r = self
            .inner
            .get(path)
            .await
            .with_context(|| format!("reading {path} in {}", self.url))?;
        r.bytes().await.with_context(|| format!("reading {path}"))
    }

    /// Commits a partition: data files, then the manifest, then removal of
    /// files only the previous manifest named. `manifest.files` must
    /// describe `files` in order. Returns the manifest's entity tag, where
    /// the store gives one.
    ///
    /// Data files and the manifest are written only while `fence` says the
    /// run still holds its lease, checked before each: a raw file keeps the
    /// name its source gave it, so a run that stalled with a fetched
    /// period in hand and resumed after a takeover would otherwise write
    /// over the file of a partition the other run committed. Data files
    /// written before a lost lease are garbage that `host gc` removes.
    pub async fn commit(
        &self,
        dataset: &DatasetId,
        manifest: &Manifest,
        files: Vec<Bytes>,
        previous: Option<&Manifest>,
        fence: &Fence,
    ) -> Result<Option<String>, CommitError> {
        let partition = &manifest.partition;
        fence.check().await?;
        for (entry, bytes) in manifest.files.iter().zip(files) {
            let path = Self::file_path(dataset, partition, &entry.path);
            self.inner
                .put(&path, PutPayload::from_bytes(bytes))
                .await
                .with_context(|| format!("writing {path} in {}", self.url))?;
        }
        fence.check().await?;
        let path = Self::file_path(dataset, partition, MANIFEST_FILE);
        let put = self
            .inner
            .put(&path, PutPayload::from(manifest.to_json()))
            .await
            .with_context(|| format!("writing {path} in {}", self.url))?;
        if let Some(previous) = previous {
            for old in &previous.files {
                if !manifest.files.iter().any(|f| f.path == old.path) {
                    let path = Self::file_path(dataset, partition, &old.path);
                    match self.inner.delete(&path).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => tracing::warn!("could not delete replaced file {path}: {e}"),
                    }
                }
            }
        }
        Ok(put.e_tag.map(entity_tag))
    }

    /// Rewrites a manifest in place (e.g. to invalidate it), fenced like a
    /// commit. Data files are untouched, so readers keep seeing the
    /// partition until it is recomputed.
    pub async fn rewrite_manifest(
        &self,
        dataset: &DatasetId,
        manifest: &Manifest,
        fence: &Fence,
    ) -> Result<Option<String>, CommitError> {
        fence.check().await?;
        let path = Self::file_path(dataset, &manifest.partition, MANIFEST_FILE);
        let put = self
            .inner
            .put(&path, PutPayload::from(manifest.to_json()))
            .await
            .with_context(|| format!("writing {path} in {}", self.url))?;
        Ok(put.e_tag.map(entity_tag))
    }

    /// Files in the partition folders of a dataset that no manifest names:
    /// left by interrupted runs. Manifests themselves are never listed, and
    /// folders whose manifest cannot be trusted are skipped.
    pub async fn garbage(&self, dataset: &DatasetId) -> Result<Vec<Path>> {
        let mut out = Vec::new();
        let mut folders: Vec<_> = self.scan(dataset).await?.into_iter().collect();
        folders.sort_by(|a, b| a.0.cmp(&b.0));
        for (partition, files) in folders {
            let named: Vec<String> = match self.read_manifest(dataset, &partition).await? {
                ManifestRead::Valid(m) => m.files.into_iter().map(|f| f.path).collect(),
                ManifestRead::Missing => vec![],
                // A manifest that cannot be trusted may still be the only
                // record of data that cannot be fetched again: leave the
                // folder to the next run, which replaces it whole.
                ManifestRead::Invalid(_) => continue,
            };
            for name in files.files.keys() {
                if name != MANIFEST_FILE && !named.contains(name) {
                    out.push(Self::file_path(dataset, &partition, name));
                }
            }
        }
        Ok(out)
    }

    /// Deletes one object (garbage collection).
    pub async fn delete(&self, path: &Path) -> Result<()> {
        match self.inner.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("deleting {path} in {}", self.url)),
        }
    }

    /// The folder of a local store (`file://`), for what only the file
    /// system shows: temp files of interrupted writes.
    pub fn local_root(&self) -> Option<std::path::PathBuf> {
        self.url
            .strip_prefix("file://")
            .map(std::path::PathBuf::from)
    }

    /// The folder where a partition's output rejected by a blocking check
    /// waits to be inspected: `_strata/quarantine/<layer>/<name>/<partition>`.
    pub fn quarantine_dir(dataset: &DatasetId, partition: &str) -> Path {
        Path::from_iter([
            "_strata",
            "quarantine",
            dataset.layer.as_str(),
            dataset.name.as_str(),
            partition,
        ])
    }

    /// Puts a partition's rejected output in quarantine: its data files and
    /// the manifest it would have had (with the check results that rejected
    /// it), replacing whatever an earlier rejection left there. Fenced like
    /// a commit; the partition itself is untouched.
    pub async fn quarantine(
        &self,
        dataset: &DatasetId,
        manifest: &Manifest,
        files: Vec<Bytes>,
        fence: &Fence,
    ) -> Result<Path, CommitError> {
        let dir = Self::quarantine_dir(dataset, &manifest.partition);
        self.delete_prefix(&dir).await?;
        fence.check().await?;
        for (entry, bytes) in manifest.files.iter().zip(files) {
            let path = dir.clone().join(entry.path.as_str());
            self.inner
                .put(&path, PutPayload::from_bytes(bytes))
                .await
                .with_context(|| format!("writing {path} in {}", self.url))?;
        }
        let path = dir.clone().join(MANIFEST_FILE);
        self.inner
            .put(&path, PutPayload::from(manifest.to_json()))
            .await
            .with_context(|| format!("writing {path} in {}", self.url))?;
        Ok(dir)
    }

    /// The manifest of a partition's quarantined output, if it has one.
    pub async fn read_quarantined(
        &self,
        dataset: &DatasetId,
        partition: &str,
    ) -> Result<Option<Manifest>> {
        let path = Self::quarantine_dir(dataset, partition).join(MANIFEST_FILE);
        let Some(bytes) = self.read_state(&path).await? else {
            return Ok(None);
        };
        Manifest::parse(&bytes, &dataset.to_string(), partition)
            .map(Some)
            .with_context(|| format!("reading {path} in {}", self.url))
    }

    /// Reads one data file of a partition's quarantined output.
    pub async fn read_quarantined_file(
        &self,
        dataset: &DatasetId,
        partition: &str,
        name: &str,
    ) -> Result<Bytes> {
        self.read_object(&Self::quarantine_dir(dataset, partition).join(name))
            .await
    }

    /// Deletes every object under a prefix.
    pub async fn delete_prefix(&self, prefix: &Path) -> Result<()> {
        let found: Vec<Path> = self
            .inner
            .list(Some(prefix))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .with_context(|| format!("listing {prefix} in {}", self.url))?;
        for path in found {
            self.delete(&path).await?;
        }
        Ok(())
    }

    /// Reads a small state object under `_strata/` (failure records, run
    /// records, …); `None` if there is none.
    pub async fn read_state(&self, path: &Path) -> Result<Option<Bytes>> {
        let read = match self.inner.get(path).await {
            Ok(r) => r.bytes().await,
            Err(e) => Err(e),
        };
        match read {
            Ok(bytes) => Ok(Some(bytes)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {path} in {}", self.url)),
        }
    }

    /// Writes a small state object under `_strata/`, fenced by the lease.
    pub async fn write_state(
        &self,
        path: &Path,
        bytes: Vec<u8>,
        fence: &Fence,
    ) -> Result<(), CommitError> {
        fence.check().await?;
        self.inner
            .put(path, PutPayload::from(bytes))
            .await
            .with_context(|| format!("writing {path} in {}", self.url))?;
        Ok(())
    }

    /// Where a plugin travels by content to the executors of a distributed
    /// run: `_strata/plugins/<sha256>.wasm`.
    pub fn plugin_path(sha256: &str) -> Path {
        Path::from_iter(["_strata", "plugins", &format!("{sha256}.wasm")])
    }

    /// Puts a plugin's bytes at [`Store::plugin_path`] unless they are there
    /// already (the name is their hash, so what is there is the same).
    pub async fn put_plugin(&self, sha256: &str, bytes: Bytes) -> Result<()> {
        let path = Self::plugin_path(sha256);
        let put = self
            .inner
            .put_opts(
                &path,
                PutPayload::from_bytes(bytes),
                object_store::PutMode::Create.into(),
            )
            .await;
        match put {
            Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("writing {path} in {}", self.url)),
        }
    }

    /// A plugin put by [`Store::put_plugin`]; the caller checks its hash.
    pub async fn read_plugin(&self, sha256: &str) -> Result<Bytes> {
        self.read_object(&Self::plugin_path(sha256)).await
    }

    /// The size of an object, if it exists.
    pub async fn size_of(&self, path: &Path) -> Result<Option<u64>> {
        match self.inner.head(path).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {path} in {}", self.url)),
        }
    }

    /// Deletes a partition's manifest, which makes the partition missing.
    pub async fn delete_manifest(&self, dataset: &DatasetId, partition: &str) -> Result<()> {
        let path = Self::file_path(dataset, partition, MANIFEST_FILE);
        match self.inner.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("deleting {path}")),
        }
    }
}
