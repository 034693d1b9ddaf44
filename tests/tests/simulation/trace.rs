//! The trace of one run: every observable event, hashed in order, so two
//! runs of one seed can be compared; the last events are kept to print
//! when a run fails.

use std::collections::VecDeque;
use std::fmt::{Arguments, Write};
use std::hash::Hasher;
use std::sync::{Arc, Mutex};

/// Events kept for a failure report.
const KEPT: usize = 60;

#[derive(Default)]
struct Inner {
    /// FNV-1a over every event, in order.
    hash: u64,
    /// Events recorded.
    count: u64,
    /// The last events.
    tail: VecDeque<String>,
    /// Every event, when asked for (`SIM_TRACE=1`).
    all: Option<Vec<String>>,
}

/// A shared trace. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Trace(Arc<Mutex<Inner>>);

impl Trace {
    /// A trace that keeps every event when `keep_all`.
    pub(crate) fn new(keep_all: bool) -> Self {
        let trace = Self::default();
        {
            let mut inner = trace.0.lock().unwrap();
            inner.hash = 0xcbf2_9ce4_8422_2325;
            if keep_all {
                inner.all = Some(Vec::new());
            }
        }
        trace
    }

    /// Records one event of the scheduler's: hashed, kept only in a full
    /// trace.
    pub(crate) fn tick(&self, event: Arguments<'_>) {
        self.add(event, false);
    }

    /// Records one event.
    pub(crate) fn record(&self, event: Arguments<'_>) {
        self.add(event, true);
    }

    fn add(&self, event: Arguments<'_>, tail: bool) {
        let mut line = String::new();
        let _ = line.write_fmt(event);
        let mut inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut h = Fnv(inner.hash);
        h.write(line.as_bytes());
        h.write(b"\n");
        inner.hash = h.0;
        inner.count += 1;
        if let Some(all) = inner.all.as_mut() {
            all.push(line.clone());
        }
        if tail {
            if inner.tail.len() == KEPT {
                inner.tail.pop_front();
            }
            inner.tail.push_back(line);
        }
    }

    /// The hash of every event so far, and their count.
    pub(crate) fn digest(&self) -> (u64, u64) {
        let inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        (inner.hash, inner.count)
    }

    /// The last events, oldest first.
    pub(crate) fn tail(&self) -> Vec<String> {
        let inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        inner.tail.iter().cloned().collect()
    }

    /// Every event, when kept.
    pub(crate) fn all(&self) -> Option<Vec<String>> {
        let inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        inner.all.clone()
    }
}

/// FNV-1a, 64 bits: the same hash in every process and release.
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
