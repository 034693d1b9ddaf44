//! A stateless request's params, read in one pass: the stateless keys of
//! `_meta` and the fields the routing headers repeat, each kept as raw
//! JSON text borrowed from the params.
//!
//! The params were checked as JSON when they were decoded (a [`RawValue`]
//! holds nothing else), so the common case is read by [`scan`], which only
//! finds where members begin and end; serde reads whatever it declines
//! (a key with an escape, a repeated key this pass reads, a `_meta` that
//! is not an object), and so gives the same answer and the same errors.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::jsonrpc::Params;

/// The stateless keys of `_meta`, each kept as raw JSON text (borrowed
/// from the params) so that only what is present is read further.
#[derive(Deserialize)]
struct Meta<'a> {
    /// `…/protocolVersion`.
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", borrow, default)]
    version: Option<&'a RawValue>,
    /// `…/clientCapabilities`.
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities", borrow, default)]
    capabilities: Option<&'a RawValue>,
    /// `…/clientInfo`.
    #[serde(rename = "io.modelcontextprotocol/clientInfo", borrow, default)]
    info: Option<&'a RawValue>,
    /// `…/logLevel`.
    #[serde(rename = "io.modelcontextprotocol/logLevel", borrow, default)]
    log_level: Option<&'a RawValue>,
    /// `progressToken`.
    #[serde(rename = "progressToken", borrow, default)]
    progress_token: Option<&'a RawValue>,
}

/// The params: `_meta`, and the names routing headers repeat, read in
/// one pass.
#[derive(Deserialize)]
struct WithMeta<'a> {
    #[serde(rename = "_meta", borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    uri: Option<&'a RawValue>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
    #[serde(rename = "taskId", borrow, default)]
    task_id: Option<&'a RawValue>,
    #[serde(rename = "inputResponses", borrow, default)]
    input_responses: Option<&'a RawValue>,
    #[serde(rename = "requestState", borrow, default)]
    request_state: Option<&'a RawValue>,
}

/// What the pass read out of params with a `_meta`: raw JSON text, each
/// a slice of the params.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Read<'a> {
    /// `…/protocolVersion`.
    pub(super) version: Option<&'a str>,
    /// `…/clientCapabilities`.
    pub(super) capabilities: Option<&'a str>,
    /// `…/clientInfo`.
    pub(super) info: Option<&'a str>,
    /// `…/logLevel`.
    pub(super) log_level: Option<&'a str>,
    /// `_meta.progressToken`.
    pub(super) progress_token: Option<&'a str>,
    /// `params.name`.
    pub(super) name: Option<&'a str>,
    /// `params.uri`.
    pub(super) uri: Option<&'a str>,
    /// `params.arguments`.
    pub(super) arguments: Option<&'a str>,
    /// `params.taskId`.
    pub(super) task_id: Option<&'a str>,
    /// Whether `inputResponses` or `requestState` is there.
    pub(super) retry: bool,
}

/// Reads `params`: `None` when they have no `_meta` (or a `null` one).
/// A member that is `null` reads as absent, as serde reads an `Option`.
///
/// # Errors
///
/// serde's error when the params or their `_meta` do not read.
pub(super) fn read(params: &Params) -> Result<Option<Read<'_>>, serde_json::Error> {
    match scan(params.as_str()) {
        Some(read) => Ok(read),
        None => by_serde(params),
    }
}

/// [`read`] and [`by_serde`] on the same params, for the fuzz target.
#[cfg(feature = "fuzzing")]
pub(super) fn both_ways(params: &Params) -> (String, String) {
    let show = |r: Result<Option<Read<'_>>, serde_json::Error>| format!("{r:?}");
    (show(read(params)), show(by_serde(params)))
}

/// [`read`] by serde alone.
fn by_serde(params: &Params) -> Result<Option<Read<'_>>, serde_json::Error> {
    let with = params.parse::<WithMeta<'_>>()?;
    Ok(with.meta.map(|meta| Read {
        version: text_of(meta.version),
        capabilities: text_of(meta.capabilities),
        info: text_of(meta.info),
        log_level: text_of(meta.log_level),
        progress_token: text_of(meta.progress_token),
        name: text_of(with.name),
        uri: text_of(with.uri),
        arguments: text_of(with.arguments),
        task_id: text_of(with.task_id),
        retry: with.input_responses.is_some() || with.request_state.is_some(),
    }))
}

/// A member's raw text; `None` for `null` (a derived `Option<&RawValue>`
/// already reads `null` as `None`: this keeps both passes alike).
fn text_of(raw: Option<&RawValue>) -> Option<&str> {
    raw.map(RawValue::get).filter(|t| *t != "null")
}

/// [`read`]'s fast pass over params that are valid JSON: `None` when it
/// leaves them to serde (see the module doc).
fn scan(text: &str) -> Option<Option<Read<'_>>> {
    let mut read = Read::default();
    let mut meta = false;
    // The members this pass reads, each allowed once, as serde allows them.
    let mut seen = 0u16;
    let mut once = |bit: u16| {
        let first = seen & bit == 0;
        seen |= bit;
        first.then_some(())
    };
    let mut c = Cursor { text, at: 0 };
    if !c.eat(b'{') {
        return None;
    }
    while let Some(key) = c.key() {
        match key? {
            // The guard steps into the object: its members are read here.
            "_meta" if c.eat(b'{') => {
                once(1)?;
                meta = true;
                while let Some(key) = c.key() {
                    let key = key?;
                    let value = c.value();
                    match key {
                        "io.modelcontextprotocol/protocolVersion" => {
                            (once(2)?, read.version = value).1
                        }
                        "io.modelcontextprotocol/clientCapabilities" => {
                            (once(4)?, read.capabilities = value).1
                        }
                        "io.modelcontextprotocol/clientInfo" => (once(8)?, read.info = value).1,
                        "io.modelcontextprotocol/logLevel" => (once(16)?, read.log_level = value).1,
                        "progressToken" => (once(32)?, read.progress_token = value).1,
                        _ => {}
                    }
                }
            }
            // `null`, or not an object: serde's error.
            "_meta" => {
                once(1)?;
                if c.value().is_some() {
                    return None;
                }
            }
            "name" => (once(64)?, read.name = c.value()).1,
            "uri" => (once(128)?, read.uri = c.value()).1,
            "arguments" => (once(256)?, read.arguments = c.value()).1,
            "taskId" => (once(512)?, read.task_id = c.value()).1,
            "inputResponses" => (once(1024)?, read.retry |= c.value().is_some()).1,
            "requestState" => (once(2048)?, read.retry |= c.value().is_some()).1,
            _ => {
                c.value();
            }
        }
    }
    Some(meta.then_some(read))
}

/// A reader of JSON text that is known to be valid: it finds where keys and
/// values begin and end, and checks nothing else.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    /// Past any whitespace.
    fn space(&mut self) {
        let bytes = self.text.as_bytes();
        while matches!(bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Past any whitespace, then past `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        self.space();
        let next = self.text.as_bytes().get(self.at) == Some(&byte);
        self.at += usize::from(next);
        next
    }

    /// The next key of the object being read, past its `:`; `None` past
    /// the object's `}`, `Some(None)` for a key with an escape (whose name
    /// only an unescaping reader knows).
    fn key(&mut self) -> Option<Option<&'a str>> {
        self.eat(b',');
        if !self.eat(b'"') {
            self.eat(b'}');
            return None;
        }
        let start = self.at;
        let (end, escaped) = string_end(self.text.as_bytes(), start);
        self.at = end + 1;
        self.eat(b':');
        let key = self.text.get(start..end)?;
        Some((!escaped).then_some(key))
    }

    /// The next value's text; `None` (and passed over) when it is `null`.
    fn value(&mut self) -> Option<&'a str> {
        self.space();
        let start = self.at;
        self.at = value_end(self.text.as_bytes(), start);
        self.text
            .get(start..self.at)
            .filter(|value| *value != "null")
    }
}

/// The index of the `"` that ends the string whose text starts at `at`,
/// and whether the string has an escape.
fn string_end(bytes: &[u8], mut at: usize) -> (usize, bool) {
    let mut escaped = false;
    while let Some(i) = bytes.get(at..).and_then(quote_or_backslash) {
        if bytes[at + i] == b'"' {
            return (at + i, escaped);
        }
        escaped = true;
        at += i + 2; // the backslash and the byte it escapes
    }
    (bytes.len(), escaped)
}

/// The first `"` or `\` in `bytes`, looked for eight bytes at a time (a
/// byte-wise loop costs more than the scan it serves: keys such as
/// `io.modelcontextprotocol/protocolVersion` are long).
fn quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut chunks = bytes.chunks_exact(8);
    for (n, chunk) in chunks.by_ref().enumerate() {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        // A byte of `word ^ ONES * c` is zero where `word` holds `c`; the
        // lowest flagged byte is exact (only bytes above a match can be
        // flagged falsely).
        let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
        let found = zero(word ^ (ONES * u64::from(b'"'))) | zero(word ^ (ONES * u64::from(b'\\')));
        if found != 0 {
            return Some(n * 8 + (found.trailing_zeros() / 8) as usize);
        }
    }
    let rest = chunks.remainder();
    let tail = bytes.len() - rest.len();
    rest.iter()
        .position(|&b| b == b'"' || b == b'\\')
        .map(|i| tail + i)
}

/// The index just past the value that starts at `at`.
fn value_end(bytes: &[u8], at: usize) -> usize {
    let mut depth = 0usize;
    let mut i = at;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => i = string_end(bytes, i + 1).0,
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth <= 1 => return i + usize::from(depth == 1),
            b'}' | b']' => depth -= 1,
            // The end of a number, `true`, `false` or `null`.
            b',' | b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => return i,
            _ => {}
        }
        i += 1;
        if depth == 0 && b == b'"' {
            return i;
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_scan_reads_what_serde_reads_or_leaves_it_to_serde() {
        let texts = [
            r#"{"name":"echo","arguments":{"text":"a\"}b","n":[1,{"x":"]"}]},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"},"progressToken":7}}"#,
            r#" { "_meta" : { "io.modelcontextprotocol/logLevel" : "info" , "progressToken" : "t" } , "uri" : "a://b" , "taskId" : "t1" } "#,
            r#"{"name":"x","arguments":null,"_meta":{"io.modelcontextprotocol/protocolVersion":null},"requestState":"s"}"#,
            r#"{"name":"x","_meta":null}"#,
            r#"{"name":"x"}"#,
            r#"{"inputResponses":{},"_meta":{"progressToken":-1.5e3}}"#,
            r#"{"_meta":{},"other":[true,false,null,{"_meta":1}]}"#,
            // Left to serde: escapes in a key, repeated keys, a `_meta` that
            // is not an object.
            r#"{"\u005fmeta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}"#,
            r#"{"_meta":{"io.modelcontextprotocol\/protocolVersion":"v"}}"#,
            r#"{"name":"a","name":"b","_meta":{}}"#,
            r#"{"_meta":{"progressToken":1,"progressToken":2}}"#,
            r#"{"_meta":"no"}"#,
            r#"[1,2]"#,
        ];
        for text in texts {
            let params = Params::from(serde_json::from_str::<serde_json::Value>(text).unwrap());
            let raw = Params(RawValue::from_string(text.to_owned()).unwrap(), None);
            for params in [&params, &raw] {
                let fast = read(params).map_err(|e| e.to_string());
                let slow = by_serde(params).map_err(|e| e.to_string());
                assert_eq!(fast, slow, "{}", params.as_str());
            }
        }
        // The first seven are the scan's; the escaped and repeated cases
        // are left to serde.
        for (i, text) in texts.iter().enumerate() {
            assert_eq!(scan(text).is_some(), i < 7, "{text}");
        }
        assert!(scan(&json!({"_meta": {}}).to_string()).is_some());
    }
}
