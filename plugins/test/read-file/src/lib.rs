//! Tries to read files and list directories, and reports what it saw (a test plugin).
//!
//! Output: one column `observed: utf8`, one row per observation, all in
//! `finish`; input batches are consumed and ignored.

use std::sync::Arc;

use strata_sdk::arrow::array::{RecordBatch, StringArray};
use strata_sdk::{Context, Error, Info, Transform};

fn observe() -> Vec<String> {
    let mut rows = Vec::new();
    rows.push(match std::fs::read_to_string("/etc/passwd") {
        Ok(text) => format!(
            "read /etc/passwd: ok, {} bytes, first line: {}",
            text.len(),
            text.lines().next().unwrap_or("")
        ),
        Err(e) => format!("read /etc/passwd: error: {e}"),
    });
    for dir in [".", "/"] {
        rows.push(match std::fs::read_dir(dir) {
            Ok(entries) => {
                let names: Vec<String> = entries
                    .map(|e| match e {
                        Ok(e) => e.file_name().to_string_lossy().into_owned(),
                        Err(e) => format!("<error: {e}>"),
                    })
                    .collect();
                format!("list {dir}: ok: [{}]", names.join(", "))
            }
            Err(e) => format!("list {dir}: error: {e}"),
        });
    }
    rows
}

struct ReadFile;

impl Transform for ReadFile {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Tries to read files and list directories, and reports what it saw (a test plugin).",
        )
    }

    fn open(_ctx: &Context) -> Result<Self, Error> {
        Ok(ReadFile)
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        _batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        Ok(Vec::new())
    }

    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        let rows = StringArray::from(observe());
        Ok(vec![RecordBatch::try_from_iter([(
            "observed",
            Arc::new(rows) as _,
        )])?])
    }
}

strata_sdk::export_transform!(ReadFile);
