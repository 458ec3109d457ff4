//! Period templates: the one way a source names a period in text.
//!
//! `{date}` (or `{period}`) is the period's label (`2025-02-18`), `{start}`
//! and `{end}` its bounds in RFC 3339 (the end exclusive), `{%Y%m%d}` any
//! strftime format of its start, `{start:%F}` / `{end:%F}` of either bound.
//! `${NAME}` is the environment variable `NAME`, resolved when rendered or
//! shown as `***`. Any other text in braces (JSON in a body, say) is text.
//! The files source's patterns and every http source value are templates.

use std::collections::HashMap;

use chrono::format::{Item, StrftimeItems};

use crate::period::Period;

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Period(Token),
    Env(String),
}

/// A period placeholder.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// `{date}` or `{period}`: the period's label.
    Label,
    /// `{start}`, `{start:%F}`, `{%Y%m%d}`: its start, RFC 3339 or formatted.
    Start(Option<String>),
    /// `{end}`, `{end:%F}`: its (exclusive) end.
    End(Option<String>),
}

impl Token {
    /// The placeholder `{inner}` names, if it is one. Anything else in
    /// braces (JSON in a body, say) is text.
    fn parse(inner: &str) -> Result<Option<Token>, String> {
        let format = |f: &str| -> Result<Option<String>, String> {
            if f.is_empty() || StrftimeItems::new(f).any(|i| matches!(i, Item::Error)) {
                return Err(format!("`{{{inner}}}` is not a valid strftime format"));
            }
            Ok(Some(f.to_owned()))
        };
        Ok(Some(match inner {
            "date" | "period" => Token::Label,
            "start" => Token::Start(None),
            "end" => Token::End(None),
            f if f.starts_with('%') => Token::Start(format(f)?),
            _ => {
                if let Some(f) = inner.strip_prefix("start:") {
                    Token::Start(format(f)?)
                } else if let Some(f) = inner.strip_prefix("end:") {
                    Token::End(format(f)?)
                } else {
                    return Ok(None);
                }
            }
        }))
    }

    fn render(&self, period: &Period) -> String {
        match self {
            Token::Label => period.label(),
            Token::Start(None) => period.rfc3339_start(),
            Token::End(None) => period.rfc3339_end(),
            Token::Start(Some(f)) => period.start().format(f).to_string(),
            Token::End(Some(f)) => period.end().format(f).to_string(),
        }
    }
}

/// A text with period placeholders and environment variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(Vec<Piece>);

/// What `${NAME}` becomes when a template is rendered.
pub enum EnvMode<'a> {
    /// The variable's value.
    Resolve(&'a HashMap<String, String>),
    /// `***`, for showing.
    Redact,
}

impl EnvMode<'_> {
    fn value(&self, name: &str) -> String {
        match self {
            EnvMode::Resolve(values) => values.get(name).cloned().unwrap_or_default(),
            EnvMode::Redact => "***".to_owned(),
        }
    }
}

impl Template {
    /// Parses a template; a malformed `${…}` or strftime format is an error.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut i = 0;
        while i < text.len() {
            let rest = &text[i..];
            if let Some(after) = rest.strip_prefix("${") {
                let close = after.find('}').ok_or_else(|| {
                    format!("`${{` without a closing `}}` in `{text}`: write ${{NAME}}")
                })?;
                let name = &after[..close];
                if !valid_env_name(name) {
                    return Err(format!(
                        "`${{{name}}}` in `{text}` is not an environment variable name: use letters, digits and `_`"
                    ));
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Env(name.to_owned()));
                i += 2 + close + 1;
                continue;
            }
            if let Some(after) = rest.strip_prefix('{')
                && let Some(close) = after.find('}')
                && !after[..close].contains('{')
                && let Some(token) = Token::parse(&after[..close])?
            {
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Period(token));
                i += 1 + close + 1;
                continue;
            }
            let c = rest.chars().next().expect("not at the end");
            literal.push(c);
            i += c.len_utf8();
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Template(pieces))
    }

    /// Whether the template names the period anywhere.
    pub fn mentions_period(&self) -> bool {
        self.0.iter().any(|p| matches!(p, Piece::Period(_)))
    }

    /// The environment variables it reads, in order.
    pub fn env_names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Piece::Env(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// The text of a template that names no period (an endpoint's URL),
    /// with `${NAME}` resolved or redacted; `None` if it names a period.
    pub fn render_without_period(&self, env: &EnvMode) -> Option<String> {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Period(_) => return None,
                Piece::Env(name) => out.push_str(&env.value(name)),
            }
        }
        Some(out)
    }

    /// The text for `period`, with `${NAME}` resolved or redacted.
    pub fn render(&self, period: &Period, env: &EnvMode) -> String {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Period(token) => out.push_str(&token.render(period)),
                Piece::Env(name) => out.push_str(&env.value(name)),
            }
        }
        out
    }
}

fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::Granularity;

    #[test]
    fn templates_name_the_period_and_the_environment() {
        let p = Period::parse(Granularity::Day, "2025-02-18").unwrap();
        let t = Template::parse("a/{date}/{%Y%m%d}?s={start}&e={end}&f={end:%F}&k=${KEY}").unwrap();
        let env: HashMap<String, String> = [("KEY".to_string(), "s3cr3t".to_string())].into();
        assert_eq!(
            t.render(&p, &EnvMode::Resolve(&env)),
            "a/2025-02-18/20250218?s=2025-02-18T00:00:00Z&e=2025-02-19T00:00:00Z&f=2025-02-19&k=s3cr3t"
        );
        assert_eq!(
            t.render(&p, &EnvMode::Redact),
            "a/2025-02-18/20250218?s=2025-02-18T00:00:00Z&e=2025-02-19T00:00:00Z&f=2025-02-19&k=***"
        );
        // JSON braces are text; placeholders inside it are still found.
        let body = Template::parse(r#"{"from": "{start}", "n": {"x": 1}}"#).unwrap();
        assert_eq!(
            body.render(&p, &EnvMode::Redact),
            r#"{"from": "2025-02-18T00:00:00Z", "n": {"x": 1}}"#
        );
        assert!(Template::parse("${1X}").is_err());
        assert!(Template::parse("${KEY").is_err());
        assert!(Template::parse("{%Q}").is_err());
        assert!(!Template::parse("{dat}").unwrap().mentions_period());
    }

    #[test]
    fn file_patterns_are_templates() {
        let p = Period::parse(Granularity::Day, "2025-02-18").unwrap();
        let render = |t: &str| Template::parse(t).unwrap().render(&p, &EnvMode::Redact);
        assert_eq!(render("tx-{date}.json"), "tx-2025-02-18.json");
        assert_eq!(render("{%Y}/{%m%d}-*.json"), "2025/0218-*.json");
    }
}
