//! Dataset ids: `layer/name`, both parts plain folder names.

use std::fmt;

/// A dataset's identity: `layer/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DatasetId {
    pub layer: String,
    pub name: String,
}

impl DatasetId {
    pub fn parse(text: &str) -> Option<DatasetId> {
        let (layer, name) = text.split_once('/')?;
        (valid_segment(layer) && valid_segment(name)).then(|| DatasetId {
            layer: layer.to_owned(),
            name: name.to_owned(),
        })
    }

    pub fn is_raw(&self) -> bool {
        self.layer == "raw"
    }
}

impl fmt::Display for DatasetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.layer, self.name)
    }
}

/// Names become folder names: keep them plain.
pub(crate) fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        && !s.starts_with('.')
        && !s.starts_with('_')
}
