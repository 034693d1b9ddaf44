//! A handler's side of tasks: which task it runs in, when its task
//! begins, and input asked from inside a task.

use std::sync::Arc;

use serde_json::Value;

use futures::channel::oneshot;

use super::requests::Waiter;
use super::{RequestContext, RequestError};
use crate::facts::Capability;
use crate::jsonrpc::{Message, Request};
use crate::tasks::{AskError, Change, TaskLink, TaskStart, experimental};

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

    /// Sends `messages` (a 2025-11-25 task's queued server→client requests)
    /// related to this request, in order: on a `tasks/result`'s own stream.
    ///
    /// # Errors
    ///
    /// The messages not sent (the first that failed and those after it),
    /// for the task to keep.
    pub(crate) async fn deliver(&self, messages: Vec<Message>) -> Result<(), Vec<Message>> {
        let mut rest = messages.into_iter();
        while let Some(message) = rest.next() {
            if self.send(message.clone()).await.is_err() {
                return Err(std::iter::once(message).chain(rest).collect());
            }
        }
        Ok(())
    }

    /// Lets the handler start its task with `start`.
    pub(crate) fn offer_task_start(&self, start: TaskStart) {
        let _ = self.inner.task_start.set(start);
    }

    /// Asks for input from inside a task: the task is `input_required`
    /// until `tasks/update` answers (the extension), or until the client
    /// answers the server→client request (2025-11-25).
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
        if !self.inner.facts.version.is_stateless() {
            return self.task_request(task, method, params).await;
        }
        task.ask(key, method, params).await.map_err(|e| match e {
            AskError::KeyReused(key) => RequestError::KeyReused(key),
            // Cancelled, or gone: the handler is being dropped anyway.
            _ => RequestError::TaskEnded,
        })
    }

    /// Asks the client from inside a 2025-11-25 task: a real server→client
    /// request carrying the related-task `_meta`, numbered in the session
    /// and answered there as any, but queued on the task until a
    /// `tasks/result` of it delivers it on its own stream (the TypeScript
    /// SDK 1.x does the same). The task is `input_required` from the moment
    /// it is queued until every question it asked is answered.
    ///
    /// No timeout of its own: the wait ends with the answer, the session,
    /// or the task (cancelled or past its time to live, which drops the
    /// handler).
    async fn task_request(
        &self,
        task: &TaskLink,
        method: &str,
        params: Value,
    ) -> Result<Value, RequestError> {
        let session = &self.inner.session;
        let (id, rx) = self.pend()?;
        let _waiter = Waiter { session, id: &id };
        let params = experimental::with_related_task(params, &task.id);
        let key = task.auto_key(method);
        let mut question = self.inner.task.get().map(|link| Question {
            task: Arc::clone(link),
            id: id.clone(),
            key: Some(key.clone()),
            runtime: self.inner.outlet.runtime.clone(),
        });
        let asked = Change::Ask {
            key: key.clone(),
            request: serde_json::json!({ "method": method, "params": params }),
        };
        task.post(Message::Request(Request {
            id: id.clone(),
            method: method.to_owned(),
            params: Some(params.into()),
        }));
        // The change wakes a `tasks/result` waiting, which delivers it.
        if !task.change(asked).await {
            return Err(RequestError::TaskEnded);
        }
        let answer = rx.await;
        if let Some(question) = &mut question {
            question.key = None;
        }
        task.change(Change::Answered(vec![key])).await;
        match answer {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(RequestError::Rejected(e)),
            Err(oneshot::Canceled) if session.state().shutting_down => {
                Err(RequestError::ShuttingDown)
            }
            Err(oneshot::Canceled) => Err(RequestError::SessionClosed),
        }
    }
}

/// A 2025-11-25 task's question until its answer comes. Dropped before
/// (the handler gave up on it: a `select` with a timeout, say), it leaves
/// the task's queue, if not delivered yet, and the record's questions, so
/// the task does not read `input_required` for a question nobody waits on.
struct Question {
    task: Arc<TaskLink>,
    id: crate::jsonrpc::RequestId,
    /// `None` once answered.
    key: Option<String>,
    runtime: Option<Arc<dyn crate::runtime::Runtime>>,
}

impl Drop for Question {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        self.task.unpost(&self.id);
        // The record's change is async; a task always has a runtime.
        if let Some(runtime) = &self.runtime {
            let task = Arc::clone(&self.task);
            runtime.spawn(Box::pin(async move {
                task.change(Change::Answered(vec![key])).await;
            }));
        }
    }
}
