//! Integration tests: one binary, so the plugins and the host link once.

mod pipeline;
mod runtime;
mod util;
