//! The engine's limits and knobs, each a named default with a reason.

use std::time::Duration;

/// Default page size for `*/list` results.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// Default bound on requests in flight per session: enough for a busy agent,
/// small enough that one session cannot hold an unbounded number of handlers.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;
/// Default wait for a client's answer to a server→client request (the TS SDK
/// uses the same 60 s).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap on sessions open at once, over every transport: about 10 MiB
/// of idle sessions, far more than one process serves live.
pub const DEFAULT_MAX_SESSIONS: usize = 10_000;
/// Default cap on `resources/subscribe` subscriptions per session: a client
/// watching more resources than this is better served by list changes.
pub const DEFAULT_MAX_SUBSCRIPTIONS: usize = 1_024;

/// Engine limits and knobs. Every limit has a default and a setter.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use switchboard_core::{McpServerBuilder, ServerConfig};
///
/// let config = ServerConfig::default()
///     .max_sessions(500)
///     .request_timeout(Duration::from_secs(30));
/// assert_eq!(config.session_limit(), 500);
/// let _builder = McpServerBuilder::new().config(config);
/// ```
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub(crate) page_size: usize,
    pub(crate) max_in_flight: usize,
    pub(crate) request_timeout: Duration,
    pub(crate) max_sessions: usize,
    pub(crate) max_subscriptions: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            page_size: DEFAULT_PAGE_SIZE,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_sessions: DEFAULT_MAX_SESSIONS,
            max_subscriptions: DEFAULT_MAX_SUBSCRIPTIONS,
        }
    }
}

impl ServerConfig {
    /// Items per page of `tools/list`, `resources/list`, … (at least 1).
    #[must_use]
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// Requests in flight per session (at least 1). Past it a request is
    /// answered at once with error `-32000` ("too many requests in flight")
    /// and its handler never runs; the session keeps serving.
    #[must_use]
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// How long a server→client request waits for its answer.
    #[must_use]
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }

    /// Sessions open at once (at least 1). Past it `initialize` is refused:
    /// error `-32000` "too many sessions", which HTTP answers with 503.
    #[must_use]
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n.max(1);
        self
    }

    /// Subscriptions per session (`resources/subscribe`). Past it a new
    /// subscription is refused with error `-32000` "too many subscriptions".
    #[must_use]
    pub fn max_subscriptions(mut self, n: usize) -> Self {
        self.max_subscriptions = n;
        self
    }

    /// The session cap.
    pub fn session_limit(&self) -> usize {
        self.max_sessions
    }
}
