//! The `hello` tools (`echo`, `add`, `sleep`) and its `hello://greeting`
//! resource, as `examples/src/hello.rs` declares them, with schemas written
//! out: core's `schemars` feature (schemas generated from types) stays off,
//! which keeps the module smaller. `count_to` (a task tool) and the `greet`
//! prompt are left out.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use switchboard_core::{CallToolResult, McpServerBuilder, Resource, Tool, ToolError};

#[derive(Deserialize)]
struct EchoArgs {
    text: String,
}

#[derive(Deserialize)]
struct AddArgs {
    a: f64,
    b: f64,
}

#[derive(Deserialize)]
struct SleepArgs {
    ms: u64,
}

/// The longest `sleep`, in milliseconds.
const MAX_SLEEP_MS: u64 = 60_000;

/// The server, ready to be given a runtime and built.
pub(crate) fn builder() -> McpServerBuilder {
    McpServerBuilder::new()
        .server_info("hello", env!("CARGO_PKG_VERSION"))
        .tool(
            Tool::new("echo", "Returns its `text` argument").input_schema(json!({
                "type": "object",
                "properties": {"text": {"type": "string", "description": "The text to return."}},
                "required": ["text"]
            })),
            |args: EchoArgs, _ctx| async move { Ok(args.text) },
        )
        .tool(
            Tool::new("add", "Adds `a` and `b`")
                .input_schema(json!({
                    "type": "object",
                    "properties": {
                        "a": {"type": "number", "format": "double"},
                        "b": {"type": "number", "format": "double"}
                    },
                    "required": ["a", "b"]
                }))
                .output_schema(json!({
                    "type": "object",
                    "properties": {"sum": {"type": "number", "format": "double"}},
                    "required": ["sum"]
                })),
            |AddArgs { a, b }: AddArgs, _ctx| async move {
                let sum = a + b;
                // JSON has no infinity (as in examples/src/hello.rs).
                if !sum.is_finite() {
                    return Err(ToolError::new(format!("{a} + {b} is not a finite number")));
                }
                Ok(CallToolResult::structured(json!({ "sum": sum })))
            },
        )
        .tool(
            Tool::new(
                "sleep",
                "Waits `ms` milliseconds, reporting progress in tenths",
            )
            .input_schema(json!({
                "type": "object",
                "properties": {"ms": {
                    "type": "integer", "format": "uint64", "minimum": 0, "maximum": MAX_SLEEP_MS,
                    "description": "How long to wait, in milliseconds (at most 60,000)."
                }},
                "required": ["ms"]
            })),
            |args: SleepArgs, ctx| async move {
                let timer = ctx
                    .runtime()
                    .cloned()
                    .ok_or_else(|| ToolError::new("no runtime to sleep on"))?;
                let ms = args.ms.min(MAX_SLEEP_MS);
                for step in 1..=10u32 {
                    timer.sleep(Duration::from_millis(ms / 10)).await;
                    // Progress is best effort: a client that left cannot be told.
                    let _ = ctx.progress(f64::from(step), Some(10.0), None).await;
                }
                Ok(format!("slept {ms} ms"))
            },
        )
        .text_resource(
            Resource::new("hello://greeting", "greeting")
                .description("A friendly greeting")
                .mime_type("text/plain"),
            "Hello from Switchboard!",
        )
}
