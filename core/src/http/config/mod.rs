//! HTTP limits and Streamable HTTP knobs, each a named default with a reason.
//!
//! [`HttpConfig`] gathers them. It starts from [`HttpConfig::default`] and
//! is changed with one builder-style setter per knob; nothing in it is
//! unbounded. The transport takes it by value when it is built
//! ([`HttpServerTransport::new`](crate::http::HttpServerTransport::new)), so a
//! running server never sees it change.
//!
//! Who reads what: the head and body limits are enforced while a
//! connection reads a request ([`parse_head`](crate::http::wire::parse_head),
//! [`BodyDecoder`](crate::http::wire::BodyDecoder)); the timeouts and the
//! connection caps by [`HttpService`](crate::http::HttpService); the
//! per-client stream caps when a GET opens a stream; the path, the
//! allow-lists, the reply mode and the SSE knobs by the Streamable HTTP
//! rules that answer each request.

use std::time::Duration;

pub(crate) mod cors;

/// Longest request head (request line + headers): 16 KiB, as many servers
/// use; a longer head is answered 431 (RFC 6585 §5).
pub const DEFAULT_MAX_HEAD_BYTES: usize = 16 * 1024;
/// Most headers in one request: 64. httparse parses into a fixed array of
/// this size; more is answered 431.
pub const DEFAULT_MAX_HEADERS: usize = 64;
/// Largest request body: 4 MiB, the same as the stdio line limit; a larger
/// one is answered 413 before it is read.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Time allowed to receive a request's head and body once it has started:
/// 10 s, against slow-loris clients; then 408 and close.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle keep-alive connection is held open between requests:
/// 60 s; then it is closed without a response (the client sent nothing to
/// answer).
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a response may make no write progress (a client that stopped
/// reading): 65 s, a few seconds over the keep-alive timeout; then the
/// connection is closed and its buffers freed. This bounds how long a
/// connection holds a reply whatever its client does.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(65);
/// Concurrent connections: 1024, a bound on memory and file descriptors;
/// past it a connection is answered 503 (with `Retry-After`) and closed.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Concurrent connections from one client address: 256, a quarter of
/// [`DEFAULT_MAX_CONNECTIONS`], so that one client at its cap leaves three
/// quarters to the others; past it a connection is answered 429 (with
/// `Retry-After`) and closed. IPv6 addresses count by their /64 prefix.
pub const DEFAULT_MAX_CONNECTIONS_PER_CLIENT: usize = 256;
/// Open GET streams (standalone or resumed SSE streams) from one client
/// address: 128, half its connections, so a client at its stream cap still
/// has connections left for its POSTs; past it a GET is answered 429.
pub const DEFAULT_MAX_STREAMS_PER_CLIENT: usize = 128;
/// Open GET streams of one authenticated principal (issuer and subject),
/// from any address: 128, as for one address; past it a GET is answered 429.
pub const DEFAULT_MAX_STREAMS_PER_PRINCIPAL: usize = 128;
/// The `Retry-After` sent with a refusal for a cap (the connection cap's
/// 503, a per-client cap's 429): 5 s, long enough for a stream or a
/// connection to end, short enough that a client does not give up.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);
/// A session with no request and no open stream for this long is ended:
/// 30 min. Checked by
/// [`HttpService::expire_sessions`](crate::http::HttpService::expire_sessions).
pub const DEFAULT_SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Interval of SSE keep-alive comments on an idle stream (the TS SDK's 15 s).
pub const DEFAULT_SSE_KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The `retry:` hint sent in priming events: 1 s, how long a client waits
/// before reconnecting a stream that dropped.
pub const DEFAULT_SSE_RETRY: Duration = Duration::from_secs(1);
/// Events kept per SSE stream for `Last-Event-ID` replay: 64. A listener
/// that falls further behind is cut off; its client resumes from what the
/// log still holds.
pub const DEFAULT_REPLAY_EVENTS: usize = 64;
/// Finished POST streams kept per session, awaiting a resuming client: 16;
/// past it the oldest is forgotten.
pub const DEFAULT_RETAINED_STREAMS: usize = 16;
/// The MCP endpoint's path: `/mcp`.
pub const DEFAULT_PATH: &str = "/mcp";

/// Which `Host` or `Origin` values are accepted.
///
/// A request whose `Host` is not allowed, or whose `Origin` (when present)
/// is not allowed, is answered 403 before anything else is read from it.
///
/// # Examples
///
/// ```
/// use switchboard_core::http::AllowList;
///
/// let local = AllowList::Loopback;
/// assert!(local.allows_host("127.0.0.1:8080"));
/// assert!(!local.allows_host("evil.example.com"));
///
/// // `Only` holds host names without a port, and whole origins.
/// let hosts = AllowList::Only(vec!["mcp.example.com".into()]);
/// assert!(hosts.allows_host("MCP.example.com:443"));
/// let origins = AllowList::Only(vec!["https://app.example.com".into()]);
/// assert!(origins.allows_origin("https://app.example.com"));
/// assert!(!origins.allows_origin("https://app.example.com:8443"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllowList {
    /// `localhost`, `127.0.0.1` and `[::1]`, on any port (the default:
    /// protects a local server from DNS rebinding).
    Loopback,
    /// These hosts (for `Host`, without port) or origins (for `Origin`,
    /// `scheme://host[:port]`), compared case-insensitively.
    ///
    /// An origin is compared whole: `https://a.example` does not match
    /// `https://a.example:443`. A host entry with a port never matches,
    /// since the port is stripped from the header before comparing.
    Only(Vec<String>),
    /// Anything: validation off. Only for servers behind a proxy that checks.
    Any,
    /// What [`AllowList::Loopback`] takes, and these (compared as
    /// [`AllowList::Only`] compares): a local server that a web app on a
    /// named origin may call too.
    LoopbackAnd(Vec<String>),
}

/// How a request's reply goes out when the handler sends nothing before it.
///
/// Only consulted when the client accepts both `application/json` and
/// `text/event-stream`; a client that accepts one of them gets that one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplyMode {
    /// One JSON body, unless a related message comes first (then SSE).
    Auto,
    /// Always an SSE stream, even for a reply with nothing sent before it.
    Sse,
}

/// Configuration of the HTTP layer. Every limit has a default and a setter.
///
/// Setters take and return the config by value, so a config is built in one
/// expression; each knob's default is the `DEFAULT_*` constant of the same
/// name. The setters do not validate: a zero limit refuses every request it
/// applies to, and a zero timeout expires at once.
///
/// # Examples
///
/// A server reachable through a proxy under its own name, with a smaller
/// body limit and replies always streamed:
///
/// ```
/// use std::time::Duration;
/// use switchboard_core::http::{AllowList, ReplyMode};
/// use switchboard_core::HttpConfig;
///
/// let config = HttpConfig::default()
///     .path("/api/mcp")
///     .max_body_bytes(256 * 1024)
///     .request_timeout(Duration::from_secs(5))
///     .reply_mode(ReplyMode::Sse)
///     .allowed_hosts(AllowList::Only(vec!["mcp.example.com".into()]));
/// assert_eq!(config.endpoint_path(), "/api/mcp");
/// assert_eq!(config.connection_limit(), switchboard_core::http::DEFAULT_MAX_CONNECTIONS);
/// ```
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// The endpoint path; requests to any other path get 404.
    pub(crate) path: String,
    /// Longest head accepted, request line included (431 past it).
    pub(crate) max_head_bytes: usize,
    /// Most headers accepted; also the size of the parser's header array.
    pub(crate) max_headers: usize,
    /// Largest body accepted, after chunked decoding (413 past it).
    pub(crate) max_body_bytes: usize,
    /// Time from a request's first byte (or a new connection) to its last.
    pub(crate) request_timeout: Duration,
    /// Time a keep-alive connection may sit idle between requests.
    pub(crate) keep_alive_timeout: Duration,
    /// Time a write may make no progress before the connection is closed.
    pub(crate) write_timeout: Duration,
    /// Connections served at once; more are answered 503.
    pub(crate) max_connections: usize,
    /// Connections served at once per client address (`None`: no cap).
    pub(crate) max_connections_per_client: Option<usize>,
    /// GET streams open at once per client address (`None`: no cap).
    pub(crate) max_streams_per_client: Option<usize>,
    /// GET streams open at once per principal (`None`: no cap).
    pub(crate) max_streams_per_principal: Option<usize>,
    /// The `Retry-After` of a refusal for a cap.
    pub(crate) retry_after: Duration,
    /// Idle time after which the session sweeper ends a session.
    pub(crate) session_idle_timeout: Duration,
    /// Interval of keep-alive comments on a quiet SSE stream.
    pub(crate) sse_keep_alive: Duration,
    /// The reconnect delay announced in priming events.
    pub(crate) sse_retry: Duration,
    /// Events logged per stream for replay (at least one is always kept).
    pub(crate) replay_events: usize,
    /// Finished, undelivered streams kept per session for resumption.
    pub(crate) retained_streams: usize,
    /// JSON or SSE for clients that accept both.
    pub(crate) reply_mode: ReplyMode,
    /// Accepted `Host` header values.
    pub(crate) allowed_hosts: AllowList,
    /// Accepted `Origin` header values, when a request carries one.
    pub(crate) allowed_origins: AllowList,
    /// The OAuth 2.1 resource-server settings; `None` serves without tokens.
    pub(crate) auth: Option<crate::http::auth::AuthConfig>,
    /// Whether and how pages on allowed origins get CORS grants.
    pub(crate) cors: cors::CorsPolicy,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            path: DEFAULT_PATH.into(),
            max_head_bytes: DEFAULT_MAX_HEAD_BYTES,
            max_headers: DEFAULT_MAX_HEADERS,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_client: Some(DEFAULT_MAX_CONNECTIONS_PER_CLIENT),
            max_streams_per_client: Some(DEFAULT_MAX_STREAMS_PER_CLIENT),
            max_streams_per_principal: Some(DEFAULT_MAX_STREAMS_PER_PRINCIPAL),
            retry_after: DEFAULT_RETRY_AFTER,
            session_idle_timeout: DEFAULT_SESSION_IDLE_TIMEOUT,
            sse_keep_alive: DEFAULT_SSE_KEEP_ALIVE,
            sse_retry: DEFAULT_SSE_RETRY,
            replay_events: DEFAULT_REPLAY_EVENTS,
            retained_streams: DEFAULT_RETAINED_STREAMS,
            reply_mode: ReplyMode::Auto,
            allowed_hosts: AllowList::Loopback,
            allowed_origins: AllowList::Loopback,
            auth: None,
            cors: cors::CorsPolicy::default(),
        }
    }
}

/// Writes one by-value setter per field, each `#[must_use]`, carrying the
/// doc comment written beside its name.
macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty),* $(,)?) => {
        impl HttpConfig {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $name(mut self, value: $ty) -> Self {
                    self.$name = value;
                    self
                }
            )*
        }
    };
}

setters! {
    /// Longest request head in bytes (431 past it). Default
    /// [`DEFAULT_MAX_HEAD_BYTES`].
    max_head_bytes: usize,
    /// Most headers per request (431 past it). Up to 64 the parser's header
    /// array lives on the stack; more costs a heap allocation per request.
    /// Default [`DEFAULT_MAX_HEADERS`].
    max_headers: usize,
    /// Largest request body in bytes (413 past it, before the body is read
    /// when a `Content-Length` announces it). Default
    /// [`DEFAULT_MAX_BODY_BYTES`].
    max_body_bytes: usize,
    /// Time to receive a request once started (408 past it). Default
    /// [`DEFAULT_REQUEST_TIMEOUT`].
    request_timeout: Duration,
    /// Idle time allowed between requests on a keep-alive connection; then
    /// it is closed quietly. Default [`DEFAULT_KEEP_ALIVE_TIMEOUT`].
    keep_alive_timeout: Duration,
    /// Time a response may make no write progress (its client stopped
    /// reading) before the connection is closed and its buffers freed.
    /// Default [`DEFAULT_WRITE_TIMEOUT`].
    write_timeout: Duration,
    /// Concurrent connections (503 past it, with `Retry-After`). Default
    /// [`DEFAULT_MAX_CONNECTIONS`].
    max_connections: usize,
    /// The `Retry-After` of a refusal for a cap: the connection cap's 503
    /// and the per-client caps' 429, sent in whole seconds, rounded up.
    /// Default [`DEFAULT_RETRY_AFTER`].
    retry_after: Duration,
    /// Idle time after which a session with no listening connection ends.
    /// Default [`DEFAULT_SESSION_IDLE_TIMEOUT`].
    session_idle_timeout: Duration,
    /// Interval of keep-alive comments on idle SSE streams. Default
    /// [`DEFAULT_SSE_KEEP_ALIVE`].
    sse_keep_alive: Duration,
    /// The `retry:` hint of priming events, sent in whole milliseconds.
    /// Default [`DEFAULT_SSE_RETRY`].
    sse_retry: Duration,
    /// Events kept per stream for replay; zero is taken as one. Default
    /// [`DEFAULT_REPLAY_EVENTS`].
    replay_events: usize,
    /// Finished streams kept per session for resumption. Default
    /// [`DEFAULT_RETAINED_STREAMS`].
    retained_streams: usize,
    /// Whether replies default to JSON or SSE. Default [`ReplyMode::Auto`].
    reply_mode: ReplyMode,
    /// Accepted `Host` values (403 otherwise). Default
    /// [`AllowList::Loopback`].
    allowed_hosts: AllowList,
    /// Accepted `Origin` values when the header is present (403 otherwise).
    /// Default [`AllowList::Loopback`]. The same list decides which pages
    /// get CORS grants (see [`HttpConfig::cors`]).
    allowed_origins: AllowList,
    /// The CORS policy for browser pages on the allowed origins: on by
    /// default, preflights cached [`DEFAULT_CORS_MAX_AGE`](crate::http::DEFAULT_CORS_MAX_AGE),
    /// no credentials. See [`CorsPolicy`](crate::http::CorsPolicy).
    cors: cors::CorsPolicy,
}

impl HttpConfig {
    /// Sets the endpoint path (default `/mcp`); other paths get 404.
    ///
    /// The path is compared with the request target's path exactly (no
    /// trailing-slash or case folding), with any query string left out.
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The endpoint path, for building the URL a client is given.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::HttpConfig;
    ///
    /// assert_eq!(HttpConfig::default().endpoint_path(), "/mcp");
    /// assert_eq!(HttpConfig::default().path("/x").endpoint_path(), "/x");
    /// ```
    pub fn endpoint_path(&self) -> &str {
        &self.path
    }

    /// Protects the endpoint as an OAuth 2.1 resource server: every request
    /// then needs a bearer token that `auth`'s verifier accepts, and the
    /// protected resource metadata is served (see [`AuthConfig`]). Default:
    /// none, the endpoint serves without tokens (fine on loopback, not on a
    /// network).
    ///
    /// [`AuthConfig`]: crate::http::AuthConfig
    #[must_use]
    pub fn auth(mut self, auth: crate::http::auth::AuthConfig) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Caps the connections served at once from one client address; past
    /// it a connection is answered 429 with `Retry-After` and closed.
    /// `None` turns the cap off. Default
    /// [`DEFAULT_MAX_CONNECTIONS_PER_CLIENT`].
    ///
    /// An IPv4 address is one client; an IPv6 address counts by its /64
    /// prefix (what one host is usually given), and an IPv4-mapped IPv6
    /// address as its IPv4 address. Only our listener counts connections
    /// (hyper counts its own); a connection whose address the listener
    /// cannot tell is not counted. **Behind a proxy** every client has the
    /// proxy's address: turn this off, or raise it to what the proxy opens.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::HttpConfig;
    ///
    /// let behind_a_proxy = HttpConfig::default()
    ///     .max_connections_per_client(None)
    ///     .max_streams_per_client(None);
    /// let stricter = HttpConfig::default().max_connections_per_client(16);
    /// # let _ = (behind_a_proxy, stricter);
    /// ```
    #[must_use]
    pub fn max_connections_per_client(mut self, cap: impl Into<Option<usize>>) -> Self {
        self.max_connections_per_client = cap.into();
        self
    }

    /// Caps the GET streams (a session's standalone stream, or a stream
    /// resumed with `Last-Event-ID`) open at once from one client address,
    /// counted as [`HttpConfig::max_connections_per_client`] counts; past it
    /// a GET is answered 429 with `Retry-After`. `None` turns the cap off.
    /// Default [`DEFAULT_MAX_STREAMS_PER_CLIENT`].
    ///
    /// Through hyper or axum, the address is the one given to
    /// `McpService::for_client` (or
    /// [`HttpService::respond_from`](crate::http::HttpService::respond_from)).
    /// Behind a proxy every client has the proxy's address: turn this off
    /// or raise it, and rely on [`HttpConfig::max_streams_per_principal`].
    #[must_use]
    pub fn max_streams_per_client(mut self, cap: impl Into<Option<usize>>) -> Self {
        self.max_streams_per_client = cap.into();
        self
    }

    /// Caps the GET streams open at once for one authenticated principal
    /// (the same issuer and subject), whatever its address; past it a GET
    /// is answered 429 with `Retry-After`. Applies only with
    /// [`HttpConfig::auth`]. `None` turns the cap off. Default
    /// [`DEFAULT_MAX_STREAMS_PER_PRINCIPAL`].
    #[must_use]
    pub fn max_streams_per_principal(mut self, cap: impl Into<Option<usize>>) -> Self {
        self.max_streams_per_principal = cap.into();
        self
    }

    /// The connection cap, as set with [`HttpConfig::max_connections`].
    pub fn connection_limit(&self) -> usize {
        self.max_connections
    }

    /// The longest head, as set with [`HttpConfig::max_head_bytes`]: what
    /// another HTTP server in front of the endpoint should enforce too.
    pub fn head_byte_limit(&self) -> usize {
        self.max_head_bytes
    }

    /// The most headers, as set with [`HttpConfig::max_headers`].
    pub fn header_limit(&self) -> usize {
        self.max_headers
    }

    /// The time to receive a request, as set with
    /// [`HttpConfig::request_timeout`].
    pub fn request_time_limit(&self) -> Duration {
        self.request_timeout
    }

    /// The idle time between requests, as set with
    /// [`HttpConfig::keep_alive_timeout`].
    pub fn keep_alive_limit(&self) -> Duration {
        self.keep_alive_timeout
    }
}

/// The names [`AllowList::Loopback`] accepts, brackets kept on the IPv6 one
/// as they appear in a `Host` header.
const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

impl AllowList {
    /// Whether a `Host` header value (`host[:port]`) is accepted.
    ///
    /// The port, if any, is ignored; a bracketed IPv6 literal keeps its
    /// brackets (`[::1]:3000` is compared as `[::1]`).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::http::AllowList;
    ///
    /// assert!(AllowList::Loopback.allows_host("localhost:3000"));
    /// assert!(AllowList::Loopback.allows_host("[::1]:3000"));
    /// assert!(!AllowList::Loopback.allows_host("localhost.evil.com"));
    /// assert!(AllowList::Any.allows_host("anything"));
    /// ```
    pub fn allows_host(&self, host: &str) -> bool {
        let name = strip_port(host);
        match self {
            Self::Any => true,
            Self::Loopback => LOOPBACK.iter().any(|h| h.eq_ignore_ascii_case(name)),
            Self::Only(list) => list.iter().any(|h| h.eq_ignore_ascii_case(name)),
            Self::LoopbackAnd(list) => {
                Self::Loopback.allows_host(host)
                    || list.iter().any(|h| h.eq_ignore_ascii_case(name))
            }
        }
    }

    /// Whether an `Origin` header value (`scheme://host[:port]`) is accepted.
    ///
    /// [`AllowList::Loopback`] takes `http` or `https` origins on a loopback
    /// host, any port; an opaque origin such as `null` is refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::http::AllowList;
    ///
    /// assert!(AllowList::Loopback.allows_origin("http://127.0.0.1:5173"));
    /// assert!(!AllowList::Loopback.allows_origin("https://evil.example.com"));
    /// assert!(!AllowList::Loopback.allows_origin("null"));
    /// ```
    pub fn allows_origin(&self, origin: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Only(list) => list.iter().any(|o| o.eq_ignore_ascii_case(origin)),
            Self::Loopback => {
                let Some((scheme, rest)) = origin.split_once("://") else {
                    return false;
                };
                let scheme_ok =
                    scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
                scheme_ok && !rest.contains('/') && Self::Loopback.allows_host(rest)
            }
            Self::LoopbackAnd(list) => {
                Self::Loopback.allows_origin(origin)
                    || list.iter().any(|o| o.eq_ignore_ascii_case(origin))
            }
        }
    }
}

/// `host:port` → `host`, keeping `[::1]` whole. A suffix after the last
/// colon that is not all digits is no port, and the value is kept as it is.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |i| &host[..=i]);
    }
    host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_on_any_port() {
        let l = AllowList::Loopback;
        for ok in [
            "localhost",
            "127.0.0.1:8080",
            "[::1]:3000",
            "LOCALHOST:1",
            "[::1]",
        ] {
            assert!(l.allows_host(ok), "{ok}");
        }
        for bad in [
            "evil.example.com",
            "127.0.0.2",
            "localhost.evil.com:80",
            "[::2]:1",
            "",
        ] {
            assert!(!l.allows_host(bad), "{bad}");
        }
    }

    #[test]
    fn loopback_origins() {
        let l = AllowList::Loopback;
        assert!(l.allows_origin("http://127.0.0.1:9000"));
        assert!(l.allows_origin("https://localhost"));
        assert!(!l.allows_origin("http://evil.example.com"));
        assert!(!l.allows_origin("null"));
        assert!(!l.allows_origin("file://localhost/x"));
        let only = AllowList::Only(vec!["https://app.example.com".into()]);
        assert!(only.allows_origin("https://app.example.com"));
        assert!(!only.allows_origin("http://app.example.com"));
        let and = AllowList::LoopbackAnd(vec!["https://app.example.com".into()]);
        assert!(and.allows_origin("https://app.example.com"));
        assert!(and.allows_origin("http://localhost:5173"));
        assert!(!and.allows_origin("https://evil.example.com"));
        let hosts = AllowList::LoopbackAnd(vec!["mcp.example.com".into()]);
        assert!(hosts.allows_host("mcp.example.com:443"));
        assert!(hosts.allows_host("localhost:8080"));
        assert!(!hosts.allows_host("evil.example.com"));
    }
}
