//! Returns output that is not a valid Arrow IPC stream.
//!
//! Param `mode`:
//! - `garbage` (default): bytes that are not IPC at all;
//! - `truncated`: a valid stream cut in the middle;
//! - `empty`: zero bytes;
//! - `no-batch`: a schema message and end marker, but no record batch.

use std::sync::Arc;

use strata_sdk::arrow::array::{Int64Array, RecordBatch};
use strata_sdk::raw::RawTransform;
use strata_sdk::{Context, Error, Info, ipc};

struct MalformedIpc {
    mode: String,
    finished: bool,
}

impl MalformedIpc {
    fn output(&self) -> Result<Vec<Vec<u8>>, Error> {
        let valid = || {
            let batch = RecordBatch::try_from_iter([(
                "n",
                Arc::new(Int64Array::from(vec![1, 2, 3])) as _,
            )])?;
            ipc::encode(&batch)
        };
        let bytes = match self.mode.as_str() {
            "garbage" => b"this is not an Arrow IPC stream".to_vec(),
            "truncated" => {
                let mut bytes = valid()?;
                bytes.truncate(bytes.len() / 2);
                bytes
            }
            "empty" => Vec::new(),
            "no-batch" => {
                let batch = RecordBatch::try_from_iter([(
                    "n",
                    Arc::new(Int64Array::from(Vec::<i64>::new())) as _,
                )])?;
                schema_only(&batch)?
            }
            other => return Err(Error::BadParams(format!("unknown mode `{other}`"))),
        };
        Ok(vec![bytes])
    }
}

/// An IPC stream holding only a schema and the end marker.
fn schema_only(batch: &RecordBatch) -> Result<Vec<u8>, Error> {
    let full = ipc::encode(batch)?;
    // A stream is: schema message, batch message, end marker (8 bytes). Keep
    // the schema message by decoding its length prefix.
    let len = i32::from_le_bytes(full[4..8].try_into().unwrap()) as usize;
    let mut out = full[..8 + len].to_vec();
    out.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    Ok(out)
}

impl RawTransform for MalformedIpc {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Returns bytes that are not a valid Arrow IPC stream (a test plugin)",
        )
    }

    fn open(ctx: Context) -> Result<Self, Error> {
        let mode = ctx.params.get("mode").unwrap_or("garbage").to_string();
        Ok(MalformedIpc {
            mode,
            finished: false,
        })
    }

    fn process(
        &mut self,
        _input: u32,
        _partition: u32,
        _batch: Vec<u8>,
    ) -> Result<Vec<Vec<u8>>, Error> {
        self.output()
    }

    /// Once: the host drains `finish` until it returns nothing.
    fn finish(&mut self) -> Result<Vec<Vec<u8>>, Error> {
        if std::mem::replace(&mut self.finished, true) {
            return Ok(Vec::new());
        }
        self.output()
    }
}

strata_sdk::export_raw_transform!(MalformedIpc);
