//! Misbehaves at the call its params name, and copies its input otherwise
//! (a test plugin).
//!
//! Params:
//! - `at`: `open` or `finish`, the call that misbehaves (required).
//! - `how`: `panic` (the instance traps with a Rust panic) or `error` (the
//!   call returns `Error::Failed`); default `panic`.
//!
//! The message names the call: `<how> in <at> on purpose`.

use strata_sdk::arrow::array::RecordBatch;
use strata_sdk::{Context, Error, Info, Transform};

#[derive(Clone, Copy, PartialEq)]
enum Call {
    Open,
    Finish,
}

#[derive(Clone, Copy, PartialEq)]
enum How {
    Panic,
    Error,
}

struct FailAt {
    at: Call,
    how: How,
}

fn misbehave(how: How, call: &str) -> Error {
    match how {
        How::Panic => panic!("panic in {call} on purpose"),
        How::Error => Error::Failed(format!("error in {call} on purpose")),
    }
}

impl Transform for FailAt {
    fn info() -> Info {
        Info::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            "Panics or fails in open or finish, as its params say (a test plugin)",
        )
    }

    fn open(ctx: &Context) -> Result<Self, Error> {
        ctx.params.check_known(&["at", "how"])?;
        let at = match ctx.params.require("at")? {
            "open" => Call::Open,
            "finish" => Call::Finish,
            other => return Err(Error::BadParams(format!("unknown `at`: {other}"))),
        };
        let how = match ctx.params.get("how").unwrap_or("panic") {
            "panic" => How::Panic,
            "error" => How::Error,
            other => return Err(Error::BadParams(format!("unknown `how`: {other}"))),
        };
        if at == Call::Open {
            return Err(misbehave(how, "open"));
        }
        Ok(FailAt { at, how })
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        Ok(vec![batch])
    }

    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        if self.at == Call::Finish {
            return Err(misbehave(self.how, "finish"));
        }
        Ok(Vec::new())
    }
}

strata_sdk::export_transform!(FailAt);
