//! An MCP server protected as an OAuth 2.1 resource server: every request
//! needs a JWT access token, verified here against a JWKS file.
//!
//! ```text
//! cargo run -p examples --bin oauth -- --jwks keys.json --issuer https://auth.example.com \
//!     [--resource https://mcp.example.com/mcp] [--scope mcp] [--runtime smol|tokio] [--addr HOST:PORT]
//! ```
//!
//! A token is accepted when its signature checks out with the JWKS key its
//! header names (`kid`), under that key's one algorithm (RFC 8725 §3.1: the
//! JWK's `alg`, or RS256 for an RSA key without one, ES256/ES384 by curve,
//! EdDSA for Ed25519; a token whose header names another is refused), its `iss` is `--issuer`, its `aud` names `--resource` (RFC
//! 8707: a token minted for another server is refused), and its `exp` has
//! not passed (`nbf` too, when present; 30 s of leeway). Its `sub` becomes
//! the principal's subject, its `scope` (space-separated, or a `scp` array)
//! the scopes; `--scope` makes one required (default `mcp`).
//!
//! **Pointing it at a real authorization server.** Download the server's
//! key set (its `jwks_uri`, listed in
//! `{issuer}/.well-known/openid-configuration` or
//! `{issuer}/.well-known/oauth-authorization-server`) to a file and pass
//! it with `--jwks`; pass its issuer identifier as `--issuer` exactly as it
//! appears in tokens; pass the URL clients use to reach this server as
//! `--resource` (its default, `http://{--addr}/mcp`, is right only for a
//! fixed port on loopback; with port 0 pass it), and register that URL as an API/audience with the server
//! so it mints tokens for it. Clients discover the server from the
//! `WWW-Authenticate` challenge and the metadata at
//! `/.well-known/oauth-protected-resource/mcp`. Key sets rotate: a
//! production verifier refetches the JWKS when a token names an unknown
//! `kid` (with a floor on how often), which this example leaves out.
//!
//! It prints `listening on http://HOST:PORT/mcp` once it accepts.

use std::sync::Arc;

use examples::{Cli, serve_http_config};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use switchboard_core::http::{AuthConfig, AuthError, Principal, TokenVerifier};
use switchboard_core::{CallToolResult, HttpConfig, McpServerBuilder, Tool};

/// The verifier: the key set and what a token must say.
struct JwtVerifier {
    keys: JwkSet,
    issuer: String,
    audience: String,
}

/// The claims read from a token; the rest are kept as the principal's
/// claims.
#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    scp: Option<Vec<String>>,
}

#[async_trait::async_trait]
impl TokenVerifier for JwtVerifier {
    async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let invalid = |why: &str| AuthError::InvalidToken(why.to_owned());
        let header = decode_header(token).map_err(|_| invalid("not a JWT"))?;
        let kid = header
            .kid
            .ok_or_else(|| invalid("the token names no key (kid)"))?;
        let jwk = self
            .keys
            .find(&kid)
            .ok_or_else(|| invalid("unknown signing key"))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|_| invalid("unusable signing key"))?;
        // One algorithm per key (RFC 8725 §3.1): the key's, never the one
        // the token's header asks for.
        let alg = key_algorithm(jwk).ok_or_else(|| invalid("unusable signing key"))?;
        if header.alg != alg {
            return Err(invalid("the token's algorithm is not its key's"));
        }
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        // The error's kind, never the token, goes back to the client.
        let data = decode::<serde_json::Value>(token, &key, &validation)
            .map_err(|e| invalid(&format!("{:?}", e.kind())))?;
        let claims: Claims =
            serde_json::from_value(data.claims.clone()).map_err(|_| invalid("malformed claims"))?;
        let scopes: Vec<String> = match (claims.scope, claims.scp) {
            (Some(scope), _) => scope.split_whitespace().map(str::to_owned).collect(),
            (None, Some(scp)) => scp,
            (None, None) => Vec::new(),
        };
        Ok(Principal::new(claims.sub)
            .with_issuer(&self.issuer)
            .with_scopes(scopes)
            .with_claims(data.claims))
    }
}

/// The one algorithm a JWK verifies: its `alg`, or, when it names none, the
/// usual one for its key type (RSA: RS256; EC: ES256 or ES384 by curve;
/// Ed25519: EdDSA). `None` for a key that signs nothing this verifier
/// accepts (a symmetric secret, an encryption algorithm).
fn key_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    if let Some(alg) = jwk.common.key_algorithm {
        let alg = alg.to_string().parse::<Algorithm>().ok()?;
        return (!matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
            .then_some(alg);
    }
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Some(Algorithm::ES256),
            EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        AlgorithmParameters::OctetKeyPair(okp) => {
            (okp.curve == EllipticCurve::Ed25519).then_some(Algorithm::EdDSA)
        }
        AlgorithmParameters::OctetKey(_) => None,
    }
}

/// The oauth example's own flags, and the shared ones.
struct Flags {
    jwks: String,
    issuer: String,
    resource: Option<String>,
    scope: String,
    cli: Cli,
}

fn flags() -> Result<Flags, String> {
    let mut rest = Vec::new();
    let (mut jwks, mut issuer, mut resource, mut scope) = (None, None, None, "mcp".to_owned());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} takes a value"));
        match arg.as_str() {
            "--jwks" => jwks = Some(value()?),
            "--issuer" => issuer = Some(value()?),
            "--resource" => resource = Some(value()?),
            "--scope" => scope = value()?,
            _ => rest.push(arg),
        }
    }
    Ok(Flags {
        jwks: jwks.ok_or("--jwks FILE is required")?,
        issuer: issuer.ok_or("--issuer URL is required")?,
        resource,
        scope,
        cli: Cli::parse(rest.into_iter())?,
    })
}

fn main() {
    examples::init_tracing();
    let flags = flags().unwrap_or_else(|why| {
        eprintln!(
            "error: {why}\nusage: --jwks FILE --issuer URL [--resource URL] [--scope SCOPE] \
             [--runtime smol|tokio] [--addr HOST:PORT] [--allow-origin ORIGIN]..."
        );
        std::process::exit(2);
    });
    let keys: JwkSet = match std::fs::read(&flags.jwks)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(keys) => keys,
        Err(e) => {
            eprintln!("error: reading the key set {}: {e}", flags.jwks);
            std::process::exit(2);
        }
    };
    let resource = flags
        .resource
        .unwrap_or_else(|| format!("http://{}/mcp", flags.cli.addr));
    let verifier = JwtVerifier {
        keys,
        issuer: flags.issuer.clone(),
        audience: resource.clone(),
    };
    let auth = AuthConfig::new(resource, Arc::new(verifier))
        .authorization_server(flags.issuer)
        .scopes_supported([flags.scope.clone()])
        .require_scopes([flags.scope])
        .resource_name("Switchboard OAuth example");
    // Deployed under a public name, add it with `HttpConfig::allowed_hosts`:
    // the default accepts loopback hosts only.
    let config = HttpConfig::default().auth(auth);
    let builder = McpServerBuilder::new()
        .server_info("oauth-example", env!("CARGO_PKG_VERSION"))
        .tool(
            Tool::new("whoami", "The subject and scopes of the caller's token"),
            |_: serde_json::Value, ctx| async move {
                let p = ctx.principal().expect("the endpoint requires a token");
                Ok(CallToolResult::text(format!(
                    "{} ({})",
                    p.subject(),
                    p.scopes().join(" ")
                )))
            },
        );
    if let Err(e) = serve_http_config(&flags.cli, builder, config, |_| {}) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
