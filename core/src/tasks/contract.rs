//! The contract of a [`TaskStore`], as checks any store can be put
//! through: [`MemoryTaskStore`](super::MemoryTaskStore) runs them in core's
//! tests, `switchboard-redis`'s store in its own against a real Redis, and
//! a store of yours can run them too. Time is an input throughout (the
//! checks pass `now_ms` themselves), so they take no wall time.
//!
//! # Examples
//!
//! ```
//! use switchboard_core::tasks::{MemoryTaskStore, contract};
//!
//! futures::executor::block_on(contract::check_all(|| async { MemoryTaskStore::new() }))
//!     .expect("the memory store keeps the contract");
//! ```

use std::future::Future;

use serde_json::json;

use super::lifecycle::Change;
use super::store::{StoreError, TaskCaps, TaskStore};
use super::task::{Owner, Task, TaskId, TaskOutcome, TaskStatus};

/// Returns `Err` with the text of the first condition that does not hold.
macro_rules! ensure {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err(format!($($why)+));
        }
    };
}

/// The caps the checks create under: 3 per owner, 5 in all.
const CAPS: TaskCaps = TaskCaps {
    per_owner: 3,
    total: 5,
};

/// Two owners with keys, told apart.
fn owners() -> (Owner, Owner) {
    let alice = crate::principal::Principal::new("alice");
    let bob = crate::principal::Principal::new("bob");
    (Owner::of(Some(&alice)), Owner::of(Some(&bob)))
}

/// A fresh id (random, so stores shared by checks never collide).
fn id() -> Result<TaskId, String> {
    TaskId::random().map_err(|e| e.to_string())
}

/// A `working` task of `owner` created at `now` living 1,000 ms.
fn task(owner: &Owner, now: u64) -> Result<Task, String> {
    Ok(Task::new(id()?, owner.clone(), now, Some(1_000), Some(250)))
}

/// A store's answer or its error as text.
fn ok<T>(r: Result<T, StoreError>) -> Result<T, String> {
    r.map_err(|e| format!("the store failed: {e}"))
}

/// Runs every check, each on a store of its own from `fresh`.
///
/// # Errors
///
/// The first broken condition, in words.
pub async fn check_all<S, F, Fut>(fresh: F) -> Result<(), String>
where
    S: TaskStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    created_tasks_read_back_whole(&fresh().await).await?;
    caps_refuse_and_keep_nothing(&fresh().await).await?;
    another_owner_sees_nothing(&fresh().await).await?;
    expired_tasks_are_gone(&fresh().await).await?;
    changes_follow_the_lifecycle(&fresh().await).await?;
    concurrent_changes_are_all_kept(&fresh().await).await?;
    owners_list_their_own_live_tasks(&fresh().await).await?;
    Ok(())
}

/// A store that lists ([`TaskStore::list`] is `Some`) lists an owner's
/// own tasks, live ones only, oldest first, a page at a time.
///
/// # Errors
///
/// The first broken condition, in words.
pub async fn owners_list_their_own_live_tasks(store: &dyn TaskStore) -> Result<(), String> {
    let (alice, bob) = owners();
    let mut created = Vec::new();
    for at in [30, 10, 20] {
        let t = task(&alice, at)?;
        ok(store.create(t.clone(), CAPS, at).await)?;
        created.push(t);
    }
    ok(store.create(task(&bob, 0)?, CAPS, 0).await)?;
    let Some((page, more)) = store.list(&alice, None, 2, 40).await else {
        return Ok(()); // A store that does not list.
    };
    let at: Vec<u64> = page.iter().map(|t| t.created_ms).collect();
    ensure!(
        at == [10, 20] && more,
        "the first page: {at:?}, more {more}"
    );
    let last = page.last().map(|t| (t.created_ms, t.id.clone()));
    let (page, more) = store
        .list(&alice, last, 2, 40)
        .await
        .ok_or("no second page")?;
    let at: Vec<u64> = page.iter().map(|t| t.created_ms).collect();
    ensure!(at == [30] && !more, "the second page: {at:?}, more {more}");
    ensure!(
        page.first() == created.first(),
        "a listed task differs from the one created"
    );
    // At 1,020 the first two have expired.
    let (page, _) = store.list(&alice, None, 10, 1_020).await.ok_or("no list")?;
    let at: Vec<u64> = page.iter().map(|t| t.created_ms).collect();
    ensure!(at == [30], "listed once expired: {at:?}");
    Ok(())
}

/// A created task is readable at once, every field as created; another
/// task of the same id is refused.
///
/// # Errors
///
/// The first broken condition, in words.
pub async fn created_tasks_read_back_whole(store: &dyn TaskStore) -> Result<(), String> {
    let (alice, _) = owners();
    let t = task(&alice, 10)?;
    ok(store.create(t.clone(), CAPS, 10).await)?;
    let read = ok(store.get(&t.id, &alice, 11).await)?;
    ensure!(
        read.as_ref() == Some(&t),
        "read back {read:?}, created {t:?}"
    );
    // Another task of the same id (a store may take the very same record
    // twice, so a create sent again after a lost reply is not refused).
    let mut other = t.clone();
    other.created_ms = 12;
    let again = store.create(other, CAPS, 12).await;
    ensure!(
        again == Err(StoreError::Duplicate),
        "a second task of one id: {again:?}"
    );
    let unknown = ok(store.get(&id()?, &alice, 12).await)?;
    ensure!(unknown.is_none(), "an unknown id read as {unknown:?}");
    Ok(())
}

/// Past a cap nothing is kept; once tasks expire there is room again.
///
/// # Errors
///
/// The first broken condition, in words.
pub async fn caps_refuse_and_keep_nothing(store: &dyn TaskStore) -> Result<(), String> {
    let (alice, bob) = owners();
    for _ in 0..3 {
        ok(store.create(task(&alice, 0)?, CAPS, 0).await)?;
    }
    let over = task(&alice, 0)?;
    let refused = store.create(over.clone(), CAPS, 0).await;
    ensure!(
        refused == Err(StoreError::OwnerFull(3)),
        "a 4th task of one owner: {refused:?}"
    );
    ensure!(
        ok(store.get(&over.id, &alice, 1).await)?.is_none(),
        "a refused task was kept"
    );
    ok(store.create(task(&bob, 0)?, CAPS, 0).await)?;
    ok(store.create(task(&bob, 0)?, CAPS, 0).await)?;
    let full = store.create(task(&bob, 0)?, CAPS, 0).await;
    ensure!(
        full == Err(StoreError::Full(5)),
        "a 6th task in all: {full:?}"
    );
    // At 1,000 ms every one of them has expired: room again.
    ok(store.create(task(&bob, 1_000)?, CAPS, 1_000).await)?;
    for _ in 0..2 {
        ok(store.create(task(&alice, 1_000)?, CAPS, 1_000).await)?;
    }
    Ok(())
}

/// Another owner can neither read nor change a task; its owner can.
///
/// # Errors
///
/// The first broken condition, in words.
pub async fn another_owner_sees_nothing(store: &dyn TaskStore) -> Result<(), String> {
    let (alice, bob) = owners();
    let t = task(&alice, 0)?;
    ok(store.create(t.clone(), CAPS, 0).await)?;
    ensure!(
        ok(store.get(&t.id, &bob, 1).await)?.is_none(),
        "another owner read the task"
    );
    ensure!(
        ok(store.get(&t.id, &Owner::of(None), 1).await)?.is_none(),
        "an anonymous caller read the task"
    );
    let theirs = ok(store.change(&t.id, &bob, Change::Cancel, 1).await)?;
    ensure!(theirs.is_none(), "another owner changed the task");
    let read = ok(store.get(&t.id, &alice, 2).await)?;
    ensure!(
        read.map(|t| t.status) == Some(TaskStatus::Working),
        "another owner's cancel took effect"
    );
    let mine = ok(store.change(&t.id, &alice, Change::Cancel, 3).await)?;
    ensure!(
        matches!(&mine, Some((t, true)) if t.status == TaskStatus::Cancelled),
        "the owner's cancel: {mine:?}"
    );
    Ok(())
}

/// A task is readable until its time to live ends, and neither readable
/// nor changeable after; purge returns it; a task without a time to live
/// stays.
///
/// # Errors
///
/// The first broken condition, in words.
pub async fn expired_tasks_are_gone(store: &dyn TaskStore) -> Result<(), String> {
    let (alice, _) = owners();
    let t = task(&alice, 100)?;
    let mut forever = task(&alice, 100)?;
    forever.ttl_ms = None;
    ok(store.create(t.clone(), CAPS, 100).await)?;
    ok(store.create(forever.clone(), CAPS, 100).await)?;
    ensure!(
        ok(store.get(&t.id, &alice, 1_099).await)?.is_some(),
        "gone before its time to live ended"
    );
    ensure!(
        ok(store.get(&t.id, &alice, 1_100).await)?.is_none(),
        "readable once expired"
    );
    let late = ok(store.change(&t.id, &alice, Change::Cancel, 1_100).await)?;
    ensure!(late.is_none(), "changed once expired: {late:?}");
    let purged = store.purge(1_100).await;
    ensure!(purged == vec![t.id.clone()], "purged {purged:?}");
    ensure!(store.purge(1_200).await.is_empty(), "purged twice");
    ensure!(
        ok(store.get(&forever.id, &alice, u64::MAX / 2).await)?.is_some(),
        "a task without a time to live expired"
    );
    Ok(())
}

/// Questions, answers, progress, the end, and nothing after the end.
///
/// # Errors
///
/// The first broken condition, in words.
pub async fn changes_follow_the_lifecycle(store: &dyn TaskStore) -> Result<(), String> {
    let (alice, _) = owners();
    let t = task(&alice, 0)?;
    ok(store.create(t.clone(), CAPS, 0).await)?;
    let change = |c: Change, at: u64| store.change(&t.id, &alice, c, at);
    let request = json!({"method": "elicitation/create", "params": {"message": "ok?"}});
    let asked = ok(change(
        Change::Ask {
            key: "k".into(),
            request: request.clone(),
        },
        10,
    )
    .await)?;
    let Some((asked, true)) = asked else {
        return Err(format!("an ask: {asked:?}"));
    };
    ensure!(
        asked.status == TaskStatus::InputRequired
            && asked.input_requests.get("k") == Some(&request),
        "after an ask: {asked:?}"
    );
    let read = ok(store.get(&t.id, &alice, 11).await)?;
    ensure!(
        read.as_ref() == Some(&asked),
        "read {read:?}, changed to {asked:?}"
    );
    let answered = ok(change(Change::Answered(vec!["k".into()]), 20).await)?;
    ensure!(
        matches!(&answered, Some((t, true)) if t.status == TaskStatus::Working && t.updated_ms == 20),
        "after the answer: {answered:?}"
    );
    let progress = ok(change(Change::Progress("half".into()), 30).await)?;
    ensure!(
        matches!(&progress, Some((t, true)) if t.status_message.as_deref() == Some("half")),
        "after progress: {progress:?}"
    );
    let result = json!({"content": [{"type": "text", "text": "done"}]});
    let done = ok(change(Change::Finish(TaskOutcome::Result(result.clone())), 40).await)?;
    ensure!(
        matches!(&done, Some((t, true)) if t.status == TaskStatus::Completed),
        "after the end: {done:?}"
    );
    let after = ok(change(Change::Cancel, 50).await)?;
    ensure!(
        matches!(&after, Some((t, false)) if t.status == TaskStatus::Completed && t.updated_ms == 40),
        "a cancel after the end: {after:?}"
    );
    let read = ok(store.get(&t.id, &alice, 60).await)?;
    ensure!(
        read.and_then(|t| t.outcome) == Some(TaskOutcome::Result(result)),
        "the result is not kept"
    );
    Ok(())
}

/// Changes made at once to one task are each applied (none lost to a
/// race): 16 questions asked together are all outstanding after.
///
/// # Errors
///
/// The first broken condition, in words.
pub async fn concurrent_changes_are_all_kept(store: &dyn TaskStore) -> Result<(), String> {
    let (alice, _) = owners();
    let t = task(&alice, 0)?;
    ok(store.create(t.clone(), CAPS, 0).await)?;
    let asks = (0..16).map(|i| {
        let ask = Change::Ask {
            key: format!("k{i}"),
            request: json!({"method": "roots/list"}),
        };
        store.change(&t.id, &alice, ask, 1)
    });
    for outcome in futures::future::join_all(asks).await {
        ensure!(
            matches!(ok(outcome)?, Some((_, true))),
            "a concurrent ask was not applied"
        );
    }
    let read = ok(store.get(&t.id, &alice, 2).await)?.ok_or("the task is gone")?;
    ensure!(
        read.input_requests.len() == 16,
        "{} of 16 questions kept",
        read.input_requests.len()
    );
    Ok(())
}
