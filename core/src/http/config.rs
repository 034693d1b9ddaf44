//! HTTP limits and Streamable HTTP knobs, each a named default with a reason.

use std::time::Duration;

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
/// How long an idle keep-alive connection is held open between requests.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// Concurrent connections; past it a connection is answered 503 and closed.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// A session with no request and no open stream for this long is ended.
pub const DEFAULT_SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Interval of SSE keep-alive comments on an idle stream (the TS SDK's 15 s).
pub const DEFAULT_SSE_KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The `retry:` hint sent in priming events.
pub const DEFAULT_SSE_RETRY: Duration = Duration::from_secs(1);
/// Events kept per SSE stream for `Last-Event-ID` replay.
pub const DEFAULT_REPLAY_EVENTS: usize = 64;
/// Finished POST streams kept per session, awaiting a resuming client.
pub const DEFAULT_RETAINED_STREAMS: usize = 16;
/// The MCP endpoint's path.
pub const DEFAULT_PATH: &str = "/mcp";

/// Which `Host` or `Origin` values are accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllowList {
    /// `localhost`, `127.0.0.1` and `[::1]`, on any port (the default:
    /// protects a local server from DNS rebinding).
    Loopback,
    /// These hosts (for `Host`, without port) or origins (for `Origin`,
    /// `scheme://host[:port]`), compared case-insensitively.
    Only(Vec<String>),
    /// Anything: validation off. Only for servers behind a proxy that checks.
    Any,
}

/// How a request's reply goes out when the handler sends nothing before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplyMode {
    /// One JSON body, unless a related message comes first (then SSE).
    Auto,
    /// Always an SSE stream.
    Sse,
}

/// Configuration of the HTTP layer. Every limit has a default and a setter.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    pub(crate) path: String,
    pub(crate) max_head_bytes: usize,
    pub(crate) max_headers: usize,
    pub(crate) max_body_bytes: usize,
    pub(crate) request_timeout: Duration,
    pub(crate) keep_alive_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) session_idle_timeout: Duration,
    pub(crate) sse_keep_alive: Duration,
    pub(crate) sse_retry: Duration,
    pub(crate) replay_events: usize,
    pub(crate) retained_streams: usize,
    pub(crate) reply_mode: ReplyMode,
    pub(crate) allowed_hosts: AllowList,
    pub(crate) allowed_origins: AllowList,
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
            max_connections: DEFAULT_MAX_CONNECTIONS,
            session_idle_timeout: DEFAULT_SESSION_IDLE_TIMEOUT,
            sse_keep_alive: DEFAULT_SSE_KEEP_ALIVE,
            sse_retry: DEFAULT_SSE_RETRY,
            replay_events: DEFAULT_REPLAY_EVENTS,
            retained_streams: DEFAULT_RETAINED_STREAMS,
            reply_mode: ReplyMode::Auto,
            allowed_hosts: AllowList::Loopback,
            allowed_origins: AllowList::Loopback,
        }
    }
}

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
    /// Longest request head in bytes (431 past it).
    max_head_bytes: usize,
    /// Most headers per request (431 past it).
    max_headers: usize,
    /// Largest request body in bytes (413 past it).
    max_body_bytes: usize,
    /// Time to receive a request once started (408 past it).
    request_timeout: Duration,
    /// Idle time allowed between requests on a keep-alive connection.
    keep_alive_timeout: Duration,
    /// Concurrent connections (503 past it).
    max_connections: usize,
    /// Idle time after which a session with no listening connection ends.
    session_idle_timeout: Duration,
    /// Interval of keep-alive comments on idle SSE streams.
    sse_keep_alive: Duration,
    /// The `retry:` hint of priming events.
    sse_retry: Duration,
    /// Events kept per stream for replay.
    replay_events: usize,
    /// Finished streams kept per session for resumption.
    retained_streams: usize,
    /// Whether replies default to JSON or SSE.
    reply_mode: ReplyMode,
    /// Accepted `Host` values (403 otherwise).
    allowed_hosts: AllowList,
    /// Accepted `Origin` values when the header is present (403 otherwise).
    allowed_origins: AllowList,
}

impl HttpConfig {
    /// Sets the endpoint path (default `/mcp`); other paths get 404.
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The endpoint path.
    pub fn endpoint_path(&self) -> &str {
        &self.path
    }

    /// The connection cap.
    pub fn connection_limit(&self) -> usize {
        self.max_connections
    }
}

const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

impl AllowList {
    /// Whether a `Host` header value (`host[:port]`) is accepted.
    pub fn allows_host(&self, host: &str) -> bool {
        let name = strip_port(host);
        match self {
            Self::Any => true,
            Self::Loopback => LOOPBACK.iter().any(|h| h.eq_ignore_ascii_case(name)),
            Self::Only(list) => list.iter().any(|h| h.eq_ignore_ascii_case(name)),
        }
    }

    /// Whether an `Origin` header value (`scheme://host[:port]`) is accepted.
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
        }
    }
}

/// `host:port` → `host`, keeping `[::1]` whole.
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
    }
}
