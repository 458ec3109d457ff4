//! Reading what the store holds for a dataset, before anything is planned.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Result;
use futures::StreamExt;
use strata_core::config::Dataset;
use strata_core::planner::Observed;
use strata_store::{Health, ManifestCache, ManifestRead, Store};

/// Reads what the store holds for every expected partition of a dataset:
/// the dataset's manifest cache and its folders listed
/// (`Store::scan_expected`), and a GET of each manifest the cache does not
/// hold as listed (and of every one `rehash` names). Returns the cache
/// brought up to date with what was read.
pub(crate) async fn observe(
    store: &Store,
    dataset: &Dataset,
    expected: &[String],
    rehash: &(dyn Fn(&str) -> bool + Sync),
) -> Result<(HashMap<String, Observed>, ManifestCache)> {
    let (folders, mut cache) = store.scan_expected(&dataset.id, expected).await;
    let folders = folders?;
    let cached = &cache;
    let reads = futures::stream::iter(expected.iter().cloned())
        .map(|partition| {
            let folder = folders.get(&partition);
            async move {
                let Some(folder) = folder.filter(|f| f.has_manifest()) else {
                    return Ok((partition, Observed::Missing, None));
                };
                let from_cache = match &folder.manifest_tag {
                    Some(tag) if !rehash(&partition) => cached.get(&partition, tag),
                    _ => None,
                };
                let (manifest, read_tag) = match from_cache {
                    Some(m) => (m, None),
                    None => match store.read_manifest_tagged(&dataset.id, &partition).await? {
                        (ManifestRead::Missing, _) => {
                            return Ok((partition, Observed::Missing, None));
                        }
                        (ManifestRead::Invalid(e), _) => {
                            return Ok((partition, Observed::Invalid(e), None));
                        }
                        (ManifestRead::Valid(m), tag) => (Arc::new(*m), tag),
                    },
                };
                let health = match Store::check(&manifest, Some(folder)) {
                    Health::Intact if rehash(&partition) => {
                        store.verify(&dataset.id, &manifest).await?
                    }
                    health => health,
                };
                let seen = match health {
                    Health::Intact => Observed::Intact(manifest),
                    Health::Damaged(why) => Observed::Damaged(manifest, why),
                };
                anyhow::Ok((partition, seen, read_tag))
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    let mut observed = HashMap::with_capacity(expected.len());
    for read in reads {
        let (partition, seen, read_tag) = read?;
        match seen.manifest() {
            Some(m) => cache.insert(&partition, read_tag, m.clone()),
            None => cache.remove(&partition),
        }
        observed.insert(partition, seen);
    }
    cache.retain(|partition| observed.contains_key(partition));
    Ok((observed, cache))
}
