//! JSON-RPC error codes and error objects.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A JSON-RPC error code.
///
/// Any `i32` is a code; the constants name the ones this crate sends.
/// `-32768..=-32000` is reserved by JSON-RPC: `-32700` and `-32600..=-32603`
/// are its own, `-32000..=-32099` are for implementations (this server's
/// [`ErrorCode::SERVER_BUSY`] and [`ErrorCode::SESSION_NOT_FOUND`]), and MCP
/// claims [`ErrorCode::RESOURCE_NOT_FOUND`]. A handler's own errors may use
/// any code outside the reserved range.
///
/// # Examples
///
/// ```
/// use switchboard_core::ErrorCode;
///
/// assert_eq!(ErrorCode::METHOD_NOT_FOUND, ErrorCode(-32601));
/// assert_eq!(serde_json::to_string(&ErrorCode::PARSE_ERROR).unwrap(), "-32700");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ErrorCode(pub i32);

impl ErrorCode {
    /// Invalid JSON was received. Its response has `id: null`, since no id
    /// could be read.
    pub const PARSE_ERROR: Self = Self(-32700);
    /// The JSON sent is not a valid request object. The engine also answers
    /// with it for messages it refuses whole (a duplicate id, a batch where
    /// batches are not allowed, a message over the size limit) and for
    /// requests out of lifecycle order (any before `initialize`, a second
    /// `initialize`).
    pub const INVALID_REQUEST: Self = Self(-32600);
    /// The method does not exist or is not available.
    pub const METHOD_NOT_FOUND: Self = Self(-32601);
    /// Invalid method parameters; also an unknown tool or prompt, a missing
    /// required prompt argument, or a cursor no page of the server produced.
    pub const INVALID_PARAMS: Self = Self(-32602);
    /// Internal error: the engine sends it when a handler panicked or its
    /// result did not serialize.
    pub const INTERNAL_ERROR: Self = Self(-32603);
    /// Implementation-defined server error: the server refuses the request
    /// for now (a limit was reached); the client may retry later.
    pub const SERVER_BUSY: Self = Self(-32000);
    /// Implementation-defined: the session is unknown or was terminated.
    pub const SESSION_NOT_FOUND: Self = Self(-32001);
    /// MCP before SEP-2164: the requested resource does not exist. This
    /// server answers a missing resource with [`ErrorCode::INVALID_PARAMS`]
    /// and `data.uri` in every revision, as SEP-2164 settled.
    pub const RESOURCE_NOT_FOUND: Self = Self(-32002);
    /// A stateless request's headers disagree with its body, or one is
    /// missing or malformed (`MCP-Protocol-Version`, `Mcp-Method`,
    /// `Mcp-Name`, `Mcp-Param-*`). MCP 2026-07-28; HTTP 400.
    pub const HEADER_MISMATCH: Self = Self(-32020);
    /// The request needs a client capability it did not declare, named in
    /// `data.requiredCapabilities`. MCP 2026-07-28; HTTP 400.
    pub const MISSING_CAPABILITY: Self = Self(-32021);
    /// The request's protocol revision is not served; `data.supported`
    /// lists those that are, `data.requested` echoes it. MCP 2026-07-28;
    /// HTTP 400.
    pub const UNSUPPORTED_VERSION: Self = Self(-32022);
}

/// A JSON-RPC error object: `{code, message, data?}`.
///
/// What a handler returns to answer with an error; the constructors below
/// pick the code. Its `Display` (`json-rpc error -32602: …`) is for logs;
/// on the wire it is the object itself.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use switchboard_core::{ErrorCode, RpcError};
///
/// let error = RpcError::invalid_params("missing city").with_data(json!({"field": "city"}));
/// assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
/// assert_eq!(
///     serde_json::to_value(&error).unwrap(),
///     json!({"code": -32602, "message": "missing city", "data": {"field": "city"}})
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("json-rpc error {}: {message}", code.0)]
pub struct RpcError {
    /// The error code.
    pub code: ErrorCode,
    /// A short description.
    pub message: String,
    /// Optional structured detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    /// Builds an error with a code and message, and no `data`.
    ///
    /// For codes the named constructors do not cover, such as a handler's
    /// own codes outside the reserved range.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Attaches structured detail, replacing any already attached.
    #[must_use]
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// A `-32700` parse error: the bytes are not JSON. [`decode`](crate::jsonrpc::decode) builds
    /// these itself; a transport rarely needs one.
    pub fn parse_error(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::PARSE_ERROR, message)
    }

    /// A `-32600` invalid request error: JSON that is not a valid message,
    /// or a message refused as a whole.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INVALID_REQUEST, message)
    }

    /// A `-32601` error naming the method (`method not found: x/y`).
    pub fn method_not_found(method: &str) -> Self {
        Self::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!("method not found: {method}"),
        )
    }

    /// A `-32602` invalid params error: what a handler returns for
    /// arguments it cannot use (tool arguments that do not fit the handler's
    /// type are reported by the engine itself).
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INVALID_PARAMS, message)
    }

    /// A `-32603` internal error: the server failed, not the request. The
    /// message goes to the client, so it should not leak secrets.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INTERNAL_ERROR, message)
    }

    /// A resource-not-found error carrying the URI as `data: {"uri": …}`:
    /// `-32602`, as MCP specifies since SEP-2164 (it was `-32002`), and what
    /// the server itself answers for a URI nothing serves. What a resource
    /// or template handler returns for a URI it does not serve.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::{ErrorCode, RpcError};
    ///
    /// let error = RpcError::resource_not_found("file:///missing.txt");
    /// assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
    /// assert_eq!(error.data.unwrap()["uri"], "file:///missing.txt");
    /// ```
    pub fn resource_not_found(uri: &str) -> Self {
        Self::new(ErrorCode::INVALID_PARAMS, "resource not found")
            .with_data(serde_json::json!({ "uri": uri }))
    }
}
