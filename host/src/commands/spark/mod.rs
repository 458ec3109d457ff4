//! `host run --engine spark`: plugin partitions computed as tasks on an
//! Apache Spark cluster.
//!
//! This process stays the driver of the run: it plans, holds the lease and
//! commits (strata_engine::remote). Spark is used for what it is good at,
//! starting executors, handing out tasks and retrying lost ones: the host
//! starts `spark-submit` (client mode) with a small PySpark program
//! (driver.py), and talks to it over its stdin and stdout, one JSON line
//! per wave each way. Each task runs `host task` on an executor.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use futures::future::BoxFuture;
use serde_json::json;
use strata_core::config::Pipeline;
use strata_engine::remote::{Executor, Task, TaskResult};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Mutex;

/// The PySpark program spark-submit runs.
const DRIVER: &str = include_str!("driver.py");
/// How the driver marks its answer to a wave among whatever else reaches
/// its stdout.
const WAVE_PREFIX: &str = "STRATA-WAVE ";

/// Where plugin partitions are computed.
#[derive(Args)]
pub(super) struct EngineOptions {
    /// Where plugin partitions are computed: here, or as tasks on a Spark
    /// cluster (planning, the run lease and every commit stay here).
    #[arg(long, value_enum, default_value_t = Engine::Local)]
    engine: Engine,
    /// With --engine spark: the cluster's master URL, as spark-submit takes
    /// it (spark://HOST:7077, k8s://https://HOST:PORT, yarn,
    /// local-cluster[2,1,1024] to try it on one machine).
    #[arg(long, value_name = "URL", required_if_eq("engine", "spark"))]
    master: Option<String>,
    /// With --engine spark: a Spark setting passed to spark-submit as
    /// `--conf KEY=VALUE` (repeat it for more).
    #[arg(long = "spark-conf", value_name = "KEY=VALUE", requires = "master")]
    spark_conf: Vec<String>,
    /// With --engine spark: the path of the `host` binary on the executors
    /// [default: this binary's path, right for a cluster on this machine or
    /// with the same install everywhere; otherwise `host` on their PATH].
    #[arg(long, value_name = "PATH", requires = "master")]
    executor_host: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Engine {
    /// In this process.
    Local,
    /// On a Spark cluster, through spark-submit.
    Spark,
}

impl EngineOptions {
    /// What `--engine`, `--master` and friends name, for the run record.
    pub(super) fn recorded(&self) -> Option<serde_json::Value> {
        (self.engine == Engine::Spark).then(|| json!({"engine": "spark", "master": self.master}))
    }

    /// The executor of a `--engine spark` run; none for a local one.
    pub(super) fn executor(&self, pipeline: &Pipeline) -> Result<Option<Arc<Spark>>> {
        if self.engine == Engine::Local {
            return Ok(None);
        }
        let master = self
            .master
            .clone()
            .context("--engine spark needs --master URL")?;
        if pipeline.store.url.starts_with("memory://") {
            bail!(
                "--engine spark needs a store the executors can reach too; {} is this process's memory",
                pipeline.store.url
            );
        }
        if let Some(key) = pipeline.store.options.keys().find(|k| looks_secret(k)) {
            bail!(
                "store option `{key}` looks like a credential: tasks carry the store's options to \
                 the executors, so give credentials to the executors through their own \
                 environment instead (AWS_*, GOOGLE_*, AZURE_* on the workers, or the cluster's \
                 instance roles)"
            );
        }
        let mut conf = Vec::with_capacity(self.spark_conf.len());
        for pair in &self.spark_conf {
            let Some((key, value)) = pair.split_once('=') else {
                bail!("--spark-conf `{pair}`: write KEY=VALUE");
            };
            conf.push((key.trim().to_owned(), value.to_owned()));
        }
        let executor_host = match &self.executor_host {
            Some(path) => path.clone(),
            None => std::env::current_exe()
                .context("finding this binary's path for the executors")?
                .display()
                .to_string(),
        };
        Ok(Some(Arc::new(Spark {
            master,
            conf,
            executor_host,
            driver: Mutex::new(None),
        })))
    }
}

/// Whether the master runs the whole cluster on this machine.
fn is_on_this_machine(master: &str) -> bool {
    master.starts_with("local")
        || master
            .strip_prefix("spark://")
            .is_some_and(|hosts| hosts.starts_with("127.0.0.1:") || hosts.starts_with("localhost:"))
}

/// Store option names that hold credentials (object_store's config keys).
fn looks_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "secret",
        "password",
        "token",
        "sas",
        "access_key",
        "account_key",
        "credential",
    ]
    .iter()
    .any(|word| key.contains(word))
}

/// A Spark cluster as a run's executor. spark-submit starts with the first
/// wave, so a run with nothing to compute never starts it.
pub(super) struct Spark {
    master: String,
    conf: Vec<(String, String)>,
    executor_host: String,
    driver: Mutex<Option<Driver>>,
}

impl std::fmt::Debug for Spark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spark")
            .field("master", &self.master)
            .finish()
    }
}

/// The running spark-submit and its pipes.
struct Driver {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    waves: u64,
    /// Where driver.py was written; removed with it.
    _dir: tempfile::TempDir,
}

impl Spark {
    /// spark-submit: `$SPARK_HOME/bin/spark-submit`, else on PATH.
    fn spark_submit() -> PathBuf {
        std::env::var_os("SPARK_HOME")
            .map(|home| PathBuf::from(home).join("bin/spark-submit"))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("spark-submit"))
    }

    async fn start(&self) -> Result<Driver> {
        let dir = tempfile::tempdir().context("a folder for the Spark driver program")?;
        let program = dir.path().join("strata_driver.py");
        std::fs::write(&program, DRIVER)
            .with_context(|| format!("writing {}", program.display()))?;
        let submit = Self::spark_submit();
        let mut cmd = Command::new(&submit);
        cmd.arg("--master").arg(&self.master);
        cmd.args(["--name", "strata"]);
        for (key, value) in &self.conf {
            cmd.arg("--conf").arg(format!("{key}={value}"));
        }
        cmd.arg("--conf").arg(format!(
            "spark.executorEnv.STRATA_HOST_BIN={}",
            self.executor_host
        ));
        if is_on_this_machine(&self.master) {
            // Executors of a local cluster otherwise bind the machine's
            // network address; nothing here needs to be reached from beyond.
            cmd.env("SPARK_LOCAL_IP", "127.0.0.1");
        }
        cmd.arg(&program)
            .env("STRATA_HOST_BIN", &self.executor_host)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        tracing::info!("starting {} --master {}", submit.display(), self.master);
        let mut child = cmd.spawn().with_context(|| {
            format!(
                "starting {}: install Spark (or `pip install pyspark`) and put spark-submit on \
                 PATH, or set SPARK_HOME",
                submit.display()
            )
        })?;
        let stdin = child.stdin.take().context("spark-submit's stdin")?;
        let stdout = child.stdout.take().context("spark-submit's stdout")?;
        Ok(Driver {
            child,
            stdin,
            stdout: BufReader::new(stdout).lines(),
            waves: 0,
            _dir: dir,
        })
    }

    async fn wave(&self, tasks: Vec<Task>) -> Result<Vec<Result<TaskResult, String>>> {
        let mut slot = self.driver.lock().await;
        if slot.is_none() {
            *slot = Some(self.start().await?);
        }
        let driver = slot.as_mut().expect("started above");
        driver.waves += 1;
        let wave = driver.waves;
        let count = tasks.len();
        let mut names: Vec<&str> = tasks.iter().map(|t| t.dataset.as_str()).collect();
        names.dedup();
        tracing::info!("spark wave {wave}: {count} tasks of {}", names.join(", "));
        let message = json!({
            "wave": wave,
            "tasks": tasks
                .into_iter()
                .enumerate()
                .map(|(i, task)| json!({"id": i.to_string(), "payload": task}))
                .collect::<Vec<_>>(),
        });
        let mut line = serde_json::to_vec(&message)?;
        line.push(b'\n');
        driver.stdin.write_all(&line).await.context(
            "sending a wave to the Spark driver (did spark-submit exit? see its log above)",
        )?;
        driver.stdin.flush().await?;
        let answer = loop {
            match driver.stdout.next_line().await? {
                Some(line) => {
                    if let Some(json) = line.strip_prefix(WAVE_PREFIX) {
                        break json.to_owned();
                    }
                    tracing::debug!("spark driver: {line}");
                }
                None => {
                    let status = driver.child.wait().await?;
                    bail!(
                        "the Spark driver exited ({status}) before answering wave {wave}; see its log above"
                    );
                }
            }
        };
        let answer: serde_json::Value =
            serde_json::from_str(&answer).context("the Spark driver's answer")?;
        if answer["wave"] != wave {
            bail!(
                "the Spark driver answered wave {} to wave {wave}",
                answer["wave"]
            );
        }
        if let Some(error) = answer["error"].as_str() {
            bail!("Spark failed the wave: {error}");
        }
        let mut results: Vec<Option<Result<TaskResult, String>>> =
            (0..count).map(|_| None).collect();
        let mut executors: BTreeMap<String, usize> = BTreeMap::new();
        let mut retried = 0;
        for item in answer["results"].as_array().into_iter().flatten() {
            if item["attempt"].as_u64().is_some_and(|a| a > 0) {
                retried += 1;
            }
            let executor = item["executor"].as_str().unwrap_or("?");
            *executors.entry(executor.to_owned()).or_default() += 1;
            let index: usize = item["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .filter(|&i| i < count)
                .with_context(|| {
                    format!("the Spark driver answered an unknown task {}", item["id"])
                })?;
            let result = serde_json::from_value::<TaskResult>(item["result"].clone())
                .map_err(|e| format!("the task's answer is not a result: {e}"));
            tracing::debug!(
                "task {index} ran on executor {} (attempt {})",
                item["executor"],
                item["attempt"]
            );
            results[index] = Some(result);
        }
        tracing::info!(
            "spark wave {wave} done: {count} tasks on {} executors ({}); {retried} needed more than one attempt",
            executors.len(),
            executors
                .iter()
                .map(|(executor, tasks)| format!("{executor}: {tasks}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err("the Spark driver returned no result for it".into())))
            .collect())
    }

    /// Ends the Spark application, if one was started.
    pub(super) async fn finish(&self) -> Result<()> {
        let Some(mut driver) = self.driver.lock().await.take() else {
            return Ok(());
        };
        let _ = driver.stdin.write_all(b"{\"done\": true}\n").await;
        drop(driver.stdin);
        let status = driver.child.wait().await?;
        if !status.success() {
            tracing::warn!("spark-submit exited with {status}");
        }
        Ok(())
    }
}

impl Executor for Spark {
    fn run_wave(&self, tasks: Vec<Task>) -> BoxFuture<'_, Result<Vec<Result<TaskResult, String>>>> {
        Box::pin(self.wave(tasks))
    }
}
