//! The server under simulation: the real engine and HTTP layer, with tools
//! that sleep on the runtime, report progress, ask the client (elicitation,
//! sampling; input rounds when stateless) and announce list changes. Every
//! tool answers with the `tag` its caller sent, so a client can tell its
//! own messages from anyone else's.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::{
    CallToolResult, CreateMessageRequest, McpServer, McpServerBuilder, RpcError, SamplingMessage,
    ServerConfig, Tool,
};

#[derive(Deserialize)]
struct Args {
    tag: String,
    #[serde(default)]
    ms: u64,
    #[serde(default)]
    steps: u64,
    #[serde(default)]
    rounds: u64,
    #[serde(default)]
    pad: usize,
}

fn runtime(
    ctx: &switchboard_core::RequestContext,
) -> Result<Arc<dyn switchboard_core::Runtime>, RpcError> {
    ctx.runtime()
        .cloned()
        .ok_or_else(|| RpcError::internal("no runtime"))
}

/// The answer a client gives to input `key` of the request tagged `tag`.
pub(crate) fn answer_for(tag: &str, key: &str) -> String {
    format!("{tag}/{key}")
}

/// The server's tools; `server` is set once the server is built.
pub(crate) fn builder(server: Arc<OnceLock<McpServer>>) -> McpServerBuilder {
    McpServerBuilder::new()
        .server_info("sim", "0.0.1")
        .config(ServerConfig::default().list_changed(true))
        .tool(
            Tool::new("echo", "answers `tag` after `ms` milliseconds"),
            |a: Args, ctx| async move {
                if a.ms > 0 {
                    runtime(&ctx)?.sleep(Duration::from_millis(a.ms)).await;
                }
                Ok(CallToolResult::text(a.tag))
            },
        )
        .tool(
            Tool::new("progress", "`steps` progress notifications, `ms` apart, each `pad` bytes long or more"),
            |a: Args, ctx| async move {
                let rt = runtime(&ctx)?;
                let message = format!("{}{}", a.tag, " ".repeat(a.pad));
                for i in 1..=a.steps {
                    ctx.progress(i as f64, Some(a.steps as f64), Some(&message))
                        .await
                        .ok();
                    if a.ms > 0 {
                        rt.sleep(Duration::from_millis(a.ms)).await;
                    }
                }
                Ok(CallToolResult::text(a.tag))
            },
        )
        .tool(
            Tool::new("ask", "asks `rounds` questions, one after the other"),
            |a: Args, ctx| async move {
                let mut answers = Vec::new();
                for round in 1..=a.rounds.max(1) {
                    let key = format!("q{round}");
                    let params = json!({"message": format!("{} {key}", a.tag), "requestedSchema": {"type": "object",
                        "properties": {"name": {"type": "string"}}}});
                    match ctx.input(&key, "elicitation/create", params).await {
                        Ok(answer) => answers.push(
                            answer["content"]["name"].as_str().unwrap_or("?").to_owned(),
                        ),
                        Err(e) => {
                            return Ok(CallToolResult::error(format!("{}!{e}", a.tag)));
                        }
                    }
                }
                Ok(CallToolResult::text(format!("{}:{}", a.tag, answers.join(","))))
            },
        )
        .tool(
            Tool::new("sample", "asks the client's LLM"),
            |a: Args, ctx| async move {
                let request =
                    CreateMessageRequest::new(vec![SamplingMessage::user(a.tag.clone())], 10);
                Ok(match ctx.create_message(request).await {
                    Ok(r) => CallToolResult::text(format!("{}:{}", a.tag, r.text())),
                    Err(e) => CallToolResult::error(format!("{}!{e}", a.tag)),
                })
            },
        )
        .tool(
            Tool::new("announce", "announces a tool list change"),
            move |a: Args, _ctx| {
                let server = Arc::clone(&server);
                async move {
                    if let Some(server) = server.get() {
                        server.notify_tools_changed().await;
                    }
                    Ok(CallToolResult::text(a.tag))
                }
            },
        )
}

/// The text a tool answers for `args`, when all goes well.
pub(crate) fn expected(name: &str, args: &Value) -> String {
    let tag = args["tag"].as_str().unwrap_or_default();
    match name {
        "ask" => {
            let rounds = args["rounds"].as_u64().unwrap_or(1).max(1);
            let answers: Vec<String> = (1..=rounds)
                .map(|r| answer_for(tag, &format!("q{r}")))
                .collect();
            format!("{tag}:{}", answers.join(","))
        }
        "sample" => format!("{tag}:{}", answer_for(tag, "sample")),
        _ => tag.to_owned(),
    }
}
