//! The `oauth` example with real JWTs: signed here with the test-only key
//! of `tests/fixtures/oauth`, verified there against its JWKS. Issuer,
//! audience, expiry, signature and scope each decide a case. The example
//! runs as a child process on 127.0.0.1, on each runtime.

use std::net::SocketAddr;
use std::process::Child;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use tests::client::{Conn, Reply};

const ISSUER: &str = "https://auth.test.invalid";
/// The resource the example protects (its public URL, as tokens name it).
const RESOURCE: &str = "https://mcp.test.invalid/mcp";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/oauth");

/// The example on `runtime`, killed when dropped.
struct Example(Child, SocketAddr);

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(runtime: &str) -> Example {
    let jwks = format!("{FIXTURES}/jwks.json");
    let (child, addr) = tests::spawn_example(
        env!("CARGO_BIN_EXE_oauth-under-test"),
        &[
            "--jwks",
            &jwks,
            "--issuer",
            ISSUER,
            "--resource",
            RESOURCE,
            "--runtime",
            runtime,
            "--addr",
            "127.0.0.1:0",
        ],
    );
    Example(child, addr)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token signed with the fixture key, with these claims over the valid
/// defaults (`null` removes a claim).
fn token(overrides: Value) -> String {
    token_as(Algorithm::RS256, overrides)
}

/// [`token`] signed with `alg` (the fixture key is RSA, its JWK says RS256).
fn token_as(alg: Algorithm, overrides: Value) -> String {
    let mut claims = json!({
        "iss": ISSUER, "aud": RESOURCE, "sub": "alice",
        "scope": "mcp profile", "exp": now() + 300, "iat": now(),
    });
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    let mut header = Header::new(alg);
    header.kid = Some("test-key-1".into());
    let pem = std::fs::read(format!("{FIXTURES}/signing-key.pem")).unwrap();
    encode(&header, &claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
}

fn initialize(addr: SocketAddr, token: &str) -> Reply {
    let bearer = format!("Bearer {token}");
    let body = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "1"}}});
    Conn::connect(addr).request(
        "POST",
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("accept", "application/json"),
            ("authorization", &bearer),
        ],
        &body.to_string(),
    )
}

fn jwts_decide(runtime: &str) {
    let example = start(runtime);
    let addr = example.1;
    let good = token(json!({}));
    let opened = initialize(addr, &good);
    assert_eq!(opened.status(), 200, "{opened:?}");
    let sid = opened.head.header("mcp-session-id").unwrap().to_owned();
    let bearer = format!("Bearer {good}");
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "whoami", "arguments": {}}});
    let who = Conn::connect(addr).request(
        "POST",
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("accept", "application/json"),
            ("authorization", &bearer),
            ("mcp-session-id", &sid),
        ],
        &call.to_string(),
    );
    assert_eq!(
        who.json()["result"]["content"][0]["text"],
        "alice (mcp profile)"
    );

    let refused = |overrides: Value| initialize(addr, &token(overrides));
    for (case, overrides) in [
        ("expired", json!({"exp": now() - 120})),
        ("another issuer", json!({"iss": "https://evil.invalid"})),
        (
            "another audience",
            json!({"aud": "http://other.invalid/mcp"}),
        ),
        ("no subject", json!({"sub": null})),
        ("not yet valid", json!({"nbf": now() + 600})),
    ] {
        let reply = refused(overrides);
        assert_eq!(reply.status(), 401, "{case}: {reply:?}");
        let challenge = reply.head.header("www-authenticate").unwrap();
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{case}: {challenge}"
        );
        assert!(
            challenge.contains(
                "resource_metadata=\"https://mcp.test.invalid/.well-known/oauth-protected-resource/mcp\""
            ),
            "{case}: {challenge}"
        );
    }
    // A signature that does not check out: the payload changed after signing.
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = token(json!({"sub": "mallory"}))
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let forged = initialize(addr, &parts.join("."));
    assert_eq!(forged.status(), 401);
    // One algorithm per key (RFC 8725 §3.1): the same RSA key signing with
    // another algorithm than its JWK's `alg` is refused.
    for alg in [
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS512,
    ] {
        let reply = initialize(addr, &token_as(alg, json!({})));
        assert_eq!(reply.status(), 401, "{alg:?}: {reply:?}");
        let challenge = reply.head.header("www-authenticate").unwrap();
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{alg:?}: {challenge}"
        );
    }
    let no_scope = refused(json!({"scope": "profile"}));
    assert_eq!(no_scope.status(), 403);
    let metadata =
        Conn::connect(addr).request("GET", "/.well-known/oauth-protected-resource/mcp", &[], "");
    assert_eq!(metadata.json()["authorization_servers"], json!([ISSUER]));
    assert_eq!(metadata.json()["resource"], RESOURCE);
}

#[test]
fn jwts_decide_smol() {
    jwts_decide("smol");
}

#[test]
fn jwts_decide_tokio() {
    jwts_decide("tokio");
}
