//! `host task`: one plugin partition of a distributed run, computed where
//! the cluster put it.

use std::io::Read as _;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use strata_engine::remote::{self, Task};

use super::GlobalOptions;

/// Compute one task of a distributed run (`host run --engine spark`): read
/// the task (JSON) on stdin, fetch its plugin from the store by sha256,
/// compute the partition, write its data file into the store and print the
/// manifest to commit (JSON) on stdout. Run by the cluster's executors, not
/// by hand; it never writes a manifest and never takes the lease.
///
/// Exit status 0: the task gave a result, which may be the plugin's own
/// failure (deterministic, not worth a retry). Exit status 75: the machine
/// or the store failed, and the cluster should retry the task.
#[derive(Args)]
pub(super) struct TaskCommand {}

/// What the cluster takes as "retry this elsewhere" (EX_TEMPFAIL).
const RETRY: u8 = 75;

impl TaskCommand {
    pub(super) async fn execute(self, global: &GlobalOptions) -> Result<ExitCode> {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the task on stdin")?;
        let task: Task = serde_json::from_str(&text).context("the task on stdin")?;
        let what = format!("{} {}", task.dataset, task.partition);
        match remote::run_task(task, global.cache_dir()).await {
            Ok(result) => {
                println!("{}", serde_json::to_string(&result)?);
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("error: task {what}: {e:#}");
                Ok(ExitCode::from(RETRY))
            }
        }
    }
}
