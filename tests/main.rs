//! Integration tests: one binary, so the plugins and the host link once.

mod http_source;
mod pipeline;
mod reliability;
mod runtime;
mod util;
