//! `host invalidate`: mark partitions for recomputation, the safe way.

use std::process::ExitCode;

use anyhow::{Result, bail};
use chrono::NaiveDateTime;
use clap::Args;

use strata_core::period::Period;
use strata_core::planner;
use strata_store::ManifestRead;

use super::{GlobalOptions, LeaseOptions, dataset_arg, parse_time};

/// Mark partitions of a dataset to be recomputed by the next `host run`.
///
/// Safer than deleting folders: the data stays readable until the new
/// partition is committed, and raw data is never touched unless --raw is
/// given (raw is refetched from the source, which may no longer have it).
#[derive(Args)]
pub(super) struct InvalidateCommand {
    /// The dataset, as `layer/name`.
    dataset: String,
    /// First period to invalidate (YYYY-MM-DD) [default: the first].
    #[arg(long, value_parser = parse_time)]
    from: Option<NaiveDateTime>,
    /// Last period to invalidate (YYYY-MM-DD, inclusive) [default: the last].
    #[arg(long, value_parser = parse_time)]
    to: Option<NaiveDateTime>,
    /// Allow invalidating a raw dataset: its partitions will be fetched again.
    #[arg(long)]
    raw: bool,
    #[command(flatten)]
    lease: LeaseOptions,
}

impl InvalidateCommand {
    pub(super) async fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let pipeline = global.load_pipeline()?;
        let store = global.open_store(&pipeline)?;
        let id = dataset_arg(&pipeline, &self.dataset)?;
        if id.is_raw() && !self.raw {
            bail!(
                "{id} is raw data: invalidating it refetches it from the source, which may no longer have it. \
                 Pass --raw if that is what you want"
            );
        }
        let dataset = pipeline.dataset(&id).expect("checked by dataset_arg");
        let lease = self.lease.acquire(&store).await?;
        let now = global.now();
        let when = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut count = 0;
        for partition in planner::expected_partitions(&pipeline, dataset, now) {
            if let Some(p) = Period::parse(pipeline.partitions.every, &partition)
                && (self.from.is_some_and(|f| p.start() < f)
                    || self.to.is_some_and(|t| p.start() > t))
            {
                continue;
            }
            if let ManifestRead::Valid(mut m) = store.read_manifest(&id, &partition).await? {
                m.invalidated = Some(format!("by host invalidate at {when}"));
                store.rewrite_manifest(&id, &m, lease.fence()).await?;
                count += 1;
            }
        }
        lease.release().await?;
        eprintln!("invalidated {count} partition(s) of {id}; `host run` recomputes them");
        Ok(ExitCode::SUCCESS)
    }
}
