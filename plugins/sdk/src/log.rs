//! Lines in the host's log, tagged by the host with plugin, dataset and
//! partition.
//!
//! ```ignore
//! strata_sdk::log::info(format!("{} rows in", batch.num_rows()));
//! ```
//!
//! Outside WebAssembly (a plugin's unit tests on the build machine) the lines
//! go to stderr instead.

use crate::__private::bindings::strata::plugin::types::LogLevel;

fn emit(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::__private::bindings::strata::plugin::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {message}");
}

/// Logs at debug level.
pub fn debug(message: impl AsRef<str>) {
    emit(LogLevel::Debug, message.as_ref());
}

/// Logs at info level.
pub fn info(message: impl AsRef<str>) {
    emit(LogLevel::Info, message.as_ref());
}

/// Logs at warn level.
pub fn warn(message: impl AsRef<str>) {
    emit(LogLevel::Warn, message.as_ref());
}

/// Logs at error level.
pub fn error(message: impl AsRef<str>) {
    emit(LogLevel::Error, message.as_ref());
}
