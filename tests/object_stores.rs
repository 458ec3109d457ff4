//! The store conformance suite, written once and run on every backend: a
//! local folder, `memory://`, S3 (a real S3-compatible server on 127.0.0.1)
//! and Azure Blob (Azurite on 127.0.0.1).
//!
//! `tests/servers/start.sh` starts the servers and exports their endpoints
//! (`STRATA_TEST_S3_*`, `STRATA_TEST_AZURE_*`). Without them the S3 and
//! Azure tests skip with a loud message; with `STRATA_REQUIRE_SERVERS=1`
//! (set by `.ci/run`) they fail instead.
//!
//! Two halves: the store API (put/get/list, the commit protocol, scan,
//! manifests, verify, conditional create and update, the lease) through the
//! library on each backend, and the healing story end to end: through the
//! real `host` binary on the local folder, S3 and Azurite (the store named in
//! pipeline.toml, credentials in the host's environment), and through the
//! library on `memory://`, which lives only inside one process.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    ObjectStoreExt, PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult, UpdateVersion,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use strata_core::DatasetId;
use strata_core::config::{self, StoreConfig};
use strata_core::manifest::{
    FORMAT_VERSION, FileEntry, MANIFEST_FILE, Manifest, ManifestError, Producer, content_hash,
    sha256_hex,
};
use strata_engine::{self as engine, Outcome, RunOptions, Scope};
use strata_store::lease::{LEASE_PATH, Lease, LeaseError, LeaseRecord};
use strata_store::{CommitError, Health, ManifestRead, Store};

use crate::util::{Columns, DEDUPE_BY_KEY, Gold, Medallion, Workspace, day, shared_cache};

// ---- the servers -----------------------------------------------------------

/// An S3-compatible server started by tests/servers/start.sh.
#[derive(Clone)]
struct S3Server {
    /// `moto` or `s3s-fs`: only s3s-fs checks request signatures.
    server: String,
    endpoint: String,
    bucket: String,
    region: String,
    key_id: String,
    secret: String,
}

/// Azurite's blob service started by tests/servers/start.sh.
#[derive(Clone)]
struct AzureServer {
    /// `http://127.0.0.1:PORT/devstoreaccount1` (path-style, as Azurite serves).
    endpoint: String,
    account: String,
    key: String,
    container: String,
    /// `http://127.0.0.1:PORT`, for object_store's emulator mode.
    emulator_url: Option<String>,
}

fn servers_required() -> bool {
    std::env::var("STRATA_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

/// The variables named, or `None` after a loud skip message (a failure
/// when STRATA_REQUIRE_SERVERS=1).
fn server_env(test: &str, what: &str, names: &[&str]) -> Option<Vec<String>> {
    let values: Vec<Option<String>> = names
        .iter()
        .map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
        .collect();
    let missing: Vec<&str> = names
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| *n)
        .collect();
    if missing.is_empty() {
        return Some(values.into_iter().map(Option::unwrap).collect());
    }
    let message = format!(
        "no {what} test server: {} not set. Start the servers with \
         `source tests/servers/start.sh`, then run the tests again",
        missing.join(", ")
    );
    skip(test, &message);
    None
}

/// Says loudly that a test did not run, or fails it when the servers are
/// required.
fn skip(test: &str, message: &str) {
    if servers_required() {
        panic!("STRATA_REQUIRE_SERVERS=1 and {message}");
    }
    // Straight to the process's stderr: the test harness captures eprintln!
    // of passing tests, and a skip must not go unseen.
    let _ = writeln!(
        std::io::stderr(),
        "\n{bar}\n!! SKIPPED {test}\n!! {message}\n{bar}\n",
        bar = "!".repeat(78)
    );
}

fn s3_server(test: &str) -> Option<S3Server> {
    let v = server_env(
        test,
        "S3",
        &[
            "STRATA_TEST_S3_ENDPOINT",
            "STRATA_TEST_S3_BUCKET",
            "STRATA_TEST_S3_ACCESS_KEY_ID",
            "STRATA_TEST_S3_SECRET_ACCESS_KEY",
        ],
    )?;
    Some(S3Server {
        server: std::env::var("STRATA_TEST_S3_SERVER").unwrap_or_else(|_| "s3".into()),
        endpoint: v[0].clone(),
        bucket: v[1].clone(),
        region: std::env::var("STRATA_TEST_S3_REGION").unwrap_or_else(|_| "us-east-1".into()),
        key_id: v[2].clone(),
        secret: v[3].clone(),
    })
}

fn azure_server(test: &str) -> Option<AzureServer> {
    let v = server_env(
        test,
        "Azure (Azurite)",
        &[
            "STRATA_TEST_AZURE_ENDPOINT",
            "STRATA_TEST_AZURE_ACCOUNT",
            "STRATA_TEST_AZURE_ACCESS_KEY",
            "STRATA_TEST_AZURE_CONTAINER",
        ],
    )?;
    Some(AzureServer {
        endpoint: v[0].clone(),
        account: v[1].clone(),
        key: v[2].clone(),
        container: v[3].clone(),
        emulator_url: std::env::var("AZURITE_BLOB_STORAGE_URL").ok(),
    })
}

/// A prefix no other test (or earlier run against the same server) uses.
fn unique_prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{test}-{}-{nanos}", std::process::id())
}

/// Where a backend's store is and how a pipeline names it.
struct Backend {
    name: &'static str,
    /// For the library: credentials may sit in the options here.
    config: StoreConfig,
    /// For pipeline.toml: the `[store]` table, without credentials.
    toml: String,
    /// The host process's environment: credentials and emulator URL.
    env: Vec<(String, String)>,
    /// A known server defect: racing conditional creates may all win.
    /// Reported, not failed, so the rest of the suite still runs on it.
    non_atomic_create: Option<&'static str>,
    _dir: Option<tempfile::TempDir>,
}

fn options(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// An inline TOML table of string options.
fn toml_table(pairs: &[(&str, &str)]) -> String {
    let items: Vec<String> = pairs.iter().map(|(k, v)| format!("{k} = {v:?}")).collect();
    format!("{{ {} }}", items.join(", "))
}

fn local_backend() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let url = config::file_url(&dir.path().join("store"));
    Backend {
        name: "local",
        config: StoreConfig {
            url: url.clone(),
            options: BTreeMap::new(),
        },
        toml: format!("[store]\nurl = {url:?}\n"),
        env: vec![],
        non_atomic_create: None,
        _dir: Some(dir),
    }
}

fn memory_backend() -> Backend {
    Backend {
        name: "memory",
        config: StoreConfig {
            url: "memory://".into(),
            options: BTreeMap::new(),
        },
        toml: "[store]\nurl = \"memory://\"\n".into(),
        env: vec![],
        non_atomic_create: None,
        _dir: None,
    }
}

fn s3_backend(s3: &S3Server, test: &str) -> Backend {
    let url = format!("s3://{}/{}", s3.bucket, unique_prefix(test));
    let public = [
        ("endpoint", s3.endpoint.as_str()),
        ("allow_http", "true"),
        ("region", s3.region.as_str()),
    ];
    let mut with_credentials = public.to_vec();
    with_credentials.push(("access_key_id", &s3.key_id));
    with_credentials.push(("secret_access_key", &s3.secret));
    Backend {
        name: "s3",
        config: StoreConfig {
            url: url.clone(),
            options: options(&with_credentials),
        },
        toml: format!(
            "[store]\nurl = {url:?}\noptions = {}\n",
            toml_table(&public)
        ),
        env: vec![
            ("AWS_ACCESS_KEY_ID".into(), s3.key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY".into(), s3.secret.clone()),
        ],
        non_atomic_create: (s3.server == "s3s-fs").then_some(
            "s3s-fs 0.14.1 checks for the object, then writes it, so a race can let \
             several creates through (one at a time are refused). Real S3, moto and \
             Azurite refuse all but one: the lease needs that",
        ),
        _dir: None,
    }
}

/// Azurite through plain config options: an account, a custom endpoint and
/// plain HTTP, with the key in the environment, as for any Azure-compatible
/// service that is not Azure itself.
fn azure_backend(az: &AzureServer, test: &str) -> Backend {
    let url = format!("az://{}/{}", az.container, unique_prefix(test));
    let public = [
        ("account_name", az.account.as_str()),
        ("endpoint", az.endpoint.as_str()),
        ("allow_http", "true"),
    ];
    let mut with_credentials = public.to_vec();
    with_credentials.push(("access_key", &az.key));
    Backend {
        name: "azure",
        config: StoreConfig {
            url: url.clone(),
            options: options(&with_credentials),
        },
        toml: format!(
            "[store]\nurl = {url:?}\noptions = {}\n",
            toml_table(&public)
        ),
        env: vec![("AZURE_STORAGE_ACCOUNT_KEY".into(), az.key.clone())],
        non_atomic_create: None,
        _dir: None,
    }
}

// ---- a recording, fault-injecting wrapper ---------------------------------

/// Passes everything to the store it wraps, records writes and deletes in
/// order, and fails a put whose path ends with a given suffix.
#[derive(Debug)]
struct Recorder {
    inner: Arc<dyn ObjectStore>,
    /// Writes and deletes, in order.
    log: Arc<Mutex<Vec<String>>>,
    /// Paths read, in order.
    gets: Mutex<Vec<String>>,
    fail_put: Mutex<Option<String>>,
}

impl Recorder {
    fn wrap(store: &Store) -> (Store, Arc<Recorder>) {
        let recorder = Arc::new(Recorder {
            inner: store.object_store().clone(),
            log: Arc::default(),
            gets: Mutex::default(),
            fail_put: Mutex::new(None),
        });
        (
            Store::from_object_store(recorder.clone(), store.url.clone()),
            recorder,
        )
    }

    fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    fn take_gets(&self) -> Vec<String> {
        std::mem::take(&mut *self.gets.lock().unwrap())
    }

    fn fail_puts_ending_with(&self, suffix: Option<&str>) {
        *self.fail_put.lock().unwrap() = suffix.map(str::to_owned);
    }
}

impl fmt::Display for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recorder({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for Recorder {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let fail = self
            .fail_put
            .lock()
            .unwrap()
            .as_deref()
            .is_some_and(|s| location.as_ref().ends_with(s));
        if fail {
            self.log
                .lock()
                .unwrap()
                .push(format!("failed put {location}"));
            return Err(object_store::Error::Generic {
                store: "Recorder",
                source: "injected failure".into(),
            });
        }
        let result = self.inner.put_opts(location, payload, opts).await;
        self.log.lock().unwrap().push(format!("put {location}"));
        result
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.log
            .lock()
            .unwrap()
            .push(format!("multipart {location}"));
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.gets.lock().unwrap().push(location.to_string());
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let log = self.log.clone();
        self.inner.delete_stream(
            locations
                .inspect(move |p| {
                    if let Ok(p) = p {
                        log.lock().unwrap().push(format!("delete {p}"));
                    }
                })
                .boxed(),
        )
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

// ---- the conformance suite -------------------------------------------------

fn dataset(layer: &str, name: &str) -> DatasetId {
    DatasetId {
        layer: layer.into(),
        name: name.into(),
    }
}

/// A manifest for the given files (name, bytes), as the executor would
/// write it.
fn manifest_for(dataset: &DatasetId, partition: &str, files: &[(&str, &[u8])]) -> Manifest {
    let files: Vec<FileEntry> = files
        .iter()
        .map(|(name, bytes)| FileEntry {
            path: (*name).into(),
            size: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        })
        .collect();
    Manifest {
        format: FORMAT_VERSION,
        dataset: dataset.to_string(),
        partition: partition.into(),
        key: sha256_hex(format!("{dataset} {partition} {files:?}").as_bytes()),
        content_hash: content_hash(&files),
        files,
        rows: Some(1),
        schema: vec![],
        producer: Producer::Plugin {
            name: "conformance".into(),
            version: "1".into(),
            sha256: sha256_hex(b"conformance"),
        },
        params: serde_json::json!({}),
        inputs: vec![],
        written_at: "2025-02-19T00:00:00Z".into(),
        host_version: "test".into(),
        invalidated: None,
    }
}

fn payloads(files: &[(&str, &[u8])]) -> Vec<Bytes> {
    files
        .iter()
        .map(|(_, b)| Bytes::copy_from_slice(b))
        .collect()
}

async fn get(store: &Store, path: &str) -> object_store::Result<Bytes> {
    store
        .object_store()
        .get(&Path::from(path))
        .await?
        .bytes()
        .await
}

async fn put(store: &Store, path: &str, bytes: &[u8]) {
    store
        .object_store()
        .put(&Path::from(path), PutPayload::from(bytes.to_vec()))
        .await
        .unwrap_or_else(|e| panic!("put {path}: {e}"));
}

fn is_not_found(r: &object_store::Result<Bytes>) -> bool {
    matches!(r, Err(object_store::Error::NotFound { .. }))
}

/// What a backend said about the conditional puts, for the summary line.
#[derive(Default)]
struct Findings {
    update: &'static str,
}

/// Runs every check on one store.
async fn conformance(backend: &Backend) -> Findings {
    let store = Store::open(&backend.config)
        .unwrap_or_else(|e| panic!("opening the {} store: {e:#}", backend.name));
    let name = backend.name;
    put_get_list(&store, name).await;
    commit_protocol(&store, name).await;
    scan(&store, name).await;
    read_manifest(&store, name).await;
    verify(&store, name).await;
    conditional_create(&store, name, backend.non_atomic_create).await;
    let update = conditional_update(&store, name).await;
    lease(&store, name).await;
    let findings = Findings { update };
    eprintln!(
        "store conformance on {name} ({}): put/get/list, commit protocol, scan, manifests, \
         verify, conditional create, lease: ok; conditional update: {}",
        backend.config.url, findings.update
    );
    findings
}

async fn put_get_list(store: &Store, name: &str) {
    let big: Vec<u8> = (0..(1u32 << 20)).map(|i| (i * 7 % 251) as u8).collect();
    let objects: [(&str, &[u8]); 4] = [
        ("pgl/date=2025-02-18/part-a.parquet", b"alpha"),
        ("pgl/date=2025-02-18/empty", b""),
        ("pgl/date=2025-02-19/big.bin", &big),
        ("pgl/other/x.json", b"{}"),
    ];
    for (path, bytes) in objects {
        put(store, path, bytes).await;
    }
    for (path, bytes) in objects {
        let got = get(store, path).await.unwrap();
        assert_eq!(got.as_ref(), bytes, "{name}: get {path} after put");
        let head = store.object_store().head(&Path::from(path)).await.unwrap();
        assert_eq!(head.size, bytes.len() as u64, "{name}: head {path}");
    }
    let listed: BTreeMap<String, u64> = store
        .object_store()
        .list(Some(&Path::from("pgl")))
        .map_ok(|m| (m.location.to_string(), m.size))
        .try_collect()
        .await
        .unwrap();
    let expected: BTreeMap<String, u64> = objects
        .iter()
        .map(|(p, b)| (p.to_string(), b.len() as u64))
        .collect();
    assert_eq!(listed, expected, "{name}: list");

    // A prefix is a folder: `pgl/date=2025-02-1` lists nothing.
    let partial: Vec<ObjectMeta> = store
        .object_store()
        .list(Some(&Path::from("pgl/date=2025-02-1")))
        .try_collect()
        .await
        .unwrap();
    assert!(partial.is_empty(), "{name}: list of a partial name");

    // Overwrite replaces whole.
    put(store, "pgl/other/x.json", b"{\"v\": 2}").await;
    assert_eq!(
        get(store, "pgl/other/x.json").await.unwrap().as_ref(),
        b"{\"v\": 2}"
    );

    assert!(
        is_not_found(&get(store, "pgl/nothing/here").await),
        "{name}: get of a missing object is NotFound"
    );
    store.delete(&Path::from("pgl/other/x.json")).await.unwrap();
    assert!(is_not_found(&get(store, "pgl/other/x.json").await));
    // Deleting what is not there is not an error for the store.
    store.delete(&Path::from("pgl/other/x.json")).await.unwrap();
}

async fn commit_protocol(store: &Store, name: &str) {
    // Commits are fenced by the run lease; taken on the store itself so the
    // recorder sees only what the commits do.
    let lease = Lease::acquire(store, Duration::from_secs(60))
        .await
        .unwrap();
    let fence = lease.fence().clone();
    let (store, recorder) = Recorder::wrap(store);
    let ds = dataset("bronze", "commit");
    let part = "date=2025-02-18";
    let dir = format!("bronze/commit/{part}");

    let v1: [(&str, &[u8]); 2] = [("part-a.parquet", b"aaaa"), ("part-b.parquet", b"bbbbbb")];
    let m1 = manifest_for(&ds, part, &v1);
    store
        .commit(&ds, &m1, payloads(&v1), None, &fence)
        .await
        .unwrap();
    assert_eq!(
        recorder.take_log(),
        [
            format!("put {dir}/part-a.parquet"),
            format!("put {dir}/part-b.parquet"),
            format!("put {dir}/{MANIFEST_FILE}"),
        ],
        "{name}: data files first, the manifest last"
    );
    match store.read_manifest(&ds, part).await.unwrap() {
        ManifestRead::Valid(m) => assert_eq!(*m, m1, "{name}: manifest read back"),
        other => panic!("{name}: committed manifest read as {other:?}"),
    }
    let listing = store.scan(&ds).await.unwrap();
    assert_eq!(Store::check(&m1, listing.get(part)), Health::Intact);

    // Replace: b stays, a goes, c comes.
    let v2: [(&str, &[u8]); 2] = [("part-b.parquet", b"bbbbbb"), ("part-c.parquet", b"cc")];
    let m2 = manifest_for(&ds, part, &v2);
    store
        .commit(&ds, &m2, payloads(&v2), Some(&m1), &fence)
        .await
        .unwrap();
    let log = recorder.take_log();
    let manifest_at = log
        .iter()
        .position(|l| l == &format!("put {dir}/{MANIFEST_FILE}"))
        .unwrap_or_else(|| panic!("{name}: no manifest put in {log:?}"));
    for (i, line) in log.iter().enumerate() {
        if line.starts_with("put ") && i != manifest_at {
            assert!(
                i < manifest_at,
                "{name}: data written after the manifest: {log:?}"
            );
        }
        if line.starts_with("delete ") {
            assert!(
                i > manifest_at,
                "{name}: deleted before the manifest: {log:?}"
            );
        }
    }
    assert!(
        log.contains(&format!("delete {dir}/part-a.parquet")),
        "{name}: the replaced file is deleted: {log:?}"
    );
    assert!(
        !log.iter()
            .any(|l| l.starts_with("delete ") && !l.ends_with("part-a.parquet")),
        "{name}: only the replaced file is deleted: {log:?}"
    );
    let listing = store.scan(&ds).await.unwrap();
    let names: BTreeSet<&str> = listing[part].files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from(["part-b.parquet", "part-c.parquet", MANIFEST_FILE]),
        "{name}: folder after the replacing commit"
    );

    // A failed manifest put leaves the previous partition complete, and the
    // new data file is garbage that `host gc` finds.
    let v3: [(&str, &[u8]); 1] = [("part-d.parquet", b"ddd")];
    let m3 = manifest_for(&ds, part, &v3);
    recorder.fail_puts_ending_with(Some(MANIFEST_FILE));
    assert!(
        store
            .commit(&ds, &m3, payloads(&v3), Some(&m2), &fence)
            .await
            .is_err(),
        "{name}: a failed manifest put fails the commit"
    );
    recorder.fail_puts_ending_with(None);
    let log = recorder.take_log();
    assert!(
        !log.iter().any(|l| l.starts_with("delete ")),
        "{name}: nothing deleted after a failed manifest put: {log:?}"
    );
    match store.read_manifest(&ds, part).await.unwrap() {
        ManifestRead::Valid(m) => assert_eq!(*m, m2, "{name}: the old manifest stays"),
        other => panic!("{name}: after a failed commit the manifest reads as {other:?}"),
    }
    let listing = store.scan(&ds).await.unwrap();
    assert_eq!(Store::check(&m2, listing.get(part)), Health::Intact);
    let garbage: Vec<String> = store
        .garbage(&ds)
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        garbage,
        [format!("{dir}/part-d.parquet")],
        "{name}: garbage"
    );

    // A failed data put never reaches the manifest.
    let v4: [(&str, &[u8]); 2] = [("part-e.parquet", b"e"), ("part-f.parquet", b"ff")];
    let m4 = manifest_for(&ds, part, &v4);
    recorder.fail_puts_ending_with(Some("part-f.parquet"));
    assert!(
        store
            .commit(&ds, &m4, payloads(&v4), Some(&m2), &fence)
            .await
            .is_err()
    );
    recorder.fail_puts_ending_with(None);
    let log = recorder.take_log();
    assert!(
        !log.iter().any(|l| l.ends_with(MANIFEST_FILE)),
        "{name}: a failed data put must not be followed by the manifest: {log:?}"
    );
    match store.read_manifest(&ds, part).await.unwrap() {
        ManifestRead::Valid(m) => assert_eq!(*m, m2),
        other => panic!("{name}: {other:?}"),
    }
    lease.release().await.unwrap();
}

async fn scan(store: &Store, name: &str) {
    let ds = dataset("silver", "t");
    put(store, "silver/t/date=2025-02-01/x.parquet", b"x").await;
    put(store, "silver/t/date=2025-02-02/y.parquet", b"yy").await;
    put(store, "silver/t/date=2025-02-02/_manifest.json", b"{}").await;
    // Not partition files: too deep, at the dataset's root, or another
    // dataset whose name starts the same.
    put(store, "silver/t/date=2025-02-02/deeper/z.parquet", b"z").await;
    put(store, "silver/t/stray.txt", b"s").await;
    put(store, "silver/t2/date=2025-02-01/w.parquet", b"w").await;
    put(store, "silver/tt/date=2025-02-01/w.parquet", b"w").await;

    let found = store.scan(&ds).await.unwrap();
    let found: BTreeMap<String, BTreeMap<String, u64>> =
        found.into_iter().map(|(k, v)| (k, v.files)).collect();
    let expected: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::from([
        (
            "date=2025-02-01".to_owned(),
            BTreeMap::from([("x.parquet".to_owned(), 1)]),
        ),
        (
            "date=2025-02-02".to_owned(),
            BTreeMap::from([("y.parquet".to_owned(), 2), (MANIFEST_FILE.to_owned(), 2)]),
        ),
    ]);
    assert_eq!(found, expected, "{name}: scan");
    assert!(
        store
            .scan(&dataset("silver", "none"))
            .await
            .unwrap()
            .is_empty(),
        "{name}: scan of a dataset never written"
    );
}

async fn read_manifest(store: &Store, name: &str) {
    let ds = dataset("gold", "m");
    let part = "date=2025-02-03";
    let check = |r: ManifestRead, want: &str| {
        let got = match &r {
            ManifestRead::Missing => "missing",
            ManifestRead::Valid(_) => "valid",
            ManifestRead::Invalid(ManifestError::Parse(_)) => "parse",
            ManifestRead::Invalid(ManifestError::Version { .. }) => "version",
            ManifestRead::Invalid(ManifestError::WrongPartition { .. }) => "wrong partition",
            ManifestRead::Invalid(_) => "invalid",
        };
        assert_eq!(got, want, "{name}: read_manifest gave {r:?}");
    };
    check(store.read_manifest(&ds, part).await.unwrap(), "missing");
    // Data files alone do not make a partition.
    put(store, "gold/m/date=2025-02-03/part-x.parquet", b"xx").await;
    check(store.read_manifest(&ds, part).await.unwrap(), "missing");

    let manifest_path = "gold/m/date=2025-02-03/_manifest.json";
    put(store, manifest_path, b"{\"format\": 1, \"files\": [").await;
    check(store.read_manifest(&ds, part).await.unwrap(), "parse");
    put(store, manifest_path, &[0xff, 0xfe, 0x00, 0x01]).await;
    check(store.read_manifest(&ds, part).await.unwrap(), "parse");

    let files: [(&str, &[u8]); 1] = [("part-x.parquet", b"xx")];
    let mut m = manifest_for(&ds, part, &files);
    m.format = FORMAT_VERSION + 1;
    put(store, manifest_path, &m.to_json()).await;
    check(store.read_manifest(&ds, part).await.unwrap(), "version");

    let other = manifest_for(&ds, "date=2025-02-04", &files);
    put(store, manifest_path, &other.to_json()).await;
    check(
        store.read_manifest(&ds, part).await.unwrap(),
        "wrong partition",
    );

    let good = manifest_for(&ds, part, &files);
    put(store, manifest_path, &good.to_json()).await;
    check(store.read_manifest(&ds, part).await.unwrap(), "valid");

    store.delete_manifest(&ds, part).await.unwrap();
    check(store.read_manifest(&ds, part).await.unwrap(), "missing");
    // Deleting it again is fine: it is already missing.
    store.delete_manifest(&ds, part).await.unwrap();
}

async fn verify(store: &Store, name: &str) {
    let ds = dataset("bronze", "v");
    let part = "date=2025-02-05";
    let files: [(&str, &[u8]); 2] = [("a.parquet", b"hello world"), ("b.parquet", b"second")];
    let m = manifest_for(&ds, part, &files);
    let lease = Lease::acquire(store, Duration::from_secs(60))
        .await
        .unwrap();
    store
        .commit(&ds, &m, payloads(&files), None, lease.fence())
        .await
        .unwrap();
    lease.release().await.unwrap();
    assert_eq!(store.verify(&ds, &m).await.unwrap(), Health::Intact);

    // Same size, other bytes: only a rehash sees it.
    put(store, "bronze/v/date=2025-02-05/a.parquet", b"HELLO WORLD").await;
    let listing = store.scan(&ds).await.unwrap();
    assert_eq!(
        Store::check(&m, listing.get(part)),
        Health::Intact,
        "{name}: sizes alone cannot see a same-size edit"
    );
    match store.verify(&ds, &m).await.unwrap() {
        Health::Damaged(why) => assert!(why.contains("a.parquet"), "{name}: {why}"),
        Health::Intact => panic!("{name}: verify missed a changed file"),
    }

    // Truncated: the sizes see it.
    put(store, "bronze/v/date=2025-02-05/a.parquet", b"hello").await;
    let listing = store.scan(&ds).await.unwrap();
    assert!(matches!(
        Store::check(&m, listing.get(part)),
        Health::Damaged(_)
    ));

    // Gone.
    store
        .delete(&Path::from("bronze/v/date=2025-02-05/b.parquet"))
        .await
        .unwrap();
    match store.verify(&ds, &m).await.unwrap() {
        Health::Damaged(why) => assert!(why.contains("missing") || why.contains("a.parquet")),
        Health::Intact => panic!("{name}: verify missed a deleted file"),
    }
    put(store, "bronze/v/date=2025-02-05/a.parquet", b"hello world").await;
    match store.verify(&ds, &m).await.unwrap() {
        Health::Damaged(why) => assert!(why.contains("b.parquet"), "{name}: {why}"),
        Health::Intact => panic!("{name}: verify missed a deleted file"),
    }
    let listing = store.scan(&ds).await.unwrap();
    match Store::check(&m, listing.get(part)) {
        Health::Damaged(why) => assert!(why.contains("missing"), "{name}: {why}"),
        Health::Intact => panic!("{name}: check missed a deleted file"),
    }
}

fn create() -> PutOptions {
    PutOptions {
        mode: PutMode::Create,
        ..Default::default()
    }
}

async fn conditional_create(store: &Store, name: &str, non_atomic_create: Option<&str>) {
    let os = store.object_store();
    let path = Path::from("cond/create.json");
    os.put_opts(&path, PutPayload::from_static(b"first"), create())
        .await
        .unwrap_or_else(|e| panic!("{name}: create of a new object: {e}"));
    match os
        .put_opts(&path, PutPayload::from_static(b"second"), create())
        .await
    {
        Err(object_store::Error::AlreadyExists { .. }) => {}
        other => panic!("{name}: create over an existing object gave {other:?}"),
    }
    assert_eq!(
        get(store, "cond/create.json").await.unwrap().as_ref(),
        b"first",
        "{name}: a refused create changed the object"
    );

    // Racing creates: exactly one wins, and the object is the winner's.
    // The lease rests on this. A few rounds, as a lost race is a matter of
    // timing.
    for round in 0..RACE_ROUNDS {
        let race = Path::from(format!("cond/race-{round}.json"));
        let attempts = (0..RACERS).map(|i| {
            let os = os.clone();
            let race = race.clone();
            async move {
                let body = format!("contender {i}");
                let r = os
                    .put_opts(&race, PutPayload::from(body.clone().into_bytes()), create())
                    .await;
                (body, r)
            }
        });
        let results = futures::future::join_all(attempts).await;
        let winners: Vec<&String> = results
            .iter()
            .filter(|(_, r)| r.is_ok())
            .map(|(b, _)| b)
            .collect();
        for (_, r) in &results {
            if let Err(e) = r {
                assert!(
                    matches!(e, object_store::Error::AlreadyExists { .. }),
                    "{name}: a losing create must say AlreadyExists, not {e:?}"
                );
            }
        }
        if winners.len() != 1
            && let Some(why) = non_atomic_create
        {
            let _ = writeln!(
                std::io::stderr(),
                "!! {name}: {} of {RACERS} racing creates won: {why}",
                winners.len()
            );
            return;
        }
        assert_eq!(
            winners.len(),
            1,
            "{name}: racing creates, round {round}: {:?}",
            results
                .iter()
                .map(|(b, r)| format!("{b}: {}", if r.is_ok() { "won" } else { "lost" }))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            get(store, race.as_ref()).await.unwrap().as_ref(),
            winners[0].as_bytes(),
            "{name}: the object is the winner's"
        );
    }
}

const RACE_ROUNDS: usize = 5;
const RACERS: usize = 8;

/// The lease's take-over of an expired lease uses a conditional update
/// where the store has one. Returns what the backend did.
async fn conditional_update(store: &Store, name: &str) -> &'static str {
    let os = store.object_store();
    let path = Path::from("cond/update.json");
    let first = os
        .put_opts(&path, PutPayload::from_static(b"v1"), create())
        .await
        .unwrap();
    let current = UpdateVersion {
        e_tag: first.e_tag.clone(),
        version: first.version.clone(),
    };
    let update = |v: UpdateVersion| PutOptions {
        mode: PutMode::Update(v),
        ..Default::default()
    };
    match os
        .put_opts(
            &path,
            PutPayload::from_static(b"v2"),
            update(current.clone()),
        )
        .await
    {
        Ok(_) => {}
        Err(object_store::Error::NotImplemented { .. }) => {
            assert_eq!(
                get(store, "cond/update.json").await.unwrap().as_ref(),
                b"v1"
            );
            return "not implemented (the lease deletes and re-creates)";
        }
        Err(e) => panic!("{name}: update with the current version: {e:?}"),
    }
    assert_eq!(
        get(store, "cond/update.json").await.unwrap().as_ref(),
        b"v2"
    );
    // The version we read is now stale: a second updater loses.
    match os
        .put_opts(&path, PutPayload::from_static(b"v3"), update(current))
        .await
    {
        Err(object_store::Error::Precondition { .. }) => {}
        other => panic!("{name}: update with a stale version gave {other:?}"),
    }
    assert_eq!(
        get(store, "cond/update.json").await.unwrap().as_ref(),
        b"v2"
    );
    "supported"
}

async fn lease(store: &Store, name: &str) {
    let ttl = Duration::from_secs(60);
    let first = Lease::acquire(store, ttl)
        .await
        .unwrap_or_else(|e| panic!("{name}: taking a free lease: {e:#}"));
    match Lease::acquire(store, ttl).await {
        Err(LeaseError::Held(holder)) => {
            assert_eq!(holder, first.record().await, "{name}: the holder named");
        }
        Err(e) => panic!("{name}: second lease: {e:#}"),
        Ok(_) => panic!("{name}: two runs held the lease at once"),
    }
    first.release().await.unwrap();
    let again = Lease::acquire(store, ttl)
        .await
        .unwrap_or_else(|e| panic!("{name}: the lease after its release: {e:#}"));
    again.release().await.unwrap();

    // A dead holder's expired lease is taken over.
    let now = chrono::Utc::now();
    let dead = LeaseRecord {
        holder: "dead-run".into(),
        host: "elsewhere".into(),
        pid: 1,
        started_at: now - chrono::Duration::hours(2),
        expires_at: now - chrono::Duration::hours(1),
    };
    put(store, LEASE_PATH, &serde_json::to_vec(&dead).unwrap()).await;
    let taken = Lease::acquire(store, ttl)
        .await
        .unwrap_or_else(|e| panic!("{name}: taking over an expired lease: {e:#}"));
    assert_ne!(taken.record().await.holder, "dead-run");
    let stored: LeaseRecord =
        serde_json::from_slice(&get(store, LEASE_PATH).await.unwrap()).unwrap();
    assert_eq!(
        stored,
        taken.record().await,
        "{name}: the lease object after take-over"
    );
    taken.release().await.unwrap();
    assert!(
        is_not_found(&get(store, LEASE_PATH).await),
        "{name}: a released lease is gone"
    );

    // A holder that stalled past its lease and was taken over meanwhile
    // commits nothing: its fence looks at the lease again once a third of
    // the lifetime has passed since the last renewal.
    let stalled = Lease::acquire(store, Duration::from_millis(600))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:#}"));
    let thief = LeaseRecord {
        holder: "thief".into(),
        host: "elsewhere".into(),
        pid: 2,
        started_at: now,
        expires_at: now + chrono::Duration::hours(1),
    };
    put(store, LEASE_PATH, &serde_json::to_vec(&thief).unwrap()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ds = dataset("bronze", "fenced");
    let part = "date=2025-02-18";
    let files: [(&str, &[u8]); 1] = [("part-x.parquet", b"x")];
    let m = manifest_for(&ds, part, &files);
    match store
        .commit(&ds, &m, payloads(&files), None, stalled.fence())
        .await
    {
        Err(CommitError::LeaseLost(lost)) => assert!(
            lost.to_string().contains("run thief"),
            "{name}: the loss names the new holder: {lost}"
        ),
        other => panic!("{name}: a commit after the lease was taken over gave {other:?}"),
    }
    assert!(
        matches!(
            store.read_manifest(&ds, part).await.unwrap(),
            ManifestRead::Missing
        ),
        "{name}: no manifest written without the lease"
    );
    stalled.release().await.unwrap();
    let stored: LeaseRecord =
        serde_json::from_slice(&get(store, LEASE_PATH).await.unwrap()).unwrap();
    assert_eq!(
        stored, thief,
        "{name}: releasing a lost lease leaves the new holder's"
    );
    store.delete(&Path::from(LEASE_PATH)).await.unwrap();
}

#[tokio::test]
async fn conformance_local() {
    conformance(&local_backend()).await;
}

#[tokio::test]
async fn conformance_memory() {
    conformance(&memory_backend()).await;
}

#[tokio::test]
async fn conformance_s3() {
    let Some(s3) = s3_server("conformance_s3") else {
        return;
    };
    let backend = s3_backend(&s3, "conformance");
    let findings = conformance(&backend).await;
    assert_eq!(
        findings.update, "supported",
        "{}: S3 has conditional updates",
        s3.server
    );
}

#[tokio::test]
async fn conformance_azure() {
    let Some(az) = azure_server("conformance_azure") else {
        return;
    };
    let findings = conformance(&azure_backend(&az, "conformance")).await;
    assert_eq!(findings.update, "supported");
}

// ---- healing, end to end ----------------------------------------------------

const HEALING_DAYS: usize = 6;

/// raw → bronze → silver → gold over six days of the example's data.
fn healing_workspace(store: &str) -> Workspace {
    Medallion::new()
        .store_toml(store)
        .days(HEALING_DAYS as u32)
        .bronze("json_to_table", Columns::Core)
        .silver("clean_dedupe", DEDUPE_BY_KEY)
        .gold("aggregate", &[Gold::DailySum])
        .workspace()
}

const HEALING_DATASETS: [&str; 4] = [
    "raw/transactions",
    "bronze/transactions",
    "silver/transactions",
    "gold/daily_totals",
];

/// dataset → partitions computed by one run.
type Computed = BTreeMap<String, Vec<String>>;
/// (dataset, partition) → state.
type States = BTreeMap<(String, String), String>;

/// Drives a pipeline: the `host` binary, or the library in this process.
trait Driver {
    fn run(&self, rt: &tokio::runtime::Runtime) -> Computed;
    fn status(&self, rt: &tokio::runtime::Runtime) -> States;
    /// The pipeline's store, opened by the test.
    fn store(&self) -> &Store;
}

/// `host` with exactly the given credentials: none leak in from the test's
/// own environment.
fn host(ws: &Workspace, args: &[&str], env: &[(String, String)]) -> Output {
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

fn assert_no_panic(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{what} panicked:\n{stderr}");
}

struct BinaryDriver {
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
        assert!(
            out.status.success(),
            "host status failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        json["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    (
                        p["dataset"].as_str().unwrap().to_owned(),
                        p["partition"].as_str().unwrap().to_owned(),
                    ),
                    p["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    fn store(&self) -> &Store {
        &self.store
    }
}

/// The executor in this process, for `memory://`.
struct LibraryDriver {
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
fn store_snapshot(rt: &tokio::runtime::Runtime, store: &Store) -> BTreeMap<String, String> {
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

fn only(computed: &Computed, expected: &[(&str, &[String])], what: &str) {
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
fn healing(driver: &dyn Driver, backend: &str) {
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

fn binary_driver(backend: &Backend) -> BinaryDriver {
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
fn manifest_cache(backend: &Backend, name: &str) {
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

fn check_refused(backend: &Backend, secret: &str) {
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
