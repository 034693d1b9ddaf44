//! Matching URIs against RFC 6570 level-1 templates (`{var}`), plus the
//! reserved form `{+var}` whose value may contain `/`.
//!
//! This is what routes `resources/read` to a registered
//! [`ResourceTemplate`](crate::ResourceTemplate): the template is parsed
//! once, at registration, and each URI is matched against it. Only
//! matching is done, never expansion; [`decode_all`] then percent-decodes
//! the values for the handler.

use std::collections::HashMap;

/// A parsed template.
///
/// Never holds two variables side by side, nor an empty literal: what
/// [`UriTemplate::matches`] relies on to split a URI without backtracking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UriTemplate {
    /// Literals and variables, in template order.
    parts: Vec<Part>,
}

/// One piece of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    /// Text the URI must contain exactly here.
    Literal(String),
    /// A variable: `{name}`, or `{+name}` when `reserved` (its value may
    /// contain `/`).
    Var { name: String, reserved: bool },
}

/// The template text is not a level-1 URI template.
///
/// Returned by [`McpServerBuilder::resource_template`](crate::McpServerBuilder::resource_template)
/// for an unclosed `{`, a `}` after the last variable, a variable name
/// that is empty or holds other than letters, digits and `_`, an operator
/// other than `+`, two variables side by side (`{a}{b}`: no URI could
/// be split between them unambiguously), or a variable name used twice.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed uri template")]
pub struct TemplateError;

impl UriTemplate {
    /// Parses `text` into literals and variables.
    ///
    /// # Errors
    ///
    /// [`TemplateError`] when `text` is not a level-1 template as described
    /// there.
    pub(crate) fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let close = rest[open..].find('}').ok_or(TemplateError)? + open;
            let inner = &rest[open + 1..close];
            let (name, reserved) = match inner.strip_prefix('+') {
                Some(n) => (n, true),
                None => (inner, false),
            };
            let valid =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            // Two variables side by side cannot be split apart unambiguously;
            // a name used twice could match two different values.
            let repeated = parts
                .iter()
                .any(|p| matches!(p, Part::Var { name: n, .. } if n == name));
            if !valid || repeated || matches!(parts.last(), Some(Part::Var { .. })) {
                return Err(TemplateError);
            }
            parts.push(Part::Var {
                name: name.to_owned(),
                reserved,
            });
            rest = &rest[close + 1..];
        }
        if rest.contains('}') {
            return Err(TemplateError);
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    /// Returns the variables if `uri` matches the whole template.
    ///
    /// Each variable takes the text up to the first occurrence of the
    /// literal after it (the rest of the URI when it is last), must not be
    /// empty, and may contain `/` only if reserved. The first occurrence is
    /// final: there is no backtracking, so `{+path}/raw` does not match
    /// `a/raw/b/raw`. `None` when the URI does not match.
    pub(crate) fn matches(&self, uri: &str) -> Option<HashMap<String, String>> {
        let mut vars = HashMap::new();
        let mut rest = uri;
        let mut parts = self.parts.iter().peekable();
        while let Some(part) = parts.next() {
            match part {
                Part::Literal(lit) => rest = rest.strip_prefix(lit.as_str())?,
                Part::Var { name, reserved } => {
                    let end = match parts.peek() {
                        Some(Part::Literal(next)) => rest.find(next.as_str())?,
                        _ => rest.len(),
                    };
                    let value = &rest[..end];
                    if value.is_empty() || (!reserved && value.contains('/')) {
                        return None;
                    }
                    vars.insert(name.clone(), value.to_owned());
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty().then_some(vars)
    }
}

/// Percent-decodes every value (`%2F` → `/`, `%C3%A9` → `é`); `None` when
/// one has a malformed escape or does not decode to UTF-8.
pub(crate) fn decode_all(vars: HashMap<String, String>) -> Option<HashMap<String, String>> {
    vars.into_iter()
        .map(|(name, value)| Some((name, percent_decode(&value)?)))
        .collect()
}

/// Percent-decodes one value.
fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_owned());
    }
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let [hi, lo, ..] = tail else { return None };
            bytes.push(u8::try_from(hex(*hi)? * 16 + hex(*lo)?).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_simple_variables() {
        let t = UriTemplate::parse("test://template/{id}/data").unwrap();
        let vars = t.matches("test://template/123/data").unwrap();
        assert_eq!(vars["id"], "123");
        assert!(t.matches("test://template//data").is_none());
        assert!(t.matches("test://template/1/2/data").is_none());
        assert!(t.matches("test://template/1/datax").is_none());
    }

    #[test]
    fn reserved_variables_take_slashes() {
        let t = UriTemplate::parse("file:///{+path}").unwrap();
        assert_eq!(t.matches("file:///a/b.txt").unwrap()["path"], "a/b.txt");
        let t = UriTemplate::parse("file:///{path}").unwrap();
        assert!(t.matches("file:///a/b.txt").is_none());
    }

    #[test]
    fn values_are_percent_decoded() {
        let t = UriTemplate::parse("notes://{title}").unwrap();
        let vars = decode_all(t.matches("notes://caf%C3%A9%20au%2Flait").unwrap()).unwrap();
        assert_eq!(vars["title"], "café au/lait");
        for bad in ["notes://%", "notes://%zz", "notes://%C3"] {
            assert_eq!(decode_all(t.matches(bad).unwrap()), None, "{bad}");
        }
    }

    #[test]
    fn rejects_malformed_templates() {
        // `{a}/{a}` found by the `uri_template` fuzz target: it matched
        // `1/2` with one of the two values lost.
        for bad in [
            "a{",
            "a{}",
            "a}b",
            "{a}{b}",
            "{a-b}",
            "x://{a}/{a}",
            "{a}/{+a}",
        ] {
            assert_eq!(UriTemplate::parse(bad), Err(TemplateError), "{bad}");
        }
    }
}
