//! Replies: responses as plain data and their encoding, how a dispatched
//! request's reply goes out (JSON, or an SSE stream), the connection's end
//! of a stream, the transport's routing of outbound messages into the
//! sessions' streams, and the refusals every layer above answers with.
//!
//! May import [`crate::http::wire`], [`crate::http::config`],
//! [`crate::http::shares`] (a stream holds its client's share) and
//! [`crate::http::auth`] (for the refusal a denial becomes), and the engine's
//! sessions and streams; nothing of the rules, the eras or the front doors.
//!
//! An outbound message's way to the client: the engine's `Transport::send`
//! → [`routing`] (which stream of which session) → the stream's log
//! ([`crate::stream`]) → [`receiver`] (the response's end of it) → [`sse`]
//! (the body a front door writes) or, for a reply that comes first, JSON
//! from [`reply`].

pub(crate) mod job;
pub(crate) mod receiver;
pub(crate) mod refusals;
pub(crate) mod reply;
pub(crate) mod response;
pub(crate) mod routing;
pub(crate) mod shutdown;
pub(crate) mod sse;
