//! A stateless request's params, read in one pass: the stateless keys of
//! `_meta` and the fields the routing headers repeat, each kept as raw
//! JSON text borrowed from the params.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::jsonrpc::Params;

/// The stateless keys of `_meta`, each kept as raw JSON text (borrowed
/// from the params) so that only what is present is read further.
#[derive(Deserialize)]
pub(super) struct Meta<'a> {
    /// `…/protocolVersion`.
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", borrow, default)]
    pub(super) version: Option<&'a RawValue>,
    /// `…/clientCapabilities`.
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities", borrow, default)]
    pub(super) capabilities: Option<&'a RawValue>,
    /// `…/clientInfo`.
    #[serde(rename = "io.modelcontextprotocol/clientInfo", borrow, default)]
    pub(super) info: Option<&'a RawValue>,
    /// `…/logLevel`.
    #[serde(rename = "io.modelcontextprotocol/logLevel", borrow, default)]
    pub(super) log_level: Option<&'a RawValue>,
    /// `progressToken`.
    #[serde(rename = "progressToken", default)]
    pub(super) progress_token: Option<serde_json::Value>,
}

/// The params: `_meta`, and the names routing headers repeat, read in
/// one pass.
#[derive(Deserialize)]
struct WithMeta<'a> {
    #[serde(rename = "_meta", borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    uri: Option<&'a RawValue>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
    #[serde(rename = "taskId", borrow, default)]
    task_id: Option<&'a RawValue>,
    #[serde(rename = "inputResponses", borrow, default)]
    input_responses: Option<&'a RawValue>,
    #[serde(rename = "requestState", borrow, default)]
    request_state: Option<&'a RawValue>,
}

/// What the pass read out of params with a `_meta`.
pub(super) struct Read<'a> {
    /// The stateless keys.
    pub(super) meta: Meta<'a>,
    /// `params.name`, raw.
    pub(super) name: Option<&'a RawValue>,
    /// `params.uri`, raw.
    pub(super) uri: Option<&'a RawValue>,
    /// `params.arguments`, raw.
    pub(super) arguments: Option<&'a RawValue>,
    /// `params.taskId`, raw.
    pub(super) task_id: Option<&'a RawValue>,
    /// Whether `inputResponses` or `requestState` is there.
    pub(super) retry: bool,
}

/// Reads `params`: `None` when they have no `_meta` (or a `null` one).
///
/// # Errors
///
/// serde's error when the params or their `_meta` do not read.
pub(super) fn read(params: &Params) -> Result<Option<Read<'_>>, serde_json::Error> {
    let with = params.parse::<WithMeta<'_>>()?;
    Ok(with.meta.map(|meta| Read {
        meta,
        name: with.name,
        uri: with.uri,
        arguments: with.arguments,
        task_id: with.task_id,
        retry: with.input_responses.is_some() || with.request_state.is_some(),
    }))
}
