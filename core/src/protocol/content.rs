//! Content blocks (text, images, audio, embedded resources, links) and the
//! contents of a resource.
//!
//! Binary data is base64 text in the schema, and stays so here: the
//! constructors take it already encoded, so this crate needs no base64
//! codec and never decodes what it passes along.

use serde::{Deserialize, Serialize};

/// The contents of a resource: text or base64 binary.
///
/// Exactly one of `text` and `blob` is set when built with
/// [`ResourceContents::text`] or [`ResourceContents::blob`]. What
/// `resources/read` returns (inside a
/// [`ReadResourceResult`](crate::ReadResourceResult)), and what an embedded
/// resource block carries.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use switchboard_core::ResourceContents;
///
/// let notes = ResourceContents::text("file:///notes.md", "text/markdown", "# Notes");
/// assert_eq!(serde_json::to_value(&notes).unwrap(), json!({
///     "uri": "file:///notes.md", "mimeType": "text/markdown", "text": "# Notes"
/// }));
/// let logo = ResourceContents::blob("file:///logo.png", "image/png", "iVBORw0KGgo=");
/// assert!(logo.text.is_none() && logo.blob.is_some());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceContents {
    /// The resource's URI: the one read, or, for a template, the concrete
    /// URI it matched.
    pub uri: String,
    /// The MIME type, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Text contents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Base64 binary contents, passed along unchecked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
}

impl ResourceContents {
    /// Text contents with a MIME type (`text/plain`, `application/json`, …).
    pub fn text(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Self {
            uri: uri.into(),
            mime_type: Some(mime_type.into()),
            text: Some(text.into()),
            blob: None,
        }
    }

    /// Binary contents (already base64) with a MIME type. The data is not
    /// checked or decoded.
    pub fn blob(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        base64: impl Into<String>,
    ) -> Self {
        Self {
            uri: uri.into(),
            mime_type: Some(mime_type.into()),
            text: None,
            blob: Some(base64.into()),
        }
    }
}

/// One content block of a tool result or prompt message.
///
/// Serialized with its `type` tag (`text`, `image`, `audio`, `resource`,
/// `resource_link`), as the schema has it. Not every revision knows every
/// kind: `audio` and `resource_link` are newer than 2024-11-05, and a
/// server that serves older clients should stick to text, images and
/// embedded resources for them.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use switchboard_core::{Content, ResourceContents};
///
/// let blocks = vec![
///     Content::text("Here is the file:"),
///     Content::resource(ResourceContents::text("file:///a.txt", "text/plain", "A")),
///     Content::resource_link("file:///b.txt", "b.txt"),
/// ];
/// let json = serde_json::to_value(&blocks).unwrap();
/// assert_eq!(json[1]["type"], "resource");
/// assert_eq!(json[2], json!({"type": "resource_link", "uri": "file:///b.txt", "name": "b.txt"}));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Content {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// A base64 image.
    Image {
        /// Base64 data.
        data: String,
        /// MIME type, e.g. `image/png`.
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
    /// Base64 audio.
    Audio {
        /// Base64 data.
        data: String,
        /// MIME type, e.g. `audio/wav`.
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
    /// An embedded resource.
    Resource {
        /// Its contents.
        resource: ResourceContents,
    },
    /// A link to a resource the client may read.
    ResourceLink {
        /// The resource's URI.
        uri: String,
        /// Its name.
        name: String,
        /// An optional description.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// An optional MIME type.
        #[serde(rename = "mimeType", default, skip_serializing_if = "Option::is_none")]
        mime_type: Option<String>,
    },
}

impl Content {
    /// A text block; the text is sent as is (Markdown is common, but the
    /// schema does not say how clients render it).
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text { text: text.into() }
    }

    /// An image block from base64 data and its MIME type
    /// (`image/png`, …). The data is not checked.
    pub fn image(base64: impl Into<String>, mime_type: impl Into<String>) -> Self {
        Self::Image {
            data: base64.into(),
            mime_type: mime_type.into(),
        }
    }

    /// An audio block from base64 data and its MIME type (`audio/wav`,
    /// …). The data is not checked. Audio blocks are in the schema from
    /// 2025-03-26 on.
    pub fn audio(base64: impl Into<String>, mime_type: impl Into<String>) -> Self {
        Self::Audio {
            data: base64.into(),
            mime_type: mime_type.into(),
        }
    }

    /// An embedded resource block: the contents travel inside the result,
    /// so the client need not read the resource.
    pub fn resource(resource: ResourceContents) -> Self {
        Self::Resource { resource }
    }

    /// A resource link block, with no description or MIME type: the
    /// client reads the resource itself (with `resources/read`) if it wants
    /// the contents. Links are in the schema from 2025-06-18 on.
    pub fn resource_link(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Self::ResourceLink {
            uri: uri.into(),
            name: name.into(),
            description: None,
            mime_type: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_serializes_as_the_schema_says() {
        let v = serde_json::to_value(Content::image("AAA", "image/png")).unwrap();
        assert_eq!(
            v,
            json!({"type":"image","data":"AAA","mimeType":"image/png"})
        );
        let v = serde_json::to_value(Content::resource_link("a://b", "b")).unwrap();
        assert_eq!(v, json!({"type":"resource_link","uri":"a://b","name":"b"}));
    }
}
