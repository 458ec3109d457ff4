//! Every manifest of a dataset copied into one object,
//! `_strata/manifests/<layer>/<name>.json`, so planning reads one object per
//! dataset instead of one per partition: a no-op run over thousands of
//! partitions is a LIST and a GET per dataset, which matters most on S3,
//! GCS and Azure, where every GET is a round trip.
//!
//! It is a cache, never the truth. An entry is used only while the LIST of
//! the store shows that partition's `_manifest.json` with the entity tag
//! (ETag) it had when it was copied: a manifest rewritten, replaced or
//! deleted since is read from its folder again. A copied manifest passes the
//! same checks as one read from its folder. A cache object that is missing
//! or does not parse is ignored, and the next run that writes writes it
//! anew. Only runs write it, under their lease; `host status` reads it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use strata_core::manifest::Manifest;

/// The cache file format this host writes and reads.
const CACHE_FORMAT: u32 = 1;

/// The manifests of one dataset, by partition, each with the entity tag of
/// the `_manifest.json` it was copied from.
#[derive(Debug, Default)]
pub struct ManifestCache {
    entries: HashMap<String, Entry>,
    /// Whether this differs from what the store holds.
    changed: bool,
}

#[derive(Debug, Clone)]
struct Entry {
    tag: String,
    manifest: Arc<Manifest>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile<M> {
    format: u32,
    dataset: String,
    partitions: BTreeMap<String, CachedManifest<M>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CachedManifest<M> {
    tag: String,
    manifest: M,
}

impl ManifestCache {
    /// Reads a cache object of `dataset`. Anything unusable gives an empty
    /// cache; an entry that fails the manifest checks is left out.
    pub fn parse(bytes: &[u8], dataset: &str) -> ManifestCache {
        let file: CacheFile<Manifest> = match serde_json::from_slice(bytes) {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!("manifest cache of {dataset} ignored: {e}");
                return ManifestCache::stale();
            }
        };
        if file.format != CACHE_FORMAT || file.dataset != dataset {
            return ManifestCache::stale();
        }
        let mut cache = ManifestCache::default();
        for (partition, cached) in file.partitions {
            match cached.manifest.check(dataset, &partition) {
                Ok(manifest) => {
                    cache.entries.insert(
                        partition,
                        Entry {
                            tag: cached.tag,
                            manifest: Arc::new(manifest),
                        },
                    );
                }
                Err(_) => cache.changed = true,
            }
        }
        cache
    }

    /// An empty cache that replaces whatever the store holds.
    pub fn stale() -> ManifestCache {
        ManifestCache {
            changed: true,
            ..ManifestCache::default()
        }
    }

    /// The cached manifest of `partition` if its `_manifest.json` still has
    /// the entity tag `tag`.
    pub fn get(&self, partition: &str, tag: &str) -> Option<Arc<Manifest>> {
        self.entries
            .get(partition)
            .filter(|e| e.tag == tag)
            .map(|e| e.manifest.clone())
    }

    /// How many keys the folder of `partition` holds by its cached
    /// manifest: its files and the manifest.
    pub fn keys(&self, partition: &str) -> Option<usize> {
        self.entries
            .get(partition)
            .map(|e| e.manifest.files.len() + 1)
    }

    /// Records the manifest of `partition`, read or written with entity tag
    /// `tag`. Without a tag (taken from this cache, or from a store that
    /// gives none) the entry stays only if it holds this very manifest.
    pub fn insert(&mut self, partition: &str, tag: Option<String>, manifest: Arc<Manifest>) {
        let Some(tag) = tag else {
            if self
                .entries
                .get(partition)
                .is_some_and(|e| !same_manifest(&e.manifest, &manifest))
            {
                self.remove(partition);
            }
            return;
        };
        let same = self
            .entries
            .get(partition)
            .is_some_and(|e| e.tag == tag && same_manifest(&e.manifest, &manifest));
        if !same {
            self.entries
                .insert(partition.to_owned(), Entry { tag, manifest });
            self.changed = true;
        }
    }

    /// Forgets `partition`.
    pub fn remove(&mut self, partition: &str) {
        if self.entries.remove(partition).is_some() {
            self.changed = true;
        }
    }

    /// Keeps only the partitions for which `keep` holds.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        let before = self.entries.len();
        self.entries.retain(|partition, _| keep(partition));
        self.changed |= self.entries.len() != before;
    }

    /// Whether the store's copy needs rewriting.
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// The cache object's bytes.
    pub fn to_json(&self, dataset: &str) -> Vec<u8> {
        let file = CacheFile {
            format: CACHE_FORMAT,
            dataset: dataset.to_owned(),
            partitions: self
                .entries
                .iter()
                .map(|(partition, e)| {
                    (
                        partition.clone(),
                        CachedManifest {
                            tag: e.tag.clone(),
                            manifest: &*e.manifest,
                        },
                    )
                })
                .collect(),
        };
        serde_json::to_vec(&file).expect("a manifest cache always serialises")
    }

    /// Marks the cache as what the store holds.
    pub fn saved(&mut self) {
        self.changed = false;
    }
}

/// Whether two manifests are equal; the one a planning run took from this
/// cache is the cache's own, which needs no comparison field by field.
fn same_manifest(a: &Arc<Manifest>, b: &Arc<Manifest>) -> bool {
    Arc::ptr_eq(a, b) || a == b
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::manifest::{FORMAT_VERSION, Producer, content_hash};

    fn manifest(partition: &str) -> Manifest {
        let files = vec![];
        Manifest {
            format: FORMAT_VERSION,
            dataset: "silver/t".into(),
            partition: partition.into(),
            key: "0".repeat(64),
            content_hash: content_hash(&files),
            files,
            rows: Some(0),
            schema: vec![],
            producer: Producer::Plugin {
                name: "p".into(),
                version: "1".into(),
                sha256: "1".repeat(64),
            },
            params: serde_json::Value::Null,
            inputs: vec![],
            written_at: "2025-02-01T00:00:00.000Z".into(),
            host_version: "0".into(),
            invalidated: None,
            checks: vec![],
        }
    }

    #[test]
    fn an_entry_is_used_only_with_its_tag() {
        let mut cache = ManifestCache::default();
        cache.insert(
            "date=2025-02-01",
            Some("t1".into()),
            Arc::new(manifest("date=2025-02-01")),
        );
        let back = ManifestCache::parse(&cache.to_json("silver/t"), "silver/t");
        assert!(!back.changed());
        assert!(back.get("date=2025-02-01", "t1").is_some());
        assert!(back.get("date=2025-02-01", "t2").is_none());
        assert!(back.get("date=2025-02-02", "t1").is_none());
    }

    #[test]
    fn an_unusable_cache_is_empty_and_rewritten() {
        for bytes in [
            &b""[..],
            b"{",
            b"[]",
            b"{\"format\": 2, \"dataset\": \"silver/t\", \"partitions\": {}}",
        ] {
            let cache = ManifestCache::parse(bytes, "silver/t");
            assert!(cache.entries.is_empty() && cache.changed());
        }
        let mut cache = ManifestCache::default();
        cache.insert(
            "date=2025-02-01",
            Some("t".into()),
            Arc::new(manifest("date=2025-02-01")),
        );
        let other = ManifestCache::parse(&cache.to_json("silver/t"), "silver/u");
        assert!(other.entries.is_empty(), "a cache of another dataset");
    }

    #[test]
    fn an_entry_failing_the_manifest_checks_is_left_out() {
        let mut cache = ManifestCache::default();
        // Filed under another partition than the manifest names.
        cache.insert(
            "date=2025-02-09",
            Some("t".into()),
            Arc::new(manifest("date=2025-02-01")),
        );
        cache.insert(
            "date=2025-02-01",
            Some("t".into()),
            Arc::new(manifest("date=2025-02-01")),
        );
        let back = ManifestCache::parse(&cache.to_json("silver/t"), "silver/t");
        assert!(back.get("date=2025-02-09", "t").is_none());
        assert!(back.get("date=2025-02-01", "t").is_some());
        assert!(back.changed());
    }

    #[test]
    fn inserting_what_is_there_changes_nothing() {
        let mut cache = ManifestCache::default();
        let m = Arc::new(manifest("date=2025-02-01"));
        cache.insert("date=2025-02-01", Some("t".into()), m.clone());
        cache.saved();
        cache.insert("date=2025-02-01", Some("t".into()), m.clone());
        assert!(!cache.changed());
        cache.insert("date=2025-02-01", Some("u".into()), m);
        assert!(cache.changed());
        cache.saved();
        cache.retain(|p| p != "date=2025-02-01");
        assert!(cache.changed() && cache.get("date=2025-02-01", "u").is_none());
    }
}
