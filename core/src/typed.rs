//! Typed tools, prompts and resource templates: what a handler takes and
//! returns, and how a tool's failure reaches the client.
//!
//! - [`Args<T>`] reads a handler's arguments into `T` and, with the
//!   `schemars` feature, generates the schema clients are shown from `T`
//!   (a tool's `inputSchema`, a prompt's argument list).
//! - [`Json<T>`] is a structured tool result: `structuredContent`, its
//!   text mirror in `content`, and (with `schemars`) the tool's
//!   `outputSchema`.
//! - [`ToolError`] is what a tool handler fails with: anything that
//!   implements `Display` converts into it with `?`, and the client gets an
//!   `isError` result carrying the message. An [`RpcError`] (or a
//!   [`RequestError`](crate::context::RequestError)) stays a JSON-RPC error.
//!
//! Without the `schemars` feature, everything but the generation works:
//! `Args<T>` then needs only `T: DeserializeOwned`, `Json<T>` only
//! `T: Serialize`, and schemas are the ones written on the [`Tool`](crate::Tool) or
//! [`Prompt`](crate::Prompt).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::jsonrpc::RpcError;
use crate::protocol::{CallToolResult, Content, PromptArgument};

#[cfg(feature = "schemars")]
mod schema;
mod strings;
#[cfg(feature = "validate")]
mod validate;

#[cfg(feature = "schemars")]
pub(crate) use schema::elicitation_schema;
#[cfg(feature = "schemars")]
pub use schema::schema_for;
pub(crate) use strings::from_strings;
#[cfg(feature = "validate")]
pub(crate) use validate::ArgsValidator;

/// Typed arguments: the handler gets a `T` read from the request's
/// arguments.
///
/// With the `schemars` feature, `T: JsonSchema` also describes the
/// arguments to clients: a tool's `inputSchema` is generated from `T`
/// (unless the [`Tool`](crate::Tool) was given one by hand), a prompt's argument list
/// from `T`'s fields. Destructure it in the closure's parameter list:
/// `|Args(a): Args<AddArgs>, _ctx| …`.
///
/// Prompt arguments and template variables arrive as strings; a field of
/// another type (`u32`, `bool`, …) is parsed from its string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Args<T>(pub T);

/// A structured tool result: `T` is sent as `structuredContent`, with its
/// JSON text as the one text block of `content` (the mirror the spec
/// recommends for clients that read only `content`).
///
/// With the `schemars` feature, the tool's `outputSchema` is generated
/// from `T`. A `T` whose schema is not an object's (a list, a number, an
/// `Option`) is sent as `{"result": …}`, and its schema wrapped alike:
/// `structuredContent` must be an object, and fit the schema. (Without the
/// feature, a value that is not an object is wrapped.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

/// How a tool handler failed.
///
/// Any error that implements `Display` converts into it (so `?` works on
/// anything), and becomes a tool result with `isError: true` and the
/// message: the model reads it and can try again. Two kinds stay JSON-RPC
/// errors, sent as they are: an [`RpcError`] (say
/// `RpcError::invalid_params(..)`), and a
/// [`RequestError`](crate::context::RequestError) from asking the client something,
/// converted as `From<RequestError> for RpcError` says (`-32021` for a
/// capability the client lacks).
///
/// `ToolError` itself does not implement `Display` (nor
/// `std::error::Error`), which is what lets every `Display` type convert
/// into it.
///
/// # Examples
///
/// ```
/// use switchboard_core::{RpcError, ToolError};
///
/// let parse: ToolError = "x".parse::<i32>().unwrap_err().into();
/// assert_eq!(parse.message(), "invalid digit found in string");
/// assert!(parse.as_protocol().is_none());
///
/// let protocol: ToolError = RpcError::invalid_params("no such city").into();
/// assert_eq!(protocol.as_protocol().unwrap().message, "no such city");
/// ```
#[derive(Debug)]
pub struct ToolError(Kind);

#[derive(Debug)]
enum Kind {
    /// The tool's own failure: an `isError` result.
    Tool(String),
    /// A protocol error: a JSON-RPC error response.
    Protocol(RpcError),
}

impl ToolError {
    /// A tool failure with this message (an `isError` result).
    pub fn new(message: impl Into<String>) -> Self {
        Self(Kind::Tool(message.into()))
    }

    /// A JSON-RPC error, sent as it is.
    pub fn protocol(error: RpcError) -> Self {
        Self(Kind::Protocol(error))
    }

    /// The message the client will read.
    pub fn message(&self) -> &str {
        match &self.0 {
            Kind::Tool(m) => m,
            Kind::Protocol(e) => &e.message,
        }
    }

    /// The JSON-RPC error, when this is one.
    pub fn as_protocol(&self) -> Option<&RpcError> {
        match &self.0 {
            Kind::Protocol(e) => Some(e),
            Kind::Tool(_) => None,
        }
    }

    /// What the client gets: a JSON-RPC error, or an `isError` result.
    pub(crate) fn into_outcome(self) -> Result<CallToolResult, RpcError> {
        match self.0 {
            Kind::Tool(m) => Ok(CallToolResult::error(m)),
            Kind::Protocol(e) => Err(e),
        }
    }
}

// `From<E: Display>` for `ToolError` is implemented beside `RequestError`
// (`context/error.rs`), which it must tell apart at run time: this module
// sits below the context and does not name it.

/// What a tool handler may take as its arguments: any
/// `T: DeserializeOwned` (the schema is the one on the [`Tool`](crate::Tool)), or
/// [`Args<T>`] (the schema generated from `T`, with `schemars`).
pub trait ToolArgs: Sized + Send + 'static {
    /// The generated `inputSchema`, if any.
    fn input_schema() -> Option<Value>;
    /// Reads the arguments' JSON text (`{}` when the call had none).
    ///
    /// # Errors
    ///
    /// Why the arguments do not fit, for the client to read.
    fn from_json(text: &str) -> Result<Self, String>;

    /// Reads arguments already parsed into a [`Value`] (as the `validate`
    /// feature does to check them), sparing a second parse of the text.
    ///
    /// # Errors
    ///
    /// Why the arguments do not fit, for the client to read.
    fn from_value(value: Value) -> Result<Self, String> {
        Self::from_json(&value.to_string())
    }
}

impl<T: DeserializeOwned + Send + 'static> ToolArgs for T {
    fn input_schema() -> Option<Value> {
        None
    }
    fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
    fn from_value(value: Value) -> Result<Self, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }
}

#[cfg(feature = "schemars")]
impl<T: DeserializeOwned + schemars::JsonSchema + Send + 'static> ToolArgs for Args<T> {
    fn input_schema() -> Option<Value> {
        Some(schema::object_schema::<T>())
    }
    fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text)
            .map(Args)
            .map_err(|e| e.to_string())
    }
    fn from_value(value: Value) -> Result<Self, String> {
        serde_json::from_value(value)
            .map(Args)
            .map_err(|e| e.to_string())
    }
}

#[cfg(not(feature = "schemars"))]
impl<T: DeserializeOwned + Send + 'static> ToolArgs for Args<T> {
    fn input_schema() -> Option<Value> {
        None
    }
    fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text)
            .map(Args)
            .map_err(|e| e.to_string())
    }
    fn from_value(value: Value) -> Result<Self, String> {
        serde_json::from_value(value)
            .map(Args)
            .map_err(|e| e.to_string())
    }
}

/// What a tool handler may return: a [`CallToolResult`], text (`String`,
/// `&'static str`), content blocks (`Content`, `Vec<Content>`), or a
/// structured [`Json<T>`].
pub trait ToolOutput: Send + 'static {
    /// The generated `outputSchema`, if any.
    fn output_schema() -> Option<Value> {
        None
    }
    /// The result sent to the client.
    ///
    /// # Errors
    ///
    /// A structured result that cannot be serialized.
    fn into_result(self) -> Result<CallToolResult, ToolError>;

    /// Whether a structured result goes out wrapped as `{"result": …}`,
    /// decided once from the type's schema so that the value always fits
    /// the `outputSchema` listed; `None` decides by each value.
    #[doc(hidden)]
    fn wraps() -> Option<bool> {
        None
    }

    /// [`into_result`](Self::into_result), wrapping as [`wraps`](Self::wraps) decided.
    #[doc(hidden)]
    fn into_result_wrapped(self, _wrap: Option<bool>) -> Result<CallToolResult, ToolError>
    where
        Self: Sized,
    {
        self.into_result()
    }
}

impl ToolOutput for CallToolResult {
    fn into_result(self) -> Result<CallToolResult, ToolError> {
        Ok(self)
    }
}

impl ToolOutput for String {
    fn into_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::text(self))
    }
}

impl ToolOutput for &'static str {
    fn into_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::text(self))
    }
}

impl ToolOutput for Content {
    fn into_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::content(vec![self]))
    }
}

impl ToolOutput for Vec<Content> {
    fn into_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::content(self))
    }
}

/// `Json<T>`'s result: the value, wrapped as `{"result": …}` when `wrap`
/// says so (or, undecided, unless it is an object), and its text mirror.
fn structured<T: Serialize>(value: &T, wrap: Option<bool>) -> Result<CallToolResult, ToolError> {
    let value = serde_json::to_value(value).map_err(|e| ToolError::new(e.to_string()))?;
    let value = if wrap.unwrap_or(!value.is_object()) {
        serde_json::json!({ "result": value })
    } else {
        value
    };
    Ok(CallToolResult::structured(value))
}

#[cfg(feature = "schemars")]
impl<T: Serialize + schemars::JsonSchema + Send + 'static> ToolOutput for Json<T> {
    fn output_schema() -> Option<Value> {
        Some(schema::output_schema::<T>())
    }
    fn into_result(self) -> Result<CallToolResult, ToolError> {
        structured(&self.0, Self::wraps())
    }
    fn wraps() -> Option<bool> {
        Some(!schema::is_object(&schema::schema_for::<T>()))
    }
    fn into_result_wrapped(self, wrap: Option<bool>) -> Result<CallToolResult, ToolError> {
        structured(&self.0, wrap)
    }
}

#[cfg(not(feature = "schemars"))]
impl<T: Serialize + Send + 'static> ToolOutput for Json<T> {
    fn into_result(self) -> Result<CallToolResult, ToolError> {
        structured(&self.0, None)
    }
}

/// What a prompt handler or a resource template's handler may take: the
/// raw map of strings (`HashMap<String, String>`), or [`Args<T>`] read
/// from it (fields parsed from their strings).
pub trait StringArgs: Sized + Send + 'static {
    /// The arguments a prompt lists, generated from the type (with
    /// `schemars`); `None` for the raw map.
    fn prompt_arguments() -> Option<Vec<PromptArgument>>;
    /// Reads the map.
    ///
    /// # Errors
    ///
    /// Why the strings do not fit the type, for the client to read.
    fn from_map(map: std::collections::HashMap<String, String>) -> Result<Self, String>;
}

impl StringArgs for std::collections::HashMap<String, String> {
    fn prompt_arguments() -> Option<Vec<PromptArgument>> {
        None
    }
    fn from_map(map: std::collections::HashMap<String, String>) -> Result<Self, String> {
        Ok(map)
    }
}

#[cfg(feature = "schemars")]
impl<T: DeserializeOwned + schemars::JsonSchema + Send + 'static> StringArgs for Args<T> {
    fn prompt_arguments() -> Option<Vec<PromptArgument>> {
        Some(schema::prompt_arguments::<T>())
    }
    fn from_map(map: std::collections::HashMap<String, String>) -> Result<Self, String> {
        from_strings(&map).map(Args)
    }
}

#[cfg(not(feature = "schemars"))]
impl<T: DeserializeOwned + Send + 'static> StringArgs for Args<T> {
    fn prompt_arguments() -> Option<Vec<PromptArgument>> {
        None
    }
    fn from_map(map: std::collections::HashMap<String, String>) -> Result<Self, String> {
        from_strings(&map).map(Args)
    }
}
