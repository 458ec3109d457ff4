//! Runs one shipped plugin natively on a case prepared by `strata-bench-wasm
//! prepare`, and prints its throughput as one JSON line.
//!
//! A case is a folder: `params.json` (`{"input": "raw/transactions",
//! "params": {…}}`, the dataset's params as one JSON object) and one sub-folder per partition holding
//! `b0000.arrow`, `b0001.arrow`, … (each an Arrow IPC stream of one batch),
//! exactly the batches the host hands the plugin.
//!
//! Two ways, timed separately:
//! - `direct`: `Transform::open`/`process`/`finish`/`drain` on record
//!   batches cut to the plugin's plan (its columns, as the host reads
//!   them), the plugin's logic alone;
//! - `ipc`: through the SDK's adapter with the IPC encoding on both sides,
//!   the work the wasm boundary also does, minus WebAssembly.
//!
//! Usage: `<bin> CASE_DIR ITERATIONS`

use std::path::{Path, PathBuf};
use std::time::Instant;

use strata_sdk::arrow::array::RecordBatch;
use strata_sdk::raw::RawTransform;
use strata_sdk::{Context, Input, Params, Transform, TransformAdapter, ipc};

struct Case {
    input: String,
    params: serde_json::Map<String, serde_json::Value>,
    partitions: Vec<(String, Vec<RecordBatch>)>,
}

fn load(dir: &Path) -> Case {
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("params.json")).expect("params.json"))
            .expect("params.json is JSON");
    let params = meta["params"]
        .as_object()
        .expect("params: the dataset's params, a JSON object")
        .clone();
    let mut parts: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("case dir")
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
                .flat_map(|f| ipc::decode(std::fs::read(f).unwrap()).unwrap().1)
                .collect();
            (p.file_name().unwrap().to_string_lossy().into_owned(), batches)
        })
        .collect();
    Case {
        input: meta["input"].as_str().expect("input").to_owned(),
        params,
        partitions,
    }
}

fn context(case: &Case, partition: &str, batches: &[RecordBatch]) -> Context {
    Context {
        dataset: "bench/out".into(),
        partition: partition.into(),
        period_start: String::new(),
        period_end: String::new(),
        params: Params::new(case.params.clone()),
        inputs: vec![Input {
            dataset: case.input.clone(),
            schema: batches[0].schema(),
            partitions: vec![partition.into()],
        }],
    }
}

/// One pass over every partition; returns (rows in, rows out).
fn direct<T: Transform>(case: &Case) -> (usize, usize) {
    let (mut rows_in, mut rows_out) = (0, 0);
    for (partition, batches) in &case.partitions {
        let ctx = context(case, partition, batches);
        let mut t = T::open(&ctx).expect("open");
        let columns = t
            .plan(&ctx)
            .inputs()
            .first()
            .and_then(|p| p.columns.clone());
        for b in batches {
            rows_in += b.num_rows();
            let b = match &columns {
                Some(names) => project(b, names),
                None => b.clone(),
            };
            for o in t.process(0, 0, b).expect("process") {
                rows_out += o.num_rows();
            }
        }
        for o in t.finish().expect("finish") {
            rows_out += o.num_rows();
        }
        while let Some(o) = t.drain().expect("drain") {
            rows_out += o.num_rows();
        }
    }
    (rows_in, rows_out)
}

/// `batch`'s columns named in `names`, in the batch's order (what the host
/// hands a plugin whose plan names them).
fn project(batch: &RecordBatch, names: &[String]) -> RecordBatch {
    let schema = batch.schema();
    let keep: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| names.contains(schema.field(i).name()))
        .collect();
    batch.project(&keep).expect("projection")
}

/// The same through IPC bytes on both sides, as the host and the SDK do it.
fn through_ipc<T: Transform>(case: &Case) -> (usize, usize) {
    let (mut rows_in, mut rows_out) = (0, 0);
    let mut count = |outs: Vec<Vec<u8>>| {
        for bytes in outs {
            for o in ipc::decode(bytes).expect("decode output").1 {
                rows_out += o.num_rows();
            }
        }
    };
    for (partition, batches) in &case.partitions {
        let mut t = TransformAdapter::<T>::open(context(case, partition, batches)).expect("open");
        let columns = t.plan().inputs().first().and_then(|p| p.columns.clone());
        for b in batches {
            rows_in += b.num_rows();
            let b = match &columns {
                Some(names) => project(b, names),
                None => b.clone(),
            };
            let bytes = ipc::encode(&b).expect("encode input");
            count(t.process(0, 0, bytes).expect("process"));
        }
        loop {
            let out = t.finish().expect("finish");
            if out.is_empty() {
                break;
            }
            count(out);
        }
    }
    (rows_in, rows_out)
}

pub fn main<T: Transform>(plugin: &str) {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(&args[1]);
    let iterations: usize = args.get(2).map_or(5, |n| n.parse().expect("ITERATIONS"));
    let case = load(&dir);
    for (mode, run) in [
        ("native", direct::<T> as fn(&Case) -> (usize, usize)),
        ("native+ipc", through_ipc::<T>),
    ] {
        run(&case); // warm-up
        let mut seconds = Vec::new();
        let mut rows = (0, 0);
        for _ in 0..iterations {
            let start = Instant::now();
            rows = run(&case);
            seconds.push(start.elapsed().as_secs_f64());
        }
        println!(
            "{}",
            serde_json::json!({
                "plugin": plugin, "mode": mode, "rows_in": rows.0, "rows_out": rows.1,
                "seconds": seconds,
            })
        );
    }
}
