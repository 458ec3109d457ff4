//! `host verify`: rehash every file against its manifest.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use strata_core::planner::State;
use strata_engine::{self as engine, Scope};

use super::{GlobalOptions, Selection};

/// Rehash every data file against its manifest and report damaged
/// partitions. Changes nothing; `host run --verify` heals what it finds.
/// Exit status 1 if anything is damaged.
#[derive(Args)]
pub(super) struct VerifyCommand {
    #[command(flatten)]
    selection: Selection,
}

impl VerifyCommand {
    pub(super) async fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let pipeline = global.load_pipeline()?;
        let store = global.open_store(&pipeline)?;
        let mut scope = Scope::new(global.now());
        scope.verify = true;
        self.selection.apply(&pipeline, &mut scope)?;
        let report = engine::status(&pipeline, &store, &scope).await?;
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
