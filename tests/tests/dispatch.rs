//! The engine's side of the seam, `Dispatch`, driven through the public API
//! by a transport of the test's own that keeps the line `attach` hands it.
//! No sockets, no runtime: `futures::executor` only.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use switchboard_core::clock::now;

use async_trait::async_trait;
use serde_json::{Value, json};
use switchboard_core::jsonrpc::{self, Decoded, Message};
use switchboard_core::{
    CallToolResult, Dispatch, Inbound, InitializeError, McpServer, McpServerBuilder, Outbound,
    Refusal, ServerConfig, Tool, Transport, TransportError,
};

/// A transport that keeps the engine's line and records what is sent.
#[derive(Clone, Default)]
struct Probe {
    line: Arc<Mutex<Option<Weak<dyn Dispatch>>>>,
    sent: Arc<Mutex<Vec<Outbound>>>,
    /// While set, every send waits for a message on it (a full channel).
    gate: Arc<Mutex<Option<smol::channel::Receiver<()>>>>,
}

#[async_trait]
impl Transport for Probe {
    async fn receive(&self) -> Result<Inbound, TransportError> {
        futures::future::pending().await
    }
    async fn send(&self, message: Outbound) -> Result<(), TransportError> {
        let gate = self.gate.lock().unwrap().clone();
        if let Some(gate) = gate {
            let _ = gate.recv().await;
        }
        self.sent.lock().unwrap().push(message);
        Ok(())
    }
    async fn close(&self) -> Result<(), TransportError> {
        Ok(())
    }
    fn attach(&self, engine: Weak<dyn Dispatch>) -> Result<(), TransportError> {
        *self.line.lock().unwrap() = Some(engine);
        Ok(())
    }
}

impl Probe {
    fn engine(&self) -> Arc<dyn Dispatch> {
        self.line
            .lock()
            .unwrap()
            .as_ref()
            .unwrap()
            .upgrade()
            .unwrap()
    }

    fn replies(&self) -> Vec<Value> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .map(|o| serde_json::from_slice(&o.bytes).unwrap())
            .collect()
    }
}

fn server(limits: ServerConfig) -> (Probe, McpServer) {
    let probe = Probe::default();
    let server = McpServerBuilder::new()
        .config(limits)
        .tool(Tool::new("echo", "echo"), |v: Value, _ctx| async move {
            Ok(CallToolResult::text(
                v["text"].as_str().unwrap_or("").to_owned(),
            ))
        })
        .build(probe.clone());
    (probe, server)
}

fn request(text: &str) -> jsonrpc::Request {
    let Decoded::Single(Ok(Message::Request(r))) = jsonrpc::decode(text.as_bytes()) else {
        panic!("not a request: {text}")
    };
    r
}

const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{}}}"#;

#[test]
fn initialize_dispatch_refusals_and_expiry_through_the_seam() {
    let (probe, server) = server(ServerConfig::default().max_sessions(2));
    let engine = probe.engine();
    let t0 = now();
    let a = engine.initialize(&request(INIT), t0).unwrap();
    let reply: Value = serde_json::from_slice(&a.reply).unwrap();
    assert_eq!(reply["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(a.session.protocol_version().as_str(), "2025-11-25");
    assert!(engine.session(a.session.id()).is_some());

    // A request is admitted before its work runs; the same id is refused
    // until the work is done.
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#;
    let first = engine
        .dispatch(&a.session, jsonrpc::decode(call.as_bytes()), false)
        .unwrap();
    assert_eq!(
        engine
            .dispatch(&a.session, jsonrpc::decode(call.as_bytes()), false)
            .unwrap_err(),
        Refusal::DuplicateId(1.into())
    );
    futures::executor::block_on(first.into_work().unwrap());
    assert_eq!(probe.replies()[0]["result"]["content"][0]["text"], "hi");
    let again = engine.dispatch(&a.session, jsonrpc::decode(call.as_bytes()), false);
    futures::executor::block_on(again.unwrap().into_work().unwrap());

    // Batches only at 2025-03-26; ids repeated within a batch are refused whole.
    let batch = format!("[{call}]");
    assert_eq!(
        engine
            .dispatch(&a.session, jsonrpc::decode(batch.as_bytes()), false)
            .unwrap_err(),
        Refusal::BatchNotAllowed
    );
    let old = INIT.replace("2025-11-25", "2025-03-26");
    let b = engine.initialize(&request(&old), t0).unwrap();
    let twice = format!("[{call},{call}]");
    assert_eq!(
        engine
            .dispatch(&b.session, jsonrpc::decode(twice.as_bytes()), false)
            .unwrap_err(),
        Refusal::DuplicateId(1.into())
    );

    // The cap is the engine's one.
    assert!(matches!(
        engine.initialize(&request(INIT), t0),
        Err(InitializeError::TooManySessions)
    ));
    assert_eq!((engine.session_count(), server.session_count()), (2, 2));

    // A session closed after it was looked up refuses new work (it used to
    // take it, and the work's reply went nowhere).
    assert!(engine.close_session(a.session.id()));
    assert!(a.session.is_closed());
    assert_eq!(
        engine
            .dispatch(&a.session, jsonrpc::decode(call.as_bytes()), false)
            .unwrap_err(),
        Refusal::SessionClosed
    );
    assert!(!engine.close_session(a.session.id()), "only once");

    // Expiry takes time as an input.
    assert_eq!(
        engine.expire_sessions(t0 + Duration::from_secs(5), Duration::from_secs(10)),
        0
    );
    assert_eq!(
        engine.expire_sessions(t0 + Duration::from_secs(11), Duration::from_secs(10)),
        1
    );
    assert!(b.session.is_closed());
    assert_eq!(server.session_count(), 0);
}

#[test]
fn a_rejected_initialize_opens_no_session() {
    let (probe, server) = server(ServerConfig::default());
    let engine = probe.engine();
    let bad = r#"{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":7}}"#;
    let Err(InitializeError::Rejected(reply)) = engine.initialize(&request(bad), now()) else {
        panic!("accepted");
    };
    let reply: Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(
        (reply["id"].clone(), reply["error"]["code"].clone()),
        (json!(3), json!(-32602))
    );
    assert_eq!(server.session_count(), 0);
}

#[test]
fn an_id_stays_taken_until_its_reply_is_sent() {
    // Over a transport without reply streams (memory, stdio), a request
    // used to leave the in-flight table when its handler ended, before its
    // reply went out: a second request with the same id got in between.
    let (probe, _server) = server(ServerConfig::default());
    let engine = probe.engine();
    let a = engine.initialize(&request(INIT), now()).unwrap();
    let (open, gate) = smol::channel::bounded(1);
    *probe.gate.lock().unwrap() = Some(gate);
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"one"}}}"#;
    let first = engine
        .dispatch(&a.session, jsonrpc::decode(call.as_bytes()), false)
        .unwrap();
    let mut first = first.into_work().unwrap();
    futures::executor::block_on(async {
        // The handler is done; its reply waits on the transport.
        assert!(futures::poll!(first.as_mut()).is_pending());
        assert_eq!(
            engine
                .dispatch(&a.session, jsonrpc::decode(call.as_bytes()), false)
                .unwrap_err(),
            Refusal::DuplicateId(1.into())
        );
        open.send(()).await.unwrap();
        first.await;
    });
    *probe.gate.lock().unwrap() = None;
    assert_eq!(probe.replies().len(), 1);
    assert!(
        engine
            .dispatch(&a.session, jsonrpc::decode(call.as_bytes()), false)
            .is_ok()
    );
}
