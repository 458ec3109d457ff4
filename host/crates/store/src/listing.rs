//! Listing a dataset's partition folders on an object store as several
//! LISTs at once.
//!
//! A LIST returns at most a page of keys (1,000 on S3) per round trip, so
//! one LIST of a dataset with thousands of partitions is a chain of
//! sequential round trips. Partition ids sort as their keys do, so the
//! expected partitions cut the dataset's key space into ranges, each listed
//! on its own from its first partition's folder and stopped at the next
//! range's: every key lands in exactly one range, and keys before the first
//! expected partition (the `_delta_log`, folders of periods no longer in
//! the pipeline) are not listed at all.
//!
//! A range is cut to about one page of the keys its partitions are
//! expected to hold (their files as the manifest cache knows them), so it
//! takes one LIST, and that LIST's page carries few keys of the next range:
//! a page is paid for by the key, in bytes on a cloud store and in time on
//! a test server such as moto.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Result;
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use object_store::path::Path;

use crate::FolderListing;

/// Keys per range: under the 1,000 of an S3 or GCS page, with room for a
/// few keys the manifest cache does not know of.
const KEYS_PER_LIST: usize = 900;

/// The keys expected of a partition the manifest cache does not know: its
/// manifest and one data file.
pub(crate) const KEYS_OF_UNKNOWN: usize = 2;

/// LISTs in flight at once.
const CONCURRENT_LISTS: usize = 16;

/// Where one LIST starts (keys after `after`) and stops (keys from
/// `before` on belong to the next range).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Range {
    pub(crate) after: Option<String>,
    pub(crate) before: Option<String>,
}

/// The ranges listing the folders of `expected` (any order) under
/// `prefix`, each of about `KEYS_PER_LIST` keys as `keys` counts them per
/// partition: one open range when they are few.
pub(crate) fn ranges(
    prefix: &Path,
    expected: &[String],
    keys: impl Fn(&str) -> usize,
) -> Vec<Range> {
    let mut sorted: Vec<&str> = expected.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut starts: Vec<String> = Vec::new();
    let mut in_range = KEYS_PER_LIST;
    for partition in sorted {
        let k = keys(partition).max(1);
        if in_range + k > KEYS_PER_LIST {
            starts.push(format!("{prefix}/{partition}"));
            in_range = 0;
        }
        in_range += k;
    }
    if starts.len() <= 1 {
        return vec![Range {
            after: None,
            before: None,
        }];
    }
    (0..starts.len())
        .map(|i| Range {
            after: Some(starts[i].clone()),
            before: starts.get(i + 1).cloned(),
        })
        .collect()
}

/// Every partition folder under `prefix` (the dataset's folder, `depth`
/// parts deep) that `ranges(prefix, expected, keys)` covers, listed with up
/// to `CONCURRENT_LISTS` LISTs at once.
pub(crate) async fn scan(
    store: &Arc<dyn ObjectStore>,
    prefix: &Path,
    expected: &[String],
    keys: impl Fn(&str) -> usize,
) -> Result<HashMap<String, FolderListing>> {
    let depth = prefix.parts().count();
    let lists = ranges(prefix, expected, keys).into_iter().map(|range| {
        let store = store.clone();
        async move {
            let mut out: Vec<(String, String, u64, Option<String>)> = Vec::new();
            let mut listing = match &range.after {
                Some(after) => store.list_with_offset(Some(prefix), &Path::from(after.as_str())),
                None => store.list(Some(prefix)),
            };
            while let Some(meta) = listing.try_next().await? {
                let key = meta.location.as_ref();
                if range.before.as_deref().is_some_and(|b| key >= b) {
                    break;
                }
                let parts: Vec<_> = meta.location.parts().collect();
                if parts.len() != depth + 2 || !crate::is_partition_folder(parts[depth].as_ref()) {
                    continue;
                }
                out.push((
                    parts[depth].as_ref().to_owned(),
                    parts[depth + 1].as_ref().to_owned(),
                    meta.size,
                    meta.e_tag,
                ));
            }
            anyhow::Ok(out)
        }
    });
    let mut folders: HashMap<String, FolderListing> = HashMap::new();
    let mut pages = futures::stream::iter(lists).buffer_unordered(CONCURRENT_LISTS);
    while let Some(found) = pages.next().await {
        for (folder, name, size, tag) in found? {
            let listing = folders.entry(folder).or_default();
            if name == strata_core::manifest::MANIFEST_FILE {
                listing.manifest_tag = tag.map(crate::entity_tag);
            }
            listing.files.insert(name, size);
        }
    }
    Ok(folders)
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::ObjectStoreExt;

    fn days(n: usize) -> Vec<String> {
        let start = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        (0..n)
            .map(|i| format!("date={}", start + chrono::Days::new(i as u64)))
            .collect()
    }

    /// Partitions of two keys that fill one range.
    const PER_RANGE: usize = KEYS_PER_LIST / 2;

    #[test]
    fn few_partitions_are_one_open_list() {
        let prefix = Path::from("silver/orders");
        assert_eq!(
            ranges(&prefix, &days(PER_RANGE), |_| 2),
            vec![Range {
                after: None,
                before: None
            }]
        );
    }

    #[test]
    fn many_partitions_are_adjoining_ranges_from_the_first_partition() {
        let prefix = Path::from("silver/orders");
        let mut expected = days(PER_RANGE * 2 + 1);
        expected.reverse();
        let ranges = ranges(&prefix, &expected, |_| 2);
        assert_eq!(ranges.len(), 3);
        assert_eq!(
            ranges[0].after.as_deref(),
            Some("silver/orders/date=2020-01-01")
        );
        // Each range stops where the next one starts; the last is open.
        assert_eq!(ranges[0].before, ranges[1].after);
        assert_eq!(ranges[1].before, ranges[2].after);
        assert_eq!(ranges[2].before, None);
        assert_eq!(
            ranges[2].after.as_deref(),
            Some(format!("silver/orders/{}", days(PER_RANGE * 2 + 1)[PER_RANGE * 2]).as_str())
        );
    }

    #[test]
    fn a_range_holds_about_a_page_of_the_keys_its_partitions_have() {
        let prefix = Path::from("raw/pages");
        // The first 10 days hold 100 files each, the rest one.
        let expected = days(400);
        let keys = |p: &str| if p < expected[10].as_str() { 101 } else { 2 };
        let cut = ranges(&prefix, &expected, keys);
        let starts: Vec<&str> = cut.iter().filter_map(|r| r.after.as_deref()).collect();
        // 8 busy days fill the first range (808 keys); the other two and 349
        // quiet ones the second (202 + 698 = 900); the last 41 the third.
        let at = |i: usize| format!("raw/pages/{}", expected[i]);
        assert_eq!(starts, [at(0), at(8), at(359)]);
    }

    #[tokio::test]
    async fn split_listing_sees_every_expected_folder_once_and_nothing_before_them() {
        let store: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        let prefix = Path::from("bronze/orders");
        let expected = days(PER_RANGE * 3 + 7);
        for day in &expected {
            for name in ["_manifest.json", "part-1.parquet"] {
                store
                    .put(
                        &prefix.clone().join(day.as_str()).join(name),
                        vec![1u8; 3].into(),
                    )
                    .await
                    .unwrap();
            }
        }
        // A folder of a period no longer expected, sorting before the first.
        store
            .put(
                &prefix
                    .clone()
                    .join("date=2019-12-31")
                    .join("_manifest.json"),
                vec![0u8].into(),
            )
            .await
            .unwrap();
        let folders = scan(&store, &prefix, &expected, |_| 2).await.unwrap();
        assert_eq!(folders.len(), expected.len());
        assert!(!folders.contains_key("date=2019-12-31"));
        for day in &expected {
            let folder = &folders[day];
            assert!(folder.has_manifest(), "{day}");
            assert_eq!(folder.files.len(), 2, "{day}");
            assert_eq!(folder.files["part-1.parquet"], 3);
        }
    }
}
