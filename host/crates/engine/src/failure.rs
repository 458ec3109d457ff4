//! Why a partition failed: a kind that callers and scripts branch on,
//! decided where the cause is known, and a message for people. Never
//! flattened to a string on the way to `run --json`.

use std::fmt;

use serde::{Deserialize, Serialize};
use strata_core::manifest::CheckResult;
use strata_runtime::{LoadError, RunError};

/// What kind of failure a partition had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The plugin returned an error of its own (bad params, bad input, failed).
    PluginError,
    /// The plugin trapped: a panic, an abort, a stack overflow, an exit.
    Trap,
    /// The plugin ran past its CPU time limit.
    Timeout,
    /// The plugin asked for more memory than its limit.
    MemoryLimit,
    /// The plugin produced more output than its limit.
    OutputLimit,
    /// The plugin's output breaks the contract: not Arrow IPC or JSON lines
    /// of its schema, a schema change mid-stream, a type outside the contract.
    BadOutput,
    /// The plugin cannot be loaded: not a component for this contract,
    /// refused imports, `describe` failed, or not the build the config pins.
    PluginLoad,
    /// The source could not deliver the period.
    Source,
    /// Reading or writing the store failed.
    Store,
    /// The host itself failed (a bug, or the machine).
    Host,
    /// A blocking check found violations in the new output.
    Check,
}

impl FailureKind {
    /// The kind as `run --json` spells it.
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::PluginError => "plugin-error",
            FailureKind::Trap => "trap",
            FailureKind::Timeout => "timeout",
            FailureKind::MemoryLimit => "memory-limit",
            FailureKind::OutputLimit => "output-limit",
            FailureKind::BadOutput => "bad-output",
            FailureKind::PluginLoad => "plugin-load",
            FailureKind::Source => "source",
            FailureKind::Store => "store",
            FailureKind::Host => "host",
            FailureKind::Check => "check",
        }
    }

    /// Whether the same inputs fail the same way every time: a plugin's
    /// own failure, a trap, a limit, a check. Such a failure is not retried
    /// while its key is unchanged; the others (source, store, host) are
    /// retried by the next run.
    pub fn deterministic(self) -> bool {
        !matches!(
            self,
            FailureKind::Source | FailureKind::Store | FailureKind::Host
        )
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A partition's failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
        }
    }

    /// The same failure, its message prefixed with where it happened.
    pub fn context(self, place: impl fmt::Display) -> Failure {
        Failure {
            message: format!("{place}: {}", self.message),
            ..self
        }
    }

    /// A store failure, with its cause chain.
    pub(crate) fn store(error: &anyhow::Error) -> Failure {
        Failure::new(FailureKind::Store, format!("{error:#}"))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<RunError> for Failure {
    fn from(error: RunError) -> Failure {
        let kind = match &error {
            RunError::BadParams(_) | RunError::BadInput(_) | RunError::Failed(_) => {
                FailureKind::PluginError
            }
            RunError::Panic { .. }
            | RunError::StackOverflow
            | RunError::Trap { .. }
            | RunError::Exit { .. } => FailureKind::Trap,
            RunError::Timeout(_) => FailureKind::Timeout,
            RunError::MemoryLimit(_) => FailureKind::MemoryLimit,
            RunError::OutputLimit(_) => FailureKind::OutputLimit,
            RunError::Malformed(_) | RunError::SchemaChanged { .. } => FailureKind::BadOutput,
            RunError::Host(_) => FailureKind::Host,
        };
        Failure::new(kind, error.to_string())
    }
}

impl From<LoadError> for Failure {
    fn from(error: LoadError) -> Failure {
        Failure::new(FailureKind::PluginLoad, error.to_string())
    }
}

/// A partition's failure as the store remembers it
/// (`_strata/failures/<layer>/<name>.json`), until the partition is
/// computed successfully.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureRecord {
    pub kind: FailureKind,
    pub message: String,
    /// The partition key the failed computation was for.
    pub key: String,
    /// The hash of the dataset's checks it was evaluated with: a changed
    /// check retries a deterministic failure as a changed key does.
    pub checks: String,
    /// When it first failed with this key (RFC 3339, UTC).
    pub since: String,
    /// When it last failed.
    pub last: String,
    /// How many runs tried and failed.
    pub attempts: u32,
    /// For a check failure: what the checks found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<CheckResult>,
    /// For a check failure: the folder under the store's root where the
    /// rejected output waits (`_strata/quarantine/…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<String>,
}
