//! The engine's direct line, its [`Dispatch`] impl (what a transport that
//! calls in from its own tasks, HTTP, uses), and the stateless entries of
//! both paths. Sessions are opened, found, dispatched into and closed here;
//! stateless requests get their carriers. The dispatching itself
//! (admission, handlers, replies) is in [`dispatch`](super::dispatch).

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Instant;
use crate::clock::now;

use super::dispatch::{Engine, answer};
use super::error::MethodError;
use super::lifecycle::open_session;
use super::notifications::accept_notification;
use super::params::encode_error;
use crate::facts::ClientFacts;
use crate::id::SessionId;
use crate::jsonrpc::{Decoded, Message, Request, RequestId};
use crate::observe::{self, CloseReason, Era, RequestScope};
use crate::principal::Principal;
use crate::runtime::BoxFuture;
use crate::session::Session;
use crate::session_store::StoreError;
use crate::stateless::{Eras, RequestMeta};
use crate::transport::{Dispatch, Dispatched, InitializeError, Initialized, Refusal};

impl Engine {
    /// Serves a message of connection `session` statelessly when it is a
    /// stateless request or notification (its `_meta` names a revision, and
    /// the server serves that era), and returns its work; hands the message
    /// back otherwise. A bare `notifications/cancelled` (no `_meta`) for a
    /// request in the connection's carrier is taken here too.
    pub(super) fn try_stateless(
        self: &Arc<Self>,
        session: &SessionId,
        decoded: Decoded,
    ) -> Result<Option<BoxFuture<()>>, Decoded> {
        if !self.config.eras.stateless() {
            return Err(decoded);
        }
        let params = match &decoded {
            Decoded::Single(Ok(Message::Request(r))) => r.params.as_ref(),
            Decoded::Single(Ok(Message::Notification(n))) => {
                // A bare cancellation may name a stateless request of the
                // connection (and a session request too: both are tried).
                if let Some(carrier) = self.carriers.get(session) {
                    let _ = accept_notification(&carrier, &n.method, n.params.as_ref());
                    if self.sessions.get(session).is_none() {
                        return Ok(None);
                    }
                }
                n.params.as_ref()
            }
            _ => return Err(decoded),
        };
        let meta = match RequestMeta::parse(params) {
            None => return Err(decoded),
            Some(Ok(meta)) => meta,
            Some(Err(error)) => {
                let id = match &decoded {
                    Decoded::Single(Ok(Message::Request(r))) => Some(r.id.clone()),
                    _ => None,
                };
                let Some(id) = id else { return Ok(None) };
                let bytes = encode_error(
                    Some(id.clone()),
                    MethodError::InvalidParams(error.to_string()),
                );
                return Ok(Some(self.send_later(session.clone(), Some(id), bytes)));
            }
        };
        let Decoded::Single(Ok(message)) = decoded else {
            unreachable!("matched a single message above")
        };
        let id = match &message {
            Message::Request(r) => Some(r.id.clone()),
            _ => None,
        };
        match self.dispatch_stateless(Some(session), message, &meta, false) {
            Ok((_, dispatched)) => Ok(dispatched.work),
            Err(refusal) => {
                let Some(id) = id else { return Ok(None) };
                let error = match refusal {
                    Refusal::UnsupportedVersion(requested) => {
                        MethodError::Handler(crate::stateless::unsupported_version(&requested))
                    }
                    Refusal::Busy => MethodError::TooManyInFlight,
                    other => MethodError::Refused(other),
                };
                let bytes = encode_error(Some(id.clone()), error);
                Ok(Some(self.send_later(session.clone(), Some(id), bytes)))
            }
        }
    }

    /// Serves one stateless message in `carrier` under `meta`'s facts: a
    /// request starts (admitted first, with a reply stream when
    /// `open_stream`), a notification takes effect (only
    /// `notifications/cancelled` does anything), a response is dropped
    /// (the revision has no server→client requests).
    fn accept_stateless(
        self: &Arc<Self>,
        carrier: &Arc<Session>,
        message: Message,
        meta: &RequestMeta,
        facts: ClientFacts,
        open_stream: bool,
    ) -> Result<Dispatched, Refusal> {
        match message {
            Message::Request(request) => {
                let id = request.id.clone();
                let stream = {
                    let mut st = carrier.state();
                    if st.closed {
                        return Err(Refusal::SessionClosed);
                    }
                    let ids = [id.clone()];
                    st.admit(&ids).map_err(Refusal::DuplicateId)?;
                    open_stream.then(|| st.streams.open(&ids))
                };
                let step = self.start(carrier, request, facts, Some(meta));
                Ok(Dispatched {
                    stream,
                    work: self.single(carrier.id().clone(), Some(id), step),
                })
            }
            Message::Notification(n) => {
                let _ = accept_notification(carrier, &n.method, n.params.as_ref());
                Ok(Dispatched {
                    stream: None,
                    work: None,
                })
            }
            Message::Response(_) => Ok(Dispatched {
                stream: None,
                work: None,
            }),
        }
    }
}

impl Dispatch for Engine {
    fn session(&self, id: &SessionId) -> Option<Arc<Session>> {
        self.sessions.get(id)
    }

    /// Opens a session under a freshly minted id. The session cap, and a
    /// failure to mint an id, are [`InitializeError::TooManySessions`] (HTTP
    /// answers 503); any other failure (unreadable params) is
    /// [`InitializeError::Rejected`] with its error response.
    fn initialize(&self, request: &Request, now: Instant) -> Result<Initialized, InitializeError> {
        self.initialize_as(request, now, None)
    }

    fn initialize_as(
        &self,
        request: &Request,
        now: Instant,
        principal: Option<Arc<Principal>>,
    ) -> Result<Initialized, InitializeError> {
        let id = request.id.clone();
        let scope = RequestScope::new(Era::Session, None, "initialize", &id);
        let opened = scope
            .span()
            .in_scope(|| open_session(self, None, request.params.as_ref(), now, principal));
        match opened {
            Ok((session, outcome)) => {
                scope.set_session(session.id());
                Ok(Initialized {
                    session,
                    reply: answer(scope, id, outcome),
                })
            }
            Err(MethodError::TooManySessions) => {
                scope.finish(Some(MethodError::TooManySessions.code().0));
                Err(InitializeError::TooManySessions)
            }
            Err(error) => Err(InitializeError::Rejected(answer(scope, id, Err(error)))),
        }
    }

    /// Refuses a batch unless the session's revision has batches, then admits
    /// the message's request ids and, with `open_stream`, opens their reply
    /// stream in the same hold of the session lock: the stream claims the ids
    /// at once, so two connections posting the same id together cannot both be
    /// admitted.
    fn dispatch(
        &self,
        session: &Arc<Session>,
        decoded: Decoded,
        open_stream: bool,
    ) -> Result<Dispatched, Refusal> {
        self.dispatch_as(session, decoded, open_stream, None)
    }

    fn dispatch_as(
        &self,
        session: &Arc<Session>,
        decoded: Decoded,
        open_stream: bool,
        principal: Option<Arc<Principal>>,
    ) -> Result<Dispatched, Refusal> {
        if matches!(decoded, Decoded::Batch(_)) && !session.protocol_version().allows_batches() {
            return Err(Refusal::BatchNotAllowed);
        }
        let single;
        let batch;
        let ids: &[RequestId] = match &decoded {
            Decoded::Single(Ok(Message::Request(r))) => {
                single = [r.id.clone()];
                &single
            }
            Decoded::Single(_) => &[],
            Decoded::Batch(_) => {
                batch = request_ids(&decoded);
                &batch
            }
        };
        let stream = {
            let mut st = session.state();
            // Checked under the lock `Session::close` takes: either the close
            // sees this request's stream (and ends it), or this sees the close.
            if st.closed {
                return Err(Refusal::SessionClosed);
            }
            st.admit(ids).map_err(Refusal::DuplicateId)?;
            (open_stream && !ids.is_empty()).then(|| st.streams.open(ids))
        };
        // The trait's methods take `&self`; the work needs an `Arc`.
        let this = self.arc();
        Ok(Dispatched {
            stream,
            work: this.accept_admitted(session, decoded, principal.as_ref()),
        })
    }

    /// Closes the session named `id` (HTTP DELETE).
    fn close_session(&self, id: &SessionId) -> bool {
        let closed = self.sessions.close(id);
        if closed {
            observe::session_closed(id, CloseReason::Deleted);
            self.tasks
                .end_session(self.outlet.runtime.as_ref(), id.as_str());
            self.sessions_changed();
        }
        closed
    }

    fn shares_sessions(&self) -> bool {
        self.session_store.is_some()
    }

    fn find_session(
        &self,
        id: &SessionId,
        now: Instant,
    ) -> BoxFuture<Result<Option<Arc<Session>>, StoreError>> {
        Box::pin(self.arc().find_stored(id.clone(), now))
    }

    fn store_session(&self, session: &Arc<Session>) -> BoxFuture<Result<(), StoreError>> {
        Box::pin(self.arc().store_new(Arc::clone(session)))
    }

    fn delete_session(&self, id: &SessionId) -> BoxFuture<Result<bool, StoreError>> {
        Box::pin(self.arc().delete_stored(id.clone()))
    }

    #[cfg(feature = "shared-sessions")]
    fn pass_on(&self, id: &SessionId, content: crate::session_store::Content) {
        self.post(id, content);
    }

    #[cfg(feature = "shared-sessions")]
    fn share_event(
        &self,
        id: &SessionId,
        stream: u64,
        event: crate::session_store::LoggedEvent,
        cap: usize,
    ) {
        let shared: &super::shared::Shared = self;
        shared.share_event(id, stream, event, cap);
    }

    #[cfg(feature = "shared-sessions")]
    fn resume_shared(
        &self,
        session: &Arc<Session>,
        stream: u64,
        after: u64,
    ) -> BoxFuture<Result<bool, StoreError>> {
        Box::pin(self.arc().resume_shared(Arc::clone(session), stream, after))
    }

    /// Ends every session, and every listen stream (each answers its
    /// `complete` result); stateless requests in flight run on to their
    /// replies.
    fn close_all_sessions(&self) {
        let count = self.sessions.len();
        self.sessions.close_all();
        if count > 0 {
            observe::sessions_closed(count, CloseReason::ServerClosing);
        }
        self.sessions_changed();
        self.listeners.close_all();
    }

    fn expire_sessions(&self, now: Instant, idle: Duration) -> usize {
        let expired = self.sessions.expire(now, idle);
        if !expired.is_empty() {
            for id in &expired {
                observe::session_expired(id, idle);
                self.tasks
                    .end_session(self.outlet.runtime.as_ref(), id.as_str());
            }
            self.sessions_changed();
        }
        expired.len()
    }

    fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Checks the revision and the cap, finds or makes the carrier, then
    /// accepts the message in it.
    fn dispatch_stateless(
        &self,
        connection: Option<&SessionId>,
        message: Message,
        meta: &RequestMeta,
        open_stream: bool,
    ) -> Result<(Arc<Session>, Dispatched), Refusal> {
        let Some(version) = meta.version() else {
            return Err(Refusal::UnsupportedVersion(
                meta.requested_version().to_owned(),
            ));
        };
        let facts = meta.facts(version);
        let cap = self.config.max_stateless_in_flight;
        let carrier = match connection {
            Some(id) => self.carriers.of_connection(id, facts.clone(), now(), cap),
            None => self.carriers.open(facts.clone(), now(), cap),
        }
        .ok_or(Refusal::Busy)?;
        let this = self.arc();
        match this.accept_stateless(&carrier, message, meta, facts, open_stream) {
            Ok(dispatched) => Ok((carrier, dispatched)),
            Err(refusal) => {
                if connection.is_none() {
                    self.carriers.end(carrier.id());
                }
                Err(refusal)
            }
        }
    }

    fn end_stateless(&self, carrier: &SessionId) {
        self.carriers.end(carrier);
    }

    fn stream_target(&self, id: &SessionId) -> Option<Arc<Session>> {
        self.sessions.get(id).or_else(|| self.carriers.get(id))
    }

    fn eras(&self) -> Eras {
        self.config.eras
    }

    fn end_listeners(&self) {
        self.listeners.close_all();
    }

    fn fail_client_requests(&self) {
        self.sessions.fail_client_requests();
    }

    fn shared_requests_in_flight(&self) -> usize {
        if !cfg!(feature = "shared-sessions") || self.session_store.is_none() {
            return 0;
        }
        self.sessions
            .select(|_| true)
            .iter()
            .map(|s| {
                let st = s.state();
                if st.stored.is_some() {
                    st.in_flight.len()
                } else {
                    0
                }
            })
            .sum()
    }

    fn header_params(&self, tool: &str) -> Vec<(String, String)> {
        let registry = self.registry();
        registry
            .tools
            .iter()
            .find(|e| e.tool.name == tool)
            .map_or_else(Vec::new, |entry| entry.header_params().to_vec())
    }
}

/// The ids of the requests in a body (single or batch).
fn request_ids(decoded: &Decoded) -> Vec<RequestId> {
    let id = |m: &Result<Message, crate::jsonrpc::Response>| match m {
        Ok(Message::Request(r)) => Some(r.id.clone()),
        _ => None,
    };
    match decoded {
        Decoded::Single(m) => id(m).into_iter().collect(),
        Decoded::Batch(items) => items.iter().filter_map(id).collect(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::{CallToolResult, HttpConfig, HttpServerTransport, McpServerBuilder, Tool};

    /// Bytes written to it land in a buffer the test reads afterwards.
    #[derive(Clone, Default)]
    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl futures::io::AsyncWrite for Sink {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            self.0.lock().unwrap().extend_from_slice(buf);
            std::task::Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn poll_close(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    /// What a build with no feature at all must do (CI runs core's tests
    /// without default features): serve newline-delimited JSON-RPC over
    /// the stdio transport, with no runtime, until its input ends.
    #[test]
    fn a_server_serves_stdio_with_nothing_but_core() {
        #[derive(serde::Deserialize)]
        struct Echo {
            text: String,
        }
        let input = [
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "c", "version": "1"}}}),
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "echo", "arguments": {"text": "hi"}}}),
            json!({"jsonrpc": "2.0", "id": 3, "method": "no/such/method"}),
        ]
        .iter()
        .map(|m| format!("{m}\n"))
        .collect::<String>();
        let sink = Sink::default();
        let transport =
            crate::StdioTransport::new(futures::io::Cursor::new(input.into_bytes()), sink.clone());
        let server = McpServerBuilder::new()
            .server_info("bare", "1")
            .tool(Tool::new("echo", "echo"), |args: Echo, _ctx| async move {
                Ok(args.text)
            })
            .build(transport);
        futures::executor::block_on(server.run()).unwrap();
        let out = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let replies: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(replies.len(), 3, "{out}");
        assert_eq!(replies[0]["result"]["serverInfo"]["name"], "bare");
        assert_eq!(replies[1]["result"]["content"][0]["text"], "hi");
        assert_eq!(replies[2]["error"]["code"], -32601);
    }

    #[test]
    fn a_stateless_only_server_refuses_initialize_on_every_transport() {
        use crate::stateless::Eras;
        use crate::{ServerConfig, SessionId, memory_pair};
        let (transport, client) = memory_pair(8);
        let server = McpServerBuilder::new()
            .config(ServerConfig::default().eras(Eras::StatelessOnly))
            .build(transport);
        futures::executor::block_on(async {
            let client_side = async {
                let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                    "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                               "clientInfo": {"name": "c", "version": "1"}}});
                client.send_json(&SessionId::new("s"), &init).await.unwrap();
                let reply: serde_json::Value =
                    serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap();
                assert_eq!(reply["error"]["code"], -32022, "{reply}");
                assert_eq!(reply["error"]["data"]["requested"], "2025-11-25");
                client.close();
            };
            let (served, ()) = futures::join!(server.run(), client_side);
            served.unwrap();
        });
    }

    #[test]
    fn only_allowed_header_annotations_count() {
        let transport = HttpServerTransport::new(HttpConfig::default());
        let schema = json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "again": {"type": "string", "x-mcp-header": "REGION"},
            "count": {"type": "integer", "x-mcp-header": "Count"},
            "ratio": {"type": "number", "x-mcp-header": "Ratio"},
            "blob": {"type": "object", "x-mcp-header": "Blob"},
            "spaced": {"type": "string", "x-mcp-header": "Has Space"},
            "empty": {"type": "string", "x-mcp-header": ""}}});
        let _server = McpServerBuilder::new()
            .tool(
                Tool::new("t", "t").input_schema(schema),
                |_: serde_json::Value, _ctx| async { Ok(CallToolResult::text("")) },
            )
            .build(transport.clone());
        let engine = transport.state.engine().unwrap();
        let mut found = engine.header_params("t");
        found.sort();
        let want =
            [("count", "Count"), ("region", "Region")].map(|(a, b)| (a.to_owned(), b.to_owned()));
        // `again` repeats `Region` ignoring case: whichever comes second loses.
        assert!(
            found == want || found == [("again".into(), "REGION".into()), want[0].clone()],
            "{found:?}"
        );
        assert!(engine.header_params("unknown").is_empty());
    }
}
