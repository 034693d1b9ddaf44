//! A small MCP server: tools `echo`, `add` and `sleep`, a resource and a prompt.
//!
//! Run with:
//!
//! ```text
//! cargo run -p examples --bin hello [-- --runtime smol|tokio --addr 127.0.0.1:8080]
//! cargo run -p examples --bin hello -- --stdio
//! ```
//!
//! Over HTTP it prints `listening on http://HOST:PORT/mcp`; with `--stdio`
//! it reads newline-delimited JSON-RPC on stdin.

use std::time::Duration;

use examples::{Args, RuntimeChoice, block_on, serve_http};
use serde::Deserialize;
use serde_json::json;
use switchboard_core::{
    CallToolResult, Content, GetPromptResult, McpServerBuilder, Prompt, PromptMessage, Resource,
    RpcError, Tool,
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

/// Builds the `hello` server.
fn hello() -> McpServerBuilder {
    McpServerBuilder::new()
        .server_info("hello", env!("CARGO_PKG_VERSION"))
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
                let sum = args.a + args.b;
                // JSON has no infinity: `{"sum": null}` would break the
                // output schema, so an overflow is the tool's error.
                if !sum.is_finite() {
                    return Ok(CallToolResult::error(format!(
                        "{} + {} is not a finite number",
                        args.a, args.b
                    )));
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
                "properties": { "ms": { "type": "integer", "minimum": 0, "maximum": 60000 } },
                "required": ["ms"]
            })),
            |args: SleepArgs, ctx| async move {
                let timer = ctx
                    .runtime()
                    .cloned()
                    .ok_or_else(|| RpcError::internal("no runtime to sleep on"))?;
                let ms = args.ms.min(60_000);
                for step in 1..=10u32 {
                    timer.sleep(Duration::from_millis(ms / 10)).await;
                    // Progress is best effort: a client that left cannot be told.
                    let _ = ctx.progress(f64::from(step), Some(10.0), None).await;
                }
                Ok(CallToolResult::text(format!("slept {ms} ms")))
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
                Ok(GetPromptResult::new(vec![PromptMessage::user(
                    Content::text(format!("Please greet {name} warmly.")),
                )]))
            },
        )
}

fn main() {
    let args = Args::from_env();
    let result = if args.stdio {
        block_on(args.runtime, |runtime| async move {
            let builder = hello().runtime(runtime);
            match args.runtime {
                RuntimeChoice::Smol => builder.build(switchboard_smol::stdio()).run().await,
                RuntimeChoice::Tokio => builder.build(switchboard_tokio::stdio()).run().await,
            }
        })
        .map_err(Into::into)
    } else {
        serve_http(&args, hello())
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
