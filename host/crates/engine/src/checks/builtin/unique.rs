//! `unique`: the keys a partition has seen, repeats found once at the end.

use super::*;

// ---- unique ---------------------------------------------------------------

pub(super) struct Unique {
    pub(super) inputs: Vec<Input>,
    pub(super) converter: RowConverter,
    /// A batch's keys row-encoded; the buffer is reused batch to batch.
    pub(super) rows: Rows,
    pub(super) keys: Keys,
}

impl Unique {
    pub(super) fn observe(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let arrays = self
            .inputs
            .iter()
            .map(|i| i.get(batch))
            .collect::<Result<Vec<_>, _>>()?;
        self.rows.clear();
        self.converter
            .append(&mut self.rows, &arrays)
            .map_err(arrow_error)?;
        // A key with a null in it equals no other key (as in SQL).
        let nulls = NullBuffer::union_many(arrays.iter().map(|a| a.nulls()));
        for (i, row) in self.rows.iter().enumerate() {
            if nulls.as_ref().is_none_or(|n| n.is_valid(i)) {
                self.keys.push(row.as_ref());
            }
        }
        Ok(())
    }

    pub(super) fn finish(mut self, rows: u64) -> Outcome {
        let names = self
            .inputs
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>();
        if self.keys.overflow {
            return Outcome::fail(
                0,
                format!(
                    "more than {} rows with a key: too many for `unique` in one partition",
                    u32::MAX
                ),
                vec![],
            );
        }
        let (repeated, firsts) = self.keys.repeats(MAX_SAMPLES);
        if repeated == 0 {
            let what = match names.as_slice() {
                [one] => (*one).to_owned(),
                many => format!("({})", many.join(", ")),
            };
            return Outcome::pass(format!("every {what} is unique ({})", count(rows)));
        }
        let key = match names.as_slice() {
            [one] => format!("value of {one}"),
            many => format!("combination of ({})", many.join(", ")),
        };
        // The sampled keys, decoded from their row bytes.
        let parser = self.converter.parser();
        let decoded = self
            .converter
            .convert_rows(firsts.iter().map(|&k| parser.parse(self.keys.key(k))));
        let samples = match decoded {
            Ok(arrays) => (0..firsts.len())
                .map(|i| {
                    let text = names
                        .iter()
                        .zip(&arrays)
                        .map(|(name, array)| format!("{name}={}", display(array, i)))
                        .collect::<Vec<_>>()
                        .join(", ");
                    clip(text)
                })
                .collect(),
            Err(e) => vec![format!("<{e}>")],
        };
        Outcome::fail(
            repeated,
            format!("{repeated} of {rows} rows repeat a {key} already seen"),
            samples,
        )
    }
}

/// The non-null keys `unique` has seen, row-encoded, in arrival order.
///
/// Repeats are found once, at the end: the keys' hashes are sorted, so equal
/// keys become neighbours, and are then compared in full (a hash collision
/// costs time, never a wrong answer). A sort and a scan touch memory in
/// order; probing a hash table of millions of keys would cost a cache and
/// TLB miss per row, several times slower.
pub(super) struct Keys<S = RandomState> {
    pub(super) hasher: S,
    /// The keys' bytes, one after another.
    pub(super) arena: Vec<u8>,
    /// Where each key ends in `arena` (the first starts at 0).
    pub(super) ends: Vec<usize>,
    /// Per key: the top 32 bits of its hash, then its arrival number.
    pub(super) entries: Vec<u64>,
    /// More keys than arrival numbers fit in 32 bits.
    pub(super) overflow: bool,
}

impl Default for Keys {
    fn default() -> Self {
        Keys::with_hasher(RandomState::new())
    }
}

impl<S: BuildHasher> Keys<S> {
    pub(super) fn with_hasher(hasher: S) -> Self {
        Keys {
            hasher,
            arena: Vec::new(),
            ends: Vec::new(),
            entries: Vec::new(),
            overflow: false,
        }
    }

    pub(super) fn push(&mut self, key: &[u8]) {
        let Ok(number) = u32::try_from(self.ends.len()) else {
            self.overflow = true;
            return;
        };
        let hash = self.hasher.hash_one(key);
        self.arena.extend_from_slice(key);
        self.ends.push(self.arena.len());
        self.entries.push((hash >> 32) << 32 | u64::from(number));
    }

    /// The bytes of the key that arrived `number`th.
    pub(super) fn key(&self, number: usize) -> &[u8] {
        let start = number.checked_sub(1).map_or(0, |before| self.ends[before]);
        &self.arena[start..self.ends[number]]
    }

    /// How many keys repeat one that arrived before them, and the arrival
    /// numbers of up to `limit` distinct repeated keys: those repeated
    /// earliest, in that order.
    pub(super) fn repeats(&mut self, limit: usize) -> (u64, Vec<usize>) {
        self.entries.sort_unstable();
        let mut repeated = 0u64;
        // (arrival of its first repeat, its first arrival), the latest on top.
        let mut sampled = BinaryHeap::new();
        // The distinct keys of a run of equal hashes: first arrival, whether
        // repeated yet.
        let mut distinct: Vec<(usize, bool)> = Vec::new();
        for run in self.entries.chunk_by(|a, b| a >> 32 == b >> 32) {
            if run.len() < 2 {
                continue;
            }
            distinct.clear();
            // Within a run, keys are in arrival order.
            for &entry in run {
                let number = (entry & u64::from(u32::MAX)) as usize;
                let key = self.key(number);
                match distinct
                    .iter_mut()
                    .find(|(first, _)| self.key(*first) == key)
                {
                    None => distinct.push((number, false)),
                    Some((first, seen)) => {
                        repeated += 1;
                        if !*seen {
                            *seen = true;
                            sampled.push((number, *first));
                            if sampled.len() > limit {
                                sampled.pop();
                            }
                        }
                    }
                }
            }
        }
        let mut sampled = sampled.into_vec();
        sampled.sort_unstable();
        (
            repeated,
            sampled.into_iter().map(|(_, first)| first).collect(),
        )
    }
}
