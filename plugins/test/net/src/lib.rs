//! Tries to open a TCP connection in `process`. Using `std::net` makes the
//! component import `wasi:sockets`, which a host that denies the network
//! refuses at load: that refusal is what this plugin tests.
//!
//! If it does run, its output is one column `observed: utf8` with a row per
//! attempt, in `finish`.

use std::sync::Arc;

use strata_sdk::arrow::array::{RecordBatch, StringArray};
use strata_sdk::{Context, Error, Info, Transform};

fn connect() -> String {
    match std::net::TcpStream::connect("127.0.0.1:9") {
        Ok(_) => "connect 127.0.0.1:9: ok".to_string(),
        Err(e) => format!("connect 127.0.0.1:9: error: {e}"),
    }
}

struct Net {
    observed: Vec<String>,
}

impl Transform for Net {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Tries to open a TCP connection (a test plugin)",
        )
    }

    fn open(_ctx: &Context) -> Result<Self, Error> {
        Ok(Net {
            observed: Vec::new(),
        })
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        _batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        self.observed.push(connect());
        Ok(Vec::new())
    }

    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        if self.observed.is_empty() {
            self.observed.push(connect());
        }
        let rows = StringArray::from(std::mem::take(&mut self.observed));
        Ok(vec![RecordBatch::try_from_iter([(
            "observed",
            Arc::new(rows) as _,
        )])?])
    }
}

strata_sdk::export_transform!(Net);
