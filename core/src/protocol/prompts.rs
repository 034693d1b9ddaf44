//! What `prompts/list` lists and what `prompts/get` returns.
//!
//! A [`Prompt`] is a template of messages that a user picks (a slash
//! command, say); `prompts/get` fills it in with the user's
//! [`PromptArguments`] and returns the messages to put in front of the
//! model.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::content::Content;

/// A prompt argument, as declared by [`Prompt::argument`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PromptArgument {
    /// Its name: the key in the [`PromptArguments`] the handler gets.
    pub name: String,
    /// A description, for the user filling it in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether `prompts/get` must supply it. The server checks: a missing
    /// required argument is answered with `-32602` before the handler runs.
    #[serde(default)]
    pub required: bool,
}

/// A prompt as listed by `prompts/list`.
///
/// # Examples
///
/// ```
/// use switchboard_core::Prompt;
///
/// let prompt = Prompt::new("review", "Review a change")
///     .argument("diff", "The change to review", true)
///     .argument("focus", "What to look at first", false);
/// let listed = serde_json::to_value(&prompt).unwrap();
/// assert_eq!(listed["arguments"][0]["name"], "diff");
/// assert_eq!(listed["arguments"][1]["required"], false);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Prompt {
    /// Unique name among the server's prompts; what `prompts/get` names.
    pub name: String,
    /// A human-readable title for display (since 2025-06-18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A description, for the user choosing a prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The arguments it takes, in the order they are listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<PromptArgument>,
}

impl Prompt {
    /// A prompt with a description and no arguments.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            title: None,
            description: Some(description.into()),
            arguments: Vec::new(),
        }
    }

    /// Sets the title shown to users.
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Adds an argument after those already declared; `required` ones are
    /// checked by the server before the handler runs.
    #[must_use]
    pub fn argument(
        mut self,
        name: impl Into<String>,
        description: impl Into<String>,
        required: bool,
    ) -> Self {
        self.arguments.push(PromptArgument {
            name: name.into(),
            description: Some(description.into()),
            required,
        });
        self
    }
}

/// Who speaks a prompt message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The user.
    User,
    /// The assistant.
    Assistant,
}

/// One message of a prompt.
///
/// # Examples
///
/// ```
/// use switchboard_core::{Content, PromptMessage, Role};
///
/// let ask = PromptMessage::user(Content::text("Review this diff."));
/// assert_eq!(ask.role, Role::User);
/// let primed = PromptMessage::assistant(Content::text("Sure, paste it."));
/// assert_eq!(serde_json::to_value(&primed).unwrap()["role"], "assistant");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PromptMessage {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub content: Content,
}

impl PromptMessage {
    /// A message spoken by the user.
    pub fn user(content: Content) -> Self {
        Self {
            role: Role::User,
            content,
        }
    }

    /// A message spoken by the assistant (to prime the model's answer).
    pub fn assistant(content: Content) -> Self {
        Self {
            role: Role::Assistant,
            content,
        }
    }
}

/// The result of `prompts/get`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetPromptResult {
    /// A description of this filled-in prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The messages, in conversation order.
    pub messages: Vec<PromptMessage>,
}

impl GetPromptResult {
    /// A result with these messages and no description.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::{Content, GetPromptResult, PromptMessage};
    /// let got = GetPromptResult::new(vec![PromptMessage::user(Content::text("hi"))])
    ///     .description("a greeting");
    /// assert_eq!(got.messages.len(), 1);
    /// ```
    pub fn new(messages: Vec<PromptMessage>) -> Self {
        Self {
            description: None,
            messages,
        }
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

/// Arguments handed to a prompt handler: each argument's name and the
/// user's value. Required arguments are present (the server checked);
/// optional ones may be missing, and undeclared ones are passed along.
pub type PromptArguments = HashMap<String, String>;
