//! Lines in the host's log, tagged by the host with plugin, dataset and
//! partition.
//!
//! ```ignore
//! strata_sdk::log::info(format!("{} rows in", batch.num_rows()));
//! ```

use crate::__private::bindings::strata::plugin::host;
use crate::__private::bindings::strata::plugin::types::LogLevel;

/// Logs at debug level.
pub fn debug(message: impl AsRef<str>) {
    host::log(LogLevel::Debug, message.as_ref());
}

/// Logs at info level.
pub fn info(message: impl AsRef<str>) {
    host::log(LogLevel::Info, message.as_ref());
}

/// Logs at warn level.
pub fn warn(message: impl AsRef<str>) {
    host::log(LogLevel::Warn, message.as_ref());
}

/// Logs at error level.
pub fn error(message: impl AsRef<str>) {
    host::log(LogLevel::Error, message.as_ref());
}
