//! `host verify`: rehash every file against its manifest.

use std::process::ExitCode;

use anyhow::Result;
use chrono::NaiveDateTime;
use clap::Args;

use strata::executor::{self, RunOptions};
use strata::planner::State;

use super::{GlobalOptions, dataset_arg, parse_time};

/// Rehash every data file against its manifest and report damaged
/// partitions. Changes nothing; `host run --verify` heals what it finds.
/// Exit status 1 if anything is damaged.
#[derive(Args)]
pub struct VerifyCommand {
    /// Only partitions from this period on (YYYY-MM-DD).
    #[arg(long, value_parser = parse_time)]
    from: Option<NaiveDateTime>,
    /// Only partitions up to this period (YYYY-MM-DD, inclusive).
    #[arg(long, value_parser = parse_time)]
    to: Option<NaiveDateTime>,
    /// Only this dataset (`layer/name`); repeat for more.
    #[arg(long = "dataset", value_name = "NAME")]
    datasets: Vec<String>,
}

impl VerifyCommand {
    pub async fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let pipeline = global.load_pipeline()?;
        let store = global.open_store(&pipeline)?;
        let mut options = RunOptions::new(global.now());
        options.plan_only = true;
        options.verify = true;
        options.from = self.from;
        options.to = self.to;
        for name in &self.datasets {
            options.datasets.push(dataset_arg(&pipeline, name)?);
        }
        let report = executor::run(&pipeline, &store, &options).await?;
        let mut checked = 0;
        let mut damaged = 0;
        for d in &report.datasets {
            for p in &d.partitions {
                match &p.planned {
                    State::Damaged(why) => {
                        damaged += 1;
                        println!("damaged {} {}: {why}", d.dataset, p.partition);
                    }
                    State::Missing => {}
                    _ => checked += 1,
                }
            }
        }
        eprintln!("{checked} partition(s) intact, {damaged} damaged");
        Ok(if damaged > 0 {
            eprintln!("`host run --verify` recomputes the damaged partitions");
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    }
}
