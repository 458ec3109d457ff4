//! Secrets: the values of `${NAME}` read from the environment when they are
//! used (never stored in the config), and hidden as `***` in everything
//! shown (URLs in manifests, errors, logs, run records). The http source
//! and the notification and lineage endpoints share this one reader and
//! redactor.

use std::collections::HashMap;

/// The values that came from the environment, and how to hide them.
pub struct Redactor {
    /// Variable name → value.
    pub values: HashMap<String, String>,
    /// Each secret as written and as it looks in a URL, longest first.
    hidden: Vec<String>,
}

impl Redactor {
    pub fn new(values: HashMap<String, String>) -> Redactor {
        let mut hidden: Vec<String> = Vec::new();
        for v in values.values().filter(|v| !v.is_empty()) {
            let form: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
            for variant in [v.clone(), form.replace('+', "%20"), form] {
                if !hidden.contains(&variant) {
                    hidden.push(variant);
                }
            }
        }
        hidden.sort_by_key(|h| std::cmp::Reverse(h.len()));
        Redactor { values, hidden }
    }

    /// Reads the environment variables `names` (each with the place that
    /// reads it, for the message when one is missing).
    pub fn from_env<'a>(
        names: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Redactor, String> {
        let mut values = HashMap::new();
        for (name, place) in names {
            match std::env::var(name) {
                Ok(v) => {
                    values.insert(name.to_owned(), v);
                }
                Err(std::env::VarError::NotPresent) => {
                    return Err(format!(
                        "environment variable {name} is not set ({place} reads it as ${{{name}}}); \
                         set it in the environment of `host`"
                    ));
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(format!(
                        "environment variable {name} ({place}) is not valid UTF-8"
                    ));
                }
            }
        }
        Ok(Redactor::new(values))
    }

    /// `text` with every secret replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for h in &self.hidden {
            if out.contains(h.as_str()) {
                out = out.replace(h.as_str(), "***");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_as_written_and_as_encoded() {
        let r = Redactor::new([("T".to_string(), "a b&c".to_string())].into());
        assert_eq!(
            r.redact("x a b&c y a+b%26c z a%20b%26c"),
            "x *** y *** z ***"
        );
    }
}
