//! What `completion/complete` asks and answers, and the name and version
//! a server introduces itself with.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What `completion/complete` asks about: which argument of which prompt
/// or resource template, and what the user typed so far.
///
/// The handler ([`McpServerBuilder::completion`](crate::McpServerBuilder::completion))
/// reads `reference` to tell prompts from templates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompleteRequest {
    /// `{"type":"ref/prompt","name":..}` or `{"type":"ref/resource","uri":..}`.
    #[serde(rename = "ref")]
    pub reference: Value,
    /// The argument being completed.
    pub argument: CompletionArgument,
    /// Already-resolved arguments (2025-06-18+), as the client sent them
    /// (`{"arguments": {"name": "value"}}`); `None` from older clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
}

/// The argument being completed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompletionArgument {
    /// Its name: a prompt argument, or a template variable.
    pub name: String,
    /// What the user typed so far (possibly empty).
    pub value: String,
}

/// Completion values: what `completion/complete` answers with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Completion {
    /// At most 100 values (the schema's limit), best first. The server cuts
    /// a longer list to 100 and then sets `has_more`, and `total` if unset.
    pub values: Vec<String>,
    /// How many exist in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Whether more exist than were sent.
    #[serde(default)]
    pub has_more: bool,
}

impl Completion {
    /// These values, with no total and nothing more.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::Completion;
    /// let c = Completion::new(vec!["rust".into()]).total(3).has_more(true);
    /// assert_eq!((c.total, c.has_more), (Some(3), true));
    /// ```
    pub fn new(values: Vec<String>) -> Self {
        Self {
            values,
            total: None,
            has_more: false,
        }
    }

    /// Sets how many values exist in all.
    #[must_use]
    pub fn total(mut self, total: u64) -> Self {
        self.total = Some(total);
        self
    }

    /// Sets whether more exist than were sent.
    #[must_use]
    pub fn has_more(mut self, more: bool) -> Self {
        self.has_more = more;
        self
    }
}

/// Implementation name and version, for `serverInfo`.
///
/// Set with [`McpServerBuilder::server_info`](crate::McpServerBuilder::server_info),
/// and sent in the answer to `initialize`, for clients to show and log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Implementation {
    /// The program's name (`my-server`).
    pub name: String,
    /// Its version, in any format (semver is usual).
    pub version: String,
}

impl Implementation {
    /// A name and a version.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::Implementation;
    ///
    /// let info = Implementation::new("weather", "0.3.1");
    /// let json = serde_json::to_string(&info).unwrap();
    /// assert_eq!(json, r#"{"name":"weather","version":"0.3.1"}"#);
    /// ```
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
        }
    }
}
