//! A corpus of corrupted manifests put into a real store and run through
//! the `host` binary.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Output;

use serde_json::{Value, json};

use strata_core::manifest::{
    FORMAT_VERSION, FileEntry, MANIFEST_FILE, Manifest, ManifestError, content_hash, sha256_hex,
};

use crate::util::{Columns, DEDUPE_BY_KEY, Gold, Medallion, Workspace, day};

// ---- the corpus --------------------------------------------------------------

/// What a corrupted manifest is made from.
pub(super) struct Ctx {
    /// The partition's own valid manifest.
    pub(super) own: Value,
    /// Another partition of the same dataset: its manifest and a data file
    /// (name, size, sha256).
    pub(super) sibling_partition: String,
    pub(super) sibling_manifest: Vec<u8>,
    pub(super) sibling_file: (String, u64, String),
    /// The same partition of another dataset.
    pub(super) other_dataset_manifest: Vec<u8>,
    /// Files outside the partition folder, with their true size and sha256:
    /// `../sentinel.parquet` (the dataset folder), `../../../sentinel.parquet`
    /// (the store root) and one outside the store, by its absolute path.
    pub(super) dataset_sentinel: (u64, String),
    pub(super) store_sentinel: (u64, String),
    pub(super) outside_sentinel: (PathBuf, u64, String),
}

/// Sets a manifest's file list and recomputes its content hash, so that
/// only the check under test stands between the manifest and acceptance.
pub(super) fn with_files(own: &Value, files: &[(&str, u64, &str)]) -> Value {
    let entries: Vec<FileEntry> = files
        .iter()
        .map(|(p, s, h)| FileEntry {
            path: p.to_string(),
            size: *s,
            sha256: h.to_string(),
        })
        .collect();
    let mut v = own.clone();
    v["files"] = serde_json::to_value(&entries).unwrap();
    v["content_hash"] = Value::String(content_hash(&entries));
    v
}

pub(super) fn set(own: &Value, pointer: &str, value: Value) -> Value {
    let mut v = own.clone();
    *v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in the manifest")) = value;
    v
}

/// The first data file of a manifest: (name, size, sha256).
pub(super) fn first_file(v: &Value) -> (String, u64, String) {
    let f = &v["files"][0];
    (
        f["path"].as_str().unwrap().to_owned(),
        f["size"].as_u64().unwrap(),
        f["sha256"].as_str().unwrap().to_owned(),
    )
}

pub(super) fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).unwrap()
}

/// How the host is expected to see a corrupted manifest.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Seen {
    /// `host status` says damaged.
    Damaged,
    /// Sizes match: only `--verify` (rehashing) says damaged.
    DamagedWithVerify,
}

pub(super) type Corrupt = fn(&Ctx) -> Vec<u8>;

/// Every corruption: a name, how the host must see it, which check of
/// `Manifest::parse` rejects it (`accepted`: it parses, and the files
/// themselves give it away), and how to make it.
pub(super) fn corpus() -> Vec<(&'static str, Seen, &'static str, Corrupt)> {
    use Seen::*;
    vec![
        ("truncated JSON", Damaged, "parse", |c| {
            let b = bytes(&c.own);
            b[..b.len() / 2].to_vec()
        }),
        ("empty file", Damaged, "parse", |_| vec![]),
        ("not UTF-8", Damaged, "parse", |_| {
            vec![0xff, 0xfe, 0x7b, 0x00, 0xc3, 0x28]
        }),
        ("a JSON array", Damaged, "parse", |_| b"[]".to_vec()),
        ("JSON null", Damaged, "parse", |_| b"null".to_vec()),
        ("trailing garbage", Damaged, "parse", |c| {
            let mut b = bytes(&c.own);
            b.extend_from_slice(b"\n}{garbage");
            b
        }),
        ("wrong format version", Damaged, "version", |c| {
            bytes(&set(&c.own, "/format", json!(FORMAT_VERSION + 1)))
        }),
        ("format version 0", Damaged, "version", |c| {
            bytes(&set(&c.own, "/format", json!(0)))
        }),
        ("format version as text", Damaged, "parse", |c| {
            bytes(&set(&c.own, "/format", json!("1")))
        }),
        ("negative format version", Damaged, "parse", |c| {
            bytes(&set(&c.own, "/format", json!(-1)))
        }),
        (
            "`..` to a file in the dataset folder",
            Damaged,
            "unsafe path",
            |c| {
                let (s, h) = &c.dataset_sentinel;
                bytes(&with_files(&c.own, &[("../sentinel.parquet", *s, h)]))
            },
        ),
        (
            "`..` to a file at the store root",
            Damaged,
            "unsafe path",
            |c| {
                let (s, h) = &c.store_sentinel;
                bytes(&with_files(&c.own, &[("../../../sentinel.parquet", *s, h)]))
            },
        ),
        ("`..` out of the store", Damaged, "unsafe path", |c| {
            let (_, s, h) = &c.outside_sentinel;
            bytes(&with_files(
                &c.own,
                &[("../../../../outside.parquet", *s, h)],
            ))
        }),
        ("an absolute path", Damaged, "unsafe path", |c| {
            let (p, s, h) = &c.outside_sentinel;
            bytes(&with_files(&c.own, &[(p.to_str().unwrap(), *s, h)]))
        }),
        ("a file of another partition", Damaged, "unsafe path", |c| {
            let (name, s, h) = &c.sibling_file;
            let path = format!("../{}/{name}", c.sibling_partition);
            bytes(&with_files(&c.own, &[(&path, *s, h)]))
        }),
        ("a backslash path", Damaged, "unsafe path", |c| {
            let (s, h) = &c.dataset_sentinel;
            bytes(&with_files(&c.own, &[("..\\sentinel.parquet", *s, h)]))
        }),
        (
            "`./` before a real file name",
            Damaged,
            "unsafe path",
            |c| {
                let (name, s, h) = first_file(&c.own);
                bytes(&with_files(&c.own, &[(&format!("./{name}"), s, &h)]))
            },
        ),
        ("a file in a subfolder", Damaged, "unsafe path", |c| {
            let (name, s, h) = first_file(&c.own);
            bytes(&with_files(&c.own, &[(&format!("sub/{name}"), s, &h)]))
        }),
        ("the manifest naming itself", Damaged, "unsafe path", |c| {
            let h = sha256_hex(b"");
            bytes(&with_files(&c.own, &[(MANIFEST_FILE, 10, &h)]))
        }),
        ("an empty file name", Damaged, "unsafe path", |c| {
            let (_, s, h) = first_file(&c.own);
            bytes(&with_files(&c.own, &[("", s, &h)]))
        }),
        ("a NUL in a file name", Damaged, "unsafe path", |c| {
            let (name, s, h) = first_file(&c.own);
            bytes(&with_files(&c.own, &[(&format!("{name}\0"), s, &h)]))
        }),
        ("a huge recorded size", Damaged, "accepted", |c| {
            bytes(&set(&c.own, "/files/0/size", json!(u64::MAX)))
        }),
        ("a size beyond 64 bits", Damaged, "parse", |c| {
            let text = String::from_utf8(bytes(&c.own)).unwrap();
            let size = first_file(&c.own).1;
            text.replacen(
                &format!("\"size\": {size}"),
                "\"size\": 184467440737095516160000",
                1,
            )
            .into_bytes()
        }),
        ("a negative size", Damaged, "parse", |c| {
            bytes(&set(&c.own, "/files/0/size", json!(-1)))
        }),
        ("a hash of the wrong length", Damaged, "bad hash", |c| {
            let (name, s, h) = first_file(&c.own);
            bytes(&with_files(&c.own, &[(&name, s, &h[..63])]))
        }),
        ("a hash that is not hex", Damaged, "bad hash", |c| {
            let (name, s, _) = first_file(&c.own);
            bytes(&with_files(&c.own, &[(&name, s, &"z".repeat(64))]))
        }),
        ("an upper-case hash", Damaged, "bad hash", |c| {
            let (name, s, h) = first_file(&c.own);
            bytes(&with_files(&c.own, &[(&name, s, &h.to_uppercase())]))
        }),
        (
            "a content hash that does not match the files",
            Damaged,
            "content hash",
            |c| bytes(&set(&c.own, "/content_hash", json!(sha256_hex(b"other")))),
        ),
        ("a malformed key", Damaged, "bad hash", |c| {
            bytes(&set(&c.own, "/key", json!("abc")))
        }),
        (
            "a manifest copied from another partition",
            Damaged,
            "wrong partition",
            |c| c.sibling_manifest.clone(),
        ),
        (
            "a manifest copied from another dataset",
            Damaged,
            "wrong partition",
            |c| c.other_dataset_manifest.clone(),
        ),
        (
            "another partition's manifest relabelled",
            Damaged,
            "accepted",
            |c| {
                let mut v: Value = serde_json::from_slice(&c.sibling_manifest).unwrap();
                v["dataset"] = c.own["dataset"].clone();
                v["partition"] = c.own["partition"].clone();
                bytes(&v)
            },
        ),
        ("an unknown field", Damaged, "parse", |c| {
            bytes(&c.own).splitn_str_replace("{", "{\n  \"trusted\": true,")
        }),
        ("a duplicated field", Damaged, "parse", |c| {
            bytes(&c.own).splitn_str_replace("{", "{\n  \"format\": 1,")
        }),
        ("files that are not a list", Damaged, "parse", |c| {
            bytes(&set(&c.own, "/files", json!({"path": "x"})))
        }),
        ("JSON nested 100000 deep", Damaged, "parse", |c| {
            let text = String::from_utf8(bytes(&c.own)).unwrap();
            let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
            text.replacen("{", &format!("{{\n  \"params\": {deep},"), 1)
                .into_bytes()
        }),
        (
            "a right-length hash of other bytes",
            DamagedWithVerify,
            "accepted",
            |c| {
                let (name, s, _) = first_file(&c.own);
                bytes(&with_files(&c.own, &[(&name, s, &sha256_hex(b"other"))]))
            },
        ),
    ]
}

/// Which check rejected a manifest, or `accepted`.
pub(super) fn rejection(parsed: &Result<Manifest, ManifestError>) -> &'static str {
    match parsed {
        Ok(_) => "accepted",
        Err(ManifestError::Parse(_)) => "parse",
        Err(ManifestError::Version { .. }) => "version",
        Err(ManifestError::WrongPartition { .. }) => "wrong partition",
        Err(ManifestError::UnsafePath(_)) => "unsafe path",
        Err(ManifestError::BadHash(_)) => "bad hash",
        Err(ManifestError::ContentHash) => "content hash",
        #[allow(unreachable_patterns)]
        Err(_) => "other",
    }
}

/// `replacen(from, to, 1)` on bytes that are UTF-8.
pub(super) trait ReplaceFirst {
    fn splitn_str_replace(self, from: &str, to: &str) -> Vec<u8>;
}

impl ReplaceFirst for Vec<u8> {
    fn splitn_str_replace(self, from: &str, to: &str) -> Vec<u8> {
        String::from_utf8(self)
            .unwrap()
            .replacen(from, to, 1)
            .into_bytes()
    }
}

// ---- the corpus through the binary -----------------------------------------

pub(super) const CORPUS_DAYS: u32 = 12;
/// The day no corruption touches: other partitions' manifests and files come
/// from it.
pub(super) const SIBLING_DAY: u32 = CORPUS_DAYS;

/// The medallion pipeline (core columns, a daily gold) over the corpus days.
pub(super) fn corpus_pipeline() -> Medallion {
    Medallion::new()
        .days(CORPUS_DAYS)
        .bronze("json_to_table", Columns::Core)
        .silver("clean_dedupe", DEDUPE_BY_KEY)
        .gold("aggregate", &[Gold::DailySum])
}

pub(super) const CORPUS_DATASETS: [&str; 4] = [
    "raw/transactions",
    "bronze/transactions",
    "silver/transactions",
    "gold/daily_totals",
];

pub(super) fn checked(out: Output, what: &str) -> Output {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{what} panicked:\n{stderr}");
    assert!(
        out.status.code().is_some(),
        "{what} was killed by a signal:\n{stderr}"
    );
    out
}

pub(super) fn states(
    ws: &Workspace,
    extra: &[&str],
) -> BTreeMap<(String, String), (String, String)> {
    let mut args = vec!["status", "--json"];
    args.extend_from_slice(extra);
    crate::util::parse_status(&checked(ws.host(&args), "host status"))
}

/// (dataset, partition) computed by a run.
pub(super) fn run(ws: &Workspace, extra: &[&str]) -> BTreeSet<(String, String)> {
    let mut args = vec!["run", "--json"];
    args.extend_from_slice(extra);
    let out = checked(ws.host(&args), "host run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "host run failed:\n{stderr}");
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("host run printed no JSON ({e}):\n{stderr}"));
    json["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| {
            let name = d["dataset"].as_str().unwrap().to_owned();
            d["computed_partitions"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |p| (name.clone(), p["partition"].as_str().unwrap().to_owned()))
        })
        .collect()
}

/// Every corrupted manifest of the corpus, each in its own partition of a
/// real store: `host status` and `host verify` call each damaged, `host gc`
/// removes nothing outside the partition folders, `host run` recomputes
/// exactly those partitions and the store ends as it was; files outside
/// the partition folders, which the manifests name with their true sizes
/// and hashes, are never read as the partition's, changed or deleted; and
/// nothing panics.
///
/// In rounds of one corruption per day, each day in another layer: a
/// damaged partition's own readers are `blocked`, not `damaged`.
#[test]
fn corrupted_manifests_are_damaged_recomputed_and_never_followed() {
    let ws = corpus_pipeline().workspace();
    let first = run(&ws, &[]);
    assert_eq!(first.len(), CORPUS_DATASETS.len() * CORPUS_DAYS as usize);

    // Sentinels outside every partition folder.
    let sentinel_bytes = b"PAR1 sentinel: a manifest must never lead here PAR1".to_vec();
    let mut sentinels: Vec<PathBuf> = vec![
        ws.store().join("sentinel.parquet"),
        ws.path().join("outside.parquet"),
    ];
    for d in CORPUS_DATASETS {
        sentinels.push(ws.store().join(d).join("sentinel.parquet"));
    }
    for s in &sentinels {
        std::fs::write(s, &sentinel_bytes).unwrap();
    }
    let sentinel_facts = (sentinel_bytes.len() as u64, sha256_hex(&sentinel_bytes));

    let cases = corpus();
    let days_per_round = SIBLING_DAY as usize - 1;
    let mut tried = 0;
    for (round, chunk) in cases.chunks(days_per_round).enumerate() {
        let before = ws.snapshot();
        let mut targets: BTreeMap<(String, String), (&str, Seen)> = BTreeMap::new();
        for (j, (name, seen, rejected_by, make)) in chunk.iter().enumerate() {
            let partition = day(j as u32 + 1);
            let dataset = match seen {
                Seen::Damaged => CORPUS_DATASETS[(round + j) % CORPUS_DATASETS.len()],
                // Such a manifest also changes the content hash the layer
                // below reads: keep it at the bottom.
                Seen::DamagedWithVerify => "gold/daily_totals",
            };
            let other_dataset = CORPUS_DATASETS[(round + j + 1) % CORPUS_DATASETS.len()];
            let sibling = day(SIBLING_DAY);
            let read = |d: &str, p: &str| {
                std::fs::read(ws.partition_dir(d, p).join(MANIFEST_FILE)).unwrap()
            };
            let sibling_manifest = read(dataset, &sibling);
            let sibling_value: Value = serde_json::from_slice(&sibling_manifest).unwrap();
            let ctx = Ctx {
                own: ws.manifest(dataset, &partition),
                sibling_partition: sibling.clone(),
                sibling_file: first_file(&sibling_value),
                sibling_manifest,
                other_dataset_manifest: read(other_dataset, &partition),
                dataset_sentinel: sentinel_facts.clone(),
                store_sentinel: sentinel_facts.clone(),
                outside_sentinel: (
                    ws.path().join("outside.parquet"),
                    sentinel_facts.0,
                    sentinel_facts.1.clone(),
                ),
            };
            let corrupted = make(&ctx);
            // Each is made to fail one check only: the one it is about.
            assert_eq!(
                rejection(&Manifest::parse(&corrupted, dataset, &partition)),
                *rejected_by,
                "{name}"
            );
            std::fs::write(
                ws.partition_dir(dataset, &partition).join(MANIFEST_FILE),
                corrupted,
            )
            .unwrap();
            targets.insert((dataset.to_owned(), partition), (name, *seen));
        }
        tried += targets.len();
        check_round(&ws, round, &targets, &before, &sentinels, &sentinel_bytes);
    }
    assert_eq!(tried, cases.len());
    let out = checked(ws.host(&["verify"]), "host verify");
    assert_eq!(out.status.code(), Some(0));
    eprintln!("{tried} corrupted manifests: each damaged, recomputed, never followed");
}

/// One round: what status, verify, gc and run make of the corrupted
/// manifests in `targets`.
pub(super) fn check_round(
    ws: &Workspace,
    round: usize,
    targets: &BTreeMap<(String, String), (&str, Seen)>,
    before: &BTreeMap<String, String>,
    sentinels: &[PathBuf],
    sentinel_bytes: &[u8],
) {
    let by_status: BTreeSet<(String, String)> = targets
        .iter()
        .filter(|(_, (_, seen))| *seen == Seen::Damaged)
        .map(|(k, _)| k.clone())
        .collect();
    let all: BTreeSet<(String, String)> = targets.keys().cloned().collect();

    // status: damaged, with and without --verify.
    let plain = states(ws, &[]);
    let verifying = states(ws, &["--verify"]);
    for (key, (name, seen)) in targets {
        let (state, reason) = &verifying[key];
        assert_eq!(state, "damaged", "{name} ({key:?}) with --verify: {reason}");
        let (state, reason) = &plain[key];
        match seen {
            Seen::Damaged => assert_eq!(state, "damaged", "{name} ({key:?}): {reason}"),
            Seen::DamagedWithVerify => {
                assert_eq!(state, "fresh", "{name} ({key:?}): sizes match: {reason}")
            }
        }
    }

    // verify: names every one, exit status 1.
    let out = checked(ws.host(&["verify"]), "host verify");
    assert_eq!(out.status.code(), Some(1), "host verify with damage");
    let listed = String::from_utf8_lossy(&out.stdout);
    for ((dataset, partition), (name, _)) in targets {
        assert!(
            listed.contains(&format!("damaged {dataset} {partition}")),
            "host verify does not name {name} ({dataset} {partition}):\n{listed}"
        );
    }

    // gc: removes only files inside the damaged partitions' folders.
    let out = checked(ws.host(&["gc"]), "host gc");
    assert!(
        out.status.success(),
        "host gc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after_gc = ws.snapshot();
    for path in before.keys() {
        if after_gc.contains_key(path) {
            continue;
        }
        let inside_damaged = path
            .rsplit_once('/')
            .is_some_and(|(folder, _)| targets.keys().any(|(d, p)| folder == format!("{d}/{p}")));
        assert!(
            inside_damaged,
            "round {round}: host gc removed {path}, outside every damaged partition"
        );
    }

    // run: exactly the damaged partitions (those only a rehash sees need
    // --verify), nothing downstream: the bytes come out the same.
    let healed = run(ws, &[]);
    assert_eq!(
        healed, by_status,
        "round {round}: host run recomputed other partitions than the damaged ones"
    );
    let healed = run(ws, &["--verify"]);
    let want: BTreeSet<_> = all.difference(&by_status).cloned().collect();
    assert_eq!(healed, want, "round {round}: host run --verify");

    for s in sentinels {
        assert_eq!(
            std::fs::read(s).unwrap_or_else(|e| panic!("{} is gone: {e}", s.display())),
            sentinel_bytes,
            "{} changed",
            s.display()
        );
    }
    let end = ws.snapshot();
    assert_eq!(
        end.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "round {round}: the store holds other files than before"
    );
    for (path, hash) in before {
        let recomputed = targets
            .keys()
            .any(|(d, p)| path == &format!("{d}/{p}/{MANIFEST_FILE}"));
        if !recomputed {
            assert_eq!(&end[path], hash, "round {round}: {path} changed");
        }
    }
    let after = states(ws, &["--verify"]);
    let not_fresh: Vec<_> = after.iter().filter(|(_, (s, _))| s != "fresh").collect();
    assert!(
        not_fresh.is_empty(),
        "round {round}: not fresh after healing: {not_fresh:?}"
    );
}
