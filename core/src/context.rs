//! What a handler gets: its ids and the client's facts, progress and
//! logging that go out *related* to its request, cancellation, and
//! server→client requests.
//!
//! A context reaches the rest of the server only through an [`Outlet`]
//! (the transport to send on, the runtime, the request timeout), so this
//! module depends on nothing of the engine's.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::{AbortHandle, Either};
use serde_json::{Value, json};

use crate::facts::{Capability, ClientFacts};
use crate::id::SessionId;
use crate::jsonrpc::{Message, Notification, Request, RequestId, RpcError};
use crate::protocol::{LogLevel, ProtocolVersion};
use crate::runtime::Runtime;
use crate::session::Session;
use crate::transport::{Outbound, Route, Transport, TransportError};

/// What a context needs of its server: where messages go out, the runtime
/// (for timers), and how long a server→client request may wait.
pub(crate) struct Outlet {
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) runtime: Option<Arc<dyn Runtime>>,
    pub(crate) request_timeout: Duration,
}

/// Why a related message could not be sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// A progress value lower than the previous one (progress must not go back).
    #[error("progress went down from {previous} to {next}")]
    ProgressDecreased {
        /// The last value sent.
        previous: f64,
        /// The rejected value.
        next: f64,
    },
    /// The request already has its response; nothing more may relate to it.
    #[error("the request has finished")]
    RequestFinished,
    /// The transport failed.
    #[error("transport failed")]
    Transport(#[from] TransportError),
}

/// Why a server→client request got no result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The client did not declare the capability this request needs.
    #[error("client lacks the {0} capability")]
    CapabilityMissing(&'static str),
    /// No answer came within the configured timeout; a cancellation was sent.
    #[error("no answer within the timeout")]
    Timeout,
    /// The session ended before an answer came.
    #[error("session closed")]
    SessionClosed,
    /// The client answered with an error.
    #[error("client answered with an error")]
    Rejected(#[source] RpcError),
    /// The request could not be sent.
    #[error("transport failed")]
    Transport(#[from] TransportError),
    /// The server has no [`Runtime`], so nothing could bound the wait for
    /// an answer: the request is not sent. Give the server one with
    /// [`McpServerBuilder::runtime`](crate::McpServerBuilder::runtime).
    #[error("server→client requests need a runtime to time out")]
    NoRuntime,
}

/// The context handed to every request handler.
///
/// Cheap to clone. Everything sent through it is routed as
/// [`Route::Related`] to the request being handled, so that over HTTP it goes
/// out on that request's own SSE stream before the result.
#[derive(Clone)]
pub struct RequestContext {
    inner: Arc<Inner>,
}

struct Inner {
    outlet: Arc<Outlet>,
    session: Arc<Session>,
    facts: ClientFacts,
    request_id: RequestId,
    progress_token: Option<Value>,
    last_progress: Mutex<Option<f64>>,
    abort: AbortHandle,
    finished: AtomicBool,
}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestContext")
            .field("session", self.inner.session.id())
            .field("request_id", &self.inner.request_id)
            .field("progress_token", &self.inner.progress_token)
            .finish_non_exhaustive()
    }
}

impl RequestContext {
    pub(crate) fn new(
        outlet: Arc<Outlet>,
        session: Arc<Session>,
        request_id: RequestId,
        progress_token: Option<Value>,
        abort: AbortHandle,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                outlet,
                facts: *session.facts(),
                session,
                request_id,
                progress_token,
                last_progress: Mutex::new(None),
                abort,
                finished: AtomicBool::new(false),
            }),
        }
    }

    pub(crate) fn finish(&self) {
        self.inner.finished.store(true, Ordering::Release);
    }

    pub(crate) fn session(&self) -> &Arc<Session> {
        &self.inner.session
    }

    /// The session this request arrived in.
    pub fn session_id(&self) -> &SessionId {
        self.inner.session.id()
    }

    /// The request's JSON-RPC id.
    pub fn request_id(&self) -> &RequestId {
        &self.inner.request_id
    }

    /// The server's runtime, if it has one: for timers and spawning inside
    /// handlers without naming an executor.
    pub fn runtime(&self) -> Option<&Arc<dyn Runtime>> {
        self.inner.outlet.runtime.as_ref()
    }

    /// The protocol revision the request is served under (the one its
    /// session negotiated).
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.inner.facts.version
    }

    /// Whether a log message at `level` would reach the client: the
    /// request's own level when it carries one, else its session's
    /// (`logging/setLevel`; until then, every level).
    pub fn logs(&self, level: LogLevel) -> bool {
        match self.inner.facts.log_level {
            Some(min) => level >= min,
            None => self.inner.session.logs(level),
        }
    }

    /// The request's `_meta.progressToken`, as the JSON value it arrived as.
    pub fn progress_token(&self) -> Option<&Value> {
        self.inner.progress_token.as_ref()
    }

    /// Whether the client cancelled this request (or its session ended).
    ///
    /// A cancelled handler is also dropped at its next `.await`; this is for
    /// handlers that compute without awaiting.
    pub fn is_cancelled(&self) -> bool {
        self.inner.abort.is_aborted()
    }

    /// Sends `notifications/progress` if the request carried a progress
    /// token; does nothing otherwise.
    ///
    /// # Errors
    ///
    /// [`ContextError::ProgressDecreased`] if `progress` is lower than the last
    /// value sent; [`ContextError::RequestFinished`] after the response.
    pub async fn progress(
        &self,
        progress: f64,
        total: Option<f64>,
        message: Option<&str>,
    ) -> Result<(), ContextError> {
        let Some(token) = &self.inner.progress_token else {
            return Ok(());
        };
        {
            let mut last = self
                .inner
                .last_progress
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(previous) = *last {
                if progress < previous {
                    return Err(ContextError::ProgressDecreased {
                        previous,
                        next: progress,
                    });
                }
            }
            *last = Some(progress);
        }
        let mut params = json!({ "progressToken": token, "progress": progress });
        if let Some(total) = total {
            params["total"] = json!(total);
        }
        if let Some(message) = message {
            params["message"] = json!(message);
        }
        self.notify("notifications/progress", params).await
    }

    /// Sends `notifications/message` at `level` if the session's level
    /// (`logging/setLevel`) lets it through; until the client sets a level,
    /// every message goes out.
    ///
    /// # Errors
    ///
    /// [`ContextError::RequestFinished`] after the response, or a transport failure.
    pub async fn log(
        &self,
        level: LogLevel,
        logger: Option<&str>,
        data: impl Into<Value>,
    ) -> Result<(), ContextError> {
        if !self.logs(level) {
            return Ok(());
        }
        let mut params = json!({ "level": level, "data": data.into() });
        if let Some(logger) = logger {
            params["logger"] = json!(logger);
        }
        self.notify("notifications/message", params).await
    }

    /// Sends any notification related to this request.
    ///
    /// # Errors
    ///
    /// [`ContextError::RequestFinished`] after the response, or a transport failure.
    pub async fn notify(&self, method: &str, params: Value) -> Result<(), ContextError> {
        if self.inner.finished.load(Ordering::Acquire) {
            return Err(ContextError::RequestFinished);
        }
        let message = Message::Notification(Notification {
            method: method.to_owned(),
            params: Some(params.into()),
        });
        self.send(message).await?;
        Ok(())
    }

    /// Ends the HTTP connection that carries this request's SSE stream
    /// without ending the stream (SSE polling, SEP-1699): the client
    /// reconnects with `Last-Event-ID` and receives what it missed, the
    /// result included. Other transports ignore it.
    ///
    /// # Errors
    ///
    /// A transport failure.
    pub async fn close_sse_stream(&self) -> Result<(), ContextError> {
        let outbound = Outbound {
            session: self.inner.session.id().clone(),
            route: Route::Disconnect(self.inner.request_id.clone()),
            bytes: Vec::new(),
        };
        self.inner.outlet.transport.send(outbound).await?;
        Ok(())
    }

    async fn send(&self, message: Message) -> Result<(), TransportError> {
        let outbound = Outbound {
            session: self.inner.session.id().clone(),
            route: Route::Related(self.inner.request_id.clone()),
            bytes: message.to_bytes(),
        };
        self.inner.outlet.transport.send(outbound).await
    }

    /// Asks the client to sample an LLM (`sampling/createMessage`) and
    /// returns its result.
    ///
    /// # Errors
    ///
    /// See [`RequestContext::request`].
    pub async fn create_message(&self, params: Value) -> Result<Value, RequestError> {
        self.request("sampling/createMessage", params).await
    }

    /// Asks the user for input (`elicitation/create`) and returns the
    /// client's result (`action`, `content`).
    ///
    /// # Errors
    ///
    /// See [`RequestContext::request`].
    pub async fn elicit(&self, params: Value) -> Result<Value, RequestError> {
        self.request("elicitation/create", params).await
    }

    /// Asks the client for its roots (`roots/list`).
    ///
    /// # Errors
    ///
    /// See [`RequestContext::request`].
    pub async fn list_roots(&self) -> Result<Value, RequestError> {
        self.request("roots/list", json!({})).await
    }

    /// Sends a server→client request related to this request and waits for
    /// the client's answer, matched by id within the session.
    ///
    /// The wait is bounded by the server's request timeout
    /// ([`ServerConfig::request_timeout`](crate::ServerConfig::request_timeout));
    /// keeping that time needs the server's [`Runtime`], so a server without
    /// one refuses to send. On timeout a `notifications/cancelled` is sent
    /// for the request.
    ///
    /// # Errors
    ///
    /// [`RequestError::CapabilityMissing`] when the client did not declare
    /// the capability the method needs; [`RequestError::NoRuntime`] without
    /// a runtime; [`RequestError::Timeout`], [`RequestError::SessionClosed`],
    /// [`RequestError::Rejected`] with the client's error, or a transport
    /// failure.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, RequestError> {
        if let Some(capability) = Capability::needed_by(method) {
            if !self.inner.facts.has(capability) {
                return Err(RequestError::CapabilityMissing(capability.name()));
            }
        }
        let Some(runtime) = &self.inner.outlet.runtime else {
            return Err(RequestError::NoRuntime);
        };
        let session = &self.inner.session;
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut st = session.state();
            if st.closed {
                return Err(RequestError::SessionClosed);
            }
            st.next_request_id += 1;
            let id = RequestId::number(st.next_request_id);
            st.pending.push((id.clone(), tx));
            id
        };
        let message = Message::Request(Request {
            id: id.clone(),
            method: method.to_owned(),
            params: Some(params.into()),
        });
        if let Err(e) = self.send(message).await {
            session.state().take_pending(&id);
            return Err(e.into());
        }
        let timer = runtime.sleep(self.inner.outlet.request_timeout);
        let answer = match futures::future::select(rx, timer).await {
            Either::Left((answer, _)) => answer,
            Either::Right(((), _)) => {
                session.state().take_pending(&id);
                let cancel = Message::Notification(Notification {
                    method: "notifications/cancelled".into(),
                    params: Some(json!({ "requestId": id.to_value(), "reason": "timeout" }).into()),
                });
                // The timeout is the error worth reporting; a failed cancel adds nothing.
                let _ = self.send(cancel).await;
                return Err(RequestError::Timeout);
            }
        };
        match answer {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(RequestError::Rejected(e)),
            Err(oneshot::Canceled) => Err(RequestError::SessionClosed),
        }
    }
}
