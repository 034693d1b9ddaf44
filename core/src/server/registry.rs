//! The registries of tools, resources, templates and prompts, with their
//! handlers type-erased behind `Arc<dyn Fn>`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::context::RequestContext;
use crate::jsonrpc::RpcError;
use crate::protocol::{
    CallToolResult, CompleteRequest, Completion, GetPromptResult, Prompt, PromptArguments,
    ReadResourceResult, Resource, ResourceTemplate, Tool,
};
use crate::runtime::BoxFuture;
use crate::uri_template::UriTemplate;

/// How a tool call failed before or inside its handler.
pub(crate) enum ToolFailure {
    /// The arguments did not deserialize into the handler's type.
    InvalidArguments(String),
    /// The handler returned a protocol error.
    Rpc(RpcError),
}

/// A tool's handler: reads its arguments (the JSON text of `arguments`, if
/// any) into the handler's own type, then runs it.
pub(crate) type ToolFn = Arc<
    dyn Fn(Option<&RawValue>, RequestContext) -> BoxFuture<Result<CallToolResult, ToolFailure>>
        + Send
        + Sync,
>;
pub(crate) type ReadFn = Arc<
    dyn Fn(
            String,
            HashMap<String, String>,
            RequestContext,
        ) -> BoxFuture<Result<ReadResourceResult, RpcError>>
        + Send
        + Sync,
>;
pub(crate) type PromptFn = Arc<
    dyn Fn(PromptArguments, RequestContext) -> BoxFuture<Result<GetPromptResult, RpcError>>
        + Send
        + Sync,
>;
pub(crate) type CompleteFn = Arc<
    dyn Fn(CompleteRequest, RequestContext) -> BoxFuture<Result<Completion, RpcError>>
        + Send
        + Sync,
>;

pub(crate) struct ToolEntry {
    pub(crate) tool: Tool,
    pub(crate) handler: ToolFn,
}

pub(crate) struct ResourceEntry {
    pub(crate) resource: Resource,
    pub(crate) handler: ReadFn,
}

pub(crate) struct TemplateEntry {
    pub(crate) template: ResourceTemplate,
    pub(crate) pattern: UriTemplate,
    pub(crate) handler: ReadFn,
}

pub(crate) struct PromptEntry {
    pub(crate) prompt: Prompt,
    pub(crate) handler: PromptFn,
}

/// Everything a server offers.
#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) tools: Vec<ToolEntry>,
    pub(crate) resources: Vec<ResourceEntry>,
    pub(crate) templates: Vec<TemplateEntry>,
    pub(crate) prompts: Vec<PromptEntry>,
    pub(crate) completion: Option<CompleteFn>,
}

impl Registry {
    /// Inserts or replaces (by name) a tool.
    pub(crate) fn put_tool(&mut self, entry: ToolEntry) {
        upsert(&mut self.tools, entry, |e| &e.tool.name);
    }

    pub(crate) fn put_resource(&mut self, entry: ResourceEntry) {
        upsert(&mut self.resources, entry, |e| &e.resource.uri);
    }

    pub(crate) fn put_template(&mut self, entry: TemplateEntry) {
        upsert(&mut self.templates, entry, |e| &e.template.uri_template);
    }

    pub(crate) fn put_prompt(&mut self, entry: PromptEntry) {
        upsert(&mut self.prompts, entry, |e| &e.prompt.name);
    }

    /// Finds the reader for a URI: a direct resource first, then templates in
    /// registration order.
    pub(crate) fn reader(&self, uri: &str) -> Option<(ReadFn, HashMap<String, String>)> {
        if let Some(e) = self.resources.iter().find(|e| e.resource.uri == uri) {
            return Some((e.handler.clone(), HashMap::new()));
        }
        self.templates
            .iter()
            .find_map(|e| e.pattern.matches(uri).map(|vars| (e.handler.clone(), vars)))
    }
}

fn upsert<T>(list: &mut Vec<T>, entry: T, key: impl Fn(&T) -> &String) {
    match list.iter().position(|e| key(e) == key(&entry)) {
        Some(i) => list[i] = entry,
        None => list.push(entry),
    }
}

/// Removes the entry with this key; true if one was there.
pub(crate) fn remove<T>(list: &mut Vec<T>, name: &str, key: impl Fn(&T) -> &String) -> bool {
    let before = list.len();
    list.retain(|e| key(e) != name);
    list.len() != before
}

pub(crate) fn tool_entry<A, F, Fut>(tool: Tool, handler: F) -> ToolEntry
where
    A: DeserializeOwned + Send + 'static,
    F: Fn(A, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CallToolResult, RpcError>> + Send + 'static,
{
    let handler: ToolFn =
        Arc::new(move |args: Option<&RawValue>, ctx| {
            match serde_json::from_str::<A>(args.map_or("{}", RawValue::get)) {
                Ok(args) => {
                    let fut = handler(args, ctx);
                    Box::pin(async move { fut.await.map_err(ToolFailure::Rpc) })
                }
                Err(e) => {
                    let msg = e.to_string();
                    Box::pin(async move { Err(ToolFailure::InvalidArguments(msg)) })
                }
            }
        });
    ToolEntry { tool, handler }
}

pub(crate) fn resource_entry<F, Fut>(resource: Resource, handler: F) -> ResourceEntry
where
    F: Fn(String, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ReadResourceResult, RpcError>> + Send + 'static,
{
    let handler: ReadFn = Arc::new(move |uri, _vars, ctx| Box::pin(handler(uri, ctx)));
    ResourceEntry { resource, handler }
}

pub(crate) fn template_entry<F, Fut>(
    template: ResourceTemplate,
    handler: F,
) -> Result<TemplateEntry, crate::uri_template::TemplateError>
where
    F: Fn(String, HashMap<String, String>, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ReadResourceResult, RpcError>> + Send + 'static,
{
    let pattern = UriTemplate::parse(&template.uri_template)?;
    let handler: ReadFn = Arc::new(move |uri, vars, ctx| Box::pin(handler(uri, vars, ctx)));
    Ok(TemplateEntry {
        template,
        pattern,
        handler,
    })
}

pub(crate) fn prompt_entry<F, Fut>(prompt: Prompt, handler: F) -> PromptEntry
where
    F: Fn(PromptArguments, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<GetPromptResult, RpcError>> + Send + 'static,
{
    let handler: PromptFn = Arc::new(move |args, ctx| Box::pin(handler(args, ctx)));
    PromptEntry { prompt, handler }
}
