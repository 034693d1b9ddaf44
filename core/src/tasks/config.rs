//! The limits and timings of tasks, each a named default with its reason
//! and a knob on [`TaskConfig`].

use std::time::Duration;

/// How long a task stays readable after it is created, unless the
/// server says otherwise: an hour, long enough for a build or a crawl
/// to finish and be read, short enough that forgotten tasks leave.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60 * 60);

/// The longest time to live a server grants: a day. A task is memory (or
/// a store's row) until it expires; nothing lives unbounded.
pub const DEFAULT_MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How often clients are asked to poll: a second, so a short task is seen
/// done within one, and a thousand polling clients cost a thousand
/// requests a second, not more.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Tasks one owner (a token's subject, or every anonymous client
/// together) may hold at once, live or finished but not yet expired.
pub const DEFAULT_MAX_TASKS_PER_OWNER: usize = 1_024;

/// Tasks the server holds at once, over every owner.
pub const DEFAULT_MAX_TASKS: usize = 16_384;

/// The largest result (its JSON) a task keeps: 4 MiB, the size of the
/// largest request body the endpoint takes by default. A larger result
/// fails the task (`-32603`) rather than sit in memory for its TTL.
pub const DEFAULT_MAX_RESULT_BYTES: usize = 4 * 1024 * 1024;

/// Limits and timings of tasks.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use switchboard_core::tasks::TaskConfig;
///
/// let config = TaskConfig::default()
///     .ttl(Duration::from_secs(600))
///     .poll_interval(Duration::from_millis(500))
///     .max_tasks_per_owner(16);
/// assert_eq!(config.ttl_ms(), 600_000);
/// ```
#[derive(Clone, Debug)]
pub struct TaskConfig {
    /// Where tasks are kept; a [`MemoryTaskStore`](super::MemoryTaskStore)
    /// of the server's own when unset.
    store: Option<std::sync::Arc<dyn super::TaskStore>>,
    /// The time to live each new task gets.
    ttl: Duration,
    /// The longest time to live granted.
    max_ttl: Duration,
    /// The poll interval clients are told.
    poll_interval: Duration,
    /// Tasks per owner.
    max_per_owner: usize,
    /// Tasks in all.
    max_tasks: usize,
    /// Largest result kept.
    max_result_bytes: usize,
}

impl Default for TaskConfig {
    fn default() -> Self {
        Self {
            store: None,
            ttl: DEFAULT_TTL,
            max_ttl: DEFAULT_MAX_TTL,
            poll_interval: DEFAULT_POLL_INTERVAL,
            max_per_owner: DEFAULT_MAX_TASKS_PER_OWNER,
            max_tasks: DEFAULT_MAX_TASKS,
            max_result_bytes: DEFAULT_MAX_RESULT_BYTES,
        }
    }
}

impl TaskConfig {
    /// Sets the time to live of new tasks ([`DEFAULT_TTL`]), capped at
    /// [`max_ttl`](Self::max_ttl) and at least a second (the suite
    /// refuses `ttlMs: 0`, and a task must be readable once done).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Keeps tasks in `store` (a store the replicas share lets any of them
    /// answer `tasks/get`); by default each server keeps its own in memory.
    #[must_use]
    pub fn store(mut self, store: std::sync::Arc<dyn super::TaskStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The store set with [`store`](Self::store), if any.
    pub fn store_given(&self) -> Option<&std::sync::Arc<dyn super::TaskStore>> {
        self.store.as_ref()
    }

    /// Sets the longest time to live granted ([`DEFAULT_MAX_TTL`]).
    #[must_use]
    pub fn max_ttl(mut self, max: Duration) -> Self {
        self.max_ttl = max;
        self
    }

    /// Sets the poll interval clients are told ([`DEFAULT_POLL_INTERVAL`];
    /// at least a millisecond).
    #[must_use]
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Sets the tasks one owner may hold ([`DEFAULT_MAX_TASKS_PER_OWNER`];
    /// 0 refuses every task).
    #[must_use]
    pub fn max_tasks_per_owner(mut self, max: usize) -> Self {
        self.max_per_owner = max;
        self
    }

    /// Sets the tasks the server holds in all ([`DEFAULT_MAX_TASKS`]; 0
    /// refuses every task).
    #[must_use]
    pub fn max_tasks(mut self, max: usize) -> Self {
        self.max_tasks = max;
        self
    }

    /// Sets the largest result a task keeps ([`DEFAULT_MAX_RESULT_BYTES`]).
    #[must_use]
    pub fn max_result_bytes(mut self, max: usize) -> Self {
        self.max_result_bytes = max;
        self
    }

    /// The time to live of new tasks in milliseconds, as granted: at least
    /// 1,000, at most the maximum.
    pub fn ttl_ms(&self) -> u64 {
        let ttl = self.ttl.min(self.max_ttl).as_millis();
        u64::try_from(ttl).unwrap_or(u64::MAX).max(1_000)
    }

    /// The time to live granted to a task whose client asked for
    /// `requested` milliseconds (the 2025-11-25 `params.task.ttl`): the
    /// request within `[1000, max_ttl]`, or [`ttl_ms`](Self::ttl_ms) when
    /// it asked for none.
    pub fn grant_ttl_ms(&self, requested: Option<u64>) -> u64 {
        let max = u64::try_from(self.max_ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1_000);
        requested.map_or_else(|| self.ttl_ms(), |ttl| ttl.clamp(1_000, max))
    }

    /// The poll interval in milliseconds (at least 1).
    pub fn poll_interval_ms(&self) -> u64 {
        u64::try_from(self.poll_interval.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// The caps a store checks on creation.
    pub fn caps(&self) -> super::TaskCaps {
        super::TaskCaps {
            per_owner: self.max_per_owner,
            total: self.max_tasks,
        }
    }

    /// The largest result kept, in bytes of JSON.
    pub fn result_limit(&self) -> usize {
        self.max_result_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ttl_is_bounded_both_ways() {
        let c = TaskConfig::default().ttl(Duration::from_secs(7 * 24 * 3600));
        assert_eq!(c.ttl_ms(), DEFAULT_MAX_TTL.as_millis() as u64);
        assert_eq!(TaskConfig::default().ttl(Duration::ZERO).ttl_ms(), 1_000);
        let c = TaskConfig::default().max_ttl(Duration::from_secs(60));
        assert_eq!(c.grant_ttl_ms(Some(5_000)), 5_000);
        assert_eq!(c.grant_ttl_ms(Some(0)), 1_000);
        assert_eq!(c.grant_ttl_ms(Some(u64::MAX)), 60_000);
        assert_eq!(c.grant_ttl_ms(None), 60_000);
        assert_eq!(
            TaskConfig::default()
                .poll_interval(Duration::ZERO)
                .poll_interval_ms(),
            1
        );
    }
}
