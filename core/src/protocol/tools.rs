//! What `tools/list` lists and what `tools/call` returns.
//!
//! A [`Tool`] is registered with its handler
//! ([`McpServerBuilder::tool`](crate::McpServerBuilder::tool)); the handler
//! answers each call with a [`CallToolResult`]. A tool that fails in a way
//! the model should see returns [`CallToolResult::error`]; an `Err` from the
//! handler is a JSON-RPC error instead, which clients show as a protocol
//! failure.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::content::Content;

/// A tool as listed by `tools/list`.
///
/// Build it with [`Tool::new`] and the setters; everything but the name is
/// listed as given, for the client and its model to read.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use switchboard_core::Tool;
///
/// let tool = Tool::new("weather", "Current weather for a city")
///     .title("Weather")
///     .input_schema(json!({
///         "type": "object",
///         "properties": {"city": {"type": "string"}},
///         "required": ["city"]
///     }))
///     .annotations(json!({"readOnlyHint": true}));
/// let listed = serde_json::to_value(&tool).unwrap();
/// assert_eq!(listed["inputSchema"]["required"][0], "city");
/// assert_eq!(listed["annotations"]["readOnlyHint"], true);
/// assert!(listed.get("outputSchema").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Tool {
    /// Unique name among the server's tools; what `tools/call` names.
    /// Registering a second tool of the same name replaces the first.
    pub name: String,
    /// Human-readable title, for display (the name is for the model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the tool does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments, listed verbatim; enforced before the
    /// handler runs with the `validate` feature. Otherwise not enforced: the
    /// handler's argument type decides what is accepted.
    pub input_schema: Value,
    /// JSON Schema of `structuredContent`, if the tool returns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// Behaviour hints (`readOnlyHint`, …), listed verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
}

impl Tool {
    /// A tool taking no arguments (`{"type":"object","properties":{}}`).
    ///
    /// Set [`Tool::input_schema`] when it takes some, so that clients know
    /// what to send.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            title: None,
            description: Some(description.into()),
            input_schema: serde_json::json!({"type": "object", "properties": {}}),
            output_schema: None,
            annotations: None,
        }
    }

    /// Whether the input schema is still the one [`Tool::new`] sets, so a
    /// schema generated from the handler's argument type may replace it.
    pub(crate) fn has_default_input_schema(&self) -> bool {
        self.input_schema == serde_json::json!({"type": "object", "properties": {}})
    }

    /// Sets the input schema: a JSON Schema object (`"type": "object"`),
    /// replacing the empty one (and any schema generated from the
    /// handler's argument type). Enforced with the `validate` feature.
    #[must_use]
    pub fn input_schema(mut self, schema: Value) -> Self {
        self.input_schema = schema;
        self
    }

    /// Sets the output schema: the JSON Schema of the
    /// [`structured_content`](CallToolResult::structured_content) the tool
    /// returns. Clients may validate results against it; the server does
    /// not.
    #[must_use]
    pub fn output_schema(mut self, schema: Value) -> Self {
        self.output_schema = Some(schema);
        self
    }

    /// Sets the annotations: behaviour hints such as `readOnlyHint`,
    /// `destructiveHint` or `idempotentHint`, listed verbatim. Hints, not
    /// guarantees: clients should not trust them from an untrusted server.
    #[must_use]
    pub fn annotations(mut self, annotations: Value) -> Self {
        self.annotations = Some(annotations);
        self
    }

    /// Sets the title shown to users.
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
}

/// The result of `tools/call`.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use switchboard_core::{CallToolResult, Content};
///
/// let ok = CallToolResult::text("12°C");
/// assert_eq!(serde_json::to_value(&ok).unwrap(),
///     json!({"content": [{"type": "text", "text": "12°C"}]}));
///
/// let failed = CallToolResult::error("unknown city: Atlantis");
/// assert_eq!(failed.is_error, Some(true));
///
/// let both = CallToolResult::content(vec![
///     Content::text("a chart"),
///     Content::image("iVBORw0KGgo=", "image/png"),
/// ]);
/// assert_eq!(both.content.len(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CallToolResult {
    /// The content blocks, in order; what the model reads.
    pub content: Vec<Content>,
    /// Structured output conforming to the tool's `outputSchema`; should
    /// be a JSON object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// Set when the tool failed; the content says why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
}

impl CallToolResult {
    /// A result with one text block: the common successful answer.
    pub fn text(text: impl Into<String>) -> Self {
        Self::content(vec![Content::text(text)])
    }

    /// A result with these blocks (any mix of text, images, audio and
    /// resources), not marked as an error.
    pub fn content(content: Vec<Content>) -> Self {
        Self {
            content,
            ..Self::default()
        }
    }

    /// A tool error (`isError: true`) with one text block.
    ///
    /// For failures the model should see and may correct (a bad argument,
    /// a failed API call); the call itself succeeded at the protocol level.
    /// Return an [`RpcError`](crate::RpcError) from the handler instead for
    /// requests that should fail as a whole.
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            is_error: Some(true),
            ..Self::text(text)
        }
    }

    /// A structured result, with its JSON also as a text block (as the spec
    /// recommends for clients that ignore `structuredContent`).
    ///
    /// `value` should match the tool's [`Tool::output_schema`], if it has
    /// one.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use switchboard_core::CallToolResult;
    ///
    /// let result = CallToolResult::structured(json!({"celsius": 12}));
    /// assert_eq!(result.structured_content, Some(json!({"celsius": 12})));
    /// let listed = serde_json::to_value(&result).unwrap();
    /// assert_eq!(listed["content"][0]["text"], r#"{"celsius":12}"#);
    /// ```
    pub fn structured(value: Value) -> Self {
        Self {
            content: vec![Content::text(value.to_string())],
            structured_content: Some(value),
            is_error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_tool_error_is_a_result_with_is_error() {
        let v = serde_json::to_value(CallToolResult::error("bad")).unwrap();
        assert_eq!(
            v,
            json!({"content":[{"type":"text","text":"bad"}],"isError":true})
        );
    }
}
