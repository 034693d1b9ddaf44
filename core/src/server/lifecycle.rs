//! `initialize`: version negotiation, the session it opens, and the
//! capabilities the server declares. The one place a revision is chosen.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::error::MethodError;
use super::params::{Outcome, encode, parse_params};
use super::shared::Shared;
use crate::facts::{ClientCapabilities, ClientFacts};
use crate::id::SessionId;
use crate::jsonrpc::Params;
use crate::protocol::{Implementation, ProtocolVersion};
use crate::session::{OpenError, Session};

/// Opens a session for an `initialize` request at `now` (named `id`, or
/// with a minted id) and returns it with its encoded result.
pub(crate) fn open_session(
    shared: &Shared,
    id: Option<SessionId>,
    params: Option<&Params>,
    now: Instant,
) -> Result<(Arc<Session>, Outcome), MethodError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct InitializeParams<'a> {
        #[serde(borrow)]
        protocol_version: Cow<'a, str>,
        #[serde(default)]
        capabilities: ClientCapabilities,
    }
    let params: InitializeParams<'_> = parse_params(params)?;
    let version = ProtocolVersion::negotiate(&params.protocol_version);
    let facts = ClientFacts::new(version, params.capabilities);
    let session = shared.sessions.open(id, facts, now).map_err(|e| match e {
        OpenError::Full | OpenError::NoRandomness => MethodError::TooManySessions,
        OpenError::Exists => MethodError::AlreadyInitialized,
    })?;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct InitializeResult<'a> {
        protocol_version: &'a str,
        capabilities: Capabilities,
        server_info: &'a Implementation,
        #[serde(skip_serializing_if = "Option::is_none")]
        instructions: Option<&'a str>,
    }
    let result = encode(InitializeResult {
        protocol_version: version.as_str(),
        capabilities: capabilities(shared),
        server_info: &shared.info,
        instructions: shared.instructions.as_deref(),
    });
    Ok((session, result))
}

/// The capabilities of what is registered now (plus logging, always on).
fn capabilities(shared: &Shared) -> Capabilities {
    let reg = shared.registry();
    let list_changed = Some(ListChanged {
        list_changed: true,
        subscribe: None,
    });
    Capabilities {
        logging: Empty {},
        tools: list_changed.filter(|_| !reg.tools.is_empty()),
        resources: (!reg.resources.is_empty() || !reg.templates.is_empty()).then_some(
            ListChanged {
                list_changed: true,
                subscribe: Some(true),
            },
        ),
        prompts: list_changed.filter(|_| !reg.prompts.is_empty()),
        completions: reg.completion.is_some().then_some(Empty {}),
    }
}

/// The server capabilities declared in `initialize`.
#[derive(Serialize)]
struct Capabilities {
    logging: Empty,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<ListChanged>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<ListChanged>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompts: Option<ListChanged>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completions: Option<Empty>,
}

/// `{}`.
#[derive(Clone, Copy, Serialize)]
struct Empty {}

/// `{"listChanged": true}`, plus `subscribe` for resources.
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
struct ListChanged {
    #[serde(skip_serializing_if = "Option::is_none")]
    subscribe: Option<bool>,
    list_changed: bool,
}
