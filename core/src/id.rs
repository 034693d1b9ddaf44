//! Session ids: what names a session on the wire, how the server mints
//! them, and the cheap hash the server's own tables use for them.
//!
//! A [`SessionId`] is the `Mcp-Session-Id` header over HTTP and a fixed name
//! over stdio. Minted ids are 128 bits from the operating system's CSPRNG,
//! so they cannot be guessed, and short enough to be stored inline.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

/// Identifies a session: the `Mcp-Session-Id` over HTTP, a fixed name over stdio.
///
/// Cheap to clone. Ids of up to 38 bytes (ours are 32) are stored inline, so
/// the session tables hash and compare them without chasing a pointer.
///
/// Two ids are equal when their text is, however each is stored; they
/// order by their bytes. Any string is accepted as an id: checking what a
/// client sends (visible ASCII over HTTP) is the transport's job.
///
/// # Examples
///
/// ```
/// use switchboard_core::SessionId;
///
/// let id = SessionId::new("s1");
/// assert_eq!(id.as_str(), "s1");
/// assert_eq!(id, SessionId::new(String::from("s1")));
/// assert_eq!(id.to_string(), "s1");
/// ```
#[derive(Clone)]
pub struct SessionId(Repr);

/// How an id's text is stored: inline when it fits, else shared.
#[derive(Clone)]
enum Repr {
    /// The first `len` bytes of `bytes` (`len <= INLINE`), the rest zero.
    Inline { len: u8, bytes: [u8; INLINE] },
    /// A longer id, shared by its clones.
    Shared(Arc<str>),
}

/// The longest id stored inline: with the length byte and the tag it makes
/// 40 bytes, five words (one byte more would make the id 48); minted ids
/// (32 bytes) fit with room to spare.
const INLINE: usize = 38;

impl SessionId {
    /// Wraps a string as a session id, copying it (inline up to 38 bytes).
    ///
    /// For names a transport chooses (`"stdio"`) or a client sends; a
    /// server naming a new session mints one with [`SessionId::random`].
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
    /// Thread-safe: the block is shared behind a lock, and no two callers
    /// are given the same bytes.
    ///
    /// # Errors
    ///
    /// Fails only when the operating system has no randomness to give.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::SessionId;
    ///
    /// let id = SessionId::random().unwrap();
    /// assert_eq!(id.as_str().len(), 32);
    /// assert!(id.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
    /// assert_ne!(id, SessionId::random().unwrap());
    /// ```
    pub fn random() -> Result<Self, getrandom::Error> {
        let random = match simulated16() {
            Some(bytes) => bytes,
            None => RANDOM.lock().unwrap_or_else(|e| e.into_inner()).take16()?,
        };
        let mut hex = [0u8; 32];
        for (i, b) in random.into_iter().enumerate() {
            hex[2 * i] = b"0123456789abcdef"[usize::from(b >> 4)];
            hex[2 * i + 1] = b"0123456789abcdef"[usize::from(b & 15)];
        }
        Ok(Self::new(
            std::str::from_utf8(&hex).expect("hex digits are ASCII"),
        ))
    }

    /// Mints an id as [`SessionId::random`] does, behind `tag` and a dot:
    /// `{tag}.{32 hex digits}`, so a balancer that cannot learn stickiness
    /// from responses (nginx open source) can route by the tag with a
    /// `map`. The tag is the caller's, checked by
    /// [`ServerConfig::session_id_tag`](crate::ServerConfig::session_id_tag).
    ///
    /// # Errors
    ///
    /// As [`SessionId::random`].
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::SessionId;
    ///
    /// let id = SessionId::random_tagged("r2").unwrap();
    /// let (tag, rest) = id.as_str().split_once('.').unwrap();
    /// assert_eq!((tag, rest.len()), ("r2", 32));
    /// ```
    pub fn random_tagged(tag: &str) -> Result<Self, getrandom::Error> {
        let random = Self::random()?;
        Ok(Self::new(format!("{tag}.{}", random.as_str())))
    }

    /// Whether `tag` may lead minted ids: 1 to 32 characters of `A-Z`,
    /// `a-z`, `0-9`, `_` and `-` (visible ASCII without the dot that ends
    /// it, and safe in any balancer's configuration).
    pub(crate) fn valid_tag(tag: &str) -> bool {
        (1..=32).contains(&tag.len())
            && tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }

    /// The id's text as bytes (always UTF-8), whichever way it is stored.
    fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Shared(s) => s.as_bytes(),
        }
    }

    /// The id as a string, exactly as it was given or minted (what goes in
    /// the `Mcp-Session-Id` header).
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

/// A hash table keyed by session ids, hashed with [`IdHasher`].
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A cheap hash (FxHash's mixing step) for the tables keyed by session ids.
/// The keys in those tables are ids the server minted from the OS CSPRNG
/// (over HTTP) or a transport's fixed name (stdio), so they spread well
/// whatever ids clients send in lookups; SipHash's flood resistance buys
/// nothing here and cost several percent of a request. (Over the in-memory
/// transport the embedding code names sessions itself, and the table's cap
/// bounds how many it can insert.)
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IdHasher(u64);

impl IdHasher {
    /// Mixes one 64-bit word into the state.
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

/// OS randomness fetched in blocks for session ids. Starts used up, so the
/// first id fetches the first block.
static RANDOM: Mutex<RandomPool> = Mutex::new(RandomPool {
    bytes: [0; RANDOM_BLOCK],
    used: RANDOM_BLOCK,
});

/// Sixteen bytes from a simulation's seeded stream, when one runs on this
/// thread (the `simulation` feature).
#[cfg(feature = "simulation")]
fn simulated16() -> Option<[u8; 16]> {
    let mut bytes = [0u8; 16];
    crate::simulation::fill(&mut bytes).then_some(bytes)
}

/// Without the `simulation` feature, ids always come from the OS.
#[cfg(not(feature = "simulation"))]
fn simulated16() -> Option<[u8; 16]> {
    None
}

/// Bytes fetched per system call: 32 ids of 16 bytes.
const RANDOM_BLOCK: usize = 512;

/// A block of OS randomness, handed out front to back.
struct RandomPool {
    /// The block; bytes before `used` were handed out and wiped.
    bytes: [u8; RANDOM_BLOCK],
    /// How many bytes of `bytes` were handed out.
    used: usize,
}

impl RandomPool {
    /// Sixteen bytes nobody else was given, refilling the block when it
    /// is used up.
    ///
    /// A failed refill leaves the pool used up, so the next call tries
    /// again.
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tags_are_short_and_plain() {
        assert!(SessionId::valid_tag("r2") && SessionId::valid_tag("Node_7-b"));
        for bad in ["", "a.b", "a b", "é", &"x".repeat(33), "a\n"] {
            assert!(!SessionId::valid_tag(bad), "{bad:?}");
        }
        let id = SessionId::random_tagged("n1").unwrap();
        assert!(id.as_str().starts_with("n1.") && id.as_str().len() == 35);
    }

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
    fn inline_and_shared_ids_compare_by_content() {
        let long = "x".repeat(100);
        assert_eq!(SessionId::new(&long).as_str(), long);
        assert_eq!(SessionId::new("abc"), SessionId::new(String::from("abc")));
        assert_ne!(SessionId::new("abc"), SessionId::new("abd"));
        let mut set = HashSet::new();
        set.insert(SessionId::new(&long));
        assert!(set.contains(&SessionId::new(&long)));
    }
}
