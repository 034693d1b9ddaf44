//! Tasks (the `io.modelcontextprotocol/tasks` extension of the 2026-07-28
//! revision): a `tools/call` that outlives its HTTP exchange, polled with
//! `tasks/get`, fed with `tasks/update`, stopped with `tasks/cancel`. The
//! same engine serves the 2025-11-25 experimental tasks to sessions of that
//! revision ([`experimental`]), each era in its own shapes only.
//!
//! This module holds the protocol as plain data and functions, with no
//! engine and no executor in it:
//!
//! - `task`: a task's record ([`Task`]), its id, status and owner, and its
//!   two wire shapes (the flat `CreateTaskResult` and the detailed task
//!   `tasks/get` answers with).
//! - `lifecycle`: the one function that moves a task from state to state
//!   ([`Change`] in, the task updated), time an input.
//! - `store`: the [`TaskStore`] trait every replica reads tasks through,
//!   and [`MemoryTaskStore`], the default, with its caps and its purge;
//!   [`TaskSignal`], what a replica sends the replica running a task.
//! - [`contract`]: the checks every store must pass, for any store.
//! - `config`: [`TaskConfig`], the limits and timings, each with a default.
//! - `link`: what the process running a task keeps of it: the answers its
//!   handler waits for, and its cancellation.
//! - `clock`: wall-clock milliseconds read from the one clock of core, and
//!   ISO 8601 text for them.
//! - [`experimental`]: the shapes of the 2025-11-25 experimental tasks
//!   (session era), drawn from the same record.
//!
//! The engine's side (which `tools/call` becomes a task, the `tasks/*`
//! methods, running the handler) is in the server's `tasks` module.
//!
//! ```text
//!  tools/call (declares the extension, tool task-capable)
//!     │ store.create(task)  ── durable before the answer
//!     ├──▶ CreateTaskResult {resultType:"task", taskId, status:"working", …}
//!     └──▶ runtime.spawn(handler)  ── ctx.input ─▶ Change::Ask ─▶ input_required
//!                                    tasks/update ─▶ Change::Answered ─▶ working
//!                                    returns ─▶ Change::Finish ─▶ completed | failed
//!  tasks/get ─▶ store.get(id, owner) ─▶ the detailed task (result, error or inputRequests inlined)
//!  tasks/cancel ─▶ Change::Cancel, the handler dropped at its next await
//! ```

mod clock;
mod config;
pub mod contract;
pub mod experimental;
mod lifecycle;
mod link;
mod store;
mod task;
mod watchers;

pub(crate) use clock::wall_ms;
pub use config::{
    DEFAULT_MAX_RESULT_BYTES, DEFAULT_MAX_TASKS, DEFAULT_MAX_TASKS_PER_OWNER, DEFAULT_MAX_TTL,
    DEFAULT_POLL_INTERVAL, DEFAULT_TTL, TaskConfig,
};
pub use lifecycle::{Change, apply};
pub use link::AskError;
pub(crate) use link::{OnChange, TaskLink, TaskStart};
pub use store::{MemoryTaskStore, StoreError, TaskCaps, TaskSignal, TaskStore};
pub use task::{Owner, Task, TaskId, TaskOutcome, TaskStatus};
pub(crate) use watchers::Watchers;

/// The extension's name, as `capabilities.extensions` spells it.
pub const EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// The `-32021` error for a request that needs the extension and did not
/// declare it, naming it in `data.requiredCapabilities`.
pub fn missing_extension() -> crate::jsonrpc::RpcError {
    crate::jsonrpc::RpcError::new(
        crate::jsonrpc::ErrorCode::MISSING_CAPABILITY,
        "this request needs the io.modelcontextprotocol/tasks extension",
    )
    .with_data(serde_json::json!({
        "requiredCapabilities": { "extensions": { EXTENSION: {} } }
    }))
}

/// How a tool runs under the tasks extension: a registration choice of the
/// server's, never shown on the wire (the extension has no per-tool flag).
///
/// Whether a given `tools/call` becomes a task is decided per request:
/// only when the tool is task-capable, the request declared the extension
/// in its own `_meta`, and the server has a runtime to run it on.
///
/// # Examples
///
/// ```
/// use switchboard_core::tasks::TaskSupport;
///
/// let support = TaskSupport::Required;
/// assert!(support.is_capable() && support.is_required());
/// assert!(!TaskSupport::default().is_capable());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskSupport {
    /// Never a task: the call is answered when the handler returns (the
    /// default of every tool).
    #[default]
    Forbidden,
    /// A task when the request declared the extension; otherwise the
    /// handler runs to its end within the call, as any tool.
    Optional,
    /// Only as a task: a request that did not declare the extension is
    /// refused with `-32021` and `data.requiredCapabilities`, before the
    /// handler runs.
    Required,
}

impl TaskSupport {
    /// Whether a call of the tool may become a task.
    pub fn is_capable(self) -> bool {
        !matches!(self, Self::Forbidden)
    }

    /// Whether a call of the tool must be a task.
    pub fn is_required(self) -> bool {
        matches!(self, Self::Required)
    }
}

/// When a task-capable tool's call becomes a task: a registration choice
/// beside [`TaskSupport`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskBegins {
    /// Before the handler runs: all of it runs in the task, and each input
    /// it asks for makes the task `input_required` (the default).
    #[default]
    AtOnce,
    /// When the handler calls
    /// [`RequestContext::start_task`](crate::RequestContext::start_task):
    /// input asked before that is asked through multi round-trip rounds of
    /// the `tools/call` itself (`input_required` with `requestState`), and
    /// the round that reaches `start_task` answers with the task. A handler
    /// that returns without calling it answers the call directly.
    ///
    /// In a 2025-11-25 session, whose client asked for a task and must get
    /// one (and whose input is asked by server→client requests, with no
    /// rounds before a task), such a tool begins its task at once, as
    /// [`AtOnce`](Self::AtOnce); `start_task` then does nothing.
    WhenHandlerStarts,
}
