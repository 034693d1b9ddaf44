//! What `completion/complete` asks and answers, and the name and version
//! a server introduces itself with.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What `completion/complete` asks about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompleteRequest {
    /// `{"type":"ref/prompt","name":..}` or `{"type":"ref/resource","uri":..}`.
    #[serde(rename = "ref")]
    pub reference: Value,
    /// The argument being completed.
    pub argument: CompletionArgument,
    /// Already-resolved arguments (2025-06-18+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
}

/// The argument being completed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompletionArgument {
    /// Its name.
    pub name: String,
    /// What the user typed so far.
    pub value: String,
}

/// Completion values.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Completion {
    /// At most 100 values.
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Implementation {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
}

impl Implementation {
    /// A name and a version.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
        }
    }
}
