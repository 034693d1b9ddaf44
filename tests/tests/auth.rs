//! The endpoint as an OAuth 2.1 resource server, through real sockets on
//! both runtimes: 401/403 with their challenges, the protected resource
//! metadata, the principal in handlers, sessions bound to their subject.

use serde_json::{Value, json};
use switchboard_core::http::{AuthConfig, AuthError, Principal, verifier_fn};
use switchboard_core::{CallToolResult, HttpConfig, McpServerBuilder, Tool};
use tests::client::{Conn, Reply};
use tests::server::{Rt, TestServer, stateless_meta};

const RESOURCE: &str = "http://127.0.0.1/mcp";

/// Tokens are `[{issuer}/]{subject}~{scope}+{scope}`; `expired` is refused, `down`
/// cannot be checked.
fn auth() -> AuthConfig {
    let verifier = verifier_fn(|token: String| async move {
        match token.as_str() {
            "expired" => Err(AuthError::InvalidToken("the token expired".into())),
            "down" => Err(AuthError::Unavailable("key server unreachable".into())),
            _ => {
                let (who, scopes) = token.split_once('~').unwrap_or((&token, ""));
                let scopes = scopes.split('+').filter(|s| !s.is_empty());
                // `{issuer}/{subject}`; a bare subject comes from `as1`.
                let (issuer, subject) = who.split_once('/').unwrap_or(("as1", who));
                Ok(Principal::new(subject)
                    .with_issuer(issuer)
                    .with_scopes(scopes))
            }
        }
    });
    AuthConfig::new(RESOURCE, verifier)
        .authorization_server("https://auth.example.com")
        .scopes_supported(["mcp", "notes.write"])
        .require_scopes(["mcp"])
        .tool_scope("erase", "notes.write")
}

fn start(rt: Rt) -> TestServer {
    start_with(rt, HttpConfig::default())
}

/// [`start`] with `config` (its auth hook set here).
fn start_with(rt: Rt, config: HttpConfig) -> TestServer {
    let builder = McpServerBuilder::new()
        .server_info("auth-test", "1")
        .tool(
            Tool::new("whoami", "The caller"),
            |_: Value, ctx| async move {
                let p = ctx.principal().expect("a principal");
                Ok(CallToolResult::text(format!(
                    "{} {}",
                    p.subject(),
                    p.scopes().join(",")
                )))
            },
        )
        .tool(
            Tool::new("ask", "Asks a name"),
            |_: Value, ctx| async move {
                let params = json!({"message": "Name?", "requestedSchema": {"type": "object",
                "properties": {"name": {"type": "string"}}}});
                let answer = ctx.input("name", "elicitation/create", params).await?;
                Ok(CallToolResult::text(format!(
                    "hello {}",
                    answer["content"]["name"]
                )))
            },
        )
        .tool(
            Tool::new("erase", "Needs notes.write"),
            |_: Value, _ctx| async move { Ok(CallToolResult::text("erased")) },
        );
    TestServer::start_builder(rt, builder, config.auth(auth()))
}

const JSON: [(&str, &str); 2] = [
    ("content-type", "application/json"),
    ("accept", "application/json, text/event-stream"),
];

fn init_body() -> String {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "1"}}})
    .to_string()
}

/// POSTs `body` with `token` (if any) and `extra` headers.
fn post(server: &TestServer, token: Option<&str>, extra: &[(&str, &str)], body: &str) -> Reply {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = JSON.to_vec();
    if let Some(b) = &bearer {
        headers.push(("authorization", b));
    }
    headers.extend_from_slice(extra);
    server.conn().request("POST", "/mcp", &headers, body)
}

/// Opens a session with `token`; returns its id.
fn open(server: &TestServer, token: &str) -> String {
    let reply = post(server, Some(token), &[], &init_body());
    assert_eq!(reply.status(), 200, "{reply:?}");
    reply.head.header("mcp-session-id").unwrap().to_owned()
}

fn call(name: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": name, "arguments": {}}})
    .to_string()
}

fn challenge(reply: &Reply) -> &str {
    reply
        .head
        .header("www-authenticate")
        .expect("a WWW-Authenticate header")
}

const METADATA_URL: &str = "http://127.0.0.1/.well-known/oauth-protected-resource/mcp";

fn refusals(rt: Rt) {
    let server = start(rt);
    let missing = post(&server, None, &[], &init_body());
    assert_eq!(missing.status(), 401);
    assert_eq!(
        challenge(&missing),
        format!("Bearer resource_metadata=\"{METADATA_URL}\", scope=\"mcp\"")
    );
    let expired = post(&server, Some("expired"), &[], &init_body());
    assert_eq!(expired.status(), 401);
    assert!(
        challenge(&expired).contains("error=\"invalid_token\""),
        "{}",
        challenge(&expired)
    );
    let basic = server.conn().request(
        "POST",
        "/mcp",
        &[JSON.as_slice(), &[("authorization", "Basic YTpi")]].concat(),
        &init_body(),
    );
    assert_eq!(basic.status(), 401, "another scheme counts as no token");
    let down = post(&server, Some("down"), &[], &init_body());
    assert_eq!(down.status(), 503);
    let no_scope = post(&server, Some("bob~"), &[], &init_body());
    assert_eq!(no_scope.status(), 403);
    assert!(challenge(&no_scope).contains("error=\"insufficient_scope\""));
    assert!(challenge(&no_scope).contains("scope=\"mcp\""));
    // GET and DELETE need a token too.
    let get = server
        .conn()
        .request("GET", "/mcp", &[("accept", "text/event-stream")], "");
    assert_eq!(get.status(), 401);
}

fn metadata(rt: Rt) {
    let server = start(rt);
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let reply = server.conn().request("GET", path, &[], "");
        assert_eq!(reply.status(), 200, "{path}");
        let doc = reply.json();
        assert_eq!(doc["resource"], RESOURCE);
        assert_eq!(
            doc["authorization_servers"],
            json!(["https://auth.example.com"])
        );
        assert_eq!(doc["scopes_supported"], json!(["mcp", "notes.write"]));
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
    }
    let other = server.conn().request(
        "GET",
        "/.well-known/oauth-protected-resource/other",
        &[],
        "",
    );
    assert_eq!(other.status(), 404);
    let post = server
        .conn()
        .request("POST", "/.well-known/oauth-protected-resource", &JSON, "{}");
    assert_eq!(post.status(), 405);
}

fn principal_and_step_up(rt: Rt) {
    let server = start(rt);
    let sid = open(&server, "alice~mcp");
    let in_session = [
        ("mcp-session-id", sid.as_str()),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    let who = post(&server, Some("alice~mcp"), &in_session, &call("whoami"));
    assert_eq!(who.json()["result"]["content"][0]["text"], "alice mcp");
    // A tool of its own scope: 403 naming it, then the same session with a
    // token that has it (the step-up), whose scopes the handler sees.
    let denied = post(&server, Some("alice~mcp"), &in_session, &call("erase"));
    assert_eq!(denied.status(), 403);
    assert!(
        challenge(&denied).contains("scope=\"mcp notes.write\""),
        "{}",
        challenge(&denied)
    );
    let stepped = "alice~mcp+notes.write";
    let erased = post(&server, Some(stepped), &in_session, &call("erase"));
    assert_eq!(erased.json()["result"]["content"][0]["text"], "erased");
    let who = post(&server, Some(stepped), &in_session, &call("whoami"));
    assert_eq!(
        who.json()["result"]["content"][0]["text"],
        "alice mcp,notes.write"
    );
    // A stateless request is served under its own token's principal.
    let mut params = json!({"name": "whoami", "arguments": {}});
    params["_meta"] = stateless_meta(json!({}));
    let body = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": params});
    let headers = [
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "whoami"),
    ];
    let reply = post(&server, Some("carol~mcp"), &headers, &body.to_string());
    assert_eq!(reply.status(), 200, "{reply:?}");
    assert_eq!(
        reply.messages().last().unwrap()["result"]["content"][0]["text"],
        "carol mcp"
    );
}

/// A stateless multi round-trip request: its `requestState` is of use
/// only under the token of the party it was sealed for.
fn request_state_is_bound_to_its_party(rt: Rt) {
    let server = start(rt);
    let ask = |id: i64, token: &str, extra: Value| {
        let mut params = json!({"name": "ask", "arguments": {}});
        for (k, v) in extra.as_object().unwrap() {
            params[k] = v.clone();
        }
        params["_meta"] = stateless_meta(json!({"elicitation": {}}));
        let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params});
        let headers = [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "ask"),
        ];
        post(&server, Some(token), &headers, &body.to_string()).json()
    };
    let first = ask(1, "alice~mcp", json!({}));
    let state = first["result"]["requestState"]
        .as_str()
        .expect("input_required")
        .to_owned();
    let answer = json!({"name": {"action": "accept", "content": {"name": "Ada"}}});
    let retry = json!({"inputResponses": answer, "requestState": state});
    let stolen = ask(2, "mallory~mcp", retry.clone());
    assert_eq!(stolen["error"]["code"], -32602, "{stolen}");
    let namesake = ask(3, "as2/alice~mcp", retry.clone());
    assert_eq!(namesake["error"]["code"], -32602, "{namesake}");
    let done = ask(4, "alice~mcp+notes.write", retry);
    assert_eq!(
        done["result"]["content"][0]["text"], "hello \"Ada\"",
        "{done}"
    );
}

fn sessions_are_bound(rt: Rt) {
    let server = start(rt);
    let sid = open(&server, "alice~mcp");
    let in_session = [
        ("mcp-session-id", sid.as_str()),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    // Mallory holds a valid token of her own and alice's session id: the
    // session does not exist for her, whatever she asks of it.
    let stolen = post(&server, Some("mallory~mcp"), &in_session, &call("whoami"));
    assert_eq!(stolen.status(), 404);
    let unknown = post(
        &server,
        Some("mallory~mcp"),
        &[
            ("mcp-session-id", "no-such-session"),
            ("mcp-protocol-version", "2025-11-25"),
        ],
        &call("whoami"),
    );
    assert_eq!(
        stolen.json()["error"],
        unknown.json()["error"],
        "as if unknown"
    );
    // The same subject from another authorization server is another party.
    let namesake = post(&server, Some("as2/alice~mcp"), &in_session, &call("whoami"));
    assert_eq!(namesake.status(), 404);
    let get = server.conn().request(
        "GET",
        "/mcp",
        &[
            ("accept", "text/event-stream"),
            ("authorization", "Bearer mallory~mcp"),
            ("mcp-session-id", &sid),
        ],
        "",
    );
    assert_eq!(get.status(), 404);
    let delete = |token: &str| {
        Conn::connect(server.addr).request(
            "DELETE",
            "/mcp",
            &[
                ("authorization", &format!("Bearer {token}")),
                ("mcp-session-id", &sid),
            ],
            "",
        )
    };
    assert_eq!(delete("mallory~mcp").status(), 404);
    // Still alice's, and still open.
    let who = post(&server, Some("alice~mcp"), &in_session, &call("whoami"));
    assert_eq!(who.json()["result"]["content"][0]["text"], "alice mcp");
    assert_eq!(delete("alice~mcp").status(), 200);
}

/// Opens the GET stream of session `sid` with `token` on a new
/// connection: the connection (held open on a 200) and the head.
fn get_stream(server: &TestServer, token: &str, sid: &str) -> (Conn, tests::client::Head) {
    let mut conn = server.conn();
    let bearer = format!("Bearer {token}");
    conn.send(
        "GET",
        "/mcp",
        &[
            ("accept", "text/event-stream"),
            ("authorization", &bearer),
            ("mcp-session-id", sid),
            ("mcp-protocol-version", "2025-11-25"),
        ],
        "",
    );
    let head = conn.read_head();
    (conn, head)
}

/// The case, scaled down: one principal opening GET streams
/// without end used to fill the connection cap (1,024 by default), and
/// everyone else got 503. Now it gets 429 at its share (3 here), and
/// another principal is still served; all from 127.0.0.1, so the
/// per-address caps are off. The cap (16) leaves room for every connection
/// the test makes, so a close the server has not yet seen on a loaded
/// machine cannot turn a 200 into a 503.
fn one_principal_past_its_stream_share_leaves_room_for_another(rt: Rt) {
    let config = HttpConfig::default()
        .max_connections(16)
        .max_connections_per_client(None)
        .max_streams_per_client(None)
        .max_streams_per_principal(3);
    let server = start_with(rt, config);
    let alice: Vec<String> = (0..5).map(|_| open(&server, "alice~mcp")).collect();
    let mut held = Vec::new();
    for sid in &alice[..3] {
        let (conn, head) = get_stream(&server, "alice~mcp", sid);
        assert_eq!(head.status, 200);
        held.push(conn);
    }
    for sid in &alice[3..] {
        let (mut conn, head) = get_stream(&server, "alice~mcp", sid);
        assert_eq!(head.status, 429, "alice has her share");
        assert_eq!(head.header("retry-after"), Some("5"));
        let body = conn.read_body(&head);
        let error: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(error["error"]["code"], -32000);
        assert_eq!(
            error["error"]["message"],
            "too many open streams for this principal"
        );
    }
    // Another principal, from the same address, is served.
    let bob = open(&server, "bob~mcp");
    let (_bob_stream, head) = get_stream(&server, "bob~mcp", &bob);
    assert_eq!(head.status, 200);
    // Alice from another authorization server is another principal.
    let namesake = open(&server, "as2/alice~mcp");
    let (_namesake_stream, head) = get_stream(&server, "as2/alice~mcp", &namesake);
    assert_eq!(head.status, 200);
    // When one of alice's streams ends, she has room again.
    drop(held.remove(0));
    assert!(tests::eventually(|| {
        get_stream(&server, "alice~mcp", &alice[3]).1.status == 200
    }));
}

#[test]
fn one_principal_past_its_stream_share_leaves_room_for_another_smol() {
    one_principal_past_its_stream_share_leaves_room_for_another(Rt::Smol);
}

#[test]
fn one_principal_past_its_stream_share_leaves_room_for_another_tokio() {
    one_principal_past_its_stream_share_leaves_room_for_another(Rt::Tokio);
}

#[test]
fn refusals_smol() {
    refusals(Rt::Smol);
}

#[test]
fn refusals_tokio() {
    refusals(Rt::Tokio);
}

#[test]
fn metadata_smol() {
    metadata(Rt::Smol);
}

#[test]
fn metadata_tokio() {
    metadata(Rt::Tokio);
}

#[test]
fn principal_and_step_up_smol() {
    principal_and_step_up(Rt::Smol);
}

#[test]
fn principal_and_step_up_tokio() {
    principal_and_step_up(Rt::Tokio);
}

#[test]
fn request_state_is_bound_to_its_party_smol() {
    request_state_is_bound_to_its_party(Rt::Smol);
}

#[test]
fn request_state_is_bound_to_its_party_tokio() {
    request_state_is_bound_to_its_party(Rt::Tokio);
}

#[test]
fn sessions_are_bound_smol() {
    sessions_are_bound(Rt::Smol);
}

#[test]
fn sessions_are_bound_tokio() {
    sessions_are_bound(Rt::Tokio);
}
