//! `initialize`: version negotiation, the session it opens, and the
//! capabilities the server declares. The one place a revision is chosen.
//!
//! Both ways into a session end here: the serve loop's, where the
//! transport names the session, and [`Dispatch::initialize`]'s, where a
//! new id is minted (HTTP). Everything later in the session reads the
//! revision and client capabilities fixed here, from the session's facts.
//!
//! [`Dispatch::initialize`]: crate::Dispatch::initialize

use crate::clock::Instant;
use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;

use super::error::MethodError;
use super::params::{Outcome, encode, parse_params};
use super::shared::Shared;
use crate::facts::{ClientCapabilities, ClientFacts};
use crate::id::SessionId;
use crate::jsonrpc::Params;
use crate::principal::Principal;
use crate::protocol::{Implementation, ProtocolVersion};
use crate::session::{OpenError, Session};

/// Opens a session for an `initialize` request at `now` (named `id`, or
/// with a minted id) and returns it with its encoded result.
///
/// The requested revision is echoed when supported and answered with the
/// latest otherwise (the client then decides whether to go on). The session
/// starts with `now` as its last activity and is not yet *initialized*: it
/// gets no broadcasts until the client sends `notifications/initialized`.
/// The declared capabilities are those of what is registered now.
///
/// # Errors
///
/// - [`MethodError::InvalidParams`] (`-32602`) when the params lack a string
///   `protocolVersion` or have malformed `capabilities`; nothing is opened.
/// - [`MethodError::TooManySessions`] (`-32000`, HTTP 503) at the session
///   cap, or when no id could be minted.
/// - [`MethodError::AlreadyInitialized`] (`-32600`) when a session of that
///   id is open already.
pub(crate) fn open_session(
    shared: &Shared,
    id: Option<SessionId>,
    params: Option<&Params>,
    now: Instant,
    principal: Option<Arc<Principal>>,
) -> Result<(Arc<Session>, Outcome), MethodError> {
    /// What the engine reads of `initialize`'s params (`clientInfo` is
    /// kept only in a shared session store's record).
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct InitializeParams<'a> {
        /// The revision the client asks for; borrowed when unescaped.
        #[serde(borrow)]
        protocol_version: Cow<'a, str>,
        /// What the client can do; none when absent.
        #[serde(default)]
        capabilities: ClientCapabilities,
        /// Who the client is; kept only for a shared session store.
        #[serde(default)]
        client_info: Option<serde_json::Value>,
    }
    let params: InitializeParams<'_> = parse_params(params)?;
    let version = ProtocolVersion::negotiate(&params.protocol_version);
    let facts = ClientFacts::new(version, params.capabilities).with_principal(principal);
    let session = shared.sessions.open(id, facts, now).map_err(|e| match e {
        OpenError::Full => MethodError::TooManySessions,
        OpenError::NoRandomness => MethodError::NoSessionId,
        OpenError::Exists => MethodError::AlreadyInitialized,
    })?;
    if shared.session_store.is_some() {
        // The record written before the answer goes out keeps these.
        session.state().stored = Some(Box::new(crate::session::Stored {
            checked: now,
            client_info: params.client_info,
        }));
    }
    crate::observe::session_opened(session.id(), version.as_str());
    shared.sessions_changed();
    /// The result of `initialize`, borrowed from the server's state.
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct InitializeResult<'a> {
        /// The negotiated revision, which the session keeps.
        protocol_version: &'a str,
        /// What the server declares.
        capabilities: Capabilities,
        /// The builder's `server_info`.
        server_info: &'a Implementation,
        /// The builder's `instructions`, left out when unset.
        #[serde(skip_serializing_if = "Option::is_none")]
        instructions: Option<&'a str>,
    }
    let mut declared = capabilities(shared);
    if version.has_experimental_tasks()
        && shared.outlet.runtime.is_some()
        && shared.registry().tools.iter().any(|e| e.task.is_capable())
    {
        // The 2025-11-25 experimental tasks: task-augmented `tools/call`,
        // `tasks/list` (tasks are bound to the session, so a client lists
        // only its own) and `tasks/cancel`. Never in `server/discover`.
        let mut tasks = serde_json::json!({
            "cancel": {}, "requests": { "tools": { "call": {} } }
        });
        if shared.tasks.store.can_list() {
            tasks["list"] = serde_json::json!({});
        }
        declared.tasks = Some(tasks);
    }
    let result = encode(InitializeResult {
        protocol_version: version.as_str(),
        capabilities: declared,
        server_info: &shared.info,
        instructions: shared.instructions.as_deref(),
    });
    Ok((session, result))
}

/// Returns the capabilities of what is registered now (plus logging,
/// always on, since `logging/setLevel` is always served). A server whose
/// lists may change ([`ServerConfig::list_changed`](crate::ServerConfig::list_changed))
/// declares `tools`, `resources` and `prompts` with `listChanged` even
/// while empty; otherwise each is declared once something of it is
/// registered, without `listChanged`. `resources` also says `subscribe`
/// when subscriptions can be taken. `completions` needs a completion
/// handler.
fn capabilities(shared: &Shared) -> Capabilities {
    let reg = shared.registry();
    let dynamic = shared.config.list_changed;
    let family = |present: bool, subscribe: Option<bool>| {
        (dynamic || present).then_some(ListChanged {
            list_changed: dynamic.then_some(true),
            subscribe,
        })
    };
    Capabilities {
        logging: Empty {},
        tools: family(!reg.tools.is_empty(), None),
        resources: family(
            !reg.resources.is_empty() || !reg.templates.is_empty(),
            // Declared only when a subscription can be taken.
            Some(shared.config.max_subscriptions > 0),
        ),
        prompts: family(!reg.prompts.is_empty(), None),
        completions: reg.completion.is_some().then_some(Empty {}),
        tasks: None,
    }
}

/// The capabilities as a JSON value, for `server/discover`. A stateless
/// server declares no `logging` (the revision has no `logging/setLevel`;
/// a request asks for logs in its own `_meta`).
pub(crate) fn capabilities_value(shared: &Shared, stateless: bool) -> serde_json::Value {
    let mut value = serde_json::to_value(capabilities(shared)).unwrap_or_default();
    if stateless {
        if let Some(map) = value.as_object_mut() {
            map.remove("logging");
            // The tasks extension exists only in the stateless revision.
            map.insert(
                "extensions".into(),
                serde_json::json!({ crate::tasks::EXTENSION: {} }),
            );
        }
    }
    value
}

/// The server capabilities declared in `initialize`. A family left out
/// (`None`) is not declared at all.
#[derive(Serialize)]
struct Capabilities {
    /// Always declared: `logging/setLevel` and log notifications.
    logging: Empty,
    /// Declared once a tool is registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<ListChanged>,
    /// Declared once a resource or a template is registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<ListChanged>,
    /// Declared once a prompt is registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    prompts: Option<ListChanged>,
    /// Declared with a completion handler.
    #[serde(skip_serializing_if = "Option::is_none")]
    completions: Option<Empty>,
    /// The 2025-11-25 experimental tasks: declared at `initialize` of a
    /// session of that revision, on a server with a runtime and a
    /// task-capable tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    tasks: Option<serde_json::Value>,
}

/// `{}`: a capability with no options.
#[derive(Clone, Copy, Serialize)]
struct Empty {}

/// `{"listChanged": true}` (or `{}`), plus `subscribe` for resources.
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
struct ListChanged {
    /// `subscribe`, for resources only; left out elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    subscribe: Option<bool>,
    /// `listChanged`: the server sends `notifications/*/list_changed`;
    /// left out when its lists never change.
    #[serde(skip_serializing_if = "Option::is_none")]
    list_changed: Option<bool>,
}
