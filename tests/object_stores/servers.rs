//! The servers the S3 and Azure tests use (or skip without), and the
//! backends: where a store is and how a pipeline and the host name it.

use std::collections::BTreeMap;
use std::io::Write;

use strata_core::config::{self, StoreConfig};

// ---- the servers -----------------------------------------------------------

/// An S3-compatible server started by tests/servers/start.sh.
#[derive(Clone)]
pub(crate) struct S3Server {
    /// `moto` or `s3s-fs`: only s3s-fs checks request signatures.
    pub(crate) server: String,
    pub(crate) endpoint: String,
    pub(crate) bucket: String,
    pub(crate) region: String,
    pub(crate) key_id: String,
    pub(crate) secret: String,
}

/// Azurite's blob service started by tests/servers/start.sh.
#[derive(Clone)]
pub(crate) struct AzureServer {
    /// `http://127.0.0.1:PORT/devstoreaccount1` (path-style, as Azurite serves).
    pub(crate) endpoint: String,
    pub(crate) account: String,
    pub(crate) key: String,
    pub(crate) container: String,
    /// `http://127.0.0.1:PORT`, for object_store's emulator mode.
    pub(crate) emulator_url: Option<String>,
}

pub(crate) fn servers_required() -> bool {
    std::env::var("STRATA_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

/// The variables named, or `None` after a loud skip message (a failure
/// when STRATA_REQUIRE_SERVERS=1).
pub(crate) fn server_env(test: &str, what: &str, names: &[&str]) -> Option<Vec<String>> {
    let values: Vec<Option<String>> = names
        .iter()
        .map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
        .collect();
    let missing: Vec<&str> = names
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| *n)
        .collect();
    if missing.is_empty() {
        return Some(values.into_iter().map(Option::unwrap).collect());
    }
    let message = format!(
        "no {what} test server: {} not set. Start the servers with \
         `source tests/servers/start.sh`, then run the tests again",
        missing.join(", ")
    );
    skip(test, &message);
    None
}

/// Says loudly that a test did not run, or fails it when the servers are
/// required.
pub(crate) fn skip(test: &str, message: &str) {
    if servers_required() {
        panic!("STRATA_REQUIRE_SERVERS=1 and {message}");
    }
    // Straight to the process's stderr: the test harness captures eprintln!
    // of passing tests, and a skip must not go unseen.
    let _ = writeln!(
        std::io::stderr(),
        "\n{bar}\n!! SKIPPED {test}\n!! {message}\n{bar}\n",
        bar = "!".repeat(78)
    );
}

pub(crate) fn s3_server(test: &str) -> Option<S3Server> {
    let v = server_env(
        test,
        "S3",
        &[
            "STRATA_TEST_S3_ENDPOINT",
            "STRATA_TEST_S3_BUCKET",
            "STRATA_TEST_S3_ACCESS_KEY_ID",
            "STRATA_TEST_S3_SECRET_ACCESS_KEY",
        ],
    )?;
    Some(S3Server {
        server: std::env::var("STRATA_TEST_S3_SERVER").unwrap_or_else(|_| "s3".into()),
        endpoint: v[0].clone(),
        bucket: v[1].clone(),
        region: std::env::var("STRATA_TEST_S3_REGION").unwrap_or_else(|_| "us-east-1".into()),
        key_id: v[2].clone(),
        secret: v[3].clone(),
    })
}

pub(crate) fn azure_server(test: &str) -> Option<AzureServer> {
    let v = server_env(
        test,
        "Azure (Azurite)",
        &[
            "STRATA_TEST_AZURE_ENDPOINT",
            "STRATA_TEST_AZURE_ACCOUNT",
            "STRATA_TEST_AZURE_ACCESS_KEY",
            "STRATA_TEST_AZURE_CONTAINER",
        ],
    )?;
    Some(AzureServer {
        endpoint: v[0].clone(),
        account: v[1].clone(),
        key: v[2].clone(),
        container: v[3].clone(),
        emulator_url: std::env::var("AZURITE_BLOB_STORAGE_URL").ok(),
    })
}

/// A prefix no other test (or earlier run against the same server) uses.
pub(crate) fn unique_prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{test}-{}-{nanos}", std::process::id())
}

/// Where a backend's store is and how a pipeline names it.
pub(crate) struct Backend {
    pub(crate) name: &'static str,
    /// For the library: credentials may sit in the options here.
    pub(crate) config: StoreConfig,
    /// For pipeline.toml: the `[store]` table, without credentials.
    pub(crate) toml: String,
    /// The host process's environment: credentials and emulator URL.
    pub(crate) env: Vec<(String, String)>,
    /// A known server defect: racing conditional creates may all win.
    /// Reported, not failed, so the rest of the suite still runs on it.
    pub(crate) non_atomic_create: Option<&'static str>,
    pub(crate) _dir: Option<tempfile::TempDir>,
}

pub(crate) fn options(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// An inline TOML table of string options.
pub(crate) fn toml_table(pairs: &[(&str, &str)]) -> String {
    let items: Vec<String> = pairs.iter().map(|(k, v)| format!("{k} = {v:?}")).collect();
    format!("{{ {} }}", items.join(", "))
}

pub(crate) fn local_backend() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let url = config::file_url(&dir.path().join("store"));
    Backend {
        name: "local",
        config: StoreConfig {
            url: url.clone(),
            options: BTreeMap::new(),
        },
        toml: format!("[store]\nurl = {url:?}\n"),
        env: vec![],
        non_atomic_create: None,
        _dir: Some(dir),
    }
}

pub(crate) fn memory_backend() -> Backend {
    Backend {
        name: "memory",
        config: StoreConfig {
            url: "memory://".into(),
            options: BTreeMap::new(),
        },
        toml: "[store]\nurl = \"memory://\"\n".into(),
        env: vec![],
        non_atomic_create: None,
        _dir: None,
    }
}

pub(crate) fn s3_backend(s3: &S3Server, test: &str) -> Backend {
    let url = format!("s3://{}/{}", s3.bucket, unique_prefix(test));
    let public = [
        ("endpoint", s3.endpoint.as_str()),
        ("allow_http", "true"),
        ("region", s3.region.as_str()),
    ];
    let mut with_credentials = public.to_vec();
    with_credentials.push(("access_key_id", &s3.key_id));
    with_credentials.push(("secret_access_key", &s3.secret));
    Backend {
        name: "s3",
        config: StoreConfig {
            url: url.clone(),
            options: options(&with_credentials),
        },
        toml: format!(
            "[store]\nurl = {url:?}\noptions = {}\n",
            toml_table(&public)
        ),
        env: vec![
            ("AWS_ACCESS_KEY_ID".into(), s3.key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY".into(), s3.secret.clone()),
        ],
        non_atomic_create: (s3.server == "s3s-fs").then_some(
            "s3s-fs 0.14.1 checks for the object, then writes it, so a race can let \
             several creates through (one at a time are refused). Real S3, moto and \
             Azurite refuse all but one: the lease needs that",
        ),
        _dir: None,
    }
}

/// Azurite through plain config options: an account, a custom endpoint and
/// plain HTTP, with the key in the environment, as for any Azure-compatible
/// service that is not Azure itself.
pub(crate) fn azure_backend(az: &AzureServer, test: &str) -> Backend {
    let url = format!("az://{}/{}", az.container, unique_prefix(test));
    let public = [
        ("account_name", az.account.as_str()),
        ("endpoint", az.endpoint.as_str()),
        ("allow_http", "true"),
    ];
    let mut with_credentials = public.to_vec();
    with_credentials.push(("access_key", &az.key));
    Backend {
        name: "azure",
        config: StoreConfig {
            url: url.clone(),
            options: options(&with_credentials),
        },
        toml: format!(
            "[store]\nurl = {url:?}\noptions = {}\n",
            toml_table(&public)
        ),
        env: vec![("AZURE_STORAGE_ACCOUNT_KEY".into(), az.key.clone())],
        non_atomic_create: None,
        _dir: None,
    }
}
