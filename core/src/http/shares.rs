//! Fair shares: how many connections and GET streams each client holds,
//! so that one client at its cap leaves room for the others.
//!
//! A client is an address (an IPv4 address whole, an IPv6 address by its
//! /64 prefix, so that one host cannot dodge the cap with the many
//! addresses it is given) or, for streams, an authenticated principal (its
//! issuer and subject). [`Shares`] keeps the counts in one map, whose
//! entries go when their count falls to zero, so it holds no more entries
//! than there are open connections and streams. A [`Share`] is one counted
//! connection or stream; dropping it gives its place back, however the
//! connection or stream ends.
//!
//! Plain data and a lock, no I/O: the listener's service takes a
//! connection's share at accept, the GET rule a stream's share before the
//! stream opens (see [`HttpConfig::max_connections_per_client`] and its
//! neighbours for the caps).

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

use crate::http::config::HttpConfig;
use crate::principal::Principal;

/// What one count in [`Shares`] is of.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// Connections from a client address.
    Connections(ClientAddr),
    /// GET streams from a client address.
    Streams(ClientAddr),
    /// GET streams of a principal, from anywhere.
    PrincipalStreams {
        /// The principal's issuer, when its verifier names one.
        issuer: Option<String>,
        /// The principal's subject.
        subject: String,
    },
}

/// A client address as it is counted: IPv4 whole, IPv6 by its /64 prefix,
/// an IPv4-mapped IPv6 address (a dual-stack listener's view of an IPv4
/// client) as its IPv4 address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ClientAddr(IpAddr);

impl ClientAddr {
    /// The client `ip` belongs to.
    pub(crate) fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(IpAddr::V4(v4)),
                None => {
                    let [a, b, c, d, ..] = v6.segments();
                    Self(IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0)))
                }
            },
        }
    }
}

/// Which cap refused a connection or a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Over {
    /// The client address has its connections.
    Connections,
    /// The client address has its GET streams.
    Streams,
    /// The principal has its GET streams.
    PrincipalStreams,
}

impl Over {
    /// The refusal's message, naming the cap.
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::Connections => "too many connections from this client",
            Self::Streams => "too many open streams from this client",
            Self::PrincipalStreams => "too many open streams for this principal",
        }
    }
}

/// The counts, shared by [`Shares`] and every [`Share`] it handed out.
type Counts = Arc<Mutex<HashMap<Key, usize>>>;

/// The per-client counts of one transport, and the caps they are held to.
pub(crate) struct Shares {
    /// [`HttpConfig::max_connections_per_client`].
    connections_per_client: Option<usize>,
    /// [`HttpConfig::max_streams_per_client`].
    streams_per_client: Option<usize>,
    /// [`HttpConfig::max_streams_per_principal`].
    streams_per_principal: Option<usize>,
    /// Open connections and streams by client; no zero entries.
    counts: Counts,
}

impl fmt::Debug for Shares {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shares")
            .field("clients", &lock(&self.counts).len())
            .finish_non_exhaustive()
    }
}

/// One counted connection or stream (or nothing, where no cap applies);
/// dropping it gives its place back.
#[must_use = "the place is given back when the share is dropped"]
pub(crate) struct Share {
    /// Where it is counted.
    counts: Counts,
    /// What it counts as one of (none, one or two keys).
    keys: Vec<Key>,
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Share").field("keys", &self.keys).finish()
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let mut counts = lock(&self.counts);
        for key in self.keys.drain(..) {
            if let Some(n) = counts.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(&key);
                }
            }
        }
    }
}

/// The counts' lock; a panic while it was held left no count half-changed
/// (each change is one integer), so a poisoned lock is used as it is.
fn lock(counts: &Counts) -> std::sync::MutexGuard<'_, HashMap<Key, usize>> {
    counts.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shares {
    /// Counts for `config`'s per-client caps; nothing is counted yet.
    pub(crate) fn new(config: &HttpConfig) -> Self {
        Self {
            connections_per_client: config.max_connections_per_client,
            streams_per_client: config.max_streams_per_client,
            streams_per_principal: config.max_streams_per_principal,
            counts: Arc::default(),
        }
    }

    /// A connection's share for a client at `peer` (`None`: an address the
    /// listener could not tell, not counted).
    ///
    /// # Errors
    ///
    /// [`Over::Connections`] when the address has its connections.
    pub(crate) fn connection(&self, peer: Option<IpAddr>) -> Result<Share, Over> {
        let wanted = peer
            .zip(self.connections_per_client)
            .map(|(ip, cap)| (Key::Connections(ClientAddr::of(ip)), cap, Over::Connections));
        self.take(wanted.into_iter().collect())
    }

    /// A GET stream's share for a client at `peer` that authenticated as
    /// `principal`: counted for both, or for neither.
    ///
    /// # Errors
    ///
    /// [`Over::Streams`] when the address has its streams,
    /// [`Over::PrincipalStreams`] when the principal has (the address is
    /// checked first).
    pub(crate) fn stream(
        &self,
        peer: Option<IpAddr>,
        principal: Option<&Principal>,
    ) -> Result<Share, Over> {
        let by_addr = peer
            .zip(self.streams_per_client)
            .map(|(ip, cap)| (Key::Streams(ClientAddr::of(ip)), cap, Over::Streams));
        let by_principal = principal.zip(self.streams_per_principal).map(|(p, cap)| {
            let key = Key::PrincipalStreams {
                issuer: p.issuer().map(str::to_owned),
                subject: p.subject().to_owned(),
            };
            (key, cap, Over::PrincipalStreams)
        });
        self.take(by_addr.into_iter().chain(by_principal).collect())
    }

    /// Counts one more for every key in `wanted`, if none is at its cap.
    fn take(&self, wanted: Vec<(Key, usize, Over)>) -> Result<Share, Over> {
        let counts = Arc::clone(&self.counts);
        if wanted.is_empty() {
            return Ok(Share {
                counts,
                keys: Vec::new(),
            });
        }
        let mut map = lock(&counts);
        for (key, cap, over) in &wanted {
            if map.get(key).copied().unwrap_or(0) >= *cap {
                return Err(*over);
            }
        }
        let keys: Vec<Key> = wanted.into_iter().map(|(key, ..)| key).collect();
        for key in &keys {
            *map.entry(key.clone()).or_insert(0) += 1;
        }
        drop(map);
        Ok(Share { counts, keys })
    }

    /// The clients with something open (entries in the map).
    #[cfg(test)]
    fn clients(&self) -> usize {
        lock(&self.counts).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    fn shares(conns: Option<usize>, streams: Option<usize>, principal: Option<usize>) -> Shares {
        Shares::new(
            &HttpConfig::default()
                .max_connections_per_client(conns)
                .max_streams_per_client(streams)
                .max_streams_per_principal(principal),
        )
    }

    #[test]
    fn a_client_at_its_cap_leaves_room_for_the_others_and_a_drop_gives_a_place_back() {
        let s = shares(Some(2), None, None);
        let a1 = s.connection(ip("192.0.2.1")).unwrap();
        let _a2 = s.connection(ip("192.0.2.1")).unwrap();
        assert_eq!(
            s.connection(ip("192.0.2.1")).unwrap_err(),
            Over::Connections
        );
        // Another address is another client.
        let b = s.connection(ip("192.0.2.2")).unwrap();
        drop(a1);
        let _a3 = s.connection(ip("192.0.2.1")).unwrap();
        assert_eq!(s.clients(), 2);
        drop(b);
        assert_eq!(s.clients(), 1, "an entry goes at zero");
    }

    #[test]
    fn ipv6_counts_by_64_and_mapped_ipv4_as_ipv4() {
        let s = shares(Some(1), None, None);
        let _a = s.connection(ip("2001:db8:1:2::1")).unwrap();
        // The same /64, another address: the same client.
        assert!(s.connection(ip("2001:db8:1:2:ffff::9")).is_err());
        // Another /64 is another client.
        let _b = s.connection(ip("2001:db8:1:3::1")).unwrap();
        let _c = s.connection(ip("198.51.100.7")).unwrap();
        assert!(s.connection(ip("::ffff:198.51.100.7")).is_err());
        // IPv4 is whole: the neighbour is another client.
        let _d = s.connection(ip("198.51.100.8")).unwrap();
    }

    #[test]
    fn caps_off_or_no_address_count_nothing() {
        let s = shares(None, None, None);
        let held: Vec<Share> = (0..1000)
            .map(|_| s.connection(ip("192.0.2.1")).unwrap())
            .chain((0..1000).map(|_| s.stream(ip("192.0.2.1"), None).unwrap()))
            .collect();
        assert_eq!(s.clients(), 0);
        drop(held);
        let s = shares(Some(1), Some(1), Some(1));
        let _held: Vec<Share> = (0..10).map(|_| s.connection(None).unwrap()).collect();
        let _streams: Vec<Share> = (0..10).map(|_| s.stream(None, None).unwrap()).collect();
        assert_eq!(s.clients(), 0);
    }

    #[test]
    fn a_stream_counts_for_its_address_and_its_principal_or_for_neither() {
        let s = shares(None, Some(2), Some(1));
        let alice = Principal::new("alice");
        let bob = Principal::new("bob");
        let first = s.stream(ip("192.0.2.1"), Some(&alice)).unwrap();
        // Alice is at her cap, from any address.
        assert_eq!(
            s.stream(ip("192.0.2.9"), Some(&alice)).unwrap_err(),
            Over::PrincipalStreams
        );
        // The refusal counted nothing: the address still has one place.
        let _bob = s.stream(ip("192.0.2.1"), Some(&bob)).unwrap();
        assert_eq!(
            s.stream(ip("192.0.2.1"), None).unwrap_err(),
            Over::Streams,
            "the address is at its cap"
        );
        // Another issuer's alice is another principal.
        let other = Principal::new("alice").with_issuer("https://other.example");
        let _other = s.stream(ip("192.0.2.5"), Some(&other)).unwrap();
        drop(first);
        let _again = s.stream(ip("192.0.2.9"), Some(&alice)).unwrap();
        // Connections and streams are counted apart.
        let s = shares(Some(1), Some(1), None);
        let _conn = s.connection(ip("192.0.2.1")).unwrap();
        let _stream = s.stream(ip("192.0.2.1"), None).unwrap();
    }
}
