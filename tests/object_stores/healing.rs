//! The healing story end to end on every backend, and the manifest cache.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};
use std::time::Duration;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use serde_json::Value;
use sha2::{Digest, Sha256};

use strata_core::config::{self};
use strata_core::manifest::MANIFEST_FILE;
use strata_engine::{self as engine, Outcome, RunOptions, Scope};
use strata_store::lease::Lease;
use strata_store::{ManifestRead, Store};

use crate::util::{Columns, DEDUPE_BY_KEY, Gold, Medallion, Workspace, day, shared_cache};

use super::conformance::*;
use super::recorder::*;
use super::servers::*;

// ---- healing, end to end ----------------------------------------------------

pub(super) const HEALING_DAYS: usize = 6;

/// raw → bronze → silver → gold over six days of the example's data.
pub(super) fn healing_workspace(store: &str) -> Workspace {
    Medallion::new()
        .store_toml(store)
        .days(HEALING_DAYS as u32)
        .bronze("json_to_table", Columns::Core)
        .silver("clean_dedupe", DEDUPE_BY_KEY)
        .gold("aggregate", &[Gold::DailySum])
        .workspace()
}

pub(super) const HEALING_DATASETS: [&str; 4] = [
    "raw/transactions",
    "bronze/transactions",
    "silver/transactions",
    "gold/daily_totals",
];

/// dataset → partitions computed by one run.
pub(super) type Computed = BTreeMap<String, Vec<String>>;
/// (dataset, partition) → state.
pub(super) type States = BTreeMap<(String, String), String>;

/// Drives a pipeline: the `host` binary, or the library in this process.
pub(super) trait Driver {
    fn run(&self, rt: &tokio::runtime::Runtime) -> Computed;
    fn status(&self, rt: &tokio::runtime::Runtime) -> States;
    /// The pipeline's store, opened by the test.
    fn store(&self) -> &Store;
}

/// `host` with exactly the given credentials: none leak in from the test's
/// own environment.
pub(super) fn host(ws: &Workspace, args: &[&str], env: &[(String, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_host"));
    cmd.args(args)
        .current_dir(ws.path())
        .env("STRATA_CACHE_DIR", shared_cache())
        .env_remove("STRATA_CONFIG")
        .env_remove("STRATA_NOW")
        .env("NO_COLOR", "1");
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("AWS_") || k.starts_with("AZURE_") || k.starts_with("AZURITE_") {
            cmd.env_remove(k.as_ref());
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd.output().expect("running host")
}

pub(super) fn assert_no_panic(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{what} panicked:\n{stderr}");
}

pub(super) struct BinaryDriver {
    ws: Workspace,
    env: Vec<(String, String)>,
    store: Store,
}

impl Driver for BinaryDriver {
    fn run(&self, _rt: &tokio::runtime::Runtime) -> Computed {
        let out = host(&self.ws, &["run", "--json"], &self.env);
        assert_no_panic(&out, "host run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "host run failed:\n{stderr}");
        let json: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("host run printed no JSON ({e}):\n{stderr}"));
        json["datasets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let mut parts: Vec<String> = d["computed_partitions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["partition"].as_str().unwrap().to_owned())
                    .collect();
                parts.sort();
                (d["dataset"].as_str().unwrap().to_owned(), parts)
            })
            .collect()
    }

    fn status(&self, _rt: &tokio::runtime::Runtime) -> States {
        let out = host(&self.ws, &["status", "--json"], &self.env);
        assert_no_panic(&out, "host status");
        crate::util::parse_status(&out)
            .into_iter()
            .map(|(partition, (state, _))| (partition, state))
            .collect()
    }

    fn store(&self) -> &Store {
        &self.store
    }
}

/// The executor in this process, for `memory://`.
pub(super) struct LibraryDriver {
    _ws: Workspace,
    pipeline: config::Pipeline,
    store: Store,
}

impl LibraryDriver {
    fn scope(&self) -> Scope {
        Scope::new(
            chrono::NaiveDate::from_ymd_opt(2025, 3, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        )
    }
}

impl Driver for LibraryDriver {
    fn run(&self, rt: &tokio::runtime::Runtime) -> Computed {
        let mut options = RunOptions::new(self.scope());
        options.cache_dir = Some(shared_cache());
        let report = rt
            .block_on(async {
                let lease = Lease::acquire(&self.store, Duration::from_secs(60)).await?;
                let report =
                    engine::run(&self.pipeline, &self.store, &options, lease.fence()).await;
                lease.release().await?;
                report
            })
            .unwrap();
        assert_eq!(report.failed(), 0, "{report:?}");
        report
            .datasets
            .iter()
            .map(|d| {
                let mut parts: Vec<String> = d
                    .partitions
                    .iter()
                    .filter(|p| matches!(p.outcome, Outcome::Computed { .. }))
                    .map(|p| p.partition.clone())
                    .collect();
                parts.sort();
                (d.dataset.clone(), parts)
            })
            .collect()
    }

    fn status(&self, rt: &tokio::runtime::Runtime) -> States {
        let report = rt
            .block_on(engine::status(&self.pipeline, &self.store, &self.scope()))
            .unwrap();
        report
            .datasets
            .iter()
            .flat_map(|d| {
                d.partitions.iter().map(|p| {
                    (
                        (d.dataset.clone(), p.partition.clone()),
                        p.planned.name().to_owned(),
                    )
                })
            })
            .collect()
    }

    fn store(&self) -> &Store {
        &self.store
    }
}

/// Every object in the store with its sha256, but the lease.
pub(super) fn store_snapshot(
    rt: &tokio::runtime::Runtime,
    store: &Store,
) -> BTreeMap<String, String> {
    rt.block_on(async {
        let metas: Vec<ObjectMeta> = store.object_store().list(None).try_collect().await.unwrap();
        let mut out = BTreeMap::new();
        for m in metas {
            let path = m.location.to_string();
            if path.starts_with("_strata/") {
                continue;
            }
            let bytes = store
                .object_store()
                .get(&m.location)
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            out.insert(path, hex::encode(Sha256::digest(&bytes)));
        }
        out
    })
}

pub(super) fn only(computed: &Computed, expected: &[(&str, &[String])], what: &str) {
    for d in HEALING_DATASETS {
        let want: Vec<String> = expected
            .iter()
            .find(|(name, _)| *name == d)
            .map(|(_, parts)| parts.to_vec())
            .unwrap_or_default();
        let got = computed.get(d).cloned().unwrap_or_default();
        assert_eq!(got, want, "{what}: {d} computed");
    }
}

/// The healing story on one backend: first run computes all, second run
/// nothing and changes no byte, a deleted manifest heals only its
/// partition, a deleted data file is damaged and heals only its partition.
pub(super) fn healing(driver: &dyn Driver, backend: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let all_days: Vec<String> = (1..=HEALING_DAYS as u32).map(day).collect();

    let first = driver.run(&rt);
    let expected: Vec<(&str, &[String])> = HEALING_DATASETS
        .iter()
        .map(|d| (*d, &all_days[..]))
        .collect();
    only(&first, &expected, &format!("{backend}: first run"));
    let before = store_snapshot(&rt, driver.store());
    let manifests = before.keys().filter(|p| p.ends_with(MANIFEST_FILE)).count();
    assert_eq!(
        manifests,
        HEALING_DATASETS.len() * HEALING_DAYS,
        "{backend}: manifests in the store: {:?}",
        before.keys()
    );

    let second = driver.run(&rt);
    only(&second, &[], &format!("{backend}: second run"));
    assert_eq!(
        store_snapshot(&rt, driver.store()),
        before,
        "{backend}: a no-op run changed the store"
    );

    // Deleting a manifest makes its partition missing; only it is computed,
    // with the same bytes, so nothing below moves (early cutoff).
    let silver = dataset("silver", "transactions");
    rt.block_on(driver.store().delete_manifest(&silver, &day(3)))
        .unwrap();
    let states = driver.status(&rt);
    assert_eq!(
        states[&("silver/transactions".to_owned(), day(3))],
        "missing",
        "{backend}"
    );
    assert_eq!(
        states[&("silver/transactions".to_owned(), day(4))],
        "fresh",
        "{backend}"
    );
    let heal = driver.run(&rt);
    only(
        &heal,
        &[("silver/transactions", &[day(3)])],
        &format!("{backend}: after deleting a manifest"),
    );
    let after = store_snapshot(&rt, driver.store());
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "{backend}: the same objects after healing"
    );
    for (path, hash) in &before {
        if !path.ends_with(MANIFEST_FILE) {
            assert_eq!(&after[path], hash, "{backend}: {path} changed");
        }
    }

    // A deleted data file: damaged, then recomputed alone.
    let bronze = dataset("bronze", "transactions");
    let folder = rt.block_on(driver.store().scan(&bronze)).unwrap();
    let data_file = folder[&day(5)]
        .files
        .keys()
        .find(|f| *f != MANIFEST_FILE)
        .unwrap()
        .clone();
    let data_path = Store::file_path(&bronze, &day(5), &data_file);
    rt.block_on(driver.store().delete(&data_path)).unwrap();
    let states = driver.status(&rt);
    assert_eq!(
        states[&("bronze/transactions".to_owned(), day(5))],
        "damaged",
        "{backend}"
    );
    let heal = driver.run(&rt);
    only(
        &heal,
        &[("bronze/transactions", &[day(5)])],
        &format!("{backend}: after deleting a data file"),
    );
    let healed = store_snapshot(&rt, driver.store());
    assert_eq!(
        healed.get(&data_path.to_string()),
        before.get(&data_path.to_string()),
        "{backend}: the recomputed file has its old bytes"
    );

    let states = driver.status(&rt);
    let not_fresh: Vec<_> = states.iter().filter(|(_, s)| *s != "fresh").collect();
    assert!(not_fresh.is_empty(), "{backend}: not fresh: {not_fresh:?}");
    eprintln!("healing on {backend} ({}): ok", driver.store().url);
}

pub(super) fn binary_driver(backend: &Backend) -> BinaryDriver {
    let ws = healing_workspace(&backend.toml);
    BinaryDriver {
        ws,
        env: backend.env.clone(),
        store: Store::open(&backend.config).unwrap(),
    }
}

#[test]
fn healing_local_through_the_binary() {
    let backend = local_backend();
    healing(&binary_driver(&backend), "local");
}

/// Manifests read while planning on a backend whose store the test wraps:
/// after a run, planning reads the four datasets' manifest caches and no
/// `_manifest.json`; a manifest rewritten since is read again, alone; an
/// unreadable cache falls back to the manifests with the same plan, and
/// the next run writes it anew.
pub(super) fn manifest_cache(backend: &Backend, name: &str) {
    let ws = healing_workspace(&backend.toml);
    let path = ws.path().join("pipeline.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let pipeline = config::parse(&path, &text).unwrap();
    // The backend's own config: it carries the credentials pipeline.toml leaves out.
    let (store, recorder) = Recorder::wrap(&Store::open(&backend.config).unwrap());
    let driver = LibraryDriver {
        _ws: ws,
        pipeline,
        store,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let manifests_read = |gets: &[String]| -> Vec<String> {
        gets.iter()
            .filter(|g| g.ends_with(MANIFEST_FILE))
            .cloned()
            .collect()
    };
    let caches: BTreeSet<String> = HEALING_DATASETS
        .iter()
        .map(|d| format!("_strata/manifests/{d}.json"))
        .collect();

    driver.run(&rt);
    let states = driver.status(&rt);
    recorder.take_gets();
    recorder.take_log();

    only(&driver.run(&rt), &[], &format!("{name}: no-op run"));
    let gets = recorder.take_gets();
    assert_eq!(
        manifests_read(&gets),
        Vec::<String>::new(),
        "{name}: no-op run"
    );
    assert_eq!(
        gets.iter().filter(|g| caches.contains(*g)).count(),
        caches.len(),
        "{name}: every cache read once: {gets:?}"
    );
    assert!(
        !recorder
            .take_log()
            .iter()
            .any(|l| l.contains("_strata/manifests")),
        "{name}: a no-op run rewrote a cache"
    );
    assert_eq!(driver.status(&rt), states, "{name}: status from the caches");
    assert_eq!(manifests_read(&recorder.take_gets()), Vec::<String>::new());

    // A manifest rewritten in place (as `host invalidate` does).
    let silver = dataset("silver", "transactions");
    let ManifestRead::Valid(mut m) = rt
        .block_on(driver.store().read_manifest(&silver, &day(2)))
        .unwrap()
    else {
        panic!("{name}: silver day 2 has no manifest");
    };
    m.invalidated = Some("2025-03-01T00:00:00Z".into());
    rt.block_on(async {
        let lease = Lease::acquire(driver.store(), Duration::from_secs(60)).await?;
        driver
            .store()
            .rewrite_manifest(&silver, &m, lease.fence())
            .await?;
        lease.release().await
    })
    .unwrap();
    recorder.take_gets();
    let after = driver.status(&rt);
    assert_eq!(
        manifests_read(&recorder.take_gets()),
        vec![Store::file_path(&silver, &day(2), MANIFEST_FILE).to_string()],
        "{name}: only the rewritten manifest is read"
    );
    assert_eq!(
        after[&("silver/transactions".to_owned(), day(2))],
        "stale",
        "{name}"
    );
    only(
        &driver.run(&rt),
        &[("silver/transactions", &[day(2)])],
        &format!("{name}: the invalidated partition"),
    );

    // A cache that does not parse is ignored, and written anew.
    let cache = Path::from("_strata/manifests/silver/transactions.json");
    rt.block_on(
        driver
            .store()
            .object_store()
            .put(&cache, b"{ not json".to_vec().into()),
    )
    .unwrap();
    recorder.take_gets();
    recorder.take_log();
    only(
        &driver.run(&rt),
        &[],
        &format!("{name}: run with a broken cache"),
    );
    assert_eq!(
        manifests_read(&recorder.take_gets()).len(),
        HEALING_DAYS,
        "{name}: the silver manifests are read"
    );
    assert!(
        recorder.take_log().contains(&format!("put {cache}")),
        "{name}: the cache is written anew"
    );
    assert_eq!(driver.status(&rt), states, "{name}: the same plan");
    assert_eq!(manifests_read(&recorder.take_gets()), Vec::<String>::new());
}

#[test]
fn manifest_cache_local() {
    manifest_cache(&local_backend(), "local");
}

#[test]
fn manifest_cache_memory() {
    manifest_cache(&memory_backend(), "memory");
}

#[test]
fn manifest_cache_s3() {
    if let Some(s3) = s3_server("manifest_cache_s3") {
        manifest_cache(&s3_backend(&s3, "manifest_cache_s3"), "s3");
    }
}

#[test]
fn manifest_cache_azure() {
    if let Some(az) = azure_server("manifest_cache_azure") {
        manifest_cache(&azure_backend(&az, "manifest_cache_azure"), "azure");
    }
}

#[test]
fn healing_memory_through_the_library() {
    let backend = memory_backend();
    let ws = healing_workspace(&backend.toml);
    let path = ws.path().join("pipeline.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let pipeline = config::parse(&path, &text).unwrap();
    let store = Store::open(&pipeline.store).unwrap();
    let driver = LibraryDriver {
        _ws: ws,
        pipeline,
        store,
    };
    healing(&driver, "memory");
}

#[test]
fn healing_s3_through_the_binary() {
    let Some(s3) = s3_server("healing_s3_through_the_binary") else {
        return;
    };
    let backend = s3_backend(&s3, "healing");
    healing(&binary_driver(&backend), &format!("s3 ({})", s3.server));
}

#[test]
fn healing_azure_through_the_binary() {
    let Some(az) = azure_server("healing_azure_through_the_binary") else {
        return;
    };
    let backend = azure_backend(&az, "healing");
    healing(&binary_driver(&backend), "azure (Azurite)");
}

/// object_store's emulator mode: `use_emulator = "true"` in the options and
/// the blob endpoint in AZURITE_BLOB_STORAGE_URL (it has no option for it).
#[test]
fn azurite_emulator_mode_through_the_binary() {
    let Some(az) = azure_server("azurite_emulator_mode_through_the_binary") else {
        return;
    };
    let Some(emulator_url) = az.emulator_url.clone() else {
        skip(
            "azurite_emulator_mode_through_the_binary",
            "AZURITE_BLOB_STORAGE_URL is not set (tests/servers/start.sh exports it)",
        );
        return;
    };
    let url = format!("az://{}/{}", az.container, unique_prefix("emulator"));
    let ws = healing_workspace(&format!(
        "[store]\nurl = {url:?}\noptions = {{ use_emulator = \"true\" }}\n"
    ));
    let env = vec![("AZURITE_BLOB_STORAGE_URL".to_owned(), emulator_url)];
    let out = host(
        &ws,
        &["run", "--json", "--dataset", "raw/transactions"],
        &env,
    );
    assert_no_panic(&out, "host run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let raw = json["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["dataset"] == "raw/transactions")
        .unwrap();
    assert_eq!(raw["computed"], HEALING_DAYS as u64, "{json}");

    // The same objects through the endpoint options.
    let mut backend = azure_backend(&az, "unused");
    backend.config.url = url;
    let store = Store::open(&backend.config).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let manifests = store_snapshot(&rt, &store)
        .keys()
        .filter(|p| p.starts_with("raw/") && p.ends_with(MANIFEST_FILE))
        .count();
    assert_eq!(manifests, HEALING_DAYS);
}

/// A wrong key fails the command with a message, without a panic and
/// without the key in the output. Azurite checks Shared Key signatures (and
/// s3s-fs checks S3 signatures; moto accepts anything).
#[test]
fn wrong_credentials_fail_cleanly() {
    let mut tried = 0;
    if let Some(az) = azure_server("wrong_credentials_fail_cleanly (Azure)") {
        let mut backend = azure_backend(&az, "wrong-key");
        let wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ==";
        backend.env = vec![("AZURE_STORAGE_ACCOUNT_KEY".into(), wrong.into())];
        check_refused(&backend, wrong);
        tried += 1;
    }
    if let Some(s3) = s3_server("wrong_credentials_fail_cleanly (S3)") {
        if s3.server == "s3s-fs" {
            let mut backend = s3_backend(&s3, "wrong-key");
            let wrong = "not-the-secret-at-all";
            backend.env = vec![
                ("AWS_ACCESS_KEY_ID".into(), s3.key_id.clone()),
                ("AWS_SECRET_ACCESS_KEY".into(), wrong.into()),
            ];
            check_refused(&backend, wrong);
            tried += 1;
        } else {
            eprintln!(
                "wrong_credentials_fail_cleanly: {} does not check signatures",
                s3.server
            );
        }
    }
    eprintln!("wrong_credentials_fail_cleanly: {tried} server(s) checked");
}

pub(super) fn check_refused(backend: &Backend, secret: &str) {
    let ws = healing_workspace(&backend.toml);
    for args in [&["status", "--json"][..], &["run", "--json"][..]] {
        let out = host(&ws, args, &backend.env);
        assert_no_panic(&out, &format!("host {}", args[0]));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            !out.status.success(),
            "{}: host {} with a wrong key succeeded:\n{stderr}",
            backend.name,
            args[0]
        );
        assert!(
            !stderr.trim().is_empty(),
            "{}: a refused request says nothing",
            backend.name
        );
        assert!(
            !stderr.contains(secret) && !stdout.contains(secret),
            "{}: the key appears in the output:\n{stderr}",
            backend.name
        );
    }
}
