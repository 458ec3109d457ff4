//! Input partitions read once per dataset run, however many partitions
//! read them.
//!
//! A window input makes neighbouring partitions read the same input days: a
//! 7-day rolling window over 30 days reads 210 input partitions where 30
//! are distinct, and healing one day recomputes 7 windows that read 13
//! distinct days 49 times. Before a dataset's partitions start, the run
//! counts how many of them read each input partition. One read by two or
//! more is decoded once and kept in memory, within a budget, until its last
//! reader has taken it; one read by a single partition is streamed from the
//! store as before, so a large partition never has to fit in memory for
//! being read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use arrow::record_batch::RecordBatch;
use serde::Serialize;
use strata_core::manifest::Manifest;

use crate::failure::Failure;

/// Decoded input kept for later readers, at most, per dataset run.
pub(crate) const BUDGET_BYTES: usize = 512 << 20;

/// An input partition as one run reads it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    dataset: String,
    partition: String,
    content_hash: String,
}

impl Key {
    fn of(manifest: &Manifest) -> Key {
        Key {
            dataset: manifest.dataset.clone(),
            partition: manifest.partition.clone(),
            content_hash: manifest.content_hash.clone(),
        }
    }
}

/// A shared input partition: its readers still to come, and its batches
/// once the first reader has decoded them (none if that failed or did not
/// fit the budget: each reader then reads it itself).
struct Slot {
    readers_left: usize,
    batches: Arc<OnceLock<Option<Kept>>>,
}

/// Batches decoded by a partition's first reader, of the columns it read
/// (`None`: all). A later reader of other columns reads for itself.
#[derive(Clone)]
struct Kept {
    columns: Option<Vec<String>>,
    batches: Arc<[RecordBatch]>,
}

/// What a dataset's run read from its inputs, for `run --json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InputsRead {
    /// Input partitions read from the store.
    pub partitions: u64,
    /// Bytes of input data files fetched from the store.
    pub bytes: u64,
    /// Input partitions handed over from memory, decoded by an earlier
    /// reader in this run.
    pub shared: u64,
}

/// The input partitions of one dataset's run.
pub(crate) struct InputCache {
    budget: usize,
    state: Mutex<State>,
    partitions: AtomicU64,
    bytes: Arc<AtomicU64>,
    shared: AtomicU64,
}

#[derive(Default)]
struct State {
    slots: HashMap<Key, Slot>,
    /// Bytes of decoded batches held.
    held: usize,
}

impl InputCache {
    /// A cache for a run whose partitions read `reads` (every input
    /// manifest of every partition to compute, repeats included).
    pub(crate) fn new<'a>(reads: impl IntoIterator<Item = &'a Manifest>, budget: usize) -> Self {
        let mut counts: HashMap<Key, usize> = HashMap::new();
        for manifest in reads {
            *counts.entry(Key::of(manifest)).or_default() += 1;
        }
        let slots = counts
            .into_iter()
            .filter(|(_, readers)| *readers > 1)
            .map(|(key, readers)| {
                (
                    key,
                    Slot {
                        readers_left: readers,
                        batches: Arc::default(),
                    },
                )
            })
            .collect();
        InputCache {
            budget,
            state: Mutex::new(State { slots, held: 0 }),
            partitions: AtomicU64::new(0),
            bytes: Arc::default(),
            shared: AtomicU64::new(0),
        }
    }

    /// A cache that shares nothing (a recheck, a task of a distributed run).
    pub(crate) fn none() -> Self {
        Self::new([], 0)
    }

    /// The batches of input partition `manifest` (its `columns`, `None`
    /// for all) if it is shared: decoded by `load` for the first of its
    /// readers (the others wait for it), from memory for the rest that read
    /// the same columns. `None`: read it from the store, streaming.
    pub(crate) fn read(
        &self,
        manifest: &Manifest,
        columns: Option<&[String]>,
        load: impl FnOnce() -> Result<Vec<RecordBatch>, Failure>,
    ) -> Result<Option<Arc<[RecordBatch]>>, Failure> {
        let key = Key::of(manifest);
        let slot = {
            let mut state = self.state.lock().expect("input cache");
            let Some(slot) = state.slots.get_mut(&key) else {
                return Ok(None);
            };
            slot.readers_left -= 1;
            let batches = slot.batches.clone();
            let last = slot.readers_left == 0;
            if last {
                state.slots.remove(&key);
            }
            (batches, last)
        };
        let (slot, last) = slot;
        let mut first: Option<Result<Arc<[RecordBatch]>, Failure>> = None;
        let kept = slot.get_or_init(|| {
            let decoded = load().map(Arc::<[RecordBatch]>::from);
            let kept = decoded
                .as_ref()
                .ok()
                .filter(|b| self.take_budget(b))
                .map(|batches| Kept {
                    columns: columns.map(<[String]>::to_vec),
                    batches: batches.clone(),
                });
            first = Some(decoded);
            kept
        });
        if last && let Some(kept) = kept {
            // The budget they took is free again once this reader is done
            // with them.
            let mut state = self.state.lock().expect("input cache");
            state.held = state.held.saturating_sub(size_of_batches(&kept.batches));
        }
        match (first, kept) {
            (Some(decoded), _) => decoded.map(Some),
            (None, Some(kept)) if kept.columns.as_deref() == columns => {
                self.shared.fetch_add(1, Ordering::Relaxed);
                Ok(Some(kept.batches.clone()))
            }
            (None, _) => Ok(None),
        }
    }

    /// Takes budget for `batches` if there is enough left.
    fn take_budget(&self, batches: &[RecordBatch]) -> bool {
        let size = size_of_batches(batches);
        let mut state = self.state.lock().expect("input cache");
        let fits = state.held + size <= self.budget;
        if fits {
            state.held += size;
        }
        fits
    }

    /// Counts a read from the store of `bytes` bytes of data files.
    pub(crate) fn count_read(&self, bytes: u64) {
        self.partitions.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts a read from the store of some columns of a partition; the
    /// counter its reader adds the bytes it fetches to.
    pub(crate) fn count_partial_read(&self) -> Arc<AtomicU64> {
        self.partitions.fetch_add(1, Ordering::Relaxed);
        self.bytes.clone()
    }

    /// What was read so far.
    pub(crate) fn report(&self) -> InputsRead {
        InputsRead {
            partitions: self.partitions.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            shared: self.shared.load(Ordering::Relaxed),
        }
    }
}

fn size_of_batches(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::get_array_memory_size).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::FailureKind;
    use arrow::array::Int64Array;
    use std::cell::Cell;

    fn manifest(partition: &str) -> Manifest {
        let dataset = strata_core::DatasetId::parse("silver/orders").unwrap();
        let mut m = crate::execute::new_manifest(crate::execute::NewManifest {
            dataset: &dataset,
            partition,
            key: "k".into(),
            files: vec![],
            rows: Some(3),
            schema: vec![],
            producer: strata_core::manifest::Producer::Plugin {
                name: "p".into(),
                version: "1".into(),
                sha256: "s".into(),
            },
            params: serde_json::Value::Null,
            inputs: vec![],
        });
        m.content_hash = format!("hash-of-{partition}");
        m
    }

    fn batch() -> Vec<RecordBatch> {
        let values = Arc::new(Int64Array::from(vec![1, 2, 3]));
        vec![RecordBatch::try_from_iter([("n", values as _)]).unwrap()]
    }

    #[test]
    fn a_partition_read_once_is_streamed_and_never_held() {
        let day = manifest("date=2026-01-01");
        let cache = InputCache::new([&day], BUDGET_BYTES);
        let read = cache
            .read(&day, None, || panic!("not decoded whole"))
            .unwrap();
        assert!(read.is_none());
    }

    #[test]
    fn a_partition_three_windows_read_is_decoded_once_and_released_after_the_last() {
        let day = manifest("date=2026-01-01");
        let cache = InputCache::new([&day, &day, &day], BUDGET_BYTES);
        let loads = Cell::new(0);
        for _ in 0..3 {
            let batches = cache
                .read(&day, None, || {
                    loads.set(loads.get() + 1);
                    Ok(batch())
                })
                .unwrap()
                .expect("shared");
            assert_eq!(batches[0].num_rows(), 3);
        }
        assert_eq!(loads.get(), 1);
        assert_eq!(cache.report().shared, 2);
        let state = cache.state.lock().unwrap();
        assert!(state.slots.is_empty());
        assert_eq!(state.held, 0);
    }

    #[test]
    fn over_the_budget_each_reader_reads_for_itself() {
        let day = manifest("date=2026-01-01");
        let cache = InputCache::new([&day, &day], 1);
        let first = cache.read(&day, None, || Ok(batch())).unwrap();
        assert!(first.is_some(), "the first reader gets what it decoded");
        let second = cache
            .read(&day, None, || panic!("waits, then streams"))
            .unwrap();
        assert!(second.is_none());
        assert_eq!(cache.report().shared, 0);
    }

    #[test]
    fn a_failed_first_read_fails_that_reader_and_the_next_reads_itself() {
        let day = manifest("date=2026-01-01");
        let cache = InputCache::new([&day, &day], BUDGET_BYTES);
        let failed = cache
            .read(&day, None, || Err(Failure::new(FailureKind::Store, "gone")))
            .unwrap_err();
        assert!(failed.to_string().contains("gone"), "{failed}");
        assert!(
            cache
                .read(&day, None, || panic!("not again"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_reader_of_other_columns_reads_for_itself() {
        let day = manifest("date=2026-01-01");
        let cache = InputCache::new([&day, &day, &day], BUDGET_BYTES);
        let n = ["n".to_owned()];
        let first = cache.read(&day, Some(&n), || Ok(batch())).unwrap();
        assert!(first.is_some());
        assert!(
            cache
                .read(&day, None, || panic!("streams"))
                .unwrap()
                .is_none()
        );
        let same = cache.read(&day, Some(&n), || panic!("shared")).unwrap();
        assert!(same.is_some());
        assert_eq!(cache.report().shared, 1);
    }

    #[test]
    fn a_changed_partition_is_another_input() {
        let day = manifest("date=2026-01-01");
        let mut changed = day.clone();
        changed.content_hash = "another".into();
        let cache = InputCache::new([&day, &changed], BUDGET_BYTES);
        assert!(
            cache
                .read(&day, None, || panic!("alone"))
                .unwrap()
                .is_none()
        );
    }
}
