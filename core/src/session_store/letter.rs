//! [`Letter`]: what one replica tells the others about a shared session,
//! and [`LoggedEvent`]: one event of a reply stream's shared log.
//!
//! A session's requests may land on any replica, but some things stay
//! where they happen: a GET stream's connection, a handler waiting for the
//! client's answer, a request in flight. What must reach them from another
//! replica travels as a letter, to every replica (each keeps what concerns
//! a session copy it holds and drops the rest):
//!
//! | letter | sent by the replica that | kept by the replica that |
//! |---|---|---|
//! | [`Notice`](Content::Notice) | has a message for the GET stream but not the stream | holds the stream |
//! | [`Answer`](Content::Answer) | got the client's answer but no handler waits for it | has the handler |
//! | [`Cancel`](Content::Cancel) | got `notifications/cancelled` for a request not running there | runs the request |
//! | [`Event`](Content::Event) | wrote to a reply stream that went out as SSE (after appending it to the shared log) | holds a copy of the stream, made for a client that resumed it there |
//! | [`Changed`](Content::Changed) | changed the record (`logging/setLevel`, subscriptions) | holds a copy |
//! | [`Closed`](Content::Closed) | ended the session (`DELETE`) | holds a copy |
//!
//! Letters are at most once: one lost (the store unreachable for a moment)
//! is not sent again. A notification lost that way is lost; a lost answer
//! leaves its handler to its timeout, as a client that never answers does.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::SessionRecord;

/// One letter: who sent it, which session it is about, and what it says.
///
/// Its JSON form is what a store between processes carries, for instance
/// `{"from":7,"session":"a.5f0c","content":{"kind":"closed"}}` (nested,
/// not flattened: serde's `flatten` costs the smallest builds kilobytes).
///
/// # Examples
///
/// ```
/// use switchboard_core::session_store::{Content, Letter};
///
/// let letter = Letter::new(7, "a.5f0c", Content::Closed);
/// let text = letter.to_json();
/// assert_eq!(text, r#"{"from":7,"session":"a.5f0c","content":{"kind":"closed"}}"#);
/// assert_eq!(Letter::from_json(&text).unwrap(), letter);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letter {
    /// The sending server (a random number each server draws when built),
    /// so that a server skips its own letters.
    pub from: u64,
    /// The session it is about.
    pub session: String,
    /// What it says.
    pub content: Content,
}

/// What a [`Letter`] says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Content {
    /// A message for the session's standalone (GET) stream.
    Notice {
        /// The message's JSON text.
        message: String,
    },
    /// The client's answer (a JSON-RPC response) to a server→client request.
    Answer {
        /// The response's JSON text.
        message: String,
    },
    /// `notifications/cancelled` for the request `request` (its id as sent).
    Cancel {
        /// The id of the request to cancel.
        request: Value,
    },
    /// An event written to reply stream `stream` (one that went out as
    /// SSE), already in the stream's shared log.
    Event {
        /// The stream's number.
        stream: u64,
        /// The event.
        event: LoggedEvent,
    },
    /// The session's record is now `record`.
    Changed {
        /// The record.
        record: SessionRecord,
    },
    /// The session ended.
    Closed,
}

impl Letter {
    /// A letter from server `from` about `session`.
    pub fn new(from: u64, session: impl Into<String>, content: Content) -> Self {
        Self {
            from,
            session: session.into(),
            content,
        }
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the JSON form back.
    ///
    /// # Errors
    ///
    /// When `text` is not a letter (another program on the channel, a newer
    /// kind of letter): a receiving store skips it.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// One event of a reply stream's shared log (see
/// [`SessionStore::append`](super::SessionStore::append)).
///
/// # Examples
///
/// ```
/// use switchboard_core::session_store::LoggedEvent;
///
/// let event = LoggedEvent::new(3, false, r#"{"jsonrpc":"2.0","method":"ping"}"#);
/// assert_eq!(LoggedEvent::from_json(&event.to_json()).unwrap(), event);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedEvent {
    /// Its position in the stream, from 1.
    pub seq: u64,
    /// Whether it is the stream's final event (the reply).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub last: bool,
    /// The message's JSON text.
    pub message: String,
}

impl LoggedEvent {
    /// Event `seq` carrying `message`, the stream's final one when `last`.
    pub fn new(seq: u64, last: bool, message: impl Into<String>) -> Self {
        Self {
            seq,
            last,
            message: message.into(),
        }
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the JSON form back.
    ///
    /// # Errors
    ///
    /// When `text` is not an event.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}
