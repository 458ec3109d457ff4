//! The store conformance suite, written once and run on every backend: a
//! local folder, `memory://`, S3 (a real S3-compatible server on 127.0.0.1)
//! and Azure Blob (Azurite on 127.0.0.1).
//!
//! `tests/servers/start.sh` starts the servers and exports their endpoints
//! (`STRATA_TEST_S3_*`, `STRATA_TEST_AZURE_*`). Without them the S3 and
//! Azure tests skip with a loud message; with `STRATA_REQUIRE_SERVERS=1`
//! (set by `.ci/run`) they fail instead.
//!
//! Two halves: the store API (put/get/list, the commit protocol, scan,
//! manifests, verify, conditional create and update, the lease) through the
//! library on each backend, and the healing story end to end: through the
//! real `host` binary on the local folder, S3 and Azurite (the store named in
//! pipeline.toml, credentials in the host's environment), and through the
//! library on `memory://`, which lives only inside one process. Beside them,
//! two `host run` processes at once on S3 (`leases`).

mod conformance;
mod healing;
mod leases;
mod recorder;
pub(crate) mod servers;
