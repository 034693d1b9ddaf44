//! `HttpServerTransport`: the Streamable HTTP transport through which many
//! HTTP sessions share one MCP server. Each reply finds the HTTP request it
//! belongs to by session *and* JSON-RPC id (the request's own stream).
//!
//! [`HttpServerTransport::handle`] is the one request→response entry: our
//! HTTP/1.1 connections call it, so does
//! [`HttpService::respond`](crate::http::HttpService::respond) (its front door
//! over the `http` crate's types, which hyper and axum use), and so do the
//! in-process calls [`HttpServerTransport::handle_http_request`] and
//! [`HttpServerTransport::initialize_session`], thin front doors that build
//! a request head and read the JSON reply.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use http::StatusCode;

use crate::http::config::HttpConfig;
use crate::http::replies::response::Response;
use crate::http::replies::routing::HttpState;
use crate::http::wire::{RequestHead, synthetic_head};
use crate::http::{eras, rules};
use crate::id::SessionId;
use crate::transport::{Dispatch, Inbound, Outbound, Transport, TransportError};

/// Many HTTP sessions served by one [`McpServer`](crate::McpServer).
///
/// Cheap to clone: clones share everything. Give one clone to
/// [`McpServerBuilder::build`](crate::McpServerBuilder::build) and keep
/// another to answer requests with: through a listener's
/// [`HttpService`](crate::http::HttpService), or in process with
/// [`HttpServerTransport::handle_http_request`] (JSON replies, from any
/// HTTP server of your own).
///
/// # Examples
///
/// The seed's shape: build a server over the transport, run it, and push
/// request bodies in through the transport.
///
/// ```
/// use switchboard_core::{CallToolResult, HttpConfig, HttpServerTransport, McpServerBuilder, Tool};
///
/// #[derive(serde::Deserialize)]
/// struct EchoArgs { text: String }
///
/// # futures::executor::block_on(async {
/// let transport = HttpServerTransport::new(HttpConfig::default());
/// let server = McpServerBuilder::new()
///     .server_info("demo", "1.0.0")
///     .tool(Tool::new("echo", "Echoes its text"), |args: EchoArgs, _ctx| async move {
///         Ok(CallToolResult::text(args.text))
///     })
///     .build(transport.clone());
///
/// let client = async {
///     let (session, _reply) = transport
///         .initialize_session(br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":
///             {"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#.to_vec())
///         .await
///         .unwrap();
///     let session = session.expect("initialize succeeded");
///     let reply = transport
///         .handle_http_request(session, br#"{"jsonrpc":"2.0","id":1,"method":"tools/call",
///             "params":{"name":"echo","arguments":{"text":"hi"}}}"#.to_vec())
///         .await
///         .unwrap();
///     let reply: serde_json::Value = serde_json::from_slice(&reply).unwrap();
///     assert_eq!(reply["result"]["content"][0]["text"], "hi");
///     switchboard_core::Transport::close(&transport).await.unwrap();
/// };
/// let (served, ()) = futures::join!(server.run(), client);
/// served.unwrap();
/// # });
/// ```
#[derive(Clone)]
pub struct HttpServerTransport {
    pub(crate) state: Arc<HttpState>,
}

impl fmt::Debug for HttpServerTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServerTransport")
            .field("sessions", &self.session_count())
            .finish_non_exhaustive()
    }
}

impl HttpServerTransport {
    /// A transport with this configuration, serving nothing until a server
    /// is built over it.
    pub fn new(config: HttpConfig) -> Self {
        Self {
            state: Arc::new(HttpState::new(config)),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HttpConfig {
        &self.state.config
    }

    /// The number of open sessions (the server's).
    pub fn session_count(&self) -> usize {
        self.state.engine().map_or(0, |e| e.session_count())
    }

    /// Answers one HTTP request to the MCP endpoint: the head as parsed and
    /// the whole body. Applies every rule of the endpoint (path, Host and
    /// Origin, Accept, Content-Type, sessions, versions, limits) and
    /// returns the response: JSON, empty, or an SSE stream. An SSE body
    /// ([`Body::Sse`](crate::http::Body::Sse)) is written out by this crate's
    /// HTTP/1.1 connections, or read as a
    /// [`ResponseBody`](crate::http::ResponseBody) through
    /// [`HttpService::respond`](crate::http::HttpService::respond), the entry
    /// another HTTP server (hyper, axum) uses. Dropping a response unwritten
    /// cancels its request and frees its id.
    ///
    /// Without a server built over the transport, or once it closed, every
    /// request is answered 503. The client's address is not known here, so
    /// of the stream caps only [`HttpConfig::max_streams_per_principal`]
    /// applies.
    pub async fn handle(&self, head: &RequestHead, body: Vec<u8>) -> Response {
        self.handle_from(head, body, None).await
    }

    /// [`HttpServerTransport::handle`] for a client at `peer`, when the
    /// front door knows it: a GET then counts against the client's stream
    /// cap ([`HttpConfig::max_streams_per_client`]).
    pub(crate) async fn handle_from(
        &self,
        head: &RequestHead,
        body: Vec<u8>,
        peer: Option<IpAddr>,
    ) -> Response {
        let span = crate::observe::http::request_span(head.method.as_str(), head.path());
        let mut response = span
            .clone()
            .instrument(async {
                match rules::admit(&self.state, head).await {
                    Ok(admitted) => eras::serve(&self.state, admitted, head, body, peer).await,
                    Err(refusal) => refusal,
                }
            })
            .await;
        // Every front door passes here: the one spot replies get their CORS grant.
        rules::cors::grant_reply(&self.state.config, head, &mut response);
        crate::observe::http::responded(&span, response.status.as_u16(), response.body.full());
        response
    }

    /// Sends one JSON-RPC message (or batch) in `session`, as the seed's
    /// HTTP handler did, and waits for its reply: a POST to the endpoint
    /// that accepts only JSON, so related messages (progress, logs) are not
    /// delivered. Returns the reply's JSON (a JSON-RPC error for a refused
    /// request, such as a duplicate id in flight), or an empty vector when
    /// the body held no request.
    ///
    /// # Errors
    ///
    /// [`TransportError::UnknownSession`] for a session that is not open
    /// (or an id that cannot be a header value); [`TransportError::Closed`]
    /// when no server is running over the transport.
    pub async fn handle_http_request(
        &self,
        session: SessionId,
        bytes: Vec<u8>,
    ) -> Result<Vec<u8>, TransportError> {
        let head = self.front_door_head(Some(&session))?;
        let response = self.handle(&head, bytes).await;
        match response.status {
            StatusCode::NOT_FOUND => Err(TransportError::UnknownSession),
            StatusCode::SERVICE_UNAVAILABLE => Err(TransportError::Closed),
            _ => Ok(response.body.full().map(<[u8]>::to_vec).unwrap_or_default()),
        }
    }

    /// Sends an `initialize` request and returns the session it opened (if
    /// it opened one) with the reply's JSON. A refused `initialize` (invalid
    /// params, not an `initialize` at all, the session cap) opens none; its
    /// reply says why, as a JSON-RPC error.
    ///
    /// # Errors
    ///
    /// [`TransportError::Closed`] when no server is running over the
    /// transport.
    pub async fn initialize_session(
        &self,
        bytes: Vec<u8>,
    ) -> Result<(Option<SessionId>, Vec<u8>), TransportError> {
        let head = self.front_door_head(None)?;
        let response = self.handle(&head, bytes).await;
        if response.status == StatusCode::SERVICE_UNAVAILABLE && response.close {
            return Err(TransportError::Closed);
        }
        let session = response
            .headers
            .iter()
            .find(|(name, _)| *name == crate::http::SESSION_HEADER)
            .and_then(|(_, value)| value.to_str().ok())
            .map(SessionId::new);
        let reply = response.body.full().map(<[u8]>::to_vec).unwrap_or_default();
        Ok((session, reply))
    }

    /// The head of a front-door POST: to the endpoint's path, from
    /// loopback, JSON both ways.
    fn front_door_head(&self, session: Option<&SessionId>) -> Result<RequestHead, TransportError> {
        let mut headers = vec![
            ("host", "localhost"),
            ("accept", "application/json"),
            ("content-type", "application/json"),
        ];
        if let Some(session) = session {
            headers.push(("mcp-session-id", session.as_str()));
        }
        synthetic_head(&self.state.config, http::Method::POST, &headers)
            .ok_or(TransportError::UnknownSession)
    }
}

#[async_trait]
impl Transport for HttpServerTransport {
    /// Messages reach the server through [`HttpServerTransport::handle`],
    /// never through this queue: it waits until the transport closes.
    async fn receive(&self) -> Result<Inbound, TransportError> {
        self.state.closed.triggered().await;
        Err(TransportError::Closed)
    }

    async fn send(&self, message: Outbound) -> Result<(), TransportError> {
        self.state.route(message)
    }

    fn attach(&self, engine: Weak<dyn Dispatch>) -> Result<(), TransportError> {
        self.state.attach(engine)
    }

    /// Closes the transport: new requests are answered 503, the server's
    /// serve loop ends, and every session ends (their responses with them).
    async fn close(&self) -> Result<(), TransportError> {
        let engine = self.state.engine();
        self.state.closed.trigger();
        if let Some(engine) = engine {
            engine.close_all_sessions();
        }
        Ok(())
    }
}
