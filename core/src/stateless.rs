//! The stateless revision (2026-07-28): telling a request of that era from
//! a session-era one, and reading the facts it carries in `_meta`.
//!
//! A request is served statelessly when its `params._meta` names
//! `io.modelcontextprotocol/protocolVersion`. Such a request must also carry
//! `…/clientCapabilities`; `…/clientInfo` and `…/logLevel` are optional.
//! Nothing about it is read from an earlier request or the connection.
//!
//! Which eras a server serves is [`Eras`], set with
//! [`ServerConfig::eras`](crate::ServerConfig::eras).

use std::borrow::Cow;
use std::sync::Arc;

use crate::facts::{ClientCapabilities, ClientFacts};
use crate::jsonrpc::{CallSpans, Params};
use crate::principal::Principal;
use crate::protocol::{LogLevel, ProtocolVersion};

pub(crate) mod input;
#[cfg(not(feature = "request-state"))]
mod keyless;
mod params;
#[cfg(feature = "request-state")]
pub(crate) mod state;

#[cfg(not(feature = "request-state"))]
pub(crate) use keyless::RequestStateKeys;
#[cfg(feature = "request-state")]
pub use state::{KeyTooShort, MIN_KEY_BYTES, RequestStateKeys};

/// `_meta` key of the revision a stateless request is made under.
pub const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key of the capabilities the client declares for one request.
pub const CLIENT_CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key of the client's name and version (optional).
pub const CLIENT_INFO_KEY: &str = "io.modelcontextprotocol/clientInfo";
/// `_meta` key of the lowest log level the client wants for one request.
pub const LOG_LEVEL_KEY: &str = "io.modelcontextprotocol/logLevel";
/// `_meta` key naming the `subscriptions/listen` request a message belongs to.
pub const SUBSCRIPTION_ID_KEY: &str = "io.modelcontextprotocol/subscriptionId";
/// `_meta` key of the server's name and version in `server/discover`.
pub const SERVER_INFO_KEY: &str = "io.modelcontextprotocol/serverInfo";

/// Which protocol eras an endpoint serves.
///
/// Both by default: `initialize` opens a session as before, and a request
/// whose `_meta` names a stateless revision is served without one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Eras {
    /// The session-based revisions and the stateless one, side by side.
    #[default]
    Both,
    /// Only the session-based revisions (2024-11-05 to 2025-11-25): a
    /// request with stateless `_meta` is treated like any session-era
    /// request (its `_meta` is not read).
    SessionOnly,
    /// Only the stateless revision: `initialize` is refused with an error
    /// naming the supported revisions (`-32022`), and over HTTP GET and
    /// DELETE are answered 405 and no session id is minted.
    StatelessOnly,
}

impl Eras {
    /// Whether session-era requests (`initialize` and what follows) are
    /// served.
    pub fn sessions(self) -> bool {
        self != Self::StatelessOnly
    }

    /// Whether stateless requests are served.
    pub fn stateless(self) -> bool {
        self != Self::SessionOnly
    }
}

/// Who may reuse a cached result (`cacheScope`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheScope {
    /// Any client may be served this result (`"public"`).
    Public,
    /// Only the client that asked (`"private"`).
    Private,
}

impl CacheScope {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

/// The caching hints a stateless result carries: `ttlMs` and `cacheScope`.
///
/// The default is a TTL of 0 (revalidate every time) and
/// [`CacheScope::Private`]: nothing is reused unless the server says so.
/// Hints are advice to clients, never access control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheHint {
    /// How long the result may be reused.
    pub(crate) ttl: std::time::Duration,
    /// Who may reuse it.
    pub(crate) scope: CacheScope,
}

impl Default for CacheHint {
    fn default() -> Self {
        Self::new(std::time::Duration::ZERO, CacheScope::Private)
    }
}

impl CacheHint {
    /// Reusable for `ttl` (sent in whole milliseconds), by `scope`.
    pub fn new(ttl: std::time::Duration, scope: CacheScope) -> Self {
        Self { ttl, scope }
    }

    /// `ttlMs`, in whole milliseconds (saturating).
    pub(crate) fn ttl_ms(self) -> u64 {
        u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX)
    }
}

/// The results that carry caching hints in the stateless revision; each
/// has its own [`CacheHint`], set with
/// [`ServerConfig::cache_hint`](crate::ServerConfig::cache_hint). Every page
/// of a list carries the same hint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cacheable {
    /// `server/discover`.
    Discover,
    /// `tools/list`.
    Tools,
    /// `prompts/list`.
    Prompts,
    /// `resources/list`.
    Resources,
    /// `resources/templates/list`.
    ResourceTemplates,
    /// `resources/read`.
    ResourceRead,
}

impl Cacheable {
    /// The number of kinds, for a table indexed by kind.
    pub(crate) const COUNT: usize = 6;

    /// The kind of result `method` returns, if it carries hints.
    pub(crate) fn of(method: &str) -> Option<Self> {
        Some(match method {
            "server/discover" => Self::Discover,
            "tools/list" => Self::Tools,
            "prompts/list" => Self::Prompts,
            "resources/list" => Self::Resources,
            "resources/templates/list" => Self::ResourceTemplates,
            "resources/read" => Self::ResourceRead,
            _ => return None,
        })
    }

    /// Its index in a table of [`Cacheable::COUNT`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// What a stateless request says about its client, read from its `_meta`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestMeta {
    /// `…/protocolVersion` as sent.
    requested: Requested,
    /// The capabilities, client info and log level.
    pub(crate) capabilities: ClientCapabilities,
    /// `…/logLevel`, when sent.
    pub(crate) log_level: Option<LogLevel>,
    /// `_meta.progressToken`, read in the same pass.
    pub(crate) progress_token: Option<serde_json::Value>,
    /// `params.name`, when a string: what `Mcp-Name` repeats for
    /// `tools/call` and `prompts/get`.
    name: Option<String>,
    /// `params.uri`, when a string: what `Mcp-Name` repeats for
    /// `resources/read`.
    uri: Option<String>,
    /// `params.taskId`, when a string: what `Mcp-Name` repeats for
    /// `tasks/get`, `tasks/update` and `tasks/cancel`.
    task_id: Option<String>,
    /// Whether the params carry `inputResponses` or `requestState` (the
    /// retry of a multi round-trip request), read in the same pass.
    pub(crate) retry: bool,
    /// Whose bearer token authorized the request, set by the HTTP endpoint
    /// (never read from `_meta`).
    pub(crate) principal: Option<Arc<Principal>>,
    /// Where `params.name` and `params.arguments` are, found in the same
    /// pass, for [`Params::remember`].
    pub(crate) spans: Option<CallSpans>,
}

/// `…/protocolVersion` as a request sent it: a revision this library
/// knows needs no copy of its text.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Requested {
    /// A revision this library knows (stateless or not).
    Known(ProtocolVersion),
    /// Any other text.
    Other(String),
}

/// Why a request's stateless `_meta` was refused: `-32602`, over HTTP 400.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    /// A required key is missing (`…/protocolVersion` or
    /// `…/clientCapabilities`).
    #[error("missing _meta keys: {0}")]
    Missing(String),
    /// A key holds a value of the wrong shape (an unknown log level, say),
    /// or `_meta` itself does not read.
    #[error("malformed _meta: {0}")]
    Malformed(String),
}

impl RequestMeta {
    /// Reads the stateless facts of a request's params.
    ///
    /// `None` when the request is not stateless: its params have no
    /// `_meta`, or `_meta` has none of `…/protocolVersion`,
    /// `…/clientCapabilities` and `…/clientInfo` (so a request with
    /// capabilities but no version is refused, not taken for a session-era
    /// request; `…/logLevel` alone does not make a request stateless).
    ///
    /// # Errors
    ///
    /// [`MetaError`] when the request is stateless but its `_meta` lacks a
    /// required key or holds a malformed one: refused with `-32602`, never
    /// served as a session-era request.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::jsonrpc::Params;
    /// use switchboard_core::stateless::RequestMeta;
    ///
    /// let params = Params::from(serde_json::json!({"_meta": {
    ///     "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    ///     "io.modelcontextprotocol/clientCapabilities": {"sampling": {}}}}));
    /// let meta = RequestMeta::parse(Some(&params)).unwrap().unwrap();
    /// assert_eq!(meta.requested_version(), "2026-07-28");
    /// assert!(RequestMeta::parse(Some(&Params::from(serde_json::json!({"name": "x"})))).is_none());
    /// ```
    pub fn parse(params: Option<&Params>) -> Option<Result<Self, MetaError>> {
        let params = params?;
        let text = params.as_str();
        // Most session-era requests never mention the prefix: skip a second
        // parse for them. Only `\u` and `\/` escapes could spell the keys,
        // so other backslashes (`\n`, `\"` in arguments) need no slow path.
        let mentioned = mentions_namespace(text);
        let escaped = !mentioned
            && text.as_bytes().contains(&b'\\')
            && (text.contains("\\u") || text.contains("\\/"));
        if !mentioned && !escaped {
            return None;
        }
        // The token becomes a `Value` here, as the serde pass read it
        // before: a number no `f64` holds, or one nested too deep, refuses
        // the params as that pass did.
        let read = params::read(params).and_then(|read| {
            let token = read
                .as_ref()
                .and_then(|r| r.progress_token)
                .map(serde_json::from_str::<serde_json::Value>)
                .transpose()?;
            Ok(read.map(|read| (read, token)))
        });
        let (read, token) = match read {
            Ok(Some(read)) => read,
            Ok(None) => return None,
            // The prefix is there but `_meta` does not read (not an object,
            // a repeated key): refused, never taken for a session request.
            Err(e) if mentioned => return Some(Err(MetaError::Malformed(e.to_string()))),
            Err(_) => return None,
        };
        if read.version.is_none() && read.capabilities.is_none() && read.info.is_none() {
            return None;
        }
        let parsed = Self::from_meta(read.version, read.capabilities, read.info, read.log_level);
        Some(parsed.map(|mut facts| {
            facts.progress_token = token;
            facts.retry = read.retry;
            let name = read.name.and_then(string_of);
            if let Some(Cow::Borrowed(name)) = name {
                facts.spans = CallSpans::within(text, name, read.arguments);
            }
            facts.name = name.map(Cow::into_owned);
            facts.uri = read.uri.and_then(string_of).map(Cow::into_owned);
            facts.task_id = read.task_id.and_then(string_of).map(Cow::into_owned);
            facts
        }))
    }

    /// Reads the facts out of the raw stateless keys of a `_meta`.
    fn from_meta(
        version: Option<&str>,
        capabilities: Option<&str>,
        info: Option<&str>,
        log_level: Option<&str>,
    ) -> Result<Self, MetaError> {
        let missing: Vec<&str> = [
            (PROTOCOL_VERSION_KEY, version.is_none()),
            (CLIENT_CAPABILITIES_KEY, capabilities.is_none()),
        ]
        .into_iter()
        .filter_map(|(k, absent)| absent.then_some(k))
        .collect();
        let (Some(version), Some(capabilities)) = (version, capabilities) else {
            return Err(MetaError::Missing(missing.join(", ")));
        };
        let requested = string_of(version).ok_or_else(|| {
            MetaError::Malformed(format!("{PROTOCOL_VERSION_KEY} must be a string"))
        })?;
        let requested = match requested.parse::<ProtocolVersion>() {
            Ok(known) => Requested::Known(known),
            Err(_) => Requested::Other(requested.into_owned()),
        };
        let capabilities = match capabilities {
            // What most clients send: nothing declared, nothing to read.
            "{}" => ClientCapabilities::default(),
            text if text.starts_with('{') => serde_json::from_str(text)
                .map_err(|e| MetaError::Malformed(format!("{CLIENT_CAPABILITIES_KEY}: {e}")))?,
            _ => {
                return Err(MetaError::Malformed(format!(
                    "{CLIENT_CAPABILITIES_KEY} must be an object"
                )));
            }
        };
        if info.is_some_and(|i| !i.starts_with('{')) {
            return Err(MetaError::Malformed(format!(
                "{CLIENT_INFO_KEY} must be an object"
            )));
        }
        let log_level = match log_level {
            None => None,
            Some(v) => Some(serde_json::from_str::<LogLevel>(v).map_err(|_| {
                MetaError::Malformed(format!("{LOG_LEVEL_KEY} is not a log level"))
            })?),
        };
        Ok(Self {
            requested,
            capabilities,
            log_level,
            progress_token: None,
            name: None,
            uri: None,
            task_id: None,
            retry: false,
            principal: None,
            spans: None,
        })
    }

    /// What `Mcp-Name` must repeat for `method`: `params.name` for
    /// `tools/call` and `prompts/get`, `params.uri` for `resources/read`
    /// (never the other one: a decoy `name` on a read must not pass),
    /// `params.taskId` for `tasks/get`, `tasks/update` and `tasks/cancel`;
    /// `None` for other methods, or when the field is not a string.
    pub fn target(&self, method: &str) -> Option<&str> {
        match method {
            "tools/call" | "prompts/get" => self.name.as_deref(),
            "resources/read" => self.uri.as_deref(),
            "tasks/get" | "tasks/update" | "tasks/cancel" => self.task_id.as_deref(),
            _ => None,
        }
    }

    /// `…/protocolVersion` exactly as the request sent it.
    pub fn requested_version(&self) -> &str {
        match &self.requested {
            Requested::Known(known) => known.as_str(),
            Requested::Other(text) => text,
        }
    }

    /// The revision the request names, when it is a stateless revision this
    /// server serves.
    pub fn version(&self) -> Option<ProtocolVersion> {
        match self.requested {
            Requested::Known(known) if known.is_stateless() => Some(known),
            _ => None,
        }
    }

    /// The facts a handler reads through its context, at `version`.
    pub(crate) fn facts(&self, version: ProtocolVersion) -> ClientFacts {
        ClientFacts {
            version,
            capabilities: self.capabilities,
            log_level: self.log_level,
            principal: self.principal.clone(),
        }
    }

    /// Serves the request under `principal` (whose token authorized it).
    pub(crate) fn set_principal(&mut self, principal: Option<Arc<Principal>>) {
        self.principal = principal;
    }
}

/// The string a raw JSON value holds, borrowed when it has no escapes;
/// `None` when it is not a string.
fn string_of(text: &str) -> Option<Cow<'_, str>> {
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) if !inner.contains('\\') => Some(Cow::Borrowed(inner)),
        _ => serde_json::from_str::<String>(text).ok().map(Cow::Owned),
    }
}

/// Whether `text` holds `io.modelcontextprotocol/`. Every session-era POST
/// is asked this, so it looks for the `/` (rare in params) and checks the
/// bytes before it, instead of setting up a substring search each time.
fn mentions_namespace(text: &str) -> bool {
    const NAMESPACE: &[u8] = b"io.modelcontextprotocol";
    let mut from = 0;
    // `str::find` of a char is a word-at-a-time memchr.
    while let Some(i) = text[from..].find('/') {
        let at = from + i;
        if text.as_bytes()[..at].ends_with(NAMESPACE) {
            return true;
        }
        from = at + 1;
    }
    false
}

/// The params read by the fast pass and by serde alone (the fuzz target
/// `stateless_params` compares them); `None` when `text` is not JSON.
#[cfg(feature = "fuzzing")]
pub(crate) fn params_both_ways(text: &str) -> Option<(String, String)> {
    let raw = serde_json::value::RawValue::from_string(text.to_owned()).ok()?;
    Some(params::both_ways(&Params(raw, None)))
}

/// The stateless revisions this server serves, newest first: what
/// `server/discover` lists first and a `-32022` error names.
pub fn stateless_versions() -> impl Iterator<Item = ProtocolVersion> {
    ProtocolVersion::ALL
        .into_iter()
        .filter(|v| v.is_stateless())
}

/// The `-32022` error for a request naming revision `requested`, which
/// the server does not serve statelessly: `data.supported` lists the
/// stateless revisions it does, `data.requested` echoes the request's.
pub fn unsupported_version(requested: &str) -> crate::jsonrpc::RpcError {
    let supported: Vec<&str> = stateless_versions().map(ProtocolVersion::as_str).collect();
    crate::jsonrpc::RpcError::new(
        crate::jsonrpc::ErrorCode::UNSUPPORTED_VERSION,
        "unsupported protocol version",
    )
    .with_data(serde_json::json!({ "supported": supported, "requested": requested }))
}

/// The methods that exist only in sessions, which a stateless request is
/// answered `-32601` for (the revision removed them).
pub(crate) fn removed_method(method: &str) -> bool {
    matches!(
        method,
        "initialize"
            | "ping"
            | "logging/setLevel"
            | "resources/subscribe"
            | "resources/unsubscribe"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn parse(v: Value) -> Option<Result<RequestMeta, MetaError>> {
        RequestMeta::parse(Some(&Params::from(v)))
    }

    #[test]
    fn the_meta_pass_finds_a_calls_name_and_arguments() {
        let meta = json!({PROTOCOL_VERSION_KEY: "2026-07-28", CLIENT_CAPABILITIES_KEY: {}});
        let spans_of = |v: Value| {
            let mut params = Params::from(v);
            let spans = RequestMeta::parse(Some(&params)).unwrap().unwrap().spans;
            params.remember(spans);
            let parts = params
                .call_parts()
                .map(|(name, args)| (name.to_owned(), args.map(|a| a.get().to_owned())));
            (spans.is_some(), parts)
        };
        let (found, parts) =
            spans_of(json!({"name": "echo", "arguments": {"text": "a\"b"}, "_meta": meta}));
        assert!(found);
        assert_eq!(
            parts,
            Some(("echo".to_owned(), Some(r#"{"text":"a\"b"}"#.to_owned())))
        );
        // Absent and `null` arguments both read as none.
        let (_, parts) = spans_of(json!({"name": "echo", "_meta": meta}));
        assert_eq!(parts, Some(("echo".to_owned(), None)));
        let (_, parts) = spans_of(json!({"name": "e", "arguments": null, "_meta": meta}));
        assert_eq!(parts, Some(("e".to_owned(), None)));
        // A name with an escape, or not a string, is left to the method's
        // own reading (and its errors).
        assert_eq!(
            spans_of(json!({"name": "a\nb", "_meta": meta})),
            (false, None)
        );
        assert_eq!(spans_of(json!({"name": 5, "_meta": meta})), (false, None));
        // Params that no pass read have nothing to offer.
        assert!(Params::from(json!({"name": "echo"})).call_parts().is_none());
    }

    #[test]
    fn a_progress_token_no_value_holds_refuses_the_meta() {
        let text = format!(
            r#"{{"_meta":{{"{PROTOCOL_VERSION_KEY}":"2026-07-28","{CLIENT_CAPABILITIES_KEY}":{{}},"progressToken":1e400}}}}"#
        );
        let params = Params(
            serde_json::value::RawValue::from_string(text).unwrap(),
            None,
        );
        assert!(matches!(
            RequestMeta::parse(Some(&params)),
            Some(Err(MetaError::Malformed(_)))
        ));
    }

    #[test]
    fn stateless_requests_are_told_apart_by_their_meta() {
        assert!(parse(json!({"name": "x"})).is_none());
        assert!(parse(json!({"_meta": {"progressToken": 1}})).is_none());
        let ok = parse(json!({"_meta": {PROTOCOL_VERSION_KEY: "2026-07-28",
            CLIENT_CAPABILITIES_KEY: {"elicitation": {}}, LOG_LEVEL_KEY: "warning"}}))
        .unwrap()
        .unwrap();
        assert_eq!(ok.version(), Some(ProtocolVersion::V2026_07_28));
        assert_eq!(ok.log_level, Some(LogLevel::Warning));
        let old = parse(json!({"_meta": {PROTOCOL_VERSION_KEY: "2025-11-25",
            CLIENT_CAPABILITIES_KEY: {}}}))
        .unwrap()
        .unwrap();
        assert_eq!(old.version(), None, "not a stateless revision");
    }

    #[test]
    fn the_namespace_is_found_wherever_it_is() {
        assert!(mentions_namespace(
            r#"{"_meta":{"io.modelcontextprotocol/x":1}}"#
        ));
        assert!(mentions_namespace("io.modelcontextprotocol/"));
        assert!(!mentions_namespace(
            r#"{"uri":"test://a/b","x":"io.modelcontextprotocol"}"#
        ));
        assert!(!mentions_namespace("/io.modelcontextprotocol"));
    }

    #[test]
    fn stateless_meta_that_is_incomplete_or_malformed_is_refused() {
        let cases = [
            json!({"_meta": {CLIENT_CAPABILITIES_KEY: {}}}),
            json!({"_meta": {PROTOCOL_VERSION_KEY: "2026-07-28"}}),
            json!({"_meta": {PROTOCOL_VERSION_KEY: 5, CLIENT_CAPABILITIES_KEY: {}}}),
            json!({"_meta": {PROTOCOL_VERSION_KEY: "2026-07-28", CLIENT_CAPABILITIES_KEY: []}}),
            json!({"_meta": {PROTOCOL_VERSION_KEY: "2026-07-28", CLIENT_CAPABILITIES_KEY: {},
                LOG_LEVEL_KEY: "loud"}}),
            json!({"_meta": {PROTOCOL_VERSION_KEY: "2026-07-28", CLIENT_CAPABILITIES_KEY: {},
                CLIENT_INFO_KEY: "me"}}),
        ];
        for case in cases {
            assert!(matches!(parse(case.clone()), Some(Err(_))), "{case}");
        }
    }

    #[test]
    fn eras_say_what_they_serve() {
        assert!(Eras::Both.sessions() && Eras::Both.stateless());
        assert!(!Eras::SessionOnly.stateless() && !Eras::StatelessOnly.sessions());
        assert!(removed_method("ping") && !removed_method("tools/list"));
        assert_eq!(
            stateless_versions().collect::<Vec<_>>(),
            [ProtocolVersion::V2026_07_28]
        );
    }
}
