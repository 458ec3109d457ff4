use std::fmt;

use arrow_schema::ArrowError;

/// A plugin's own failure. The partition fails with its message; the host
/// adds the plugin, dataset and partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The params cannot be used: name the param and what is wrong with it.
    BadParams(String),
    /// The input data cannot be transformed: name the row and the value.
    BadInput(String),
    /// Anything else.
    Failed(String),
}

impl Error {
    /// The message without its kind.
    pub fn message(&self) -> &str {
        match self {
            Error::BadParams(m) | Error::BadInput(m) | Error::Failed(m) => m,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadParams(m) => write!(f, "bad params: {m}"),
            Error::BadInput(m) => write!(f, "bad input: {m}"),
            Error::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<ArrowError> for Error {
    fn from(e: ArrowError) -> Self {
        Error::Failed(e.to_string())
    }
}

impl From<Error> for crate::__private::PluginError {
    fn from(e: Error) -> Self {
        use crate::__private::PluginError as E;
        match e {
            Error::BadParams(m) => E::BadParams(m),
            Error::BadInput(m) => E::BadInput(m),
            Error::Failed(m) => E::Failed(m),
        }
    }
}
