//! What `resources/list` and `resources/templates/list` list, and what
//! `resources/read` returns.
//!
//! A [`Resource`] has one fixed URI; a [`ResourceTemplate`] stands for
//! every URI that matches its template, and its handler is given the
//! values of the template's variables. A read of a URI no resource or
//! template serves is answered with `-32602` and `data.uri` (resource not found, SEP-2164).

use serde::{Deserialize, Serialize};

use super::content::ResourceContents;

/// A direct resource as listed by `resources/list`.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use switchboard_core::Resource;
///
/// let readme = Resource::new("file:///README.md", "README")
///     .description("What this project is")
///     .mime_type("text/markdown");
/// assert_eq!(serde_json::to_value(&readme).unwrap(), json!({
///     "uri": "file:///README.md",
///     "name": "README",
///     "description": "What this project is",
///     "mimeType": "text/markdown"
/// }));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Resource {
    /// The URI, unique among the server's resources: what `resources/read`
    /// and `resources/subscribe` name.
    pub uri: String,
    /// A name, for display.
    pub name: String,
    /// A human-readable title for display (since 2025-06-18; the name is
    /// the programmatic one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A description, for the client and its model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The MIME type of its contents, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

impl Resource {
    /// A resource with a URI and a name, no description and no MIME type.
    pub fn new(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            name: name.into(),
            title: None,
            description: None,
            mime_type: None,
        }
    }

    /// Sets the title shown to users.
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }

    /// Sets the MIME type.
    #[must_use]
    pub fn mime_type(mut self, m: impl Into<String>) -> Self {
        self.mime_type = Some(m.into());
        self
    }
}

/// A resource template as listed by `resources/templates/list`.
///
/// The template is checked when it is registered
/// ([`McpServerBuilder::resource_template`](crate::McpServerBuilder::resource_template)
/// fails with a [`TemplateError`](crate::TemplateError) for one that is not
/// level 1), not when it is built.
///
/// # Examples
///
/// ```
/// use switchboard_core::ResourceTemplate;
///
/// let files = ResourceTemplate::new("file:///{+path}", "Project files")
///     .description("Any file under the project root")
///     .mime_type("text/plain");
/// let listed = serde_json::to_value(&files).unwrap();
/// assert_eq!(listed["uriTemplate"], "file:///{+path}");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceTemplate {
    /// An RFC 6570 level-1 template such as `file:///{path}`; `{+var}` may
    /// match text containing `/`, `{var}` may not.
    pub uri_template: String,
    /// A name, for display.
    pub name: String,
    /// A human-readable title for display (since 2025-06-18; the name is
    /// the programmatic one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A description, for the client and its model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The MIME type of matching resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

impl ResourceTemplate {
    /// A template with a name, no description and no MIME type. The
    /// template text is not checked here.
    pub fn new(uri_template: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            uri_template: uri_template.into(),
            name: name.into(),
            title: None,
            description: None,
            mime_type: None,
        }
    }

    /// Sets the title shown to users.
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }

    /// Sets the MIME type.
    #[must_use]
    pub fn mime_type(mut self, m: impl Into<String>) -> Self {
        self.mime_type = Some(m.into());
        self
    }
}

/// The result of `resources/read`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReadResourceResult {
    /// The contents (one or more: a directory, say, may read as several
    /// resources).
    pub contents: Vec<ResourceContents>,
}

impl ReadResourceResult {
    /// A result with these contents.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::{ReadResourceResult, ResourceContents};
    /// let read = ReadResourceResult::new(vec![ResourceContents::text("test://a", "text/plain", "A")]);
    /// assert_eq!(read.contents[0].text.as_deref(), Some("A"));
    /// ```
    pub fn new(contents: Vec<ResourceContents>) -> Self {
        Self { contents }
    }
}
