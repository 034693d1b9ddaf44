//! The fixtures the official MCP conformance suite expects of a server:
//! tools, resources, templates, prompts and completion, written against the
//! public API as any user would. `conformance` and `axum --server
//! conformance` serve them.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchboard_core::{
    Args, CallToolResult, Capability, Completion, Content, CreateMessageRequest, Elicitation,
    GetPromptResult, LogLevel, McpServerBuilder, Prompt, PromptArguments, PromptMessage,
    ReadResourceResult, RequestContext, Resource, ResourceContents, ResourceTemplate,
    SamplingMessage, ServerConfig, Tool, ToolError,
};

mod tasks;

/// A 1×1 red PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A tiny WAV file.
const WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

#[derive(Deserialize, JsonSchema)]
struct PromptArg {
    /// The prompt to send to the LLM
    prompt: String,
}

#[derive(Deserialize, JsonSchema)]
struct MessageArg {
    /// The message to show the user
    message: String,
}

/// What `test_elicitation` asks the user for.
#[derive(Serialize, Deserialize, JsonSchema)]
struct Contact {
    /// User's response
    username: String,
    /// User's email address
    email: String,
}

#[derive(Deserialize, JsonSchema)]
struct RegionArg {
    /// A region name
    #[serde(default)]
    #[schemars(extend("x-mcp-header" = "Region"))]
    region: String,
}

/// The variables of `test://template/{id}/data`.
#[derive(Deserialize, JsonSchema)]
struct IdVar {
    id: String,
}

#[derive(Deserialize, JsonSchema)]
struct TwoArgs {
    /// First test argument
    arg1: String,
    /// Second test argument
    arg2: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ResourceArg {
    /// URI of the resource to embed
    resource_uri: String,
}

/// Waits `ms` milliseconds on the server's runtime.
async fn pause(ctx: &RequestContext, ms: u64) -> Result<(), ToolError> {
    let rt = ctx.runtime().ok_or_else(|| ToolError::new("no runtime"))?;
    rt.sleep(Duration::from_millis(ms)).await;
    Ok(())
}

/// A tool whose result is fixed.
fn fixed(
    builder: McpServerBuilder,
    name: &str,
    description: &str,
    result: CallToolResult,
) -> McpServerBuilder {
    builder.tool(Tool::new(name, description), move |_: Value, _ctx| {
        let result = result.clone();
        async move { Ok(result) }
    })
}

/// Sends an elicitation written by hand and describes the answer as the
/// scenarios expect.
async fn elicit(
    ctx: &RequestContext,
    prefix: &str,
    params: Value,
) -> Result<CallToolResult, ToolError> {
    Ok(match ctx.elicit_value(params).await {
        Ok(answer) => CallToolResult::text(format!(
            "{prefix}: action={}, content={}",
            answer["action"].as_str().unwrap_or("unknown"),
            answer.get("content").unwrap_or(&json!({}))
        )),
        Err(e) => CallToolResult::error(format!("elicitation failed: {e}")),
    })
}

fn tools(b: McpServerBuilder) -> McpServerBuilder {
    let b = fixed(
        b,
        "test_simple_text",
        "Returns a simple text response",
        CallToolResult::text("This is a simple text response for testing."),
    );
    let b = fixed(
        b,
        "test_image_content",
        "Returns an image",
        CallToolResult::content(vec![Content::image(PNG, "image/png")]),
    );
    let b = fixed(
        b,
        "test_audio_content",
        "Returns audio",
        CallToolResult::content(vec![Content::audio(WAV, "audio/wav")]),
    );
    let b = fixed(
        b,
        "test_embedded_resource",
        "Returns an embedded resource",
        CallToolResult::content(vec![Content::resource(ResourceContents::text(
            "test://embedded-resource",
            "text/plain",
            "This is an embedded resource content.",
        ))]),
    );
    let b = fixed(
        b,
        "test_multiple_content_types",
        "Returns text, an image and a resource",
        CallToolResult::content(vec![
            Content::text("Multiple content types test:"),
            Content::image(PNG, "image/png"),
            Content::resource(ResourceContents::text(
                "test://mixed-content-resource",
                "application/json",
                r#"{"test":"data","value":123}"#,
            )),
        ]),
    );
    let b = fixed(
        b,
        "test_error_handling",
        "Always fails",
        CallToolResult::error("This tool intentionally returns an error for testing"),
    );
    b.tool(
        Tool::new("test_reconnection", "Closes its SSE stream, then answers on the resumed stream"),
        |_: Value, ctx| async move {
            // SSE polling (SEP-1699): the client reconnects with Last-Event-ID.
            ctx.close_sse_stream().await?;
            pause(&ctx, 100).await?;
            Ok(CallToolResult::text("Reconnection test completed successfully"))
        },
    )
    .tool(Tool::new("test_tool_with_logging", "Logs three messages while it runs"), |_: Value, ctx| async move {
        for (i, text) in ["Tool execution started", "Tool processing data", "Tool execution completed"].into_iter().enumerate() {
            if i > 0 {
                pause(&ctx, 50).await?;
            }
            ctx.log(LogLevel::Info, None, text).await?;
        }
        Ok(CallToolResult::text("Tool with logging executed successfully"))
    })
    .tool(Tool::new("test_tool_with_progress", "Reports progress 0, 50, 100"), |_: Value, ctx| async move {
        for (i, p) in [0.0, 50.0, 100.0].into_iter().enumerate() {
            if i > 0 {
                pause(&ctx, 50).await?;
            }
            ctx.progress(p, Some(100.0), None).await?;
        }
        Ok(CallToolResult::text("Tool with progress executed successfully"))
    })
    .tool(Tool::new("test_sampling", "Asks the client's LLM"), |Args(a): Args<PromptArg>, ctx| async move {
        let request = CreateMessageRequest::new(vec![SamplingMessage::user(a.prompt)], 100);
        let answer = ctx.create_message(request).await.map_err(|e| ToolError::new(format!("sampling failed: {e}")))?;
        Ok(format!("LLM response: {}", answer.text()))
    })
    .tool(
        Tool::new("test_elicitation", "Asks the user for a username and email"),
        |Args(a): Args<MessageArg>, ctx| async move {
            let answer = ctx.elicit::<Contact>(&a.message).await.map_err(|e| ToolError::new(format!("elicitation failed: {e}")))?;
            Ok(match answer {
                Elicitation::Accepted(c) => format!("User response: action=accept, content={}", json!(c)),
                Elicitation::Declined => "User response: action=decline, content={}".to_owned(),
                Elicitation::Cancelled => "User response: action=cancel, content={}".to_owned(),
            })
        },
    )
    .tool(Tool::new("test_elicitation_sep1034_defaults", "Elicits with typed defaults"), |_: Value, ctx| async move {
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string", "description": "User name", "default": "John Doe"},
            "age": {"type": "integer", "description": "User age", "default": 30},
            "score": {"type": "number", "description": "User score", "default": 95.5},
            "status": {"type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active"},
            "verified": {"type": "boolean", "description": "Verification status", "default": true}},
            "required": []});
        elicit(&ctx, "Elicitation completed", json!({"message": "Please review and update the form fields with defaults", "requestedSchema": schema})).await
    })
    .tool(Tool::new("test_elicitation_sep1330_enums", "Elicits with the five enum styles"), |_: Value, ctx| async move {
        let schema = json!({"type": "object", "properties": {
            "untitledSingle": {"type": "string", "description": "Choose an option", "enum": ["option1", "option2", "option3"]},
            "titledSingle": {"type": "string", "description": "Choose a titled option", "oneOf": [
                {"const": "value1", "title": "First Option"}, {"const": "value2", "title": "Second Option"}, {"const": "value3", "title": "Third Option"}]},
            "legacyEnum": {"type": "string", "description": "Choose a legacy option", "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"]},
            "untitledMulti": {"type": "array", "description": "Choose options", "minItems": 1, "maxItems": 3, "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
            "titledMulti": {"type": "array", "description": "Choose titled options", "minItems": 1, "maxItems": 3, "items": {"anyOf": [
                {"const": "value1", "title": "First Choice"}, {"const": "value2", "title": "Second Choice"}, {"const": "value3", "title": "Third Choice"}]}}},
            "required": []});
        elicit(&ctx, "Elicitation completed", json!({"message": "Please select options from the enum fields", "requestedSchema": schema})).await
    })
    .tool(
        Tool::new("json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features").input_schema(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {"address": {"$anchor": "addressDef", "type": "object",
                "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
            "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"},
                "contactMethod": {"type": "string", "enum": ["phone", "email"]},
                "phone": {"type": "string"}, "email": {"type": "string"}},
            "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
            "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
            "then": {"required": ["phone"]},
            "else": {"required": ["email"]},
            "additionalProperties": false
        })),
        |args: Value, _ctx| async move { Ok(format!("JSON Schema 2020-12 tool called with: {args}")) },
    )
}

/// The schema of a one-field elicitation: `field` of JSON type `kind`.
fn asking(message: &str, field: &str, kind: &str) -> Value {
    json!({"message": message, "requestedSchema": {"type": "object",
        "properties": {field: {"type": kind}}, "required": [field]}})
}

/// A sampling request for `text`.
fn sampling(text: &str, max_tokens: u32) -> Value {
    json!({"messages": [{"role": "user", "content": {"type": "text", "text": text}}],
        "maxTokens": max_tokens})
}

/// What an elicitation answered under `field`, as text.
fn answered(answer: &Value, field: &str) -> String {
    match &answer["content"][field] {
        Value::String(s) => s.clone(),
        Value::Null => format!("({})", answer["action"].as_str().unwrap_or("no answer")),
        other => other.to_string(),
    }
}

/// The stateless revision's fixtures (2026-07-28): capability checks,
/// per-request logging, list changes for `subscriptions/listen`, multi
/// round-trip tools and a routing header. Written once for both eras: in a
/// session, `ctx.input` sends real server→client requests.
fn stateless_tools(b: McpServerBuilder) -> McpServerBuilder {
    b.tool(
        Tool::new(
            "test_missing_capability",
            "Needs the client's sampling capability",
        ),
        |_: Value, ctx| async move {
            // Without the capability this is -32021 with requiredCapabilities.
            let answer = ctx
                .create_message(CreateMessageRequest::new(
                    vec![SamplingMessage::user("Say hi")],
                    10,
                ))
                .await?;
            Ok(format!("sampled: {}", answer.text()))
        },
    )
    .tool(
        Tool::new(
            "test_streaming_elicitation",
            "Asks the user to confirm, by input request",
        ),
        |_: Value, ctx| async move {
            let answer = ctx
                .input(
                    "confirmation",
                    "elicitation/create",
                    asking("Please confirm", "ok", "boolean"),
                )
                .await?;
            Ok(format!("confirmed: {}", answered(&answer, "ok")))
        },
    )
    .tool(
        Tool::new(
            "test_logging_tool",
            "Logs at info; only what the request's logLevel lets through",
        ),
        |_: Value, ctx| async move {
            ctx.log(LogLevel::Info, Some("test_logging_tool"), json!("starting"))
                .await?;
            Ok(CallToolResult::text("logged"))
        },
    )
    .tool(
        Tool::new("test_trigger_tool_change", "Announces a tool list change"),
        |_: Value, ctx| async move {
            if let Some(server) = ctx.server() {
                server.notify_tools_changed().await;
            }
            Ok("tools list changed")
        },
    )
    .tool(
        Tool::new(
            "test_trigger_prompt_change",
            "Announces a prompt list change",
        ),
        |_: Value, ctx| async move {
            if let Some(server) = ctx.server() {
                server.notify_prompts_changed().await;
            }
            Ok("prompts list changed")
        },
    )
    .tool(
        Tool::new(
            "test_input_required_result_elicitation",
            "Asks the user's name",
        ),
        |_: Value, ctx| async move {
            let answer = ctx
                .input(
                    "user_name",
                    "elicitation/create",
                    asking("What is your name?", "name", "string"),
                )
                .await?;
            Ok(format!("Hello, {}!", answered(&answer, "name")))
        },
    )
    .tool(
        Tool::new(
            "test_input_required_result_sampling",
            "Asks the client's LLM a question",
        ),
        |_: Value, ctx| async move {
            let answer = ctx
                .input(
                    "capital_question",
                    "sampling/createMessage",
                    sampling("What is the capital of France?", 100),
                )
                .await?;
            Ok(format!("The model said: {}", answer["content"]["text"]))
        },
    )
    .tool(
        Tool::new(
            "test_input_required_result_list_roots",
            "Lists the client's roots",
        ),
        |_: Value, ctx| async move {
            let answer = ctx.input("client_roots", "roots/list", json!({})).await?;
            let uris: Vec<&str> = answer["roots"]
                .as_array()
                .map(|r| r.iter().filter_map(|root| root["uri"].as_str()).collect())
                .unwrap_or_default();
            Ok(format!("Roots: {}", uris.join(", ")))
        },
    )
    .tool(
        Tool::new(
            "test_input_required_result_request_state",
            "Confirms, carrying state between rounds",
        ),
        |_: Value, ctx| async move {
            let answer = ctx
                .input(
                    "confirm",
                    "elicitation/create",
                    asking("Please confirm", "ok", "boolean"),
                )
                .await?;
            Ok(format!("state-ok: confirmed={}", answered(&answer, "ok")))
        },
    )
    .tool(
        Tool::new(
            "test_input_required_result_multiple_inputs",
            "Asks three things at once",
        ),
        |_: Value, ctx| async move {
            let (name, greeting, roots) = futures::join!(
                ctx.input(
                    "user_name",
                    "elicitation/create",
                    asking("What is your name?", "name", "string")
                ),
                ctx.input(
                    "greeting",
                    "sampling/createMessage",
                    sampling("Generate a greeting", 50)
                ),
                ctx.input("client_roots", "roots/list", json!({})),
            );
            let (name, greeting, roots) = (name?, greeting?, roots?);
            Ok(CallToolResult::text(format!(
                "{} {} ({} roots)",
                greeting["content"]["text"].as_str().unwrap_or("Hello"),
                answered(&name, "name"),
                roots["roots"].as_array().map_or(0, Vec::len)
            )))
        },
    )
    .tool(
        Tool::new(
            "test_input_required_result_multi_round",
            "Asks two questions, one after the other",
        ),
        |_: Value, ctx| async move {
            let name = ctx
                .input(
                    "step1",
                    "elicitation/create",
                    asking("Step 1: What is your name?", "name", "string"),
                )
                .await?;
            let color = ctx
                .input(
                    "step2",
                    "elicitation/create",
                    asking("Step 2: What is your favorite color?", "color", "string"),
                )
                .await?;
            Ok(CallToolResult::text(format!(
                "{} likes {}",
                answered(&name, "name"),
                answered(&color, "color")
            )))
        },
    )
    .tool(
        Tool::new(
            "test_input_required_result_tampered_state",
            "Confirms; its requestState must come back intact",
        ),
        |_: Value, ctx| async move {
            let answer = ctx
                .input(
                    "confirm",
                    "elicitation/create",
                    asking("Please confirm", "ok", "boolean"),
                )
                .await?;
            Ok(format!("confirmed={}", answered(&answer, "ok")))
        },
    )
    .tool(
        Tool::new(
            "test_input_required_result_capabilities",
            "Asks only what the client declared",
        ),
        |_: Value, ctx| async move {
            let answer = if ctx.client_declares(Capability::Elicitation) {
                ctx.input(
                    "user_name",
                    "elicitation/create",
                    asking("What is your name?", "name", "string"),
                )
                .await?
            } else if ctx.client_declares(Capability::Sampling) {
                ctx.input(
                    "fallback_question",
                    "sampling/createMessage",
                    sampling("Suggest a name", 20),
                )
                .await?
            } else {
                return Ok(CallToolResult::error(
                    "the client declared neither elicitation nor sampling",
                ));
            };
            Ok(CallToolResult::text(format!("answered: {answer}")))
        },
    )
    .tool(
        Tool::new(
            "test_custom_headers",
            "Echoes its region, which also travels as the Mcp-Param-Region header",
        ),
        |Args(a): Args<RegionArg>, _ctx| async move {
            let region = if a.region.is_empty() {
                "none"
            } else {
                &a.region
            };
            Ok(format!("region: {region}"))
        },
    )
}

fn resources(b: McpServerBuilder) -> McpServerBuilder {
    b.text_resource(
        Resource::new("test://static-text", "Static Text Resource")
            .description("A static text resource for testing")
            .mime_type("text/plain"),
        "This is the content of the static text resource.",
    )
    .resource(
        Resource::new("test://static-binary", "Static Binary Resource")
            .description("A static binary resource (image) for testing")
            .mime_type("image/png"),
        |uri, _ctx| async move {
            Ok(ReadResourceResult::new(vec![ResourceContents::blob(
                uri,
                "image/png",
                PNG,
            )]))
        },
    )
    .text_resource(
        Resource::new("test://watched-resource", "Watched Resource")
            .description("A resource that can be subscribed to")
            .mime_type("text/plain"),
        "Watched resource content",
    )
    .resource_template(
        ResourceTemplate::new("test://template/{id}/data", "Resource Template")
            .description("A resource template with parameter substitution")
            .mime_type("application/json"),
        |uri, Args(IdVar { id }): Args<IdVar>, _ctx| async move {
            let text =
                json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")})
                    .to_string();
            Ok(ReadResourceResult::new(vec![ResourceContents::text(
                uri,
                "application/json",
                text,
            )]))
        },
    )
}

fn prompts(b: McpServerBuilder) -> McpServerBuilder {
    b.prompt(
        Prompt::new("test_simple_prompt", "A simple prompt without arguments"),
        |_: PromptArguments, _ctx| async {
            Ok(GetPromptResult::new(vec![PromptMessage::user(
                Content::text("This is a simple prompt for testing."),
            )]))
        },
    )
    .prompt(
        Prompt::new(
            "test_prompt_with_arguments",
            "A prompt with required arguments",
        ),
        |Args(a): Args<TwoArgs>, _ctx| async move {
            let text = format!(
                "Prompt with arguments: arg1='{}', arg2='{}'",
                a.arg1, a.arg2
            );
            Ok(GetPromptResult::new(vec![PromptMessage::user(
                Content::text(text),
            )]))
        },
    )
    .prompt(
        Prompt::new(
            "test_prompt_with_embedded_resource",
            "A prompt that embeds a resource",
        ),
        |Args(a): Args<ResourceArg>, _ctx| async move {
            let resource = ResourceContents::text(
                a.resource_uri,
                "text/plain",
                "Embedded resource content for testing.",
            );
            Ok(GetPromptResult::new(vec![
                PromptMessage::user(Content::resource(resource)),
                PromptMessage::user(Content::text("Please process the embedded resource above.")),
            ]))
        },
    )
    .prompt(
        Prompt::new("test_prompt_with_image", "A prompt with an image"),
        |_: PromptArguments, _ctx| async {
            Ok(GetPromptResult::new(vec![
                PromptMessage::user(Content::image(PNG, "image/png")),
                PromptMessage::user(Content::text("Please analyze the image above.")),
            ]))
        },
    )
    .prompt(
        Prompt::new(
            "test_input_required_result_prompt",
            "A prompt that asks the user for its context first",
        ),
        |_: PromptArguments, ctx| async move {
            let answer = ctx
                .input(
                    "user_context",
                    "elicitation/create",
                    asking("What context should the prompt use?", "context", "string"),
                )
                .await?;
            Ok(GetPromptResult::new(vec![PromptMessage::user(
                Content::text(format!(
                    "Use this context: {}",
                    answered(&answer, "context")
                )),
            )]))
        },
    )
    .completion(|req, _ctx| async move {
        let candidates = ["testValue1", "testValue2", "test-alpha", "test-beta"];
        let values: Vec<String> = candidates
            .iter()
            .filter(|c| c.starts_with(&req.argument.value))
            .map(|c| (*c).to_owned())
            .collect();
        let total = values.len() as u64;
        Ok(Completion::new(values).total(total))
    })
}

/// The conformance fixtures server, ready to build: every fixture, with
/// `listChanged` declared (the suite's list-change scenarios need it).
pub fn builder() -> McpServerBuilder {
    builder_with(ServerConfig::default())
}

/// [`builder`] under `config` (a `requestState` keyring, other limits),
/// with `listChanged` on as the suite expects.
pub fn builder_with(config: ServerConfig) -> McpServerBuilder {
    let builder = McpServerBuilder::new()
        .server_info("mcp-conformance-test-server", "1.0.0")
        .config(config.list_changed(true));
    tasks::tools(prompts(resources(stateless_tools(tools(builder)))))
}
