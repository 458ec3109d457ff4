//! The `http` source end to end: the real `host` binary against an API
//! served from this process on 127.0.0.1, in the Open-Meteo archive's
//! response format, with faults switched on per test and every request
//! counted. Nothing here talks to any other address.
//!
//! `api` is the server, `harness` the pipelines and the `host` runs; the
//! tests are grouped by what they pin.

mod api;
mod config;
mod faults;
mod fetch;
mod harness;
mod pagination;
mod secrets;
