//! Calls `wasi:cli/exit` (`std::process::exit`) in `process`, or in
//! `finish` if no batch came (a test plugin).
//!
//! Params:
//! - `code`: the exit status (default 3), a number or its text. WASI 0.2's
//!   `exit` carries only success or failure, so any code but 0 reaches the
//!   host as 1.

use strata_sdk::arrow::array::RecordBatch;
use strata_sdk::{Context, Error, Info, Transform};

struct Exit {
    code: i32,
}

impl Transform for Exit {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Exits the process instead of returning (a test plugin)",
        )
    }

    fn open(ctx: &Context) -> Result<Self, Error> {
        ctx.params.check_known(&["code"])?;
        // A number, or its text (`code = "7"`, as contract 0.1 gave every param).
        let code = match ctx.params.get("code") {
            Some(text) => text
                .parse()
                .map_err(|e| Error::BadParams(format!("`code`: {e}")))?,
            None => ctx.params.parse("code")?.unwrap_or(3),
        };
        Ok(Exit { code })
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        _batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        std::process::exit(self.code)
    }

    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        std::process::exit(self.code)
    }
}

strata_sdk::export_transform!(Exit);
