//! Integration tests: one binary, so the plugins and the host link once.

mod checks;
mod cli;
mod completions;
mod contract;
mod delta;
mod http_source;
mod init;
mod install;
mod layers;
mod manifests;
mod object_stores;
mod operations;
mod pipeline;
mod polyglot;
mod reliability;
mod runtime;
mod schema;
mod serve;
mod spark;
mod std_plugins;
mod util;
