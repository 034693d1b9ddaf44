//! The seed's shape, driven in process on `futures::executor` (no sockets,
//! no runtime): `HttpServerTransport::new(config)`,
//! `McpServerBuilder::new().server_info(..).build(transport)`,
//! `server.run()`, and `handle_http_request(session, bytes)`.

use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::{
    CallToolResult, HttpConfig, HttpServerTransport, McpServerBuilder, SessionId, Tool, Transport,
    TransportError,
};
use tests::deadline;
use tests::server::Gates;

#[derive(Deserialize)]
struct Args {
    text: String,
    #[serde(default)]
    gate: Option<String>,
}

fn builder(gates: &Gates) -> McpServerBuilder {
    let gates = gates.clone();
    McpServerBuilder::new().server_info("seed", "1").tool(
        Tool::new("echo", "echo, after its gate if it names one"),
        move |a: Args, _ctx| {
            let gates = gates.clone();
            async move {
                if let Some(gate) = &a.gate {
                    gates.wait(gate).await;
                }
                Ok(CallToolResult::text(a.text))
            }
        },
    )
}

const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

fn call(id: i64, args: Value) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": "echo", "arguments": args}})
    .to_string()
    .into_bytes()
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("a JSON reply")
}

#[test]
fn two_requests_in_flight_get_their_own_replies_and_duplicates_are_refused() {
    let gates = Gates::default();
    let transport = HttpServerTransport::new(HttpConfig::default());
    let server = builder(&gates).build(transport.clone());
    let client = async {
        let (session, reply) = transport
            .initialize_session(INIT.as_bytes().to_vec())
            .await
            .unwrap();
        let session = session.expect("a session");
        assert_eq!(json_of(&reply)["result"]["serverInfo"]["name"], "seed");
        let initialized = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        let empty = transport
            .handle_http_request(session.clone(), initialized.to_vec())
            .await
            .unwrap();
        assert!(empty.is_empty(), "a notification has no reply");

        // Request 1 waits on a gate; request 2 and a duplicate of 1 go while it does.
        let slow = transport.handle_http_request(
            session.clone(),
            call(1, json!({"text": "one", "gate": "g"})),
        );
        let others = async {
            let fast = transport
                .handle_http_request(session.clone(), call(2, json!({"text": "two"})))
                .await
                .unwrap();
            let duplicate = transport
                .handle_http_request(session.clone(), call(1, json!({"text": "dup"})))
                .await
                .unwrap();
            gates.open("g");
            (fast, duplicate)
        };
        let (slow, (fast, duplicate)) = futures::join!(slow, others);
        let (slow, fast, duplicate) =
            (json_of(&slow.unwrap()), json_of(&fast), json_of(&duplicate));
        assert_eq!(
            (
                slow["id"].clone(),
                slow["result"]["content"][0]["text"].clone()
            ),
            (json!(1), json!("one"))
        );
        assert_eq!(
            (
                fast["id"].clone(),
                fast["result"]["content"][0]["text"].clone()
            ),
            (json!(2), json!("two"))
        );
        assert_eq!(duplicate["error"]["code"], -32600, "{duplicate}");
        assert_eq!(
            duplicate["error"]["message"],
            "request id already in flight"
        );

        // Its id is free again once answered.
        let again = transport
            .handle_http_request(session.clone(), call(1, json!({"text": "again"})))
            .await
            .unwrap();
        assert_eq!(json_of(&again)["result"]["content"][0]["text"], "again");

        let unknown = transport
            .handle_http_request(SessionId::new("nope"), call(3, json!({"text": "x"})))
            .await;
        assert!(matches!(unknown, Err(TransportError::UnknownSession)));
        transport.close().await.unwrap();
        let closed = transport
            .handle_http_request(session, call(4, json!({"text": "x"})))
            .await;
        assert!(matches!(closed, Err(TransportError::Closed)));
    };
    let (served, ()) = futures::executor::block_on(deadline("the seed's calls", async {
        futures::join!(server.run(), client)
    }));
    served.unwrap();
}

#[test]
fn one_transport_serves_one_server() {
    let gates = Gates::default();
    let transport = HttpServerTransport::new(HttpConfig::default());
    let first = builder(&gates).build(transport.clone());
    let second = builder(&gates).build(transport.clone());
    futures::executor::block_on(async {
        // The second server would never see a message: it says so at once
        // (it used to run silently with no dispatcher).
        assert!(matches!(
            deadline("the second server's refusal", second.run()).await,
            Err(TransportError::AlreadyAttached)
        ));
        let client = async {
            let (session, reply) = transport
                .initialize_session(INIT.as_bytes().to_vec())
                .await
                .unwrap();
            assert!(session.is_some() && json_of(&reply)["result"].is_object());
            // A refused initialize opens nothing and says why.
            let bad =
                br#"{"jsonrpc":"2.0","id":9,"method":"initialize","params":{"protocolVersion":1}}"#;
            let (none, why) = transport.initialize_session(bad.to_vec()).await.unwrap();
            assert!(none.is_none());
            assert_eq!(json_of(&why)["error"]["code"], -32602);
            assert_eq!(first.session_count(), 1);
            assert_eq!(second.session_count(), 0);
            transport.close().await.unwrap();
        };
        let (served, ()) = futures::join!(first.run(), client);
        served.unwrap();
    });
}

#[test]
fn without_a_server_the_front_doors_say_closed() {
    let transport = HttpServerTransport::new(HttpConfig::default());
    futures::executor::block_on(async {
        assert!(matches!(
            transport.initialize_session(INIT.as_bytes().to_vec()).await,
            Err(TransportError::Closed)
        ));
        assert!(matches!(
            transport
                .handle_http_request(SessionId::new("s"), call(1, json!({"text": "x"})))
                .await,
            Err(TransportError::Closed)
        ));
    });
}

#[test]
fn a_caller_that_gives_up_does_not_leave_its_id_taken() {
    // A front-door caller that drops its future (a timeout, a web framework
    // whose client left) drops the handler with it; the reply slot used to
    // stay, and every later request with that id got "already in flight".
    let gates = Gates::default();
    let transport = HttpServerTransport::new(HttpConfig::default());
    let _server = builder(&gates).build(transport.clone());
    futures::executor::block_on(async {
        let (session, _) = transport
            .initialize_session(INIT.as_bytes().to_vec())
            .await
            .unwrap();
        let session = session.expect("a session");
        {
            let waiting = transport.handle_http_request(
                session.clone(),
                call(1, json!({"text": "never", "gate": "closed"})),
            );
            futures::pin_mut!(waiting);
            assert!(futures::poll!(waiting.as_mut()).is_pending());
        }
        let again = transport
            .handle_http_request(session, call(1, json!({"text": "again"})))
            .await
            .unwrap();
        assert_eq!(json_of(&again)["result"]["content"][0]["text"], "again");
    });
}

#[test]
fn a_session_closed_while_its_request_starts_never_leaves_it_hanging() {
    // DELETE (or expiry) racing a POST: the POST ends (404 → UnknownSession,
    // or its reply), never waits forever. Before the fix about one race in
    // ten thousand hung; the loop is bounded in count and each wait in time.
    let gates = Gates::default();
    let transport = HttpServerTransport::new(HttpConfig::default());
    let server = builder(&gates).build(transport.clone());
    for i in 0..20_000 {
        let (session, _) =
            futures::executor::block_on(transport.initialize_session(INIT.as_bytes().to_vec()))
                .unwrap();
        let session = session.expect("a session");
        let (done, finished) = std::sync::mpsc::channel();
        let (t, s) = (transport.clone(), session.clone());
        let caller = std::thread::spawn(move || {
            let r = futures::executor::block_on(
                t.handle_http_request(s, call(1, json!({"text": "x"}))),
            );
            let _ = done.send(r.is_ok());
        });
        std::thread::yield_now();
        server.close_session(&session);
        finished
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("iteration {i}: the request hung after its session closed"));
        caller.join().unwrap();
    }
}
