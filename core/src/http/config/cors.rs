//! The CORS policy: whether browser pages on an allowed origin get a grant,
//! how long a preflight is cached, and whether credentials are allowed.
//!
//! Which origins are allowed is not here: the `Origin` allow-list
//! ([`HttpConfig::allowed_origins`](crate::HttpConfig::allowed_origins)),
//! which already guards against DNS rebinding, decides CORS too, so the two
//! never drift.

use std::time::Duration;

/// How long a browser may cache a preflight's answer: 7200 s (2 h), the
/// most Chromium honours (Firefox takes up to a day); the allow-list and the
/// headers granted do not change while a server runs.
pub const DEFAULT_CORS_MAX_AGE: Duration = Duration::from_secs(7200);

/// The CORS policy of the endpoint, set with
/// [`HttpConfig::cors`](crate::HttpConfig::cors).
///
/// On by default: a page on an origin the `Origin` allow-list accepts (by
/// default a loopback one) gets its preflight answered and may read every
/// reply; a page on any other origin gets no grant (its preflight and its
/// requests are answered 403). Requests without `Origin` (not from a
/// browser page on another origin) get no CORS headers but `Vary: Origin`.
///
/// # Examples
///
/// A server for a web app on `https://app.example.com` that sends cookies:
///
/// ```
/// use std::time::Duration;
/// use switchboard_core::http::{AllowList, CorsPolicy};
/// use switchboard_core::HttpConfig;
///
/// let config = HttpConfig::default()
///     .allowed_origins(AllowList::Only(vec!["https://app.example.com".into()]))
///     .cors(CorsPolicy::default().credentials(true).max_age(Duration::from_secs(600)));
/// # let _ = config;
/// // Behind a proxy or a framework layer that answers CORS itself:
/// let config = HttpConfig::default().cors(CorsPolicy::disabled());
/// assert!(!CorsPolicy::disabled().is_enabled());
/// # let _ = config;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorsPolicy {
    /// Whether CORS headers are written at all.
    pub(crate) enabled: bool,
    /// `Access-Control-Max-Age` of a granted preflight.
    pub(crate) max_age: Duration,
    /// Whether `Access-Control-Allow-Credentials: true` is sent.
    pub(crate) credentials: bool,
}

impl Default for CorsPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            max_age: DEFAULT_CORS_MAX_AGE,
            credentials: false,
        }
    }
}

impl CorsPolicy {
    /// No CORS headers at all, and `OPTIONS` answered 405 as any other
    /// method the endpoint does not serve: for a server behind a proxy or
    /// a framework layer (say tower-http's `CorsLayer`) that answers CORS
    /// itself. Browser pages on another origin then cannot use the
    /// endpoint unless that layer lets them.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Whether CORS headers are written (the default).
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Sets how long a browser may cache a preflight's answer
    /// (`Access-Control-Max-Age`, in whole seconds). Default
    /// [`DEFAULT_CORS_MAX_AGE`].
    #[must_use]
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Sends `Access-Control-Allow-Credentials: true`, so a page may send
    /// cookies or TLS client certificates with its requests. Default off:
    /// MCP authenticates with bearer tokens, which need no credentials
    /// mode. Never granted with [`AllowList::Any`](crate::http::AllowList::Any)
    /// origins: that would let every site act with the user's cookies.
    #[must_use]
    pub fn credentials(mut self, credentials: bool) -> Self {
        self.credentials = credentials;
        self
    }
}
