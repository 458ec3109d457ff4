//! The store API on every backend, through the library.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{
    ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion,
};

use strata_core::DatasetId;
use strata_core::manifest::{
    FORMAT_VERSION, FileEntry, MANIFEST_FILE, Manifest, ManifestError, Producer, content_hash,
    sha256_hex,
};
use strata_store::lease::{LEASE_PATH, Lease, LeaseError, LeaseRecord};
use strata_store::{CommitError, Health, ManifestRead, Store};

use super::recorder::*;
use super::servers::*;

// ---- the conformance suite -------------------------------------------------

pub(super) fn dataset(layer: &str, name: &str) -> DatasetId {
    DatasetId {
        layer: layer.into(),
        name: name.into(),
    }
}

/// A manifest for the given files (name, bytes), as the executor would
/// write it.
pub(super) fn manifest_for(
    dataset: &DatasetId,
    partition: &str,
    files: &[(&str, &[u8])],
) -> Manifest {
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
        checks: vec![],
    }
}

pub(super) fn payloads(files: &[(&str, &[u8])]) -> Vec<Bytes> {
    files
        .iter()
        .map(|(_, b)| Bytes::copy_from_slice(b))
        .collect()
}

pub(super) async fn get(store: &Store, path: &str) -> object_store::Result<Bytes> {
    store
        .object_store()
        .get(&Path::from(path))
        .await?
        .bytes()
        .await
}

pub(super) async fn put(store: &Store, path: &str, bytes: &[u8]) {
    store
        .object_store()
        .put(&Path::from(path), PutPayload::from(bytes.to_vec()))
        .await
        .unwrap_or_else(|e| panic!("put {path}: {e}"));
}

pub(super) fn is_not_found(r: &object_store::Result<Bytes>) -> bool {
    matches!(r, Err(object_store::Error::NotFound { .. }))
}

/// What a backend said about the conditional puts, for the summary line.
#[derive(Default)]
pub(super) struct Findings {
    update: &'static str,
}

/// Runs every check on one store.
pub(super) async fn conformance(backend: &Backend) -> Findings {
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

pub(super) async fn put_get_list(store: &Store, name: &str) {
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

pub(super) async fn commit_protocol(store: &Store, name: &str) {
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

pub(super) async fn scan(store: &Store, name: &str) {
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

pub(super) async fn read_manifest(store: &Store, name: &str) {
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

pub(super) async fn verify(store: &Store, name: &str) {
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

pub(super) fn create() -> PutOptions {
    PutOptions {
        mode: PutMode::Create,
        ..Default::default()
    }
}

pub(super) async fn conditional_create(store: &Store, name: &str, non_atomic_create: Option<&str>) {
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

pub(super) const RACE_ROUNDS: usize = 5;
pub(super) const RACERS: usize = 8;

/// The lease's take-over of an expired lease uses a conditional update
/// where the store has one. Returns what the backend did.
pub(super) async fn conditional_update(store: &Store, name: &str) -> &'static str {
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

pub(super) async fn lease(store: &Store, name: &str) {
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
