//! The endpoint as an OAuth 2.1 resource server (the MCP authorization
//! spec, 2025-06-18 and later; RFC 9728, RFC 6750).
//!
//! With an [`AuthConfig`] in the [`HttpConfig`](crate::http::HttpConfig), every
//! request to the endpoint must carry `Authorization: Bearer <token>`. The
//! token goes to the configured [`TokenVerifier`], which returns the
//! [`Principal`] it stands for (or refuses it); the endpoint then checks
//! the scopes the configuration requires, and a handler reads the principal
//! from its [`RequestContext`](crate::RequestContext::principal).
//!
//! | Case | Status | `WWW-Authenticate` |
//! |---|---|---|
//! | no token (or not a Bearer one) | 401 | `Bearer resource_metadata="…", scope="…"` |
//! | the verifier refuses the token | 401 | `… error="invalid_token", error_description="…"` |
//! | two `Authorization` headers, or a token with a space | 400 | `… error="invalid_request"` |
//! | a scope the endpoint or the tool needs is missing | 403 | `… error="insufficient_scope", scope="…"` |
//! | the verifier cannot decide (its key server is down) | 503 | — |
//!
//! The protected resource metadata (RFC 9728) is served, without a token,
//! at `/.well-known/oauth-protected-resource` followed by the endpoint's
//! path (`/.well-known/oauth-protected-resource/mcp`) and at the bare
//! `/.well-known/oauth-protected-resource`; `resource_metadata` in every
//! challenge names the first. A session is bound to the subject whose
//! token opened it: the same session id with another subject's token is
//! answered 404, exactly as an unknown session is, so nothing tells a
//! guesser that the id exists. Tokens are never logged nor kept: only the
//! principal the verifier made of them is.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use http::{HeaderValue, StatusCode};
use serde_json::json;

use crate::principal::Principal;

/// The path prefix of the protected resource metadata (RFC 9728 §3).
pub const METADATA_PREFIX: &str = "/.well-known/oauth-protected-resource";

/// Why a verifier refused a token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token is not valid here: a bad signature, expired, another
    /// issuer or audience, revoked. Answered 401 `invalid_token`; the text
    /// goes to the client as `error_description`, so keep secrets out of it.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The verifier could not decide (its key set or introspection endpoint
    /// is unreachable). Answered 503; the client may retry.
    #[error("token verification unavailable: {0}")]
    Unavailable(String),
}

/// Turns a bearer token into the principal it stands for.
///
/// Called once per HTTP request to the endpoint, with the token as sent
/// (without `Bearer `). It must check everything that makes the token valid
/// *for this server*: signature, expiry, issuer, and that its audience is
/// this resource (RFC 8707: a token minted for another server must not be
/// accepted). A closure `Fn(&str) -> impl Future<Output = Result<Principal,
/// AuthError>>` is a verifier too, through [`verifier_fn`].
#[async_trait]
pub trait TokenVerifier: Send + Sync + 'static {
    /// The principal `token` stands for.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidToken`] for a token this server does not accept;
    /// [`AuthError::Unavailable`] when it cannot tell.
    async fn verify(&self, token: &str) -> Result<Principal, AuthError>;
}

#[async_trait]
impl<T: TokenVerifier + ?Sized> TokenVerifier for Arc<T> {
    async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        (**self).verify(token).await
    }
}

/// A [`TokenVerifier`] from a closure (see [`verifier_fn`]).
pub struct VerifierFn<F>(F);

impl<F> fmt::Debug for VerifierFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerifierFn")
    }
}

/// A verifier from a closure that takes the token and returns a future of
/// the principal.
///
/// # Examples
///
/// ```
/// use switchboard_core::http::{AuthError, Principal, verifier_fn};
///
/// let verifier = verifier_fn(|token: String| async move {
///     match token.as_str() {
///         "let-me-in" => Ok(Principal::new("alice").with_scopes(["mcp"])),
///         _ => Err(AuthError::InvalidToken("unknown token".into())),
///     }
/// });
/// # let _ = verifier;
/// ```
pub fn verifier_fn<F, Fut>(f: F) -> VerifierFn<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Principal, AuthError>> + Send + 'static,
{
    VerifierFn(f)
}

#[async_trait]
impl<F, Fut> TokenVerifier for VerifierFn<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Principal, AuthError>> + Send + 'static,
{
    async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        (self.0)(token.to_owned()).await
    }
}

/// The endpoint's OAuth 2.1 resource-server settings: the verifier, what
/// the metadata document says, and the scopes requests need.
///
/// # Examples
///
/// ```
/// use switchboard_core::http::{AuthConfig, AuthError, Principal, verifier_fn};
/// use switchboard_core::HttpConfig;
///
/// let verifier = verifier_fn(|token: String| async move {
///     if token == "s3cret" {
///         Ok(Principal::new("alice").with_scopes(["notes:read"]))
///     } else {
///         Err(AuthError::InvalidToken("unknown token".into()))
///     }
/// });
/// let auth = AuthConfig::new("https://mcp.example.com/mcp", verifier)
///     .authorization_server("https://auth.example.com")
///     .scopes_supported(["notes:read", "notes:write"])
///     .require_scopes(["notes:read"])
///     .tool_scope("delete_note", "notes:write");
/// let config = HttpConfig::default().auth(auth);
/// # let _ = config;
/// ```
#[derive(Clone)]
pub struct AuthConfig {
    /// Checks each token.
    verifier: Arc<dyn TokenVerifier>,
    /// The resource identifier: the endpoint's canonical URL.
    resource: String,
    /// `authorization_servers` of the metadata.
    authorization_servers: Vec<String>,
    /// `scopes_supported` of the metadata.
    scopes_supported: Vec<String>,
    /// Scopes every request needs.
    required: Vec<String>,
    /// Scopes a `tools/call` of a tool needs, by tool name.
    tools: Vec<(String, String)>,
    /// `resource_name` of the metadata.
    name: Option<String>,
    /// `resource_documentation` of the metadata.
    documentation: Option<String>,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("resource", &self.resource)
            .field("authorization_servers", &self.authorization_servers)
            .field("required", &self.required)
            .finish_non_exhaustive()
    }
}

impl AuthConfig {
    /// Settings for the resource `resource` (the endpoint's canonical URL,
    /// `https://mcp.example.com/mcp`: what tokens' audience must name),
    /// whose tokens `verifier` checks.
    pub fn new(resource: impl Into<String>, verifier: impl TokenVerifier) -> Self {
        Self {
            verifier: Arc::new(verifier),
            resource: resource.into(),
            authorization_servers: Vec::new(),
            scopes_supported: Vec::new(),
            required: Vec::new(),
            tools: Vec::new(),
            name: None,
            documentation: None,
        }
    }

    /// Adds an authorization server (its issuer URL) to the metadata: where
    /// clients get tokens. At least one is expected.
    #[must_use]
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.authorization_servers.push(issuer.into());
        self
    }

    /// The scopes the metadata lists as supported.
    #[must_use]
    pub fn scopes_supported<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Scopes every request to the endpoint needs; a token without one of
    /// them is answered 403 `insufficient_scope`. They are also the `scope`
    /// of the 401 challenge, so a client asks for them first.
    #[must_use]
    pub fn require_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.required = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// A scope that calling tool `tool` needs beyond the required ones: a
    /// `tools/call` of it with a token lacking `scope` is answered 403
    /// `insufficient_scope` naming it (the step-up the spec describes).
    /// Calling it again for the same tool adds another scope.
    #[must_use]
    pub fn tool_scope(mut self, tool: impl Into<String>, scope: impl Into<String>) -> Self {
        self.tools.push((tool.into(), scope.into()));
        self
    }

    /// The metadata's human-readable `resource_name`.
    #[must_use]
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The metadata's `resource_documentation` URL.
    #[must_use]
    pub fn documentation(mut self, url: impl Into<String>) -> Self {
        self.documentation = Some(url.into());
        self
    }

    /// The resource identifier.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The URL of the metadata document: the resource's origin, then
    /// [`METADATA_PREFIX`], then the resource's path (RFC 9728 §3.1).
    pub fn metadata_url(&self) -> String {
        let (origin, path) = split_url(&self.resource);
        let path = path.trim_end_matches('/');
        format!("{origin}{METADATA_PREFIX}{path}")
    }

    /// The metadata document (RFC 9728 §2).
    pub fn metadata(&self) -> serde_json::Value {
        let mut doc = json!({
            "resource": self.resource,
            "authorization_servers": self.authorization_servers,
            "bearer_methods_supported": ["header"],
        });
        if !self.scopes_supported.is_empty() {
            doc["scopes_supported"] = json!(self.scopes_supported);
        }
        if let Some(name) = &self.name {
            doc["resource_name"] = json!(name);
        }
        if let Some(url) = &self.documentation {
            doc["resource_documentation"] = json!(url);
        }
        doc
    }

    /// The scopes a request needs, beyond those `principal` has: the
    /// required ones, and those of each tool it calls.
    pub(crate) fn missing_scopes<'a>(
        &'a self,
        principal: &Principal,
        tools: impl Iterator<Item = &'a str>,
    ) -> Vec<&'a str> {
        let mut missing: Vec<&str> = self
            .required
            .iter()
            .map(String::as_str)
            .filter(|s| !principal.has_scope(s))
            .collect();
        for tool in tools {
            for (name, scope) in &self.tools {
                if name == tool && !principal.has_scope(scope) && !missing.contains(&&**scope) {
                    missing.push(scope);
                }
            }
        }
        missing
    }

    /// Whether some tool needs a scope of its own (then each POST's tool
    /// calls are looked at).
    pub(crate) fn has_tool_scopes(&self) -> bool {
        !self.tools.is_empty()
    }

    /// The path of the metadata document for an endpoint at `endpoint`,
    /// and the bare one: both are served.
    pub(crate) fn serves_metadata(path: &str, endpoint: &str) -> bool {
        path.strip_prefix(METADATA_PREFIX)
            .is_some_and(|rest| rest.is_empty() || rest == "/" || rest == endpoint)
    }

    /// Verifies the request's `Authorization` header (`None` when absent;
    /// `repeated` when it came twice): the principal, or the refusal.
    pub(crate) async fn authenticate(
        &self,
        header: Option<&[u8]>,
        repeated: bool,
    ) -> Result<Principal, Denial> {
        if repeated {
            return Err(self.challenge(
                StatusCode::BAD_REQUEST,
                Some(("invalid_request", "more than one Authorization header")),
                &[],
            ));
        }
        let Some(token) = header.and_then(bearer_token) else {
            return Err(self.challenge(StatusCode::UNAUTHORIZED, None, &[]));
        };
        let Some(token) = token else {
            return Err(self.challenge(
                StatusCode::BAD_REQUEST,
                Some(("invalid_request", "malformed bearer token")),
                &[],
            ));
        };
        match self.verifier.verify(token).await {
            Ok(principal) => Ok(principal),
            Err(AuthError::InvalidToken(why)) => {
                Err(self.challenge(StatusCode::UNAUTHORIZED, Some(("invalid_token", &why)), &[]))
            }
            Err(AuthError::Unavailable(_)) => Err(Denial::Unavailable),
        }
    }

    /// 403 `insufficient_scope` naming the scopes needed: the missing ones
    /// and those the principal already has that the request needs too, so
    /// a client that asks for exactly these keeps what it had.
    pub(crate) fn insufficient_scope(&self, missing: &[&str]) -> Denial {
        self.challenge(
            StatusCode::FORBIDDEN,
            Some((
                "insufficient_scope",
                "the token lacks a scope this request needs",
            )),
            missing,
        )
    }

    /// A refusal with its `WWW-Authenticate` challenge (RFC 6750 §3): the
    /// metadata URL, the scope to ask for, and the error if there is one.
    fn challenge(
        &self,
        status: StatusCode,
        error: Option<(&str, &str)>,
        scopes: &[&str],
    ) -> Denial {
        let mut value = format!(
            "Bearer resource_metadata=\"{}\"",
            quoted(&self.metadata_url())
        );
        let scope = if scopes.is_empty() {
            self.required.join(" ")
        } else {
            let mut all: Vec<&str> = self.required.iter().map(String::as_str).collect();
            all.extend(
                scopes
                    .iter()
                    .filter(|s| !self.required.iter().any(|r| r == *s)),
            );
            all.join(" ")
        };
        if !scope.is_empty() {
            value.push_str(&format!(", scope=\"{}\"", quoted(&scope)));
        }
        let message = match error {
            Some((code, description)) => {
                value.push_str(&format!(", error=\"{code}\""));
                let description = description_chars(description);
                if !description.is_empty() {
                    value.push_str(&format!(", error_description=\"{description}\""));
                }
                format!("{code}: {description}")
            }
            None => "unauthorized: a bearer token is required".to_owned(),
        };
        Denial::Challenge {
            status,
            message,
            // A description with a control character: the challenge goes without it.
            www_authenticate: HeaderValue::from_str(&value).ok(),
        }
    }
}

/// A request the auth hook refuses, as data until the rules encode it:
/// a challenge (400, 401 or 403 with its `WWW-Authenticate` value), or a
/// verifier that could not be asked (503).
#[derive(Debug)]
pub(crate) enum Denial {
    /// A refusal with its RFC 6750 challenge.
    Challenge {
        /// 400 (`invalid_request`), 401 or 403 (`insufficient_scope`).
        status: StatusCode,
        /// The JSON-RPC error's message.
        message: String,
        /// The `WWW-Authenticate` value; `None` if it would not be a valid
        /// header value.
        www_authenticate: Option<HeaderValue>,
    },
    /// The verifier is unavailable: try again shortly.
    Unavailable,
}

#[cfg(test)]
impl Denial {
    /// The status the refusal is answered with.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::Challenge { status, .. } => *status,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// The token of an `Authorization: Bearer <token>` value: `None` when the
/// header is not a Bearer one (the scheme is case-insensitive), `Some(None)`
/// when the token is malformed (empty, or not a `b64token` of RFC 6750 §2.1).
fn bearer_token(value: &[u8]) -> Option<Option<&str>> {
    let value = std::str::from_utf8(value).ok()?.trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim_start_matches(' ');
    let b64token = |c: char| c.is_ascii_alphanumeric() || "-._~+/".contains(c);
    let body = token.trim_end_matches('=');
    Some((!body.is_empty() && body.chars().all(b64token)).then_some(token))
}

/// A URL's origin (`scheme://authority`) and path.
fn split_url(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => url.split_at(after_scheme + i),
        None => (url, ""),
    }
}

/// `s` made safe inside a quoted-string: `"` and `\` escaped.
fn quoted(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `s` with only the characters RFC 6750 §3 allows in `error_description`
/// (visible ASCII and space, without `"` and `\`): the others become `?`,
/// so a verifier's message can never take the challenge header down.
fn description_chars(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ' ' | '!' | '#'..='[' | ']'..='~' => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AuthConfig {
        let verifier = verifier_fn(|token: String| async move {
            match token.as_str() {
                "good" => Ok(Principal::new("alice").with_scopes(["read"])),
                "down" => Err(AuthError::Unavailable("jwks".into())),
                _ => Err(AuthError::InvalidToken("expired \"yesterday\"".into())),
            }
        });
        AuthConfig::new("https://mcp.example.com/mcp", verifier)
            .authorization_server("https://auth.example.com")
            .scopes_supported(["read", "write"])
            .require_scopes(["read"])
            .tool_scope("delete", "write")
    }

    fn challenge(d: &Denial) -> &str {
        match d {
            Denial::Challenge {
                www_authenticate: Some(v),
                ..
            } => v.to_str().unwrap(),
            _ => panic!("a challenge: {d:?}"),
        }
    }

    fn run<T>(f: impl Future<Output = T>) -> T {
        futures::executor::block_on(f)
    }

    #[test]
    fn bearer_tokens_are_read_strictly() {
        assert_eq!(
            bearer_token(b"Bearer abc.DEF-_~+/=="),
            Some(Some("abc.DEF-_~+/=="))
        );
        assert_eq!(bearer_token(b"bearer abc"), Some(Some("abc")));
        assert_eq!(bearer_token(b"Basic abc"), None);
        assert_eq!(bearer_token(b"Bearer"), Some(None));
        assert_eq!(bearer_token(b"Bearer a b"), Some(None));
        assert_eq!(bearer_token(b"Bearer ==="), Some(None));
        assert_eq!(bearer_token(b"\xff"), None);
    }

    #[test]
    fn metadata_lives_under_the_well_known_prefix() {
        let c = config();
        assert_eq!(
            c.metadata_url(),
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
        );
        let doc = c.metadata();
        assert_eq!(doc["resource"], "https://mcp.example.com/mcp");
        assert_eq!(doc["authorization_servers"][0], "https://auth.example.com");
        assert_eq!(doc["scopes_supported"][1], "write");
        assert!(AuthConfig::serves_metadata(METADATA_PREFIX, "/mcp"));
        assert!(AuthConfig::serves_metadata(
            &format!("{METADATA_PREFIX}/mcp"),
            "/mcp"
        ));
        assert!(!AuthConfig::serves_metadata(
            &format!("{METADATA_PREFIX}/x"),
            "/mcp"
        ));
        let root = AuthConfig::new("https://h.example", config().verifier.clone());
        assert_eq!(
            root.metadata_url(),
            "https://h.example/.well-known/oauth-protected-resource"
        );
    }

    #[test]
    fn each_refusal_has_its_status_and_challenge() {
        let c = config();
        let missing = run(c.authenticate(None, false)).unwrap_err();
        assert_eq!(missing.status(), 401);
        assert_eq!(
            challenge(&missing),
            "Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\", scope=\"read\""
        );
        let bad = run(c.authenticate(Some(b"Bearer nope"), false)).unwrap_err();
        assert_eq!(bad.status(), 401);
        assert!(
            challenge(&bad)
                .ends_with("error=\"invalid_token\", error_description=\"expired ?yesterday?\""),
            "{}",
            challenge(&bad)
        );
        let twice = run(c.authenticate(Some(b"Bearer good"), true)).unwrap_err();
        assert_eq!(twice.status(), 400);
        assert!(challenge(&twice).contains("invalid_request"));
        let down = run(c.authenticate(Some(b"Bearer down"), false)).unwrap_err();
        assert_eq!(down.status(), 503);
        let alice = run(c.authenticate(Some(b"Bearer good"), false)).unwrap();
        assert_eq!(alice.subject(), "alice");
    }

    #[test]
    fn a_description_never_takes_the_challenge_down() {
        assert_eq!(
            description_chars("ok: d\u{e9}j\u{e0} \"vu\"\\\n"),
            "ok: d?j? ?vu???"
        );
        let c = config();
        let odd = c.challenge(
            StatusCode::UNAUTHORIZED,
            Some(("invalid_token", "\u{e9}\r\n")),
            &[],
        );
        assert!(challenge(&odd).contains("error_description=\"???\""));
    }

    #[test]
    fn tool_scopes_add_to_the_required_ones() {
        let c = config();
        let reader = Principal::new("bob").with_scopes(["read"]);
        assert!(c.missing_scopes(&reader, ["echo"].into_iter()).is_empty());
        let missing = c.missing_scopes(&reader, ["delete"].into_iter());
        assert_eq!(missing, ["write"]);
        let denied = c.insufficient_scope(&missing);
        assert_eq!(denied.status(), 403);
        assert!(challenge(&denied).contains("scope=\"read write\""));
        assert!(challenge(&denied).contains("error=\"insufficient_scope\""));
        let nobody = Principal::new("eve");
        assert_eq!(c.missing_scopes(&nobody, std::iter::empty()), ["read"]);
    }
}
