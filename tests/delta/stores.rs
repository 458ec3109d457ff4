//! Delta commits on a local folder, S3 (moto) and Azure (Azurite) through
//! the store's conditional put: a run writes the first version, two
//! writers racing for the next one both land (one wins it, the other
//! retries on the one after), and the next run brings the table back to
//! the manifests.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use strata_core::DatasetId;
use strata_core::manifest::Manifest;
use strata_store::delta::{TableLog, TableOptions, TableSync};
use strata_store::lease::Lease;
use strata_store::{ManifestRead, Store};

use crate::object_stores::servers::{
    Backend, azure_backend, azure_server, local_backend, s3_backend, s3_server,
};
use crate::util::{Medallion, RunSummary, Workspace, day, shared_cache};

fn host_run(ws: &Workspace, env: &[(String, String)]) -> RunSummary {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_host"));
    cmd.args(["run", "--json"])
        .current_dir(ws.path())
        .env("STRATA_CACHE_DIR", shared_cache())
        .env_remove("STRATA_NOW")
        .env("NO_COLOR", "1");
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("AWS_") || k.starts_with("AZURE_") || k.starts_with("AZURITE_") {
            cmd.env_remove(k.as_ref());
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    RunSummary::of(cmd.output().unwrap())
}

fn commits_and_races(backend: Backend) {
    let ws = Medallion::new()
        .days(3)
        .store_toml(&backend.toml)
        .workspace();
    let silver = DatasetId::parse("silver/transactions").unwrap();
    let run = host_run(&ws, &backend.env);
    run.assert_ok();
    assert_eq!(
        run.dataset("silver/transactions")["table"]["version"],
        0,
        "{}",
        backend.name
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(&backend.config).unwrap();
        let mut published: Vec<Arc<Manifest>> = vec![];
        for d in 1..=3 {
            match store.read_manifest(&silver, &day(d)).await.unwrap() {
                ManifestRead::Valid(m) => published.push(Arc::new(*m)),
                other => panic!("{}: {} {other:?}", backend.name, day(d)),
            }
        }
        let lease = Lease::acquire(&store, Duration::from_secs(60))
            .await
            .unwrap();
        let options = TableOptions {
            checkpoint_interval: 10,
            retention: Duration::from_secs(7 * 86400),
        };
        let log = TableLog::new(&store, &silver, options);
        let start = log.snapshot().await.unwrap();
        assert_eq!(start.version, Some(0));
        assert_eq!(start.files.len(), 3);
        // Both writers read version 0; A publishes days 1 and 2, B days 1
        // and 3.
        let a = [published[0].clone(), published[1].clone()];
        let b = [published[0].clone(), published[2].clone()];
        let won = log
            .sync_from(start.clone(), &a, lease.fence())
            .await
            .unwrap();
        let retried = log.sync_from(start, &b, lease.fence()).await.unwrap();
        assert_eq!(
            won,
            TableSync::Committed {
                version: 1,
                added: 0,
                removed: 1,
                attempts: 1
            },
            "{}",
            backend.name
        );
        assert_eq!(
            retried,
            TableSync::Committed {
                version: 2,
                added: 1,
                removed: 1,
                attempts: 2
            },
            "{}: the loser reads version 1 and commits version 2",
            backend.name
        );
        let end = log.snapshot().await.unwrap();
        assert_eq!(end.version, Some(2));
        let days: Vec<&str> = end
            .files
            .keys()
            .map(|p| p.split('/').next().unwrap())
            .collect();
        assert_eq!(days, [day(1), day(3)], "{}", backend.name);
        lease.release().await.unwrap();
    });

    // The next run brings the table back to the manifests: day 2 again.
    let run = host_run(&ws, &backend.env);
    run.assert_ok();
    let table: &Value = &run.dataset("silver/transactions")["table"];
    assert_eq!(
        (&table["version"], &table["added"], &table["removed"]),
        (&3.into(), &1.into(), &0.into()),
        "{}: {table}",
        backend.name
    );
}

#[test]
fn local_commits_and_races() {
    commits_and_races(local_backend());
}

#[test]
fn s3_commits_and_races() {
    if let Some(s3) = s3_server("delta::stores::s3_commits_and_races") {
        commits_and_races(s3_backend(&s3, "delta-race"));
    }
}

#[test]
fn azure_commits_and_races() {
    if let Some(az) = azure_server("delta::stores::azure_commits_and_races") {
        commits_and_races(azure_backend(&az, "delta-race"));
    }
}
