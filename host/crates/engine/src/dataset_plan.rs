//! One dataset, observed and planned: what each expected partition is,
//! what it needs (computing, or only its checks evaluated), and the state
//! (manifest cache, failure records) a walk brings up to date.

use std::collections::HashMap;
use std::sync::Arc;

use strata_core::manifest::Manifest;
use strata_core::period::Period;
use strata_core::planner::{Observed, Recipe, State};
use strata_store::ManifestCache;

use crate::checks::CheckIds;
use crate::execute::Committed;
use crate::failure_book::FailureBook;
use crate::walk::{Done, Scope};

/// What a partition that needs work needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Work {
    /// Computing: a plugin from its inputs, or a source.
    Compute,
    /// Only its checks evaluated on its published content.
    Recheck,
}

/// One expected partition, planned.
#[derive(Clone)]
pub(crate) struct Planned {
    pub(crate) id: String,
    pub(crate) state: State,
    /// For plugin datasets: what computing it takes.
    pub(crate) recipe: Option<Recipe>,
    pub(crate) work: Option<Work>,
    /// Its published content is what its inputs, plugin and params make
    /// now (its checks may still differ).
    pub(crate) current: bool,
}

/// One dataset, observed and planned.
pub(crate) struct DatasetPlan {
    /// Every expected partition, in order.
    pub(crate) expected: Vec<String>,
    pub(crate) observed: HashMap<String, Observed>,
    pub(crate) partitions: Vec<Planned>,
    /// The dataset's manifest cache, brought up to date by the walk.
    pub(crate) cache: ManifestCache,
    /// The failures on record.
    pub(crate) failures: FailureBook,
    /// The checks the partitions' manifests must hold results for.
    pub(crate) checks: CheckIds,
    /// Whether the dataset is in scope.
    pub(crate) selected: bool,
}

impl DatasetPlan {
    /// The partitions to work on: in scope and needing work.
    pub(crate) fn work(&self, scope: &Scope, period_of: &HashMap<String, Period>) -> Vec<usize> {
        if !self.selected {
            return vec![];
        }
        self.partitions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.work.is_some() && scope.in_range(period_of.get(&p.id)))
            .map(|(i, _)| i)
            .collect()
    }

    /// The partitions readers see after the run: each one's new manifest
    /// where the run committed one, else the intact one it had (a failed
    /// or rejected recomputation leaves the previous version published).
    pub(crate) fn published(&self, outcomes: &HashMap<usize, Done>) -> Vec<Arc<Manifest>> {
        let committed = |i: &usize| match outcomes.get(i).map(|d| &d.result) {
            Some(Ok(Committed { manifest, .. })) => Some(manifest.clone()),
            _ => None,
        };
        self.partitions
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                committed(&i).or_else(|| match &self.observed[&p.id] {
                    Observed::Intact(m) => Some(m.clone()),
                    _ => None,
                })
            })
            .collect()
    }

    /// `host check`: every published partition has its checks evaluated,
    /// and nothing is computed.
    pub(crate) fn recheck_published(&mut self) {
        for p in &mut self.partitions {
            p.work = p.current.then_some(Work::Recheck);
        }
    }

    /// Row counts of the `n` intact partitions before partition `i`,
    /// oldest first: what `volume` compares with.
    pub(crate) fn history(&self, i: usize, n: usize) -> Vec<u64> {
        let mut rows: Vec<u64> = self.expected[..i]
            .iter()
            .rev()
            .filter_map(|p| match &self.observed[p] {
                Observed::Intact(m) => m.rows,
                _ => None,
            })
            .take(n)
            .collect();
        rows.reverse();
        rows
    }
}
