//! The fixtures of the tasks extension's scenarios (SEP-2663): one
//! sync-only tool and six task-capable ones, each written as any tool is.

use serde_json::{Value, json};
use switchboard_core::tasks::{TaskBegins, TaskSupport};
use switchboard_core::{Args, CallToolResult, McpServerBuilder, RpcError, Tool, ToolError};

use super::pause;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct NameArg {
    /// Who to greet
    name: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct ComputeArgs {
    /// Seconds to work for
    #[serde(default)]
    seconds: f64,
    /// A label echoed in the result
    #[serde(default)]
    label: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct FileArg {
    /// The file to delete
    #[serde(default)]
    filename: String,
}

/// An `elicitation/create` form asking for the `properties` given.
fn form(message: &str, properties: Value, required: &[&str]) -> Value {
    json!({
        "mode": "form",
        "message": message,
        "requestedSchema": {"type": "object", "properties": properties, "required": required},
    })
}

/// The text of field `field` of an accepted elicitation's content.
fn field(answer: &Value, field: &str) -> String {
    match &answer["content"][field] {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

/// Registers the tasks fixtures.
pub(super) fn tools(b: McpServerBuilder) -> McpServerBuilder {
    b.tool(
        Tool::new("greet", "Sync-only greeting (tasks fixture)"),
        |Args(a): Args<NameArg>, _ctx| async move { Ok(format!("Hello, {}!", a.name)) },
    )
    .task_tool(
        Tool::new(
            "slow_compute",
            "Works `seconds` seconds, then answers (a task when asked for)",
        ),
        TaskSupport::Optional,
        |Args(a): Args<ComputeArgs>, ctx| async move {
            let seconds = a.seconds.clamp(0.0, 600.0);
            pause(&ctx, (seconds * 1000.0) as u64).await?;
            Ok(format!("slow_compute({}) done after {seconds}s", a.label))
        },
    )
    .task_tool(
        Tool::new(
            "failing_job",
            "A task that ends in a tool error after a second",
        ),
        TaskSupport::Required,
        |_: Value, ctx| async move {
            pause(&ctx, 1000).await?;
            Ok(CallToolResult::error(
                "failing_job: intentional tool execution error",
            ))
        },
    )
    .task_tool(
        Tool::new(
            "protocol_error_job",
            "A task that fails with a protocol error",
        ),
        TaskSupport::Optional,
        |_: Value, ctx| async move {
            pause(&ctx, 200).await?;
            Err::<CallToolResult, _>(ToolError::protocol(RpcError::internal(
                "protocol_error_job: intentional protocol-level failure",
            )))
        },
    )
    .task_tool(
        Tool::new("confirm_delete", "A task that asks for confirmation first"),
        TaskSupport::Required,
        |Args(a): Args<FileArg>, ctx| async move {
            let ask = form(
                &format!("Delete {}?", a.filename),
                json!({"confirm": {"type": "boolean"}}),
                &["confirm"],
            );
            let answer = ctx.input("confirm", "elicitation/create", ask).await?;
            let confirmed = answer["content"]["confirm"].as_bool().unwrap_or(false);
            Ok(format!(
                "confirm_delete({}): confirmed = {confirmed}",
                a.filename
            ))
        },
    )
    .task_tool(
        Tool::new("multi_input", "A task that asks two questions at once"),
        TaskSupport::Required,
        |_: Value, ctx| async move {
            let value = json!({"value": {"type": "string"}});
            let (a, b) = futures::join!(
                ctx.input(
                    "input-a",
                    "elicitation/create",
                    form("Provide value A", value.clone(), &["value"])
                ),
                ctx.input(
                    "input-b",
                    "elicitation/create",
                    form("Provide value B", value.clone(), &["value"])
                ),
            );
            Ok(format!(
                "multi_input: a = {}, b = {}",
                field(&a?, "value"),
                field(&b?, "value")
            ))
        },
    )
    .task_tool_beginning(
        Tool::new(
            "test_tool_with_task",
            "Asks for a name, then greets it in a task",
        ),
        TaskSupport::Required,
        TaskBegins::WhenHandlerStarts,
        |_: Value, ctx| async move {
            let ask = form(
                "What is your name?",
                json!({"name": {"type": "string"}}),
                &["name"],
            );
            let answer = ctx.input("user_name", "elicitation/create", ask).await?;
            ctx.start_task().await;
            pause(&ctx, 200).await?;
            Ok(format!("Hello, {}! (async)", field(&answer, "name")))
        },
    )
}
