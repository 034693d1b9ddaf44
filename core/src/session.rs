//! Per-session state: negotiated version, log level, subscriptions, requests
//! in flight and server→client requests awaiting their answer.
//!
//! Everything here is allocated lazily: an idle session is an id, a version,
//! the client's capabilities and a few empty collections.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::channel::oneshot;
use futures::future::AbortHandle;
use serde_json::Value;

use crate::jsonrpc::{RequestId, RpcError};
use crate::protocol::{LogLevel, ProtocolVersion};

/// Identifies a session: the `Mcp-Session-Id` over HTTP, a fixed name over stdio.
///
/// Cheap to clone. Ids of up to 38 bytes (ours are 32) are stored inline, so
/// the session tables hash and compare them without chasing a pointer.
#[derive(Clone)]
pub struct SessionId(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Shared(Arc<str>),
}

const INLINE: usize = 38;

impl SessionId {
    /// Wraps a string as a session id.
    pub fn new(id: impl AsRef<str>) -> Self {
        let id = id.as_ref();
        if id.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..id.len()].copy_from_slice(id.as_bytes());
            Self(Repr::Inline {
                len: id.len() as u8,
                bytes,
            })
        } else {
            Self(Repr::Shared(id.into()))
        }
    }

    /// Mints an id from the operating system's CSPRNG: 128 random bits as 32
    /// lowercase hex digits (visible ASCII, as the spec requires).
    ///
    /// Random bytes are fetched in blocks of 32 ids and each byte is handed
    /// out once, so a new session costs no system call most of the time.
    ///
    /// # Errors
    ///
    /// Fails only when the operating system has no randomness to give.
    pub fn random() -> Result<Self, getrandom::Error> {
        let random = RANDOM.lock().unwrap_or_else(|e| e.into_inner()).take16()?;
        let mut hex = [0u8; 32];
        for (i, b) in random.into_iter().enumerate() {
            hex[2 * i] = b"0123456789abcdef"[usize::from(b >> 4)];
            hex[2 * i + 1] = b"0123456789abcdef"[usize::from(b & 15)];
        }
        Ok(Self::new(
            std::str::from_utf8(&hex).expect("hex digits are ASCII"),
        ))
    }

    fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Shared(s) => s.as_bytes(),
        }
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("built from a str")
    }
}

impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for SessionId {}

impl std::hash::Hash for SessionId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialOrd for SessionId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SessionId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.as_str())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A hash table keyed by session ids or stream numbers.
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A cheap hash (FxHash's mixing step) for the tables keyed by session ids
/// and stream numbers. The keys in those tables are ids the server minted
/// from the OS CSPRNG (or numbered itself), so they spread well whatever
/// ids clients send in lookups; SipHash's flood resistance buys nothing here
/// and cost several percent of a request.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IdHasher(u64);

impl IdHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("eight bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// OS randomness fetched in blocks for session ids.
static RANDOM: Mutex<RandomPool> = Mutex::new(RandomPool {
    bytes: [0; RANDOM_BLOCK],
    used: RANDOM_BLOCK,
});

const RANDOM_BLOCK: usize = 512;

struct RandomPool {
    bytes: [u8; RANDOM_BLOCK],
    used: usize,
}

impl RandomPool {
    /// Sixteen bytes nobody else was given.
    fn take16(&mut self) -> Result<[u8; 16], getrandom::Error> {
        if self.used + 16 > RANDOM_BLOCK {
            getrandom::fill(&mut self.bytes)?;
            self.used = 0;
        }
        let mut out = [0u8; 16];
        out.copy_from_slice(&self.bytes[self.used..self.used + 16]);
        // Wipe what was handed out, so the pool never holds a live id.
        self.bytes[self.used..self.used + 16].fill(0);
        self.used += 16;
        Ok(out)
    }
}

/// The answer to a server→client request.
pub(crate) type Answer = Result<Value, RpcError>;

/// The client capabilities that server→client requests depend on: whether
/// each is declared (with any value).
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
pub(crate) struct ClientCapabilities {
    #[serde(default, deserialize_with = "declared")]
    sampling: bool,
    #[serde(default, deserialize_with = "declared")]
    elicitation: bool,
    #[serde(default, deserialize_with = "declared")]
    roots: bool,
}

/// `true` for a key that is present, whatever its value.
fn declared<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    <serde::de::IgnoredAny as serde::Deserialize>::deserialize(d).map(|_| true)
}

/// Requests in flight in one session: a few at a time, so a vector searched
/// in order beats a hash table (one small allocation, reused).
#[derive(Debug, Default)]
pub(crate) struct InFlightTable(Vec<(RequestId, AbortHandle)>);

impl InFlightTable {
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn get(&self, id: &RequestId) -> Option<&AbortHandle> {
        self.0.iter().find(|(i, _)| i == id).map(|(_, h)| h)
    }

    pub(crate) fn contains(&self, id: &RequestId) -> bool {
        self.get(id).is_some()
    }

    pub(crate) fn insert(&mut self, id: RequestId, handle: AbortHandle) {
        self.0.push((id, handle));
    }

    pub(crate) fn remove(&mut self, id: &RequestId) {
        if let Some(i) = self.0.iter().position(|(i, _)| i == id) {
            self.0.swap_remove(i);
        }
    }

    fn into_handles(self) -> impl Iterator<Item = AbortHandle> {
        self.0.into_iter().map(|(_, h)| h)
    }
}

/// One initialized session.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) id: SessionId,
    pub(crate) version: ProtocolVersion,
    client_capabilities: ClientCapabilities,
    state: Mutex<SessionState>,
}

#[derive(Debug, Default)]
pub(crate) struct SessionState {
    pub(crate) initialized: bool,
    pub(crate) closed: bool,
    pub(crate) log_level: Option<LogLevel>,
    pub(crate) subscriptions: HashSet<String>,
    pub(crate) in_flight: InFlightTable,
    pub(crate) pending: HashMap<RequestId, oneshot::Sender<Answer>>,
    pub(crate) next_request_id: i64,
}

impl Session {
    pub(crate) fn new(
        id: SessionId,
        version: ProtocolVersion,
        client_capabilities: ClientCapabilities,
    ) -> Self {
        Self {
            id,
            version,
            client_capabilities,
            state: Mutex::new(SessionState::default()),
        }
    }

    /// Locks the state; never held across an await.
    pub(crate) fn state(&self) -> MutexGuard<'_, SessionState> {
        // A panic while holding this lock leaves plain data behind; keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a message at `level` passes the session's filter.
    pub(crate) fn logs(&self, level: LogLevel) -> bool {
        self.state().log_level.is_none_or(|min| level >= min)
    }

    /// Whether the client declared a capability (`sampling`, `roots`, …).
    pub(crate) fn client_has(&self, capability: &str) -> bool {
        let caps = &self.client_capabilities;
        match capability {
            "sampling" => caps.sampling,
            "elicitation" => caps.elicitation,
            "roots" => caps.roots,
            _ => false,
        }
    }

    /// Marks the session closed: aborts its handlers and fails its pending
    /// server→client requests (their senders are dropped).
    pub(crate) fn close(&self) {
        let (in_flight, pending) = {
            let mut st = self.state();
            st.closed = true;
            (
                std::mem::take(&mut st.in_flight),
                std::mem::take(&mut st.pending),
            )
        };
        for handle in in_flight.into_handles() {
            handle.abort();
        }
        drop(pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_visible_ascii_and_distinct() {
        let a = SessionId::random().unwrap();
        let b = SessionId::random().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().bytes().all(|c| (0x21..=0x7e).contains(&c)));
        // Across several refills of the pool, no id repeats.
        let ids: HashSet<SessionId> = (0..1000).map(|_| SessionId::random().unwrap()).collect();
        assert_eq!(ids.len(), 1000);
    }

    #[test]
    fn declared_capabilities_count_whatever_their_value() {
        let caps: ClientCapabilities =
            serde_json::from_str(r#"{"sampling": {}, "roots": null, "experimental": {"x": 1}}"#)
                .unwrap();
        assert!(caps.sampling && caps.roots && !caps.elicitation);
    }

    #[test]
    fn inline_and_shared_ids_compare_by_content() {
        let long = "x".repeat(100);
        assert_eq!(SessionId::new(&long).as_str(), long);
        assert_eq!(SessionId::new("abc"), SessionId::new(String::from("abc")));
        assert_ne!(SessionId::new("abc"), SessionId::new("abd"));
        let mut set = HashSet::new();
        set.insert(SessionId::new(&long));
        assert!(set.contains(&SessionId::new(&long)));
    }

    #[test]
    fn log_filter_follows_level() {
        let s = Session::new(
            SessionId::new("s"),
            ProtocolVersion::LATEST,
            ClientCapabilities::default(),
        );
        assert!(s.logs(LogLevel::Debug));
        s.state().log_level = Some(LogLevel::Warning);
        assert!(!s.logs(LogLevel::Info));
        assert!(s.logs(LogLevel::Error));
    }
}
