//! What contracts 0.1 and 0.2 define alike: the data formats, a plugin's
//! own errors and the log import. Each version's bindings have their own
//! Rust types of the same shape, so the conversions are written once here
//! and stamped into each version's module.

/// In a module that has run `bindgen!` for one contract version and named
/// its types interface `wit`: `format`, `error` and the `host` import.
macro_rules! shared_with_every_contract {
    () => {
        pub(crate) fn format(format: wit::DataFormat) -> $crate::DataFormat {
            match format {
                wit::DataFormat::ArrowIpc => $crate::DataFormat::ArrowIpc,
                wit::DataFormat::JsonLines => $crate::DataFormat::JsonLines,
            }
        }

        pub(crate) fn error(error: wit::PluginError) -> $crate::RunError {
            match error {
                wit::PluginError::BadParams(m) => $crate::RunError::BadParams(m),
                wit::PluginError::BadInput(m) => $crate::RunError::BadInput(m),
                wit::PluginError::Failed(m) => $crate::RunError::Failed(m),
            }
        }

        impl wit::Host for $crate::sandbox::SandboxState {}

        impl strata::plugin::host::Host for $crate::sandbox::SandboxState {
            fn log(&mut self, level: wit::LogLevel, message: String) {
                use $crate::sandbox::LogLevel;
                let level = match level {
                    wit::LogLevel::Debug => LogLevel::Debug,
                    wit::LogLevel::Info => LogLevel::Info,
                    wit::LogLevel::Warn => LogLevel::Warn,
                    wit::LogLevel::Error => LogLevel::Error,
                };
                self.log.write(level, &message);
            }
        }
    };
}
