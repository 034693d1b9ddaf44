//! The `hello` server: tools `echo`, `add`, `sleep`, `count_to` and
//! `ask_name` (tasks when the client asks for tasks; `ask_name` asks the
//! user through elicitation), a resource and a prompt. `hello` and `axum`
//! (its default `--server`) serve it.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use switchboard_core::tasks::TaskSupport;
use switchboard_core::{
    Args, Content, Elicitation, GetPromptResult, Json, McpServerBuilder, Prompt, PromptMessage,
    Resource, Tool, ToolError,
};

#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    /// The text to return.
    text: String,
}

#[derive(Deserialize, JsonSchema)]
struct AddArgs {
    a: f64,
    b: f64,
}

#[derive(Serialize, JsonSchema)]
struct Sum {
    sum: f64,
}

#[derive(Deserialize, JsonSchema)]
struct SleepArgs {
    /// How long to wait, in milliseconds (at most 60,000).
    #[schemars(range(max = 60_000))]
    ms: u64,
}

#[derive(Deserialize, JsonSchema)]
struct CountArgs {
    /// The number to count to, one a second (at most 3,600).
    #[schemars(range(max = 3_600))]
    to: u32,
}

#[derive(Deserialize, JsonSchema)]
struct Name {
    /// Your name
    name: String,
}

#[derive(Deserialize, JsonSchema)]
struct GreetArgs {
    /// Who to greet
    name: String,
}

/// The `hello` server, ready to build.
pub fn builder() -> McpServerBuilder {
    McpServerBuilder::new()
        .server_info("hello", env!("CARGO_PKG_VERSION"))
        .tool(
            Tool::new("echo", "Returns its `text` argument"),
            |Args(args): Args<EchoArgs>, _ctx| async move { Ok(args.text) },
        )
        .tool(
            Tool::new("add", "Adds `a` and `b`"),
            |Args(AddArgs { a, b }): Args<AddArgs>, _ctx| async move {
                let sum = a + b;
                // JSON has no infinity: `{"sum": null}` would break the
                // output schema, so an overflow is the tool's error.
                if !sum.is_finite() {
                    return Err(ToolError::new(format!("{a} + {b} is not a finite number")));
                }
                Ok(Json(Sum { sum }))
            },
        )
        .tool(
            Tool::new(
                "sleep",
                "Waits `ms` milliseconds, reporting progress in tenths",
            ),
            |Args(args): Args<SleepArgs>, ctx| async move {
                let timer = ctx
                    .runtime()
                    .cloned()
                    .ok_or_else(|| ToolError::new("no runtime to sleep on"))?;
                let ms = args.ms.min(60_000);
                for step in 1..=10u32 {
                    timer.sleep(Duration::from_millis(ms / 10)).await;
                    // Progress is best effort: a client that left cannot be told.
                    let _ = ctx.progress(f64::from(step), Some(10.0), None).await;
                }
                Ok(format!("slept {ms} ms"))
            },
        )
        // Long enough to want a task: a client that declares the tasks
        // extension gets a task id at once and polls `tasks/get`, which shows
        // how far it got; any other client waits for the answer.
        .task_tool(
            Tool::new(
                "count_to",
                "Counts to `to`, one number a second (a task for clients that take tasks)",
            ),
            TaskSupport::Optional,
            |Args(args): Args<CountArgs>, ctx| async move {
                let timer = ctx
                    .runtime()
                    .cloned()
                    .ok_or_else(|| ToolError::new("no runtime to count on"))?;
                let to = args.to.min(3_600);
                for n in 1..=to {
                    timer.sleep(Duration::from_secs(1)).await;
                    let said = format!("counted to {n} of {to}");
                    ctx.progress(f64::from(n), Some(f64::from(to)), Some(&said))
                        .await?;
                }
                Ok(format!("counted to {to}"))
            },
        )
        // Input in a task: the user is asked through elicitation (in a
        // 2025-11-25 session, a request related to the task that the client
        // receives on its `tasks/result` stream; with the extension, the
        // task's `inputRequests`), and the task waits for the answer.
        .task_tool(
            Tool::new(
                "ask_name",
                "Asks the user's name, then greets them (a task for clients that take tasks)",
            ),
            TaskSupport::Optional,
            |_: serde_json::Value, ctx| async move {
                match ctx.elicit::<Name>("What is your name?").await? {
                    Elicitation::Accepted(Name { name }) => Ok(format!("Hello, {name}!")),
                    _ => Ok("Hello, whoever you are!".to_owned()),
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
            Prompt::new("greet", "Asks the model to greet someone"),
            |Args(args): Args<GreetArgs>, _ctx| async move {
                Ok(GetPromptResult::new(vec![PromptMessage::user(
                    Content::text(format!("Please greet {} warmly.", args.name)),
                )]))
            },
        )
}
