//! Pagination: from one page's response to the next page's request, by
//! the configured style, stopping at the last page or at a loop.

use anyhow::{Result, anyhow, bail};
use serde_json::Value;

use strata_core::config::Pagination;

use super::HttpSource;
use super::exchange::Response;
use super::request::Request;

/// Where pagination is.
#[derive(Default)]
pub(super) struct PageState {
    /// The current page number or offset, once past the first page.
    pub(super) counter: Option<u64>,
    /// Cursors and URLs already followed, to stop a loop.
    pub(super) seen: Vec<String>,
}

impl HttpSource {
    /// The request for the page after `response`, if there is one.
    pub(super) fn next_request(
        &self,
        request: &Request,
        response: &Response,
        state: &mut PageState,
    ) -> Result<Option<Request>> {
        let Some(pagination) = &self.spec.pagination else {
            return Ok(None);
        };
        let json = || -> Result<Value> {
            serde_json::from_slice(&response.body).map_err(|e| {
                anyhow!(
                    "the body is not JSON ({e}), so {} pagination cannot find the next page",
                    pagination.style()
                )
            })
        };
        match pagination {
            Pagination::Cursor { pointer, param } => {
                let doc = json()?;
                let cursor = match doc.pointer(pointer) {
                    None | Some(Value::Null) | Some(Value::Bool(false)) => return Ok(None),
                    Some(Value::String(s)) if s.is_empty() => return Ok(None),
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    Some(other) => bail!(
                        "the cursor at {pointer} is {}, expected a string or a number",
                        kind_of(other)
                    ),
                };
                if state.seen.contains(&cursor) {
                    bail!("the API returned cursor `{cursor}` twice; stopping instead of looping");
                }
                state.seen.push(cursor.clone());
                let mut next = request.clone();
                next.set_param(param, &cursor);
                Ok(Some(next))
            }
            Pagination::NextUrl { pointer } => {
                let doc = json()?;
                let link = match doc.pointer(pointer) {
                    None | Some(Value::Null) => return Ok(None),
                    Some(Value::String(s)) if s.is_empty() => return Ok(None),
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => bail!(
                        "the next URL at {pointer} is {}, expected a string",
                        kind_of(other)
                    ),
                };
                request.follow(&link, state).map(Some)
            }
            Pagination::LinkHeader {} => match &response.link_next {
                None => Ok(None),
                Some(link) => request.follow(link, state).map(Some),
            },
            Pagination::Page {
                param,
                start,
                records_pointer,
            }
            | Pagination::Offset {
                param,
                start,
                records_pointer,
            } => {
                let doc = json()?;
                let records = match doc.pointer(records_pointer) {
                    None | Some(Value::Null) => 0,
                    Some(Value::Array(a)) => a.len(),
                    Some(other) => bail!(
                        "the records at `{records_pointer}` are {}, expected an array",
                        kind_of(other)
                    ),
                };
                if records == 0 {
                    return Ok(None);
                }
                let current = state.counter.unwrap_or(*start);
                let next_counter = if matches!(pagination, Pagination::Page { .. }) {
                    current + 1
                } else {
                    current + records as u64
                };
                state.counter = Some(next_counter);
                let mut next = request.clone();
                next.set_param(param, &next_counter.to_string());
                Ok(Some(next))
            }
        }
    }
}

/// The `rel="next"` target of a `Link` header, if any.
pub(super) fn link_next(header: &str) -> Option<String> {
    let mut rest = header;
    loop {
        let open = rest.find('<')?;
        let close = open + rest[open..].find('>')?;
        let target = &rest[open + 1..close];
        rest = &rest[close + 1..];
        // The parameters run to the next link (a `,` outside quotes).
        let mut end = rest.len();
        let mut quoted = false;
        for (i, c) in rest.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let params = &rest[..end];
        rest = &rest[end..];
        let is_next = params.split(';').any(|p| {
            let Some((k, v)) = p.split_once('=') else {
                return false;
            };
            k.trim().eq_ignore_ascii_case("rel")
                && v.trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(target.trim().to_owned());
        }
    }
}

pub(super) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        assert_eq!(
            link_next(r#"<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel="next""#),
            Some("https://a/x?page=3".into())
        );
        assert_eq!(
            link_next(r#"</x?a=1,2>; title="a, b"; rel="next last""#),
            Some("/x?a=1,2".into())
        );
        assert_eq!(link_next(r#"<https://a/x?page=9>; rel="last""#), None);
    }
}
