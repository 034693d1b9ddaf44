//! A handler's side of tasks: which task it runs in, when its task
//! begins, and input asked from inside a task.

use std::sync::Arc;

use serde_json::Value;

use super::{RequestContext, RequestError};
use crate::facts::Capability;
use crate::tasks::{AskError, TaskLink, TaskStart};

impl RequestContext {
    /// The id of the task this handler runs in, once its `tools/call`
    /// became one (see [`TaskSupport`](crate::tasks::TaskSupport)); `None`
    /// while it answers its call directly.
    pub fn task_id(&self) -> Option<&str> {
        self.inner.task.get().map(|t| t.id.as_str())
    }

    /// Whether this request declared the tasks extension in its own
    /// `_meta` (only a 2026-07-28 request can).
    pub fn declares_tasks(&self) -> bool {
        self.inner.facts.declares_tasks()
    }

    /// Makes this call a task now, for a tool registered with
    /// [`TaskBegins::WhenHandlerStarts`](crate::tasks::TaskBegins::WhenHandlerStarts):
    /// the client gets its `CreateTaskResult`, and the handler goes on in
    /// the task. Input asked before this was asked through the call's own
    /// rounds; input asked after it waits for `tasks/update`.
    ///
    /// Returns at once, doing nothing, when the call cannot become a task
    /// (the request did not declare the extension, the tool begins its
    /// tasks at once, or the call already is one). When the task cannot be
    /// made (a cap is reached), the call is answered with the error and
    /// this future never completes: the handler is dropped.
    pub async fn start_task(&self) {
        if self.inner.task.get().is_some() {
            return;
        }
        if let Some(start) = self.inner.task_start.get() {
            start.start().await;
        }
    }

    /// Runs the handler in `task` from now on.
    pub(crate) fn attach_task(&self, task: Arc<TaskLink>) {
        // Set once: a call becomes a task at most once.
        let _ = self.inner.task.set(task);
    }

    /// Lets the handler start its task with `start`.
    pub(crate) fn offer_task_start(&self, start: TaskStart) {
        let _ = self.inner.task_start.set(start);
    }

    /// Asks for input from inside a task: the task is `input_required`
    /// until `tasks/update` answers.
    pub(super) async fn task_input(
        &self,
        task: &TaskLink,
        key: &str,
        method: &str,
        params: Value,
    ) -> Result<Value, RequestError> {
        if let Some(capability) = Capability::needed_by(method) {
            if !self.inner.facts.has(capability) {
                return Err(RequestError::CapabilityMissing(capability.name()));
            }
        }
        task.ask(key, method, params).await.map_err(|e| match e {
            AskError::KeyReused(key) => RequestError::KeyReused(key),
            // Cancelled, or gone: the handler is being dropped anyway.
            _ => RequestError::TaskEnded,
        })
    }
}
