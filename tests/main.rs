//! Integration tests: one binary, so the plugins and the host link once.

mod http_source;
mod pipeline;
mod runtime;
mod util;
