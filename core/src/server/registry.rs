//! The registries of tools, resources, templates and prompts, with their
//! handlers type-erased behind `Arc<dyn Fn>`.
//!
//! Entries live in vectors in registration order, which is the order of
//! `*/list` pages and of template matching. Handlers are `Arc`s, so a
//! request clones the one it needs and lets the registry's lock go before
//! running it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use serde_json::value::RawValue;

use crate::context::RequestContext;
use crate::jsonrpc::RpcError;
use crate::protocol::{
    CallToolResult, CompleteRequest, Completion, GetPromptResult, Prompt, PromptArguments,
    ReadResourceResult, Resource, ResourceTemplate, Tool,
};
use crate::runtime::BoxFuture;
use crate::typed::{StringArgs, ToolArgs, ToolError, ToolOutput};
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
/// A resource's or template's reader: gets the URI read and the template's
/// variables (empty for a direct resource).
pub(crate) type ReadFn = Arc<
    dyn Fn(
            String,
            HashMap<String, String>,
            RequestContext,
        ) -> BoxFuture<Result<ReadResourceResult, RpcError>>
        + Send
        + Sync,
>;
/// A prompt's handler: gets the arguments, required ones already checked.
pub(crate) type PromptFn = Arc<
    dyn Fn(PromptArguments, RequestContext) -> BoxFuture<Result<GetPromptResult, RpcError>>
        + Send
        + Sync,
>;
/// The `completion/complete` handler.
pub(crate) type CompleteFn = Arc<
    dyn Fn(CompleteRequest, RequestContext) -> BoxFuture<Result<Completion, RpcError>>
        + Send
        + Sync,
>;

/// A registered tool: what `tools/list` shows, and what `tools/call` runs.
pub(crate) struct ToolEntry {
    /// The listing; its `name` is the key.
    pub(crate) tool: Tool,
    /// Reads the arguments and runs the handler.
    pub(crate) handler: ToolFn,
    /// Whether its calls may run as tasks (no task unless registered so).
    pub(crate) task: crate::tasks::TaskSupport,
    /// When a task-capable call becomes a task.
    pub(crate) begins: crate::tasks::TaskBegins,
    /// Its `x-mcp-header` properties, read from the schema at the first
    /// stateless call that needs them (every `tools/call` would otherwise
    /// walk the schema again).
    header_params: OnceLock<Vec<(String, String)>>,
}

impl ToolEntry {
    /// The `x-mcp-header` properties of the input schema: property name,
    /// then header suffix (`Mcp-Param-{suffix}`). Only annotations the spec
    /// allows count: a non-empty header token on a string, integer or
    /// boolean property, unique ignoring case.
    pub(crate) fn header_params(&self) -> &[(String, String)] {
        self.header_params.get_or_init(|| {
            let Some(properties) = self.tool.input_schema["properties"].as_object() else {
                return Vec::new();
            };
            let mut seen: Vec<String> = Vec::new();
            properties
                .iter()
                .filter_map(|(name, schema)| {
                    let header = schema.get("x-mcp-header")?.as_str()?;
                    let kind = schema.get("type").and_then(serde_json::Value::as_str);
                    // RFC 9110 `tchar`: what a header name may hold.
                    let token = !header.is_empty()
                        && header
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
                    let lower = header.to_ascii_lowercase();
                    let fresh = !seen.contains(&lower);
                    if !(token && fresh && matches!(kind, Some("string" | "integer" | "boolean"))) {
                        return None;
                    }
                    seen.push(lower);
                    Some((name.clone(), header.to_owned()))
                })
                .collect()
        })
    }
}

/// A registered resource with one fixed URI.
pub(crate) struct ResourceEntry {
    /// The listing; its `uri` is the key and must match a read exactly.
    pub(crate) resource: Resource,
    /// Produces the contents on each read.
    pub(crate) handler: ReadFn,
}

/// A registered URI template: serves every URI its pattern matches.
pub(crate) struct TemplateEntry {
    /// The listing; its `uri_template` text is the key.
    pub(crate) template: ResourceTemplate,
    /// The template, parsed once at registration.
    pub(crate) pattern: UriTemplate,
    /// Produces the contents of a matching URI.
    pub(crate) handler: ReadFn,
}

/// A registered prompt.
pub(crate) struct PromptEntry {
    /// The listing; its `name` is the key, its `arguments` say which are
    /// required.
    pub(crate) prompt: Prompt,
    /// Builds the messages.
    pub(crate) handler: PromptFn,
}

/// Everything a server offers. Each list holds at most one entry per key,
/// in registration order; it is behind the server's `RwLock`, and what is
/// in it when a session initializes decides the capabilities declared.
#[derive(Default)]
pub(crate) struct Registry {
    /// Tools, keyed by name.
    pub(crate) tools: Vec<ToolEntry>,
    /// Direct resources, keyed by URI.
    pub(crate) resources: Vec<ResourceEntry>,
    /// URI templates, keyed by their text, matched in this order.
    pub(crate) templates: Vec<TemplateEntry>,
    /// Prompts, keyed by name.
    pub(crate) prompts: Vec<PromptEntry>,
    /// The `completion/complete` handler; without one the method is
    /// `-32601` and `completions` is not declared.
    pub(crate) completion: Option<CompleteFn>,
}

impl Registry {
    /// Inserts or replaces (by name) a tool; a replaced one keeps its place in
    /// the listing.
    pub(crate) fn put_tool(&mut self, entry: ToolEntry) {
        upsert(&mut self.tools, entry, |e| &e.tool.name);
    }

    /// Inserts or replaces (by URI) a resource; a replaced one keeps its place.
    pub(crate) fn put_resource(&mut self, entry: ResourceEntry) {
        upsert(&mut self.resources, entry, |e| &e.resource.uri);
    }

    /// Inserts or replaces (by template text) a template; a replaced one keeps
    /// its place, and so its precedence in matching.
    pub(crate) fn put_template(&mut self, entry: TemplateEntry) {
        upsert(&mut self.templates, entry, |e| &e.template.uri_template);
    }

    /// Inserts or replaces (by name) a prompt; a replaced one keeps its place.
    pub(crate) fn put_prompt(&mut self, entry: PromptEntry) {
        upsert(&mut self.prompts, entry, |e| &e.prompt.name);
    }

    /// Finds the reader for a URI: a direct resource first, then templates in
    /// registration order (a match whose values do not percent-decode to
    /// UTF-8 is no match). Returns a clone of the handler with the variables
    /// the template matched (none for a direct resource), so the caller can
    /// release the lock before reading.
    pub(crate) fn reader(&self, uri: &str) -> Option<(ReadFn, HashMap<String, String>)> {
        if let Some(e) = self.resources.iter().find(|e| e.resource.uri == uri) {
            return Some((e.handler.clone(), HashMap::new()));
        }
        self.templates.iter().find_map(|e| {
            let vars = e.pattern.matches(uri)?;
            Some((e.handler.clone(), crate::uri_template::decode_all(vars)?))
        })
    }
}

/// Replaces the entry whose key equals `entry`'s in place, or appends
/// `entry`: the one rule of "registering again replaces".
fn upsert<T>(list: &mut Vec<T>, entry: T, key: impl Fn(&T) -> &String) {
    match list.iter().position(|e| key(e) == key(&entry)) {
        Some(i) => list[i] = entry,
        None => list.push(entry),
    }
}

/// Removes the entry whose key is `name`; returns whether one was there.
/// Handlers already cloned out by running requests stay alive until those
/// finish.
pub(crate) fn remove<T>(list: &mut Vec<T>, name: &str, key: impl Fn(&T) -> &String) -> bool {
    let before = list.len();
    list.retain(|e| key(e) != name);
    list.len() != before
}

/// Type-erases a tool's handler: the entry reads the call's `arguments`
/// (absent: `{}`) into `A` before calling `handler`, so a mismatch is a
/// [`ToolFailure::InvalidArguments`] and the handler does not run. The
/// handler's result becomes the call's; a [`ToolError`] becomes an
/// `isError` result, or [`ToolFailure::Rpc`] for a protocol error.
///
/// Schemas generated from `A` and `R` fill in what the [`Tool`] leaves
/// unset: an `inputSchema` still the default empty one, a missing
/// `outputSchema`. With the `validate` feature the arguments are checked
/// against the final `inputSchema` first (a schema that does not compile
/// checks nothing: it is listed as written).
pub(crate) fn tool_entry<A, F, Fut, R>(mut tool: Tool, handler: F) -> ToolEntry
where
    A: ToolArgs,
    F: Fn(A, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, ToolError>> + Send + 'static,
    R: ToolOutput,
{
    if tool.has_default_input_schema() {
        if let Some(schema) = A::input_schema() {
            tool.input_schema = schema;
        }
    }
    if tool.output_schema.is_none() {
        tool.output_schema = R::output_schema();
    }
    #[cfg(feature = "validate")]
    let validator = crate::typed::ArgsValidator::new(&tool.input_schema).ok();
    let wrap = R::wraps();
    let handler: ToolFn = Arc::new(move |args: Option<&RawValue>, ctx| {
        let text = args.map_or("{}", RawValue::get);
        #[cfg(feature = "validate")]
        let read = match validator.as_ref().map(|v| v.check(text)) {
            Some(Err(msg)) => {
                return Box::pin(async move { Err(ToolFailure::InvalidArguments(msg)) });
            }
            // Checked: read from the value the check parsed.
            Some(Ok(value)) => A::from_value(value),
            None => A::from_json(text),
        };
        #[cfg(not(feature = "validate"))]
        let read = A::from_json(text);
        match read {
            Ok(args) => {
                let fut = handler(args, ctx);
                Box::pin(async move {
                    fut.await
                        .and_then(|r| r.into_result_wrapped(wrap))
                        .or_else(ToolError::into_outcome)
                        .map_err(ToolFailure::Rpc)
                })
            }
            Err(msg) => Box::pin(async move { Err(ToolFailure::InvalidArguments(msg)) }),
        }
    });
    ToolEntry {
        tool,
        handler,
        task: crate::tasks::TaskSupport::default(),
        begins: crate::tasks::TaskBegins::default(),
        header_params: OnceLock::new(),
    }
}

/// Type-erases a direct resource's handler, which gets the URI read (the
/// template variables, always empty here, are dropped).
pub(crate) fn resource_entry<F, Fut>(resource: Resource, handler: F) -> ResourceEntry
where
    F: Fn(String, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ReadResourceResult, RpcError>> + Send + 'static,
{
    let handler: ReadFn = Arc::new(move |uri, _vars, ctx| Box::pin(handler(uri, ctx)));
    ResourceEntry { resource, handler }
}

/// Parses the template and type-erases its handler, which gets the
/// variables (percent-decoded) read into `A`; variables that do not fit
/// `A` are `-32602` with the URI and the reason (and `data.uri`).
///
/// # Errors
///
/// [`TemplateError`](crate::TemplateError) when the template is not a
/// level-1 URI template; nothing is registered then.
pub(crate) fn template_entry<A, F, Fut>(
    template: ResourceTemplate,
    handler: F,
) -> Result<TemplateEntry, crate::uri_template::TemplateError>
where
    A: StringArgs,
    F: Fn(String, A, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ReadResourceResult, RpcError>> + Send + 'static,
{
    let pattern = UriTemplate::parse(&template.uri_template)?;
    let handler: ReadFn = Arc::new(move |uri, vars, ctx| match A::from_map(vars) {
        Ok(vars) => Box::pin(handler(uri, vars, ctx)),
        Err(msg) => {
            let error = RpcError::invalid_params(format!("{uri}: {msg}"))
                .with_data(serde_json::json!({ "uri": uri }));
            Box::pin(async move { Err(error) })
        }
    });
    Ok(TemplateEntry {
        template,
        pattern,
        handler,
    })
}

/// Type-erases a prompt's handler, which gets the arguments read into `A`.
/// `prompts/get` checks the required arguments before it calls the
/// handler; arguments that do not fit `A` are `-32602` with the reason. A
/// prompt declared without arguments lists those generated from `A`.
pub(crate) fn prompt_entry<A, F, Fut>(mut prompt: Prompt, handler: F) -> PromptEntry
where
    A: StringArgs,
    F: Fn(A, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<GetPromptResult, RpcError>> + Send + 'static,
{
    if prompt.arguments.is_empty() {
        prompt.arguments = A::prompt_arguments().unwrap_or_default();
    }
    let handler: PromptFn = Arc::new(move |args, ctx| match A::from_map(args) {
        Ok(args) => Box::pin(handler(args, ctx)),
        Err(msg) => Box::pin(async move { Err(RpcError::invalid_params(msg)) }),
    });
    PromptEntry { prompt, handler }
}
