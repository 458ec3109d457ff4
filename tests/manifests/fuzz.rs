//! Seeded mutation runs over manifests and pipeline.toml files.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use strata_core::DatasetId;
use strata_core::config::{self, Mapping};
use strata_core::manifest::{
    FORMAT_VERSION, FileEntry, Manifest, Producer, content_hash, is_plain_file_name, is_sha256,
    sha256_hex,
};
use strata_store::Store;

use super::corpus::*;

// ---- seeded mutation (the stable-Rust fuzz run) ------------------------------

/// splitmix64: small, seedable, good enough to pick mutations.
pub(super) struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }
}

pub(super) fn fuzz_iterations() -> usize {
    std::env::var("STRATA_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000)
}

pub(super) fn fuzz_seed() -> u64 {
    std::env::var("STRATA_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5747_a7a5)
}

/// Tokens a mutation splices in: path tricks, number edges, JSON and TOML
/// syntax, odd Unicode.
pub(super) const TOKENS: &[&str] = &[
    "..",
    "../",
    "/",
    "\\\\",
    "\\u0000",
    "\\ud800",
    "_manifest.json",
    ".hidden",
    "date=2025-02-19",
    "bronze/t",
    "18446744073709551615",
    "18446744073709551616",
    "4294967296",
    "-1",
    "1e400",
    "0.5",
    "null",
    "true",
    "[]",
    "{}",
    "\"",
    ",",
    ":",
    "[",
    "]",
    "{",
    "}",
    "=",
    "\n",
    "[[datasets]]",
    "[store]",
    "inputs = [\"raw/t\"]",
    "window = 4294967295",
    "all = true",
    "every = \"hour\"",
    "settle = \"18446744073709551615d\"",
    "memory = \"18446744073709551615GiB\"",
    "timeout = \"99999999999999999999s\"",
    "é",
    "\u{202e}",
    "\u{feff}",
    "'''",
    "\"\"\"",
];

/// Values a `key = value` line may get: sizes, durations, dates, paths,
/// URLs and names at their edges, and values of the wrong type.
pub(super) const EDGE_VALUES: &[&str] = &[
    "\"18446744073709551615GiB\"",
    "\"18446744073709551615KB\"",
    "\"18446744073709551615\"",
    "\"18446744073709551616\"",
    "\"99999999999999999999d\"",
    "\"18446744073709551615ms\"",
    "\"213503982334601d\"",
    "\"1h1h1h1h\"",
    "\"1e9s\"",
    "\"0\"",
    "\"\"",
    "\" \"",
    "\"..\"",
    "\"../..\"",
    "\"/etc\"",
    "\"raw/..\"",
    "\"a/b/c\"",
    "\"_manifest.json\"",
    "\"s3://\"",
    "\"s3:///x\"",
    "\"az://a.b/c\"",
    "\"memory://\"",
    "\"file:///\"",
    "\"http://[::1\"",
    "\"9999-12-31\"",
    "\"0000-01-01\"",
    "\"2025-02-30\"",
    "\"2025-02-01T25\"",
    "\"{date}{date}\"",
    "\"{%\"",
    "\"{%Q}\"",
    "\"${}\"",
    "\"*\"",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-1",
    "0",
    "1.5",
    "true",
    "[]",
    "{}",
    "[[]]",
    "null",
    "\"\\u0000\"",
];

/// The lines of a TOML or JSON text that assign a value.
pub(super) fn assignment_lines(b: &[u8]) -> Vec<usize> {
    String::from_utf8_lossy(b)
        .split_inclusive('\n')
        .enumerate()
        .filter(|(_, l)| l.contains(" = ") || l.contains("\": "))
        .map(|(i, _)| i)
        .collect()
}

/// The text with the value on line `k` replaced.
pub(super) fn with_value(b: &[u8], k: usize, value: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(b);
    let mut out = String::new();
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let at = line
            .find(" = ")
            .or_else(|| line.find("\": "))
            .filter(|_| i == k);
        match at {
            Some(at) => {
                let comma = if line.trim_end().ends_with(',') {
                    ","
                } else {
                    ""
                };
                out.push_str(&line[..at + 3]);
                out.push_str(value);
                out.push_str(comma);
                out.push('\n');
            }
            None => out.push_str(line),
        }
    }
    out.into_bytes()
}

/// Every seed with one value replaced by each edge value in turn: a
/// systematic sweep before the random mutations.
pub(super) fn sweep(seeds: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = vec![];
    for seed in seeds {
        for line in assignment_lines(seed) {
            for value in EDGE_VALUES {
                out.push(with_value(seed, line, value));
            }
        }
    }
    out
}

/// One random change to the bytes.
pub(super) fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut b = input.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = b.len();
        match rng.below(10) {
            0 if len > 0 => {
                let i = rng.below(len);
                b[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                b[i] = *rng.pick(b"\"\\/.0123456789{}[],:-_= \n\0\xff");
            }
            2 => {
                let i = rng.below(len + 1);
                let t = rng.pick_str(TOKENS).as_bytes();
                b.splice(i..i, t.iter().copied());
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(16)).min(len);
                b.drain(i..j);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(32)).min(len);
                let chunk: Vec<u8> = b[i..j].to_vec();
                let at = rng.below(len + 1);
                b.splice(at..at, chunk);
            }
            5 => b.truncate(rng.below(len + 1)),
            6 => {
                // Splice a piece of another seed in.
                let other = rng.pick(corpus);
                if !other.is_empty() {
                    let i = rng.below(other.len());
                    let j = (i + 1 + rng.below(64)).min(other.len());
                    let at = rng.below(len + 1);
                    b.splice(at..at, other[i..j].iter().copied());
                }
            }
            7 => {
                // Replace one quoted string with a token.
                let text = String::from_utf8_lossy(&b).into_owned();
                let quotes: Vec<usize> = text.match_indices('"').map(|(i, _)| i).collect();
                if quotes.len() >= 2 {
                    let k = rng.below(quotes.len() - 1);
                    let (i, j) = (quotes[k] + 1, quotes[k + 1]);
                    let mut t = text;
                    let token = rng.pick_str(TOKENS);
                    t.replace_range(i..j, token);
                    b = t.into_bytes();
                }
            }
            8 => {
                // Replace the value of one `key = value` (TOML) or
                // `"key": value` (JSON) line with an edge value.
                let lines = assignment_lines(&b);
                if !lines.is_empty() {
                    let line = *rng.pick(&lines);
                    b = with_value(&b, line, rng.pick_str(EDGE_VALUES));
                }
            }
            _ => {
                // Replace one number with an edge value.
                let text = String::from_utf8_lossy(&b).into_owned();
                let digits: Vec<usize> = text
                    .char_indices()
                    .filter(|(_, c)| c.is_ascii_digit())
                    .map(|(i, _)| i)
                    .collect();
                if !digits.is_empty() {
                    let i = *rng.pick(&digits);
                    let mut j = i;
                    while j < text.len() && text.as_bytes()[j].is_ascii_digit() {
                        j += 1;
                    }
                    let edge =
                        rng.pick_str(&["0", "1", "2", "255", "4294967296", "18446744073709551615"]);
                    let mut t = text;
                    t.replace_range(i..j, edge);
                    b = t.into_bytes();
                }
            }
        }
    }
    b
}

pub(super) const FUZZ_DATASET: &str = "bronze/t";
pub(super) const FUZZ_PARTITION: &str = "date=2025-02-18";

/// Valid manifests of every shape, for the fuzz corpus.
pub(super) fn valid_manifests() -> Vec<Manifest> {
    let file = |name: &str, body: &[u8]| FileEntry {
        path: name.into(),
        size: body.len() as u64,
        sha256: sha256_hex(body),
    };
    let base = |files: Vec<FileEntry>, producer: Producer| Manifest {
        format: FORMAT_VERSION,
        dataset: FUZZ_DATASET.into(),
        partition: FUZZ_PARTITION.into(),
        key: sha256_hex(b"key"),
        content_hash: content_hash(&files),
        files,
        rows: Some(3),
        schema: vec![],
        producer,
        params: json!({"columns": [{"name": "id", "type": "utf8"}]}),
        inputs: vec![strata_core::manifest::InputRef {
            dataset: "raw/t".into(),
            partition: FUZZ_PARTITION.into(),
            content_hash: sha256_hex(b"input"),
        }],
        written_at: "2025-02-19T00:00:00Z".into(),
        host_version: "0.1.0".into(),
        invalidated: None,
        checks: vec![],
    };
    let plugin = Producer::Plugin {
        name: "json_to_table".into(),
        version: "1.0.0".into(),
        sha256: sha256_hex(b"plugin"),
    };
    let source = Producer::Source {
        source: "http".into(),
        fetched: vec![json!({"url": "https://example.invalid/?token=***", "status": 200})],
    };
    let mut invalidated = base(vec![file("part-a.parquet", b"a")], plugin.clone());
    invalidated.invalidated = Some("2025-02-20T00:00:00Z".into());
    vec![
        base(vec![file("part-a.parquet", b"a")], plugin.clone()),
        base(
            vec![
                file("part-a.parquet", b"a"),
                file("part-b.parquet", b"bb"),
                file("part-c.parquet", b"ccc"),
            ],
            plugin.clone(),
        ),
        base(vec![], plugin),
        base(
            vec![file("page-0001.json", b"{}"), file("page-0002.json", b"[]")],
            source,
        ),
        invalidated,
    ]
}

/// What every manifest `Manifest::parse` accepts must satisfy.
pub(super) fn check_accepted(m: &Manifest, input: &[u8]) {
    let show = || String::from_utf8_lossy(input).into_owned();
    assert_eq!(m.format, FORMAT_VERSION, "{}", show());
    assert_eq!(m.dataset, FUZZ_DATASET, "{}", show());
    assert_eq!(m.partition, FUZZ_PARTITION, "{}", show());
    assert!(
        is_sha256(&m.key) && is_sha256(&m.content_hash),
        "{}",
        show()
    );
    assert_eq!(m.content_hash, content_hash(&m.files), "{}", show());
    let ds = DatasetId::parse(FUZZ_DATASET).unwrap();
    let folder = Store::partition_dir(&ds, FUZZ_PARTITION);
    for f in &m.files {
        let name = f.path.as_str();
        // Only plain file names inside the partition's own folder.
        assert!(
            !name.is_empty()
                && name != "."
                && name != ".."
                && !name.starts_with('.')
                && !name.starts_with('_')
                && !name.contains(['/', '\\', '\0']),
            "accepted a manifest naming `{}`: {}",
            name.escape_debug(),
            show()
        );
        let path = Store::file_path(&ds, FUZZ_PARTITION, name);
        assert!(
            path.prefix_matches(&folder) && path.parts().count() == folder.parts().count() + 1,
            "`{}` resolves to {path}, outside {folder}",
            name.escape_debug()
        );
        assert!(is_sha256(&f.sha256), "{}", show());
    }
    // What the host writes back, it reads back the same.
    assert_eq!(
        Manifest::parse(&m.to_json(), FUZZ_DATASET, FUZZ_PARTITION).as_ref(),
        Ok(m),
        "{}",
        show()
    );
}

/// Runs `f` on each input; a panic fails the test with the seed, the
/// iteration and the input.
pub(super) fn no_panic<F: Fn(&[u8]) -> R + std::panic::RefUnwindSafe, R>(
    what: &str,
    seed: u64,
    i: usize,
    input: &[u8],
    f: F,
) -> R {
    match std::panic::catch_unwind(|| f(input)) {
        Ok(r) => r,
        Err(_) => {
            let dump =
                Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{what}-crash-{seed}-{i}"));
            let _ = std::fs::write(&dump, input);
            panic!(
                "{what} panicked on iteration {i} of seed {seed} (STRATA_FUZZ_SEED={seed}); \
                 input saved to {}:\n{}",
                dump.display(),
                String::from_utf8_lossy(input)
            )
        }
    }
}

/// Seeded mutations of valid and corrupted manifests: `Manifest::parse`
/// never panics, every check is reached, and whatever it accepts names
/// only plain files inside its own folder.
#[test]
fn fuzz_manifest_parse_seeded() {
    let seed = fuzz_seed();
    let iterations = fuzz_iterations();
    let mut rng = Rng(seed);

    let valid = valid_manifests();
    let mut seeds: Vec<Vec<u8>> = valid.iter().map(Manifest::to_json).collect();
    // The corruptions of the binary test, made from a valid manifest.
    let own = serde_json::to_value(&valid[1]).unwrap();
    let sibling = {
        let mut m = valid[0].clone();
        m.partition = "date=2025-02-17".into();
        m
    };
    let ctx = Ctx {
        own: own.clone(),
        sibling_partition: sibling.partition.clone(),
        sibling_file: ("part-a.parquet".into(), 1, sha256_hex(b"a")),
        sibling_manifest: sibling.to_json(),
        other_dataset_manifest: {
            let mut m = valid[0].clone();
            m.dataset = "silver/t".into();
            m.to_json()
        },
        dataset_sentinel: (3, sha256_hex(b"abc")),
        store_sentinel: (3, sha256_hex(b"abc")),
        outside_sentinel: ("/tmp/outside.parquet".into(), 3, sha256_hex(b"abc")),
    };
    for (name, _, rejected_by, make) in corpus() {
        let bytes = make(&ctx);
        let parsed = Manifest::parse(&bytes, FUZZ_DATASET, FUZZ_PARTITION);
        assert_eq!(rejection(&parsed), rejected_by, "{name}");
        seeds.push(bytes);
    }
    for m in &valid {
        check_accepted(
            &Manifest::parse(&m.to_json(), FUZZ_DATASET, FUZZ_PARTITION).unwrap(),
            &m.to_json(),
        );
    }

    let mut accepted = 0usize;
    let mut rejected: BTreeMap<&str, usize> = BTreeMap::new();
    // The sweep over the valid manifests; the corruptions join the seeds of
    // the random mutations (less the 200 KB deep one, which only slows it).
    let swept = sweep(&seeds[..valid.len()]);
    seeds.retain(|s| s.len() < 64 << 10);
    for (i, input) in swept.iter().enumerate() {
        let result = no_panic("manifest_parse sweep", seed, i, input, |b| {
            Manifest::parse(b, FUZZ_DATASET, FUZZ_PARTITION)
        });
        match &result {
            Ok(m) => {
                accepted += 1;
                check_accepted(m, input);
            }
            Err(_) => *rejected.entry(rejection(&result)).or_default() += 1,
        }
    }
    for i in 0..iterations {
        let base = rng.pick(&seeds).clone();
        let input = match rng.below(4) {
            // Structure-aware: a valid manifest with one field set to a
            // hostile value, content hash made consistent half the time.
            0 => {
                let mut v = serde_json::to_value(rng.pick(&valid)).unwrap();
                let pointers = [
                    "/files/0/path",
                    "/files/0/size",
                    "/files/0/sha256",
                    "/format",
                    "/dataset",
                    "/partition",
                    "/key",
                    "/files",
                    "/producer/kind",
                    "/inputs/0/content_hash",
                    "/rows",
                ];
                let values = [
                    json!(".."),
                    json!("../x.parquet"),
                    json!("/etc/passwd"),
                    json!("a/b"),
                    json!("a\\b"),
                    json!("."),
                    json!(""),
                    json!("_manifest.json"),
                    json!("part\u{0}.parquet"),
                    json!("x".repeat(300)),
                    json!("é.parquet"),
                    json!(u64::MAX),
                    json!(-1),
                    json!(1.5),
                    json!(null),
                    json!([]),
                    json!({}),
                    json!(sha256_hex(b"z")),
                    json!(sha256_hex(b"z").to_uppercase()),
                    json!(2),
                    json!(FUZZ_DATASET),
                    json!(FUZZ_PARTITION),
                ];
                let pointer = rng.pick_str(&pointers);
                if let Some(slot) = v.pointer_mut(pointer) {
                    *slot = rng.pick(&values).clone();
                }
                if rng.below(2) == 0
                    && let Ok(files) = serde_json::from_value::<Vec<FileEntry>>(v["files"].clone())
                {
                    v["content_hash"] = json!(content_hash(&files));
                }
                serde_json::to_vec(&v).unwrap()
            }
            _ => mutate(&mut rng, &base, &seeds),
        };
        let result = no_panic("manifest_parse", seed, i, &input, |b| {
            Manifest::parse(b, FUZZ_DATASET, FUZZ_PARTITION)
        });
        match result {
            Ok(m) => {
                accepted += 1;
                check_accepted(&m, &input);
                if accepted < 200 {
                    seeds.push(input);
                }
            }
            Err(_) => *rejected.entry(rejection(&result)).or_default() += 1,
        }
    }
    eprintln!(
        "manifest fuzz, seed {seed}: {} swept and {iterations} mutated inputs, \
         {accepted} accepted, rejected {rejected:?}",
        swept.len()
    );
    // The mutations reach every check, and some inputs survive them all.
    for kind in [
        "parse",
        "version",
        "wrong partition",
        "unsafe path",
        "bad hash",
        "content hash",
    ] {
        assert!(
            rejected.contains_key(kind) || iterations < 1000,
            "no input reached the `{kind}` check: {rejected:?}"
        );
    }
    assert!(accepted > 0 || iterations < 1000, "no input was accepted");
}

/// A folder with what the configs name: plugins and a landing folder.
pub(super) fn config_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("plugins")).unwrap();
    std::fs::create_dir_all(dir.path().join("landing")).unwrap();
    for p in [
        "json_to_table",
        "clean_dedupe",
        "aggregate",
        "p",
        "normalize",
        "daily",
    ] {
        std::fs::write(dir.path().join(format!("plugins/{p}.wasm")), b"\0asm").unwrap();
    }
    dir
}

pub(super) fn config_seeds() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seeds = vec![];
    for f in [
        "examples/transactions/pipeline.toml",
        "examples/weather/pipeline.toml",
    ] {
        if let Ok(b) = std::fs::read(root.join(f)) {
            seeds.push(b);
        }
    }
    seeds.push(corpus_pipeline().toml().into_bytes());
    seeds.push(
        br#"
[store]
url = "s3://bucket/prefix"
options = { endpoint = "http://127.0.0.1:9000", allow_http = "true" }

[partitions]
every = "hour"
start = "2025-02-01T00:00:00"
end = "2025-02-02T12:00:00"
settle = "1h30m"

[limits]
memory = "512MiB"
timeout = "30s"
output = "1GiB"

[[datasets]]
layer = "raw"
name = "t"
source = { kind = "files", dir = "landing", pattern = "t-{%Y%m%d%H}*.json" }

[[datasets]]
layer = "bronze"
name = "t"
plugin = "plugins/p.wasm"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
inputs = [{ dataset = "raw/t", window = 3 }]
limits = { memory = "64MiB" }
[datasets.params]
a = 1
b = [true, "x"]

[[datasets]]
layer = "gold"
name = "all"
plugin = "plugins/daily.wasm"
inputs = [{ dataset = "bronze/t", all = true }, "raw/t"]
"#
        .to_vec(),
    );
    seeds.push(
        br#"
[store]
url = "memory://"
[partitions]
every = "month"
start = "2024-01-01"
[[datasets]]
layer = "raw"
name = "orders"
[datasets.source]
kind = "http"
url = "https://api.example.invalid/v1/orders"
query = { from = "{start}", to = "{end}" }
headers = { Authorization = "Bearer ${API_TOKEN}" }
pagination = { style = "cursor", pointer = "/next", param = "cursor" }
refetch_recent = 2
max_attempts = 3
backoff = "500ms"
"#
        .to_vec(),
    );
    seeds
}

pub(super) fn check_pipeline(p: &config::Pipeline, input: &str) {
    assert!(!p.datasets.is_empty(), "{input}");
    let mut seen: Vec<&DatasetId> = vec![];
    for d in &p.datasets {
        for part in [&d.id.layer, &d.id.name] {
            assert!(
                !part.is_empty()
                    && !part.starts_with('.')
                    && !part.starts_with('_')
                    && !part.contains(['/', '\\', '\0']),
                "a dataset named `{}` is a folder outside its layer: {input}",
                d.id
            );
            assert!(is_plain_file_name(part), "{input}");
        }
        assert!(!seen.contains(&&d.id), "`{}` twice: {input}", d.id);
        for i in d.inputs() {
            assert!(
                seen.contains(&&i.dataset),
                "`{}` comes before its input `{}`: {input}",
                d.id,
                i.dataset
            );
            if let Mapping::Window(n) = i.mapping {
                assert!(n >= 1, "{input}");
            }
        }
        seen.push(&d.id);
    }
    if let Some(end) = p.partitions.end {
        assert!(end >= p.partitions.start, "{input}");
    }
}

/// Seeded mutations of real pipeline files: `config::parse` never panics
/// and whatever it accepts is consistent (datasets in dependency order,
/// plain folder names).
#[test]
fn fuzz_config_parse_seeded() {
    let seed = fuzz_seed() ^ 0xc0f1_6000;
    let iterations = fuzz_iterations();
    let mut rng = Rng(seed);
    let dir = config_dir();
    let path = dir.path().join("pipeline.toml");
    let seeds = config_seeds();
    for s in &seeds {
        let text = std::str::from_utf8(s).unwrap();
        if let Err(e) = config::parse(&path, text) {
            panic!("a fuzz seed is not a valid pipeline ({e}):\n{text}");
        }
    }
    let mut accepted = 0;
    let mut rejected = 0;
    let mut lines_ok = true;
    let swept = sweep(&seeds);
    let total = swept.len() + iterations;
    for i in 0..total {
        let input = match swept.get(i) {
            Some(input) => input.clone(),
            None => {
                let base = rng.pick(&seeds).clone();
                mutate(&mut rng, &base, &seeds)
            }
        };
        let text = String::from_utf8_lossy(&input).into_owned();
        let result = no_panic("config_parse", seed, i, text.as_bytes(), |b| {
            config::parse(&path, std::str::from_utf8(b).unwrap())
        });
        match result {
            Ok(p) => {
                accepted += 1;
                check_pipeline(&p, &text);
            }
            Err(e) => {
                rejected += 1;
                // The line it names is in the file.
                if let Some(line) = e.line {
                    lines_ok &= line >= 1 && line <= text.lines().count() + 1;
                }
                assert!(!e.message.is_empty(), "an empty message for:\n{text}");
            }
        }
    }
    eprintln!(
        "config fuzz, seed {seed}: {} swept and {iterations} mutated inputs, \
         {accepted} accepted, {rejected} rejected",
        swept.len()
    );
    assert!(lines_ok, "an error named a line past the end of its file");
    assert!(accepted > 0 || iterations < 1000, "no input was accepted");
}
