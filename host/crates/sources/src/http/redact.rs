//! Redaction: the values read from the environment, hidden as `***` in
//! everything shown (URLs in manifests, errors, logs).

use std::collections::HashMap;

/// The values that came from the environment, and how to hide them.
pub(super) struct Redactor {
    pub(super) values: HashMap<String, String>,
    /// Each secret as written and as it looks in a URL, longest first.
    pub(super) hidden: Vec<String>,
}

impl Redactor {
    pub(super) fn new(values: HashMap<String, String>) -> Redactor {
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

    pub(super) fn redact(&self, text: &str) -> String {
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
