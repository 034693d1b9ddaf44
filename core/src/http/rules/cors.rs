//! CORS for browser pages on another origin: which preflights are granted,
//! and the headers every reply to an allowed origin carries.
//!
//! The `Origin` allow-list that guards against DNS rebinding decides here
//! too: a page on an allowed origin gets a grant, any other none. The rules
//! are plain functions of header values ([`preflight_grant`],
//! [`reply_grant`]); [`answer_preflight`] and [`grant_reply`] apply them to
//! a request head and a response, at the one spot every front door passes
//! through ([`HttpServerTransport::handle`](crate::HttpServerTransport::handle)).
//!
//! What is decided, and why:
//! - A preflight is an `OPTIONS` with `Origin` and
//!   `Access-Control-Request-Method`. It is answered after the path and
//!   `Host` checks but before the bearer token (browsers never send one on
//!   a preflight), the method, the version and the session checks.
//! - A granted preflight is `204` with `Access-Control-Allow-Origin` (the
//!   request's origin, echoed: never `*`), `Vary: Origin`, the methods the
//!   endpoint serves, the request headers MCP uses in either era plus the
//!   `Mcp-Param-*` ones the page asks for, and `Access-Control-Max-Age`.
//! - A preflight from an origin not allowed, or asking for a method the
//!   endpoint does not serve or a header MCP does not use, is refused `403`
//!   with no grant: the browser fails the request either way, and the
//!   status says so to whoever reads the server's logs.
//! - Every other reply to an allowed origin (JSON, SSE, `202`, errors,
//!   `401` challenges) carries `Access-Control-Allow-Origin` and
//!   `Access-Control-Expose-Headers` (`Mcp-Session-Id`,
//!   `MCP-Protocol-Version`, `WWW-Authenticate`); every reply carries
//!   `Vary: Origin`, so a cache never serves one origin's reply to another.
//! - A request without `Origin` is no cross-origin browser request and
//!   gets no grant.
//! - `Access-Control-Allow-Credentials: true` only when the policy asks for
//!   it, and never when the allow-list is [`AllowList::Any`].
//! - A granted preflight that asks `Access-Control-Request-Private-Network`
//!   (a public page calling a loopback server, in Chromium) is answered
//!   `Access-Control-Allow-Private-Network: true`: the origin was allowed.

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, VARY,
};
use http::{HeaderName, HeaderValue, Method, StatusCode};

use crate::http::config::cors::CorsPolicy;
use crate::http::config::{AllowList, HttpConfig};
use crate::http::replies::refusals::refuse;
use crate::http::replies::response::Response;
use crate::http::wire::{Known, RequestHead};
use crate::jsonrpc::ErrorCode;

/// The methods the MCP endpoint serves, as a preflight grants them.
pub(crate) const ENDPOINT_METHODS: &[&str] = &["GET", "POST", "DELETE"];
/// The one method the protected resource metadata is served to.
pub(crate) const METADATA_METHODS: &[&str] = &["GET"];

/// The request headers MCP uses in either era, lowercase, as a preflight
/// grants them: the 2025 session headers, the bearer token, resumption,
/// and the 2026-07-28 routing headers (`Mcp-Param-*` go by prefix). The
/// two CORS-safelisted language headers are taken too, since a browser
/// lists them when their value is unusual.
const REQUEST_HEADERS: [&str; 10] = [
    "content-type",
    "accept",
    "authorization",
    "mcp-session-id",
    "mcp-protocol-version",
    "last-event-id",
    "mcp-method",
    "mcp-name",
    "accept-language",
    "content-language",
];
/// The prefix of the 2026-07-28 per-parameter headers.
const PARAM_PREFIX: &str = "mcp-param-";
/// What a granted preflight allows besides the `Mcp-Param-*` headers asked
/// for, in the spelling the spec uses.
const ALLOW_HEADERS: &str = "Content-Type, Accept, Authorization, Mcp-Session-Id, \
    MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name";
/// The response headers a page may read: the session it was given, the
/// revision, and how to authenticate after a 401.
const EXPOSE_HEADERS: &str = "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate";
/// `Access-Control-Request-Method`.
const REQUEST_METHOD: &str = "access-control-request-method";
/// `Access-Control-Request-Headers`.
const REQUEST_HEADERS_HEADER: &str = "access-control-request-headers";

/// `Access-Control-Request-Private-Network` (Chromium's Private Network
/// Access): a page on a public origin asks to call a private or loopback
/// address.
const REQUEST_PRIVATE_NETWORK: &str = "access-control-request-private-network";
/// `Access-Control-Allow-Private-Network`, its grant.
const ALLOW_PRIVATE_NETWORK: &str = "access-control-allow-private-network";

/// Why a preflight gets no grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The origin is not on the allow-list.
    Origin,
    /// The method asked for is not one the endpoint serves.
    Method(String),
    /// A header asked for is not one MCP uses (or is no header name).
    Header(String),
}

/// Whether `head` is a CORS preflight: `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`. An `OPTIONS` without them is an
/// ordinary request (answered 405).
pub(crate) fn is_preflight(head: &RequestHead) -> bool {
    head.method == Method::OPTIONS
        && head.known(Known::Origin).is_some()
        && head.header_bytes(REQUEST_METHOD).is_some()
}

/// The headers granting a preflight from `origin` for `method` with the
/// `Access-Control-Request-Headers` values `requested` (each a comma list,
/// names compared case-insensitively), on an endpoint serving `served`; or
/// why it is refused.
pub(crate) fn preflight_grant(
    policy: &CorsPolicy,
    origins: &AllowList,
    origin: &str,
    method: &str,
    requested: &[&str],
    served: &[&str],
) -> Result<Vec<(HeaderName, HeaderValue)>, Refusal> {
    let Some(allow_origin) = allowed(origins, origin) else {
        return Err(Refusal::Origin);
    };
    // Method names are case-sensitive; browsers send them upper-cased.
    if !served.contains(&method) {
        return Err(Refusal::Method(method.to_owned()));
    }
    let mut params = Vec::new();
    for name in requested
        .iter()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let lower = name.to_ascii_lowercase();
        if REQUEST_HEADERS.contains(&lower.as_str()) {
            continue;
        }
        let is_param = lower.len() > PARAM_PREFIX.len() && lower.starts_with(PARAM_PREFIX);
        if !is_param || !lower.bytes().all(is_token_char) {
            return Err(Refusal::Header(name.to_owned()));
        }
        if !params.contains(&lower) {
            params.push(lower);
        }
    }
    let mut allow_headers = ALLOW_HEADERS.to_owned();
    for param in &params {
        allow_headers.push_str(", ");
        allow_headers.push_str(param);
    }
    let mut headers = vec![
        (ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin),
        (VARY, HeaderValue::from_static("Origin")),
        (
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_str(&served.join(", ")).expect("method names are header text"),
        ),
        (
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_str(&allow_headers).expect("checked header names are header text"),
        ),
        (
            ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from(policy.max_age.as_secs()),
        ),
    ];
    if credentials(policy, origins) {
        headers.push((
            ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        ));
    }
    Ok(headers)
}

/// Whether `b` may appear in a header name: RFC 9110's `tchar`. (A
/// check of our own: `HeaderName::from_bytes` would link the `http`
/// crate's table of standard names, 10 KB, for a yes or no.)
fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The headers every reply that is not a preflight carries, added to
/// `headers` (every response gets them: no list of their own): `Vary:
/// Origin`, and for an allowed `origin` the grant to read it.
pub(crate) fn reply_grant(
    policy: &CorsPolicy,
    origins: &AllowList,
    origin: Option<&str>,
    headers: &mut Vec<(HeaderName, HeaderValue)>,
) {
    headers.push((VARY, HeaderValue::from_static("Origin")));
    if let Some(allow_origin) = origin.and_then(|o| allowed(origins, o)) {
        headers.push((ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin));
        headers.push((
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        ));
        if credentials(policy, origins) {
            headers.push((
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            ));
        }
    }
}

/// Answers a preflight (`head` is one, by [`is_preflight`]) to a resource
/// serving `served`: 204 with the grant, or 403 without one.
pub(crate) fn answer_preflight(
    config: &HttpConfig,
    head: &RequestHead,
    served: &[&str],
) -> Response {
    let origin = head.known_str(Known::Origin).unwrap_or("");
    let method = head.header(REQUEST_METHOD).unwrap_or("");
    let requested: Vec<&str> = head.header_values(REQUEST_HEADERS_HEADER).collect();
    match preflight_grant(
        &config.cors,
        &config.allowed_origins,
        origin,
        method,
        &requested,
        served,
    ) {
        Ok(mut headers) => {
            // Chromium asks this of a public page calling a loopback server
            // (Private Network Access); an allowed origin was allowed to.
            if head
                .header(REQUEST_PRIVATE_NETWORK)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
            {
                headers.push((
                    HeaderName::from_static(ALLOW_PRIVATE_NETWORK),
                    HeaderValue::from_static("true"),
                ));
            }
            let mut response = Response::empty(StatusCode::NO_CONTENT);
            response.headers = headers;
            response
        }
        Err(why) => {
            let message = match why {
                Refusal::Origin => "forbidden: invalid Origin header".to_owned(),
                Refusal::Method(m) => format!("forbidden: CORS grants no method {m}"),
                Refusal::Header(h) => format!("forbidden: CORS grants no header {h}"),
            };
            refuse(StatusCode::FORBIDDEN, ErrorCode::INVALID_REQUEST, &message)
        }
    }
}

/// Adds [`reply_grant`]'s headers to `response`, the reply to `head`;
/// leaves preflights (answered whole by [`answer_preflight`]) and every
/// response alone when CORS is off. A request with more than one `Origin`
/// gets no grant.
pub(crate) fn grant_reply(config: &HttpConfig, head: &RequestHead, response: &mut Response) {
    if !config.cors.enabled || is_preflight(head) {
        return;
    }
    let origin = if head.is_repeated(Known::Origin) {
        None
    } else {
        head.known_str(Known::Origin)
    };
    reply_grant(
        &config.cors,
        &config.allowed_origins,
        origin,
        &mut response.headers,
    );
}

/// The `Access-Control-Allow-Origin` value for `origin` when the allow-list
/// takes it: the origin itself (never `*`, so credentials stay possible
/// and a cache keyed by `Vary: Origin` stays right).
fn allowed(origins: &AllowList, origin: &str) -> Option<HeaderValue> {
    if !origins.allows_origin(origin) {
        return None;
    }
    HeaderValue::from_str(origin).ok()
}

/// Whether credentials are granted: asked for, and not to any origin.
fn credentials(policy: &CorsPolicy, origins: &AllowList) -> bool {
    policy.credentials && *origins != AllowList::Any
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::http::wire::testing::head;

    /// [`reply_grant`]'s headers alone.
    fn reply_headers(
        policy: &CorsPolicy,
        origins: &AllowList,
        origin: Option<&str>,
    ) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = Vec::new();
        reply_grant(policy, origins, origin, &mut headers);
        headers
    }

    const PAGE: &str = "http://127.0.0.1:5555";
    const ALL: &str = "content-type, accept, authorization, mcp-session-id, \
        mcp-protocol-version, last-event-id, mcp-method, mcp-name";

    fn get<'a>(headers: &'a [(HeaderName, HeaderValue)], name: &HeaderName) -> Option<&'a str> {
        let mut found = headers.iter().filter(|(n, _)| n == name);
        let value = found.next().map(|(_, v)| v.to_str().unwrap());
        assert!(found.next().is_none(), "{name} once");
        value
    }

    fn grant(requested: &[&str]) -> Result<Vec<(HeaderName, HeaderValue)>, Refusal> {
        preflight_grant(
            &CorsPolicy::default(),
            &AllowList::Loopback,
            PAGE,
            "POST",
            requested,
            ENDPOINT_METHODS,
        )
    }

    #[test]
    fn a_preflight_from_an_allowed_origin_is_granted_every_mcp_header() {
        let headers = grant(&[ALL]).unwrap();
        assert_eq!(get(&headers, &ACCESS_CONTROL_ALLOW_ORIGIN), Some(PAGE));
        assert_eq!(get(&headers, &VARY), Some("Origin"));
        assert_eq!(
            get(&headers, &ACCESS_CONTROL_ALLOW_METHODS),
            Some("GET, POST, DELETE")
        );
        let allowed = get(&headers, &ACCESS_CONTROL_ALLOW_HEADERS)
            .unwrap()
            .to_ascii_lowercase();
        for name in ALL.split(", ") {
            assert!(
                allowed.split(", ").any(|a| a == name),
                "{name} in {allowed}"
            );
        }
        assert_eq!(get(&headers, &ACCESS_CONTROL_MAX_AGE), Some("7200"));
        assert_eq!(get(&headers, &ACCESS_CONTROL_ALLOW_CREDENTIALS), None);
        assert_eq!(get(&headers, &ACCESS_CONTROL_EXPOSE_HEADERS), None);
    }

    #[test]
    fn a_preflight_with_each_header_alone_or_none_is_granted() {
        assert!(grant(&[]).is_ok(), "no Access-Control-Request-Headers");
        assert!(grant(&[""]).is_ok(), "an empty list");
        for name in ALL.split(", ") {
            assert!(grant(&[name]).is_ok(), "{name}");
            assert!(
                grant(&[&name.to_ascii_uppercase()]).is_ok(),
                "{name} in capitals"
            );
        }
        // Split over two header lines, with odd spacing.
        assert!(grant(&["Content-Type ,Mcp-Session-Id", " Last-Event-ID"]).is_ok());
    }

    #[test]
    fn param_headers_are_granted_by_prefix_and_echoed() {
        let headers =
            grant(&["content-type, Mcp-Param-Region, mcp-param-region, mcp-param-x"]).unwrap();
        let allowed = get(&headers, &ACCESS_CONTROL_ALLOW_HEADERS).unwrap();
        assert!(
            allowed.ends_with(", mcp-param-region, mcp-param-x"),
            "{allowed}"
        );
        assert_eq!(allowed.matches("mcp-param-region").count(), 1);
        assert_eq!(
            grant(&["mcp-param-"]),
            Err(Refusal::Header("mcp-param-".into())),
            "the bare prefix names no parameter"
        );
        assert_eq!(
            grant(&["mcp-param-a b"]),
            Err(Refusal::Header("mcp-param-a b".into()))
        );
    }

    #[test]
    fn a_preflight_for_a_header_or_method_not_served_is_refused() {
        assert_eq!(
            grant(&["content-type, X-Custom"]),
            Err(Refusal::Header("X-Custom".into()))
        );
        assert_eq!(grant(&["cookie"]), Err(Refusal::Header("cookie".into())));
        let policy = CorsPolicy::default();
        for method in ["PUT", "PATCH", "OPTIONS", "post", ""] {
            assert_eq!(
                preflight_grant(
                    &policy,
                    &AllowList::Loopback,
                    PAGE,
                    method,
                    &[],
                    ENDPOINT_METHODS
                ),
                Err(Refusal::Method(method.into()))
            );
        }
        assert_eq!(
            preflight_grant(
                &policy,
                &AllowList::Loopback,
                PAGE,
                "POST",
                &[],
                METADATA_METHODS
            ),
            Err(Refusal::Method("POST".into())),
            "the metadata is only read"
        );
    }

    #[test]
    fn a_foreign_origin_gets_no_grant() {
        let policy = CorsPolicy::default();
        for origin in [
            "https://evil.example.com",
            "null",
            "http://127.0.0.1.evil.com",
            "",
        ] {
            assert_eq!(
                preflight_grant(
                    &policy,
                    &AllowList::Loopback,
                    origin,
                    "POST",
                    &[],
                    ENDPOINT_METHODS
                ),
                Err(Refusal::Origin)
            );
            let headers = reply_headers(&policy, &AllowList::Loopback, Some(origin));
            assert_eq!(headers, [(VARY, HeaderValue::from_static("Origin"))]);
        }
        let only = AllowList::Only(vec!["https://app.example.com".into()]);
        assert!(preflight_grant(&policy, &only, PAGE, "POST", &[], ENDPOINT_METHODS).is_err());
        assert!(
            preflight_grant(
                &policy,
                &only,
                "https://app.example.com",
                "GET",
                &[],
                ENDPOINT_METHODS
            )
            .is_ok()
        );
    }

    #[test]
    fn replies_to_an_allowed_origin_are_readable_and_others_only_vary() {
        let policy = CorsPolicy::default();
        let headers = reply_headers(&policy, &AllowList::Loopback, Some(PAGE));
        assert_eq!(get(&headers, &ACCESS_CONTROL_ALLOW_ORIGIN), Some(PAGE));
        assert_eq!(get(&headers, &VARY), Some("Origin"));
        assert_eq!(
            get(&headers, &ACCESS_CONTROL_EXPOSE_HEADERS),
            Some("Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate")
        );
        assert_eq!(get(&headers, &ACCESS_CONTROL_ALLOW_CREDENTIALS), None);
        assert_eq!(get(&headers, &ACCESS_CONTROL_ALLOW_METHODS), None);
        let no_origin = reply_headers(&policy, &AllowList::Loopback, None);
        assert_eq!(no_origin, [(VARY, HeaderValue::from_static("Origin"))]);
    }

    #[test]
    fn credentials_only_when_asked_and_never_to_any_origin() {
        let on = CorsPolicy::default().credentials(true);
        let pre = preflight_grant(
            &on,
            &AllowList::Loopback,
            PAGE,
            "GET",
            &[],
            ENDPOINT_METHODS,
        )
        .unwrap();
        assert_eq!(get(&pre, &ACCESS_CONTROL_ALLOW_CREDENTIALS), Some("true"));
        let reply = reply_headers(&on, &AllowList::Loopback, Some(PAGE));
        assert_eq!(get(&reply, &ACCESS_CONTROL_ALLOW_CREDENTIALS), Some("true"));
        // Any origin: echoed, never `*`, and never with credentials.
        let anywhere = "https://anywhere.example";
        let pre =
            preflight_grant(&on, &AllowList::Any, anywhere, "GET", &[], ENDPOINT_METHODS).unwrap();
        assert_eq!(get(&pre, &ACCESS_CONTROL_ALLOW_ORIGIN), Some(anywhere));
        assert_eq!(get(&pre, &ACCESS_CONTROL_ALLOW_CREDENTIALS), None);
        let reply = reply_headers(&on, &AllowList::Any, Some(anywhere));
        assert_eq!(get(&reply, &ACCESS_CONTROL_ALLOW_ORIGIN), Some(anywhere));
        assert_eq!(get(&reply, &ACCESS_CONTROL_ALLOW_CREDENTIALS), None);
    }

    #[test]
    fn max_age_follows_the_policy() {
        let policy = CorsPolicy::default().max_age(Duration::from_secs(60));
        let pre = preflight_grant(
            &policy,
            &AllowList::Loopback,
            PAGE,
            "DELETE",
            &[],
            ENDPOINT_METHODS,
        )
        .unwrap();
        assert_eq!(get(&pre, &ACCESS_CONTROL_MAX_AGE), Some("60"));
    }

    fn lines(raw: &str) -> RequestHead {
        head(&format!("{}\r\n\r\n", raw.replace('|', "\r\n")))
    }

    #[test]
    fn header_names_are_checked_as_tokens() {
        for b in 0..=u8::MAX {
            let ours = is_token_char(b.to_ascii_lowercase());
            let http = HeaderName::from_bytes(&[b.to_ascii_lowercase()]).is_ok();
            assert_eq!(ours, http, "byte {b:#04x}");
        }
    }

    #[test]
    fn what_is_a_preflight() {
        let origin = "OPTIONS /mcp HTTP/1.1|host: localhost|origin: http://localhost:1";
        assert!(is_preflight(&lines(&format!(
            "{origin}|access-control-request-method: POST"
        ))));
        assert!(!is_preflight(&lines(origin)), "no method asked");
        assert!(
            !is_preflight(&lines(
                "OPTIONS /mcp HTTP/1.1|host: localhost|access-control-request-method: POST"
            )),
            "no origin"
        );
        assert!(!is_preflight(&lines(
            "POST /mcp HTTP/1.1|host: localhost|origin: http://localhost:1|access-control-request-method: POST"
        )));
    }

    #[test]
    fn grant_reply_skips_preflights_repeated_origins_and_a_disabled_policy() {
        let config = HttpConfig::default();
        let mut response = Response::empty(StatusCode::ACCEPTED);
        grant_reply(
            &config,
            &lines("POST /mcp HTTP/1.1|host: a|origin: http://localhost:1"),
            &mut response,
        );
        assert_eq!(
            get(&response.headers, &ACCESS_CONTROL_ALLOW_ORIGIN),
            Some("http://localhost:1")
        );
        let mut response = Response::empty(StatusCode::BAD_REQUEST);
        grant_reply(
            &config,
            &lines(
                "POST /mcp HTTP/1.1|host: a|origin: http://localhost:1|origin: http://localhost:2",
            ),
            &mut response,
        );
        assert_eq!(get(&response.headers, &ACCESS_CONTROL_ALLOW_ORIGIN), None);
        let mut response = Response::empty(StatusCode::NO_CONTENT);
        grant_reply(
            &config,
            &lines(
                "OPTIONS /mcp HTTP/1.1|host: a|origin: http://localhost:1|access-control-request-method: GET",
            ),
            &mut response,
        );
        assert!(response.headers.is_empty());
        let off = HttpConfig::default().cors(CorsPolicy::disabled());
        let mut response = Response::empty(StatusCode::ACCEPTED);
        grant_reply(
            &off,
            &lines("POST /mcp HTTP/1.1|host: a|origin: http://localhost:1"),
            &mut response,
        );
        assert!(response.headers.is_empty());
    }

    /// Every kind of reply, through the transport's one entry, with an
    /// auth hook so the challenge and the metadata are among them.
    mod through_the_transport {
        use super::*;
        use crate::http::auth::{AuthConfig, AuthError, verifier_fn};
        use crate::http::replies::response::Body;
        use crate::principal::Principal;

        struct Endpoint {
            transport: crate::HttpServerTransport,
            _server: crate::McpServer,
        }

        const TOKEN: &str = "authorization: Bearer good";
        const POST: &str = "POST /mcp HTTP/1.1|host: localhost|origin: http://127.0.0.1:5555|\
            accept: application/json, text/event-stream|content-type: application/json";

        impl Endpoint {
            fn new(config: HttpConfig) -> Self {
                let verifier = verifier_fn(|token: String| async move {
                    match token.as_str() {
                        "good" => Ok(Principal::new("alice")),
                        _ => Err(AuthError::InvalidToken("expired".into())),
                    }
                });
                let auth = AuthConfig::new("http://localhost/mcp", verifier)
                    .authorization_server("https://auth.example.com");
                let transport = crate::HttpServerTransport::new(config.auth(auth));
                let server = crate::McpServerBuilder::new().build(transport.clone());
                Self {
                    transport,
                    _server: server,
                }
            }

            fn ask(&self, raw: &str, body: &str) -> Response {
                futures::executor::block_on(self.transport.handle(&lines(raw), body.into()))
            }

            fn session(&self) -> String {
                let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
                let r = self.ask(&format!("{POST}|{TOKEN}"), init);
                assert_eq!(r.status, 200);
                assert_readable(&r);
                let id = get(&r.headers, &crate::http::rules::SESSION_HEADER).unwrap();
                format!("{POST}|{TOKEN}|mcp-session-id: {id}|mcp-protocol-version: 2025-11-25")
            }
        }

        /// The grant of a reply to the page's origin.
        fn assert_readable(r: &Response) {
            assert_eq!(
                get(&r.headers, &ACCESS_CONTROL_ALLOW_ORIGIN),
                Some("http://127.0.0.1:5555"),
                "{r:?}"
            );
            assert_eq!(get(&r.headers, &VARY), Some("Origin"));
            assert!(get(&r.headers, &ACCESS_CONTROL_EXPOSE_HEADERS).is_some());
        }

        #[test]
        fn every_reply_kind_carries_the_grant() {
            let e = Endpoint::new(HttpConfig::default());
            let s = e.session();
            let accepted = e.ask(
                &s,
                r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            );
            assert_eq!(accepted.status, 202);
            assert_readable(&accepted);
            let json = e.ask(&s, r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
            assert_eq!(json.status, 200);
            assert_readable(&json);
            let sse = e.ask(
                &s.replace("application/json, text/event-stream", "text/event-stream"),
                r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#,
            );
            assert!(matches!(sse.body, Body::Sse(_)), "{sse:?}");
            assert_readable(&sse);
            let gone = e.ask(
                &format!("{POST}|{TOKEN}|mcp-session-id: nope"),
                r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            );
            assert_eq!(gone.status, 404);
            assert_readable(&gone);
            let put = e.ask(&format!("{}|{TOKEN}", POST.replace("POST", "PUT")), "");
            assert_eq!(put.status, 405);
            assert_readable(&put);
            let challenge = e.ask(POST, r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
            assert_eq!(challenge.status, 401);
            assert_readable(&challenge);
            assert!(get(&challenge.headers, &http::header::WWW_AUTHENTICATE).is_some());
            let metadata = e.ask(
                "GET /.well-known/oauth-protected-resource/mcp HTTP/1.1|host: localhost|\
                 origin: http://127.0.0.1:5555",
                "",
            );
            assert_eq!(metadata.status, 200);
            assert_readable(&metadata);
            let ended = e.ask(&s.replace("POST", "DELETE"), "");
            assert_eq!(ended.status, 200);
            assert_readable(&ended);
        }

        #[test]
        fn a_preflight_is_answered_before_the_token_and_the_session() {
            let e = Endpoint::new(HttpConfig::default());
            let pre = e.ask(
                "OPTIONS /mcp HTTP/1.1|host: localhost|origin: http://127.0.0.1:5555|\
                 access-control-request-method: POST|\
                 access-control-request-headers: content-type,mcp-session-id,authorization",
                "",
            );
            assert_eq!(pre.status, 204, "{pre:?}");
            assert_eq!(
                get(&pre.headers, &ACCESS_CONTROL_ALLOW_ORIGIN),
                Some("http://127.0.0.1:5555")
            );
            assert_eq!(get(&pre.headers, &ACCESS_CONTROL_EXPOSE_HEADERS), None);
            let metadata = e.ask(
                "OPTIONS /.well-known/oauth-protected-resource HTTP/1.1|host: localhost|\
                 origin: http://localhost:3000|access-control-request-method: GET",
                "",
            );
            assert_eq!(metadata.status, 204);
            assert_eq!(
                get(&metadata.headers, &ACCESS_CONTROL_ALLOW_METHODS),
                Some("GET")
            );
        }

        #[test]
        fn private_network_access_is_granted_to_an_allowed_origin_only() {
            let config = HttpConfig::default().allowed_origins(AllowList::LoopbackAnd(vec![
                "https://app.example.com".into(),
            ]));
            let e = Endpoint::new(config);
            let ask = |origin: &str| {
                e.ask(
                    &format!(
                        "OPTIONS /mcp HTTP/1.1|host: localhost|origin: {origin}|\
                         access-control-request-method: POST|\
                         access-control-request-private-network: true"
                    ),
                    "",
                )
            };
            let pna = HeaderName::from_static(ALLOW_PRIVATE_NETWORK);
            let granted = ask("https://app.example.com");
            assert_eq!(granted.status, 204);
            assert_eq!(get(&granted.headers, &pna), Some("true"));
            let refused = ask("https://evil.example.com");
            assert_eq!(refused.status, 403);
            assert_eq!(get(&refused.headers, &pna), None);
            let unasked = e.ask(
                "OPTIONS /mcp HTTP/1.1|host: localhost|origin: https://app.example.com|\
                 access-control-request-method: POST",
                "",
            );
            assert_eq!(get(&unasked.headers, &pna), None);
        }

        #[test]
        fn a_foreign_origin_is_refused_without_a_grant() {
            let e = Endpoint::new(HttpConfig::default());
            let foreign = "origin: https://evil.example.com";
            let pre = e.ask(
                &format!("OPTIONS /mcp HTTP/1.1|host: localhost|{foreign}|access-control-request-method: POST"),
                "",
            );
            assert_eq!(pre.status, 403);
            assert_eq!(get(&pre.headers, &ACCESS_CONTROL_ALLOW_ORIGIN), None);
            let post = e.ask(
                &format!(
                    "{}|{TOKEN}",
                    POST.replace("origin: http://127.0.0.1:5555", foreign)
                ),
                r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            );
            assert_eq!(post.status, 403);
            assert_eq!(get(&post.headers, &ACCESS_CONTROL_ALLOW_ORIGIN), None);
            assert_eq!(get(&post.headers, &VARY), Some("Origin"));
            let metadata = e.ask(
                &format!("OPTIONS /.well-known/oauth-protected-resource HTTP/1.1|host: localhost|{foreign}|access-control-request-method: GET"),
                "",
            );
            assert_eq!(metadata.status, 403);
            let bad_method = e.ask(
                "OPTIONS /mcp HTTP/1.1|host: localhost|origin: http://127.0.0.1:5555|\
                 access-control-request-method: PUT",
                "",
            );
            assert_eq!(bad_method.status, 403);
            assert_eq!(get(&bad_method.headers, &ACCESS_CONTROL_ALLOW_ORIGIN), None);
        }

        #[test]
        fn without_cors_options_is_a_method_not_served() {
            let e = Endpoint::new(HttpConfig::default().cors(CorsPolicy::disabled()));
            let pre = e.ask(
                "OPTIONS /mcp HTTP/1.1|host: localhost|origin: http://127.0.0.1:5555|\
                 access-control-request-method: POST|authorization: Bearer good",
                "",
            );
            assert_eq!(pre.status, 405);
            assert!(
                pre.headers
                    .iter()
                    .all(|(n, _)| !n.as_str().starts_with("access-control") && n != VARY)
            );
        }
    }
}
