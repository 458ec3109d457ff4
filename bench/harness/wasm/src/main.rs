//! Scenario 6 (WebAssembly side) and the batch preparation both sides share.
//!
//!     strata-bench-wasm prepare PART_DIR raw FILE...      # raw (file, body) batches, as the executor builds them
//!     strata-bench-wasm prepare PART_DIR parquet FILE...  # a Parquet partition's batches, as the executor reads them
//!     strata-bench-wasm run PLUGIN.wasm CASE_DIR ITERATIONS
//!
//! `run` loads the plugin once (compiling it, outside the timing), then per
//! iteration computes every partition of the case the way the executor does:
//! a fresh sandboxed instance, `open`, `process` for each batch, `finish`
//! (`Plugin::run_partition`, as `host run` drives it).
//! It prints one JSON line like the native harness.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{BinaryBuilder, StringBuilder};
use arrow::record_batch::RecordBatch;
use strata_core::config::PluginLimits;
use strata_runtime::{InputContext, Limits, PartitionContext, PoolSizing, RunError, Runtime};
use strata_store::parquet_io;

/// As the executor: raw files are handed over in batches of about this size.
const RAW_BATCH_BYTES: usize = 16 << 20;

fn write_batches(dir: &Path, batches: &[RecordBatch]) {
    std::fs::create_dir_all(dir).expect("create partition dir");
    for (i, b) in batches.iter().enumerate() {
        let bytes = strata_runtime::ipc::encode(b).expect("encode");
        std::fs::write(dir.join(format!("b{i:04}.arrow")), bytes).expect("write batch");
    }
}

fn prepare(dir: &Path, kind: &str, files: &[PathBuf]) {
    let mut batches = Vec::new();
    match kind {
        "raw" => {
            let (mut names, mut bodies, mut pending) =
                (StringBuilder::new(), BinaryBuilder::new(), 0usize);
            let mut flush = |names: &mut StringBuilder, bodies: &mut BinaryBuilder| {
                batches.push(
                    RecordBatch::try_new(
                        strata_runtime::schema::raw_schema(),
                        vec![Arc::new(names.finish()), Arc::new(bodies.finish())],
                    )
                    .expect("raw batch"),
                )
            };
            for f in files {
                let body = std::fs::read(f).expect("read raw file");
                names.append_value(f.file_name().unwrap().to_string_lossy());
                bodies.append_value(&body);
                pending += body.len();
                if pending >= RAW_BATCH_BYTES {
                    flush(&mut names, &mut bodies);
                    pending = 0;
                }
            }
            if pending > 0 {
                flush(&mut names, &mut bodies);
            }
        }
        "parquet" => {
            for f in files {
                let bytes = bytes::Bytes::from(std::fs::read(f).expect("read parquet"));
                for b in parquet_io::read(bytes).expect("parquet") {
                    batches.push(b.expect("parquet batch"));
                }
            }
        }
        other => panic!("unknown kind {other}"),
    }
    write_batches(dir, &batches);
}

/// A prepared case: the input dataset, the params, and each partition's batches.
struct Case {
    input: String,
    params: serde_json::Map<String, serde_json::Value>,
    partitions: Vec<(String, Vec<RecordBatch>)>,
}

fn load_case(dir: &Path) -> Case {
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("params.json")).expect("params.json"))
            .expect("params.json is JSON");
    let params = meta["params"]
        .as_object()
        .expect("params: the dataset's params, a JSON object")
        .clone();
    let mut parts: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    parts.sort();
    let partitions = parts
        .into_iter()
        .map(|p| {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&p)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            let batches = files
                .iter()
                .flat_map(|f| strata_runtime::ipc::decode(std::fs::read(f).unwrap()).unwrap())
                .collect();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                batches,
            )
        })
        .collect();
    Case {
        input: meta["input"].as_str().unwrap().to_owned(),
        params,
        partitions,
    }
}

fn run(plugin: &Path, case: &Path, iterations: usize) {
    let Case {
        input,
        params,
        partitions,
    } = load_case(case);
    // One partition at a time; STRATA_BENCH_POOL=off measures without the
    // instance pool, STRATA_BENCH_KEEP_RESIDENT=BYTES with another
    // resident size, side by side.
    let pool = PoolSizing {
        concurrent: match std::env::var("STRATA_BENCH_POOL").as_deref() {
            Ok("off") => 0,
            _ => 1,
        },
        keep_resident: std::env::var("STRATA_BENCH_KEEP_RESIDENT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(PoolSizing::KEEP_RESIDENT),
    };
    let runtime = Runtime::with_pool(
        std::env::var_os("STRATA_CACHE_DIR").map(PathBuf::from),
        pool,
    )
    .expect("runtime");
    let plugin = runtime.load(plugin).expect("load plugin");
    let limits = Limits {
        memory_bytes: 4 << 30,
        ..strata_engine::runtime_limits(&PluginLimits::default())
    };
    let pass = || -> (usize, usize) {
        let (mut rows_in, mut rows_out) = (0, 0);
        for (partition, batches) in &partitions {
            let context = PartitionContext {
                dataset: "bench/out".into(),
                partition: partition.clone(),
                period_start: String::new(),
                period_end: String::new(),
                params: params.clone(),
                inputs: vec![InputContext {
                    dataset: input.clone(),
                    schema: batches[0].schema(),
                    partitions: vec![partition.clone()],
                }],
            };
            let inputs = batches.iter().map(|b| {
                rows_in += b.num_rows();
                Ok::<_, RunError>((0, 0, b.clone()))
            });
            plugin
                .run_partition(&runtime, &context, &limits, inputs, &mut |o| {
                    rows_out += o.num_rows();
                    Ok(())
                })
                .expect("run the partition");
        }
        (rows_in, rows_out)
    };
    pass(); // warm-up
    let mut seconds = Vec::new();
    let mut rows = (0, 0);
    for _ in 0..iterations {
        let start = Instant::now();
        rows = pass();
        seconds.push(start.elapsed().as_secs_f64());
    }
    println!(
        "{}",
        serde_json::json!({
            "plugin": plugin.info.name, "mode": "wasm", "rows_in": rows.0, "rows_out": rows.1,
            "seconds": seconds,
        })
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("prepare") => {
            let files: Vec<PathBuf> = args[4..].iter().map(PathBuf::from).collect();
            prepare(Path::new(&args[2]), &args[3], &files);
        }
        Some("run") => run(
            Path::new(&args[2]),
            Path::new(&args[3]),
            args.get(4).map_or(5, |n| n.parse().expect("ITERATIONS")),
        ),
        _ => {
            eprintln!(
                "usage: strata-bench-wasm prepare PART_DIR raw|parquet FILE... | run PLUGIN.wasm CASE_DIR [ITERATIONS]"
            );
            std::process::exit(2);
        }
    }
}
