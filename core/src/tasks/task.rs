//! A task's record and its two wire shapes.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::clock::iso8601;
use crate::principal::Principal;

/// A task's id: 128 random bits from the operating system, as 32
/// lowercase hex digits. Unguessable, so knowing one is needed to reach a
/// task; bound to its [`Owner`] besides.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(Arc<str>);

impl TaskId {
    /// A fresh random id.
    ///
    /// # Errors
    ///
    /// When the operating system gives no randomness.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 32];
        for (i, b) in bytes.iter().enumerate() {
            text[2 * i] = HEX[usize::from(b >> 4)];
            text[2 * i + 1] = HEX[usize::from(b & 0xf)];
        }
        // Only ASCII hex digits were written.
        Ok(Self(std::str::from_utf8(&text).unwrap_or_default().into()))
    }

    /// An id as a client sent it (for look-ups).
    pub fn new(id: &str) -> Self {
        Self(id.into())
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// The handler runs.
    Working,
    /// The handler waits for the client's answers (`inputRequests`).
    InputRequired,
    /// The handler returned a result (`isError` results too).
    Completed,
    /// The handler ended in a JSON-RPC error.
    Failed,
    /// `tasks/cancel` stopped it.
    Cancelled,
}

impl TaskStatus {
    /// Whether the status is final: it never changes again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    /// The status as the wire spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Working => "working",
            Self::InputRequired => "input_required",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// Who created a task: the issuer and subject of the token that
/// authorized the `tools/call`, or nobody in particular when the endpoint
/// has no authentication. Only the same owner reads, updates or cancels
/// it; to anyone else it does not exist.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Owner(Option<Arc<str>>);

impl Owner {
    /// The owner a request's principal makes (anonymous without one).
    /// Issuer and subject are length-prefixed, so no two parties read alike.
    pub fn of(principal: Option<&Principal>) -> Self {
        Self(principal.map(|p| {
            let issuer = p.issuer().unwrap_or("");
            format!("{}:{issuer}{}", issuer.len(), p.subject()).into()
        }))
    }

    /// The owner of a task created in session `session` (the 2025-11-25
    /// experimental tasks): the principal, if any, and the session. A
    /// session-era task is bound to its session (its id is the client's
    /// secret), so `tasks/list` lists one client's tasks even without
    /// authentication, and no stateless request (which has no session)
    /// ever reaches it. The key starts with `s`, which no
    /// [`of`](Self::of) key does (those start with a digit).
    pub fn in_session(principal: Option<&Principal>, session: &str) -> Self {
        let by = Self::of(principal);
        Self(Some(
            format!("s{}:{session}{}", session.len(), by.key()).into(),
        ))
    }

    /// An owner named by `key` alone, for tests.
    #[cfg(test)]
    pub(crate) fn new_for_tests(key: &str) -> Self {
        Self(Some(key.into()))
    }

    /// The owner's key (empty for anonymous), what a store files it under.
    pub fn key(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }

    /// The owner as a store keeps it: `null` for anonymous, else its key.
    pub fn to_record(&self) -> Value {
        self.0.as_deref().map_or(Value::Null, |k| json!(k))
    }

    /// An owner read back from [`to_record`](Self::to_record); `None` for
    /// anything else. Only stores call this: an owner comes from a
    /// principal ([`Owner::of`]), never from a client.
    pub fn from_record(value: &Value) -> Option<Self> {
        match value {
            Value::Null => Some(Self(None)),
            Value::String(key) => Some(Self(Some(key.as_str().into()))),
            _ => None,
        }
    }
}

/// How a task ended, when it has.
#[derive(Clone, Debug, PartialEq)]
pub enum TaskOutcome {
    /// The `CallToolResult` the call would have returned, as JSON.
    Result(Value),
    /// The JSON-RPC error object (`code`, `message`, `data`) it ended in.
    Error(Value),
}

/// One task's record: what every replica reads from the store.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    /// The id.
    pub id: TaskId,
    /// Who may reach it.
    pub owner: Owner,
    /// Its status.
    pub status: TaskStatus,
    /// What the handler last said of its progress, or why it failed.
    pub status_message: Option<String>,
    /// Creation time, Unix milliseconds.
    pub created_ms: u64,
    /// Last change, Unix milliseconds.
    pub updated_ms: u64,
    /// Time to live from creation, milliseconds; `None` is unlimited.
    pub ttl_ms: Option<u64>,
    /// How often clients should poll, milliseconds.
    pub poll_interval_ms: Option<u64>,
    /// The questions outstanding, by key: `{method, params}` each.
    pub input_requests: Map<String, Value>,
    /// How it ended.
    pub outcome: Option<TaskOutcome>,
    /// The replica whose process runs the handler, in a store shared by
    /// replicas ([`TaskStore::replica`](super::TaskStore::replica)); `None`
    /// in a store of one process.
    pub runner: Option<String>,
}

impl Task {
    /// A new `working` task created at `now_ms`.
    pub fn new(
        id: TaskId,
        owner: Owner,
        now_ms: u64,
        ttl_ms: Option<u64>,
        poll_interval_ms: Option<u64>,
    ) -> Self {
        Self {
            id,
            owner,
            status: TaskStatus::Working,
            status_message: None,
            created_ms: now_ms,
            updated_ms: now_ms,
            ttl_ms,
            poll_interval_ms,
            input_requests: Map::new(),
            outcome: None,
            runner: None,
        }
    }

    /// The whole record as JSON, for stores that keep it as text; read
    /// back with [`from_record`](Self::from_record).
    pub fn to_record(&self) -> Value {
        let outcome = match &self.outcome {
            None => Value::Null,
            Some(TaskOutcome::Result(v)) => json!({ "result": v }),
            Some(TaskOutcome::Error(v)) => json!({ "error": v }),
        };
        json!({
            "id": self.id.as_str(),
            "owner": self.owner.to_record(),
            "status": self.status,
            "statusMessage": self.status_message,
            "created": self.created_ms,
            "updated": self.updated_ms,
            "ttl": self.ttl_ms,
            "poll": self.poll_interval_ms,
            "inputRequests": self.input_requests,
            "outcome": outcome,
            "runner": self.runner,
        })
    }

    /// A record read back from [`to_record`](Self::to_record); `None` when
    /// `value` is not one.
    pub fn from_record(value: &Value) -> Option<Self> {
        let text = |key: &str| match value.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(_) => None,
        };
        let number = |key: &str| match value.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(v) => v.as_u64().map(Some),
        };
        let outcome = match value.get("outcome") {
            None | Some(Value::Null) => None,
            Some(o) => Some(match (o.get("result"), o.get("error")) {
                (Some(r), None) => TaskOutcome::Result(r.clone()),
                (None, Some(e)) => TaskOutcome::Error(e.clone()),
                _ => return None,
            }),
        };
        Some(Self {
            id: TaskId::new(value.get("id")?.as_str()?),
            owner: Owner::from_record(value.get("owner")?)?,
            status: serde_json::from_value(value.get("status")?.clone()).ok()?,
            status_message: text("statusMessage")?,
            created_ms: value.get("created")?.as_u64()?,
            updated_ms: value.get("updated")?.as_u64()?,
            ttl_ms: number("ttl")?,
            poll_interval_ms: number("poll")?,
            input_requests: value.get("inputRequests")?.as_object()?.clone(),
            outcome,
            runner: text("runner")?,
        })
    }

    /// When the task may be forgotten (Unix milliseconds), if ever.
    pub fn expires_ms(&self) -> Option<u64> {
        self.ttl_ms.map(|ttl| self.created_ms.saturating_add(ttl))
    }

    /// Whether the task is past its time to live at `now_ms`.
    pub fn expired(&self, now_ms: u64) -> bool {
        self.expires_ms().is_some_and(|at| now_ms >= at)
    }

    /// The fields of the `Task` shape every answer shares.
    fn base(&self) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("taskId".into(), json!(self.id.as_str()));
        map.insert("status".into(), json!(self.status.as_str()));
        if let Some(message) = &self.status_message {
            map.insert("statusMessage".into(), json!(message));
        }
        map.insert("createdAt".into(), json!(iso8601(self.created_ms)));
        map.insert("lastUpdatedAt".into(), json!(iso8601(self.updated_ms)));
        // Always present: `null` means unlimited.
        map.insert("ttlMs".into(), json!(self.ttl_ms));
        if let Some(poll) = self.poll_interval_ms {
            map.insert("pollIntervalMs".into(), json!(poll));
        }
        map
    }

    /// The flat `CreateTaskResult` a `tools/call` answers with:
    /// `resultType: "task"` and the task's fields, nothing else.
    pub fn create_result(&self) -> Value {
        let mut map = Map::new();
        map.insert("resultType".into(), json!("task"));
        map.extend(self.base());
        Value::Object(map)
    }

    /// The detailed task: the fields, and by status the outstanding
    /// `inputRequests`, the `result` or the `error`; what `tasks/get`
    /// answers (with `resultType: "complete"`) and `notifications/tasks`
    /// carries.
    pub fn detailed(&self) -> Map<String, Value> {
        let mut map = self.base();
        match (&self.status, &self.outcome) {
            (TaskStatus::InputRequired, _) => {
                map.insert(
                    "inputRequests".into(),
                    Value::Object(self.input_requests.clone()),
                );
            }
            (TaskStatus::Completed, Some(TaskOutcome::Result(result))) => {
                map.insert("result".into(), result.clone());
            }
            (TaskStatus::Failed, Some(TaskOutcome::Error(error))) => {
                map.insert("error".into(), error.clone());
            }
            _ => {}
        }
        map
    }

    /// What `tasks/get` answers: the detailed task with
    /// `resultType: "complete"`.
    pub fn get_result(&self) -> Value {
        self.clone().into_get_result()
    }

    /// [`get_result`](Self::get_result), taking the task: its result or
    /// error moves into the answer instead of being copied.
    pub fn into_get_result(mut self) -> Value {
        let mut map = Map::new();
        map.insert("resultType".into(), json!("complete"));
        let outcome = self.outcome.take();
        let requests = std::mem::take(&mut self.input_requests);
        map.extend(self.base());
        match (self.status, outcome) {
            (TaskStatus::InputRequired, _) => {
                map.insert("inputRequests".into(), Value::Object(requests));
            }
            (TaskStatus::Completed, Some(TaskOutcome::Result(result))) => {
                map.insert("result".into(), result);
            }
            (TaskStatus::Failed, Some(TaskOutcome::Error(error))) => {
                map.insert("error".into(), error);
            }
            _ => {}
        }
        Value::Object(map)
    }

    /// About how many bytes the record holds (its JSON), for limits and
    /// the cost figures.
    pub fn approx_bytes(&self) -> usize {
        let outcome = match &self.outcome {
            Some(TaskOutcome::Result(v) | TaskOutcome::Error(v)) => v.to_string().len(),
            None => 0,
        };
        std::mem::size_of::<Self>()
            + self.id.as_str().len()
            + self.owner.key().len()
            + self.status_message.as_ref().map_or(0, String::len)
            + Value::Object(self.input_requests.clone()).to_string().len()
            + outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> Task {
        Task::new(
            TaskId::new("t1"),
            Owner::default(),
            1_000,
            Some(60_000),
            Some(500),
        )
    }

    #[test]
    fn ids_are_128_random_bits_in_hex() {
        let a = TaskId::random().unwrap();
        let b = TaskId::random().unwrap();
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn the_create_result_is_flat() {
        let created = task().create_result();
        assert_eq!(created["resultType"], "task");
        assert_eq!(created["taskId"], "t1");
        assert_eq!(created["status"], "working");
        assert_eq!(created["ttlMs"], 60_000);
        assert_eq!(created["pollIntervalMs"], 500);
        assert_eq!(created["createdAt"], "1970-01-01T00:00:01.000Z");
        for absent in [
            "task",
            "result",
            "error",
            "inputRequests",
            "requestState",
            "ttl",
        ] {
            assert!(created.get(absent).is_none(), "{absent}");
        }
        let unlimited = Task {
            ttl_ms: None,
            ..task()
        }
        .create_result();
        assert!(unlimited["ttlMs"].is_null() && unlimited.get("ttlMs").is_some());
    }

    #[test]
    fn the_detailed_task_inlines_by_status() {
        let mut t = task();
        assert!(t.get_result().get("inputRequests").is_none());
        t.status = TaskStatus::InputRequired;
        t.input_requests
            .insert("k".into(), json!({"method": "roots/list"}));
        assert_eq!(t.get_result()["inputRequests"]["k"]["method"], "roots/list");
        t.status = TaskStatus::Completed;
        t.outcome = Some(TaskOutcome::Result(json!({"content": []})));
        let done = t.get_result();
        assert_eq!(done["resultType"], "complete");
        assert!(done.get("result").is_some() && done.get("inputRequests").is_none());
        t.status = TaskStatus::Failed;
        t.outcome = Some(TaskOutcome::Error(json!({"code": -32603, "message": "x"})));
        let failed = t.get_result();
        assert_eq!(failed["error"]["code"], -32603);
        assert!(failed.get("result").is_none());
    }

    #[test]
    fn a_record_reads_back_whole() {
        let mut t = task();
        t.owner = Owner::of(Some(&Principal::new("s").with_issuer("i")));
        t.status = TaskStatus::Failed;
        t.status_message = Some("boom".into());
        t.outcome = Some(TaskOutcome::Error(
            json!({"code": -32603, "message": "boom"}),
        ));
        t.runner = Some("r1".into());
        t.input_requests
            .insert("k".into(), json!({"method": "roots/list"}));
        assert_eq!(Task::from_record(&t.to_record()), Some(t.clone()));
        let plain = task();
        assert_eq!(Task::from_record(&plain.to_record()), Some(plain));
        assert_eq!(Task::from_record(&json!({"id": "x"})), None);
    }

    #[test]
    fn owners_are_told_apart_by_issuer_and_subject() {
        let a = Principal::new("bc").with_issuer("a");
        let b = Principal::new("c").with_issuer("ab");
        assert_ne!(Owner::of(Some(&a)), Owner::of(Some(&b)));
        assert_ne!(Owner::of(Some(&a)), Owner::of(None));
        assert_eq!(Owner::of(None).key(), "");
        let s1 = Owner::in_session(None, "s1");
        assert_ne!(s1, Owner::of(None));
        assert_ne!(s1, Owner::in_session(Some(&a), "s1"));
        assert_ne!(s1, Owner::in_session(None, "s2"));
    }
}
