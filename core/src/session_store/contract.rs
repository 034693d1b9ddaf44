//! The contract of a [`SessionStore`], as checks any store can be put
//! through: [`MemorySessionStore`](super::MemorySessionStore) runs them in
//! core's tests, `switchboard-redis`'s store in its own against a real
//! Redis, and a store of yours can run them too.
//!
//! The expiry checks wait on the wall clock (a few hundred milliseconds in
//! all): a store's time to live runs on its own clock, which no test
//! drives. Ids are random, so checks may share one store.
//!
//! # Examples
//!
//! ```
//! use switchboard_core::session_store::{MemorySessionStore, contract};
//!
//! futures::executor::block_on(contract::check_all(|| async { MemorySessionStore::new() }))
//!     .expect("the memory store keeps the contract");
//! ```

use std::future::Future;
use std::time::Duration;

use serde_json::json;

use futures::StreamExt;

use super::record::Owner;
use super::{Content, Letter, LoggedEvent, SessionRecord, SessionStore, StoreError};
use crate::id::SessionId;
use crate::protocol::LogLevel;

/// Returns `Err` with the text of the first condition that does not hold.
macro_rules! ensure {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err(format!($($why)+));
        }
    };
}

/// Long enough that no check sees it pass.
const LONG: Duration = Duration::from_secs(60);

/// A fresh random id.
fn id() -> Result<SessionId, String> {
    SessionId::random().map_err(|e| e.to_string())
}

/// A store's answer or its error as text.
fn ok<T>(r: Result<T, StoreError>) -> Result<T, String> {
    r.map_err(|e| format!("the store failed: {e}"))
}

/// A record with every field set.
fn full_record() -> SessionRecord {
    SessionRecord {
        protocol_version: "2025-06-18".into(),
        capabilities: vec!["sampling".into(), "roots".into()],
        client_info: Some(json!({"name": "client", "version": "1.0"})),
        owner: Some(Owner {
            issuer: Some("https://auth.example.com".into()),
            subject: "alice".into(),
        }),
        log_level: Some(LogLevel::Warning),
        subscriptions: vec!["notes://1".into(), "notes://2".into()],
    }
}

/// Runs every check, each on a store from `make`.
///
/// # Errors
///
/// The text of the first check that failed.
pub async fn check_all<S, F, Fut>(make: F) -> Result<(), String>
where
    S: SessionStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    created_records_load_back(&make().await).await?;
    updates_replace_only_live_records(&make().await).await?;
    removal_is_seen_at_once(&make().await).await?;
    records_expire_unless_loaded(&make().await).await?;
    Ok(())
}

/// A created record loads back whole; an id is created once; an unknown
/// id loads as `None`.
pub async fn created_records_load_back(store: &dyn SessionStore) -> Result<(), String> {
    let (a, b) = (id()?, id()?);
    let record = full_record();
    ensure!(
        ok(store.create(&a, &record, LONG).await)?,
        "create refused a new id"
    );
    ensure!(
        ok(store.load(&a, LONG).await)? == Some(record.clone()),
        "the record did not load back whole"
    );
    let other = SessionRecord::new("2025-11-25");
    ensure!(
        !ok(store.create(&a, &other, LONG).await)?,
        "create took an id that was taken"
    );
    ensure!(
        ok(store.load(&a, LONG).await)? == Some(record),
        "a refused create changed the record"
    );
    ensure!(
        ok(store.load(&b, LONG).await)?.is_none(),
        "an unknown id loaded"
    );
    Ok(())
}

/// An update replaces a live record and creates none.
pub async fn updates_replace_only_live_records(store: &dyn SessionStore) -> Result<(), String> {
    let (a, b) = (id()?, id()?);
    ensure!(
        ok(store
            .create(&a, &SessionRecord::new("2025-11-25"), LONG)
            .await)?,
        "create refused a new id"
    );
    let changed = full_record();
    ensure!(
        ok(store.update(&a, &changed).await)?,
        "update missed a live record"
    );
    ensure!(
        ok(store.load(&a, LONG).await)? == Some(changed.clone()),
        "update did not replace the record"
    );
    ensure!(
        !ok(store.update(&b, &changed).await)?,
        "update of an unknown id succeeded"
    );
    ensure!(
        ok(store.load(&b, LONG).await)?.is_none(),
        "update created a record"
    );
    Ok(())
}

/// A removed record is gone for every method at once.
pub async fn removal_is_seen_at_once(store: &dyn SessionStore) -> Result<(), String> {
    let a = id()?;
    let record = SessionRecord::new("2025-03-26");
    ensure!(
        ok(store.create(&a, &record, LONG).await)?,
        "create refused a new id"
    );
    ensure!(ok(store.remove(&a).await)?, "remove missed a live record");
    ensure!(
        ok(store.load(&a, LONG).await)?.is_none(),
        "a removed record loaded"
    );
    ensure!(
        !ok(store.update(&a, &record).await)?,
        "a removed record was updated"
    );
    ensure!(!ok(store.remove(&a).await)?, "a record was removed twice");
    Ok(())
}

/// A record expires its time to live after its last load, not before.
pub async fn records_expire_unless_loaded(store: &dyn SessionStore) -> Result<(), String> {
    let (a, b) = (id()?, id()?);
    let ttl = Duration::from_millis(300);
    let record = SessionRecord::new("2025-11-25");
    ensure!(
        ok(store.create(&a, &record, ttl).await)?,
        "create refused a new id"
    );
    ensure!(
        ok(store.create(&b, &record, ttl).await)?,
        "create refused a new id"
    );
    std::thread::sleep(ttl / 2);
    ensure!(
        ok(store.load(&a, ttl).await)?.is_some(),
        "a record expired early"
    );
    std::thread::sleep(ttl * 2 / 3);
    // `b` is past its time to live; `a`, loaded since, is not.
    ensure!(
        ok(store.load(&b, ttl).await)?.is_none(),
        "a record outlived its ttl"
    );
    ensure!(
        ok(store.load(&a, ttl).await)?.is_some(),
        "a load did not restart the ttl"
    );
    ensure!(
        ok(store.update(&a, &full_record()).await)?,
        "update missed a live record"
    );
    std::thread::sleep(ttl + ttl / 3);
    ensure!(
        ok(store.load(&a, ttl).await)?.is_none(),
        "an update restarted the ttl"
    );
    ensure!(
        ok(store.create(&a, &record, ttl).await)?,
        "an expired id could not be created again"
    );
    Ok(())
}

/// The sharing part of the contract, for stores that carry letters and
/// logs between servers: `a` and `b` are two servers' handles on one
/// store, and `wait` sleeps on the caller's timer (the store may deliver
/// in the background; every wait here is bounded, 5 s at most).
///
/// - A letter posted through `a` reaches a subscription taken through `b`,
///   whole.
/// - An append through `a` is read back through `b`, the log keeping the
///   newest `cap` events; an unwritten stream reads as `None`.
/// - Order: a letter posted after an append is never heard before the
///   append can be read (what a resumption relies on).
///
/// # Errors
///
/// The first condition that does not hold, as text.
pub async fn check_sharing<W, Fut>(
    a: &dyn SessionStore,
    b: &dyn SessionStore,
    wait: W,
) -> Result<(), String>
where
    W: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    let session = id()?;
    let Some(mut letters) = b.letters() else {
        return Err("the store carries no letters".into());
    };
    // A subscription may take a moment to start: post until heard.
    let letter = Letter::new(1, session.as_str(), Content::Closed);
    let mut heard = None;
    for _ in 0..50 {
        a.post(letter.clone());
        wait(Duration::from_millis(100)).await;
        if let Some(next) = futures::FutureExt::now_or_never(letters.next()) {
            heard = next;
            break;
        }
    }
    ensure!(
        heard == Some(letter),
        "a posted letter was not heard: {heard:?}"
    );
    // Drain the repeats.
    while let Some(Some(_)) = futures::FutureExt::now_or_never(letters.next()) {}

    for seq in 1..=3 {
        let last = seq == 3;
        a.append(
            &session,
            9,
            LoggedEvent::new(seq, last, format!("{{\"n\":{seq}}}")),
            2,
            LONG,
        );
    }
    let said = Letter::new(
        1,
        session.as_str(),
        Content::Event {
            stream: 9,
            event: LoggedEvent::new(3, true, "{}"),
        },
    );
    a.post(said.clone());
    let mut got = None;
    for _ in 0..50 {
        if let Some(next) = futures::FutureExt::now_or_never(letters.next()) {
            got = next;
            break;
        }
        wait(Duration::from_millis(100)).await;
    }
    ensure!(
        got == Some(said),
        "the letter after the appends was not heard: {got:?}"
    );
    // Heard after the appends: they must be readable now, without waiting.
    let log = ok(b.read_log(&session, 9, 0).await)?;
    let seqs: Option<Vec<u64>> = log.map(|l| l.iter().map(|e| e.seq).collect());
    ensure!(
        seqs == Some(vec![2, 3]),
        "the log keeps the newest 2 of 3: {seqs:?}"
    );
    let after = ok(b.read_log(&session, 9, 2).await)?;
    ensure!(
        after == Some(vec![LoggedEvent::new(3, true, r#"{"n":3}"#)]),
        "the events after 2: {after:?}"
    );
    let none = ok(b.read_log(&session, 10, 0).await)?;
    ensure!(none.is_none(), "an unwritten stream has no log: {none:?}");
    Ok(())
}
