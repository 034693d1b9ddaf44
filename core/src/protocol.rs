//! MCP schema types: protocol versions, log levels, content blocks, and the
//! descriptors and results of tools, resources and prompts.
//!
//! Open-ended parts of the schema (`inputSchema`, `_meta`, annotations) stay
//! `serde_json::Value` so that they are listed verbatim. Every struct here
//! is `#[non_exhaustive]`: build them with their constructors, so fields the
//! specification adds do not break your code.

mod client;
mod completion;
mod content;
mod prompts;
mod resources;
mod tools;
mod version;

pub use client::{CreateMessageRequest, CreateMessageResult, Elicitation, Root, SamplingMessage};
pub use completion::{CompleteRequest, Completion, CompletionArgument, Implementation};
pub use content::{Content, ResourceContents};
pub use prompts::{GetPromptResult, Prompt, PromptArgument, PromptArguments, PromptMessage, Role};
pub use resources::{ReadResourceResult, Resource, ResourceTemplate};
pub use tools::{CallToolResult, Tool};
pub use version::{LogLevel, ProtocolVersion, UnsupportedVersion};
