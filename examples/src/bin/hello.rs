//! A small MCP server: tools `echo`, `add` and `sleep`, a resource and a prompt.
//!
//! Run with:
//!
//! ```text
//! cargo run -p examples --bin hello -- --stdio [--runtime smol|tokio]
//! ```
//!
//! Then write newline-delimited JSON-RPC to its stdin.

use std::sync::Arc;
use std::time::Duration;

use examples::{Args, block_on};
use serde::Deserialize;
use serde_json::json;
use switchboard_core::{
    CallToolResult, Content, GetPromptResult, McpServer, McpServerBuilder, Prompt, PromptMessage,
    Resource, Runtime, Tool, Transport,
};

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

/// Builds the `hello` server over any transport.
fn hello(transport: impl Transport, runtime: Arc<dyn Runtime>) -> McpServer {
    let timer = Arc::clone(&runtime);
    McpServerBuilder::new()
        .server_info("hello", env!("CARGO_PKG_VERSION"))
        .runtime(runtime)
        .tool(
            Tool::new("echo", "Returns its `text` argument").input_schema(json!({
                "type": "object",
                "properties": { "text": { "type": "string" } },
                "required": ["text"]
            })),
            |args: EchoArgs, _ctx| async move { Ok(CallToolResult::text(args.text)) },
        )
        .tool(
            Tool::new("add", "Adds `a` and `b`")
                .input_schema(json!({
                    "type": "object",
                    "properties": { "a": { "type": "number" }, "b": { "type": "number" } },
                    "required": ["a", "b"]
                }))
                .output_schema(json!({
                    "type": "object",
                    "properties": { "sum": { "type": "number" } },
                    "required": ["sum"]
                })),
            |args: AddArgs, _ctx| async move {
                Ok(CallToolResult::structured(
                    json!({ "sum": args.a + args.b }),
                ))
            },
        )
        .tool(
            Tool::new(
                "sleep",
                "Waits `ms` milliseconds, reporting progress in tenths",
            )
            .input_schema(json!({
                "type": "object",
                "properties": { "ms": { "type": "integer", "minimum": 0, "maximum": 60000 } },
                "required": ["ms"]
            })),
            move |args: SleepArgs, ctx| {
                let timer = Arc::clone(&timer);
                async move {
                    let ms = args.ms.min(60_000);
                    for step in 1..=10u32 {
                        timer.sleep(Duration::from_millis(ms / 10)).await;
                        // Progress is best effort: a client that left cannot be told.
                        let _ = ctx.progress(f64::from(step), Some(10.0), None).await;
                    }
                    Ok(CallToolResult::text(format!("slept {ms} ms")))
                }
            },
        )
        .text_resource(
            Resource::new("hello://greeting", "greeting")
                .description("A friendly greeting")
                .mime_type("text/plain"),
            "Hello from Switchboard!",
        )
        .prompt(
            Prompt::new("greet", "Asks the model to greet someone").argument(
                "name",
                "Who to greet",
                true,
            ),
            |args, _ctx| async move {
                let name = args.get("name").cloned().unwrap_or_default();
                Ok(GetPromptResult {
                    description: None,
                    messages: vec![PromptMessage::user(Content::text(format!(
                        "Please greet {name} warmly."
                    )))],
                })
            },
        )
        .build(transport)
}

fn main() {
    let args = Args::from_env();
    if !args.stdio {
        eprintln!("error: HTTP mode is not built yet; run with --stdio");
        std::process::exit(2);
    }
    let result = block_on(args.runtime, |runtime| async move {
        let transport: Box<dyn FnOnce(Arc<dyn Runtime>) -> McpServer> = match args.runtime {
            examples::RuntimeChoice::Smol => Box::new(|rt| hello(switchboard_smol::stdio(), rt)),
            examples::RuntimeChoice::Tokio => Box::new(|rt| hello(switchboard_tokio::stdio(), rt)),
        };
        transport(runtime).run().await
    });
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
