//! The MCP engine over the in-memory transport: correlation, concurrency,
//! cancellation, related messages, server→client requests, lifecycle and
//! every JSON-RPC error path.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::{
    CallToolResult, Completion, Content, CreateMessageRequest, GetPromptResult, LogLevel,
    McpServer, McpServerBuilder, Prompt, PromptArguments, PromptMessage, ReadResourceResult,
    RequestId, Resource, ResourceContents, ResourceTemplate, Route, RpcError, SamplingMessage,
    ServerConfig, Tool, memory_pair,
};
use switchboard_smol::SmolRuntime;
use tests::server::Gates;
use tests::{TestClient, deadline};

#[derive(Deserialize)]
struct TextArgs {
    text: String,
}

#[derive(Deserialize)]
struct GatedArgs {
    text: String,
    gate: String,
}

#[derive(Deserialize)]
struct TypedArgs {
    #[expect(dead_code, reason = "only its type matters")]
    n: u32,
}

/// Flags set by the `hang` tool: it started; its future was dropped.
#[derive(Clone, Default)]
struct HangFlags {
    started: Arc<AtomicBool>,
    dropped: Arc<AtomicBool>,
}

/// Waits (bounded by the test deadline) until `flag` is set.
async fn until_set(flag: &AtomicBool, what: &str) {
    deadline(what, async {
        while !flag.load(Ordering::SeqCst) {
            smol::Timer::after(Duration::from_millis(5)).await;
        }
    })
    .await;
}

struct SetOnDrop(Arc<AtomicBool>);
impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn builder(gates: &Gates, flags: &HangFlags) -> McpServerBuilder {
    let gates = gates.clone();
    let flags = flags.clone();
    McpServerBuilder::new()
        .server_info("engine-test", "0.0.1")
        .tool(Tool::new("echo", "echo"), |a: TextArgs, _ctx| async move {
            Ok(CallToolResult::text(a.text))
        })
        .tool(
            Tool::new("gated", "waits for a gate"),
            move |a: GatedArgs, _ctx| {
                let gates = gates.clone();
                async move {
                    gates.wait(&a.gate).await;
                    Ok(CallToolResult::text(a.text))
                }
            },
        )
        .tool(
            Tool::new("hang", "never finishes"),
            move |_: Value, _ctx| {
                let flags = flags.clone();
                async move {
                    let _guard = SetOnDrop(flags.dropped.clone());
                    flags.started.store(true, Ordering::SeqCst);
                    futures::future::pending::<()>().await;
                    Ok(CallToolResult::text("unreachable"))
                }
            },
        )
        .tool(
            Tool::new("progress", "three steps"),
            |_: Value, ctx| async move {
                for p in [0.0, 50.0, 100.0] {
                    ctx.progress(p, Some(100.0), None).await.unwrap();
                }
                if ctx.progress_token().is_some() {
                    assert!(
                        ctx.progress(10.0, None, None).await.is_err(),
                        "progress may not go down"
                    );
                }
                Ok(CallToolResult::text("done"))
            },
        )
        .tool(
            Tool::new("log", "logs at three levels"),
            |_: Value, ctx| async move {
                for level in [LogLevel::Debug, LogLevel::Info, LogLevel::Error] {
                    ctx.log(level, Some("t"), json!(format!("{level:?}")))
                        .await
                        .unwrap();
                }
                Ok(CallToolResult::text("logged"))
            },
        )
        .tool(
            Tool::new("sample", "asks the client's LLM"),
            |a: TextArgs, ctx| async move {
                let request = CreateMessageRequest::new(vec![SamplingMessage::user(a.text)], 100);
                Ok(match ctx.create_message(request).await {
                    Ok(result) => CallToolResult::text(format!("LLM response: {}", result.text())),
                    Err(e) => CallToolResult::error(format!("sampling failed: {e}")),
                })
            },
        )
        .tool(
            Tool::new("roots", "asks for roots"),
            |_: Value, ctx| async move {
                Ok(match ctx.list_roots().await {
                    Ok(roots) => CallToolResult::text(json!({ "roots": roots }).to_string()),
                    Err(e) => CallToolResult::error(e.to_string()),
                })
            },
        )
        .tool(Tool::new("panic", "panics"), |_: Value, _ctx| async move {
            if true {
                panic!("tool panicked on purpose");
            }
            Ok(CallToolResult::text("unreachable"))
        })
        .tool(Tool::new("fail", "fails"), |_: Value, _ctx| async move {
            Err::<CallToolResult, _>(RpcError::internal("boom").into())
        })
        .tool(
            Tool::new("typed", "takes n").input_schema(
                json!({"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}),
            ),
            |_: TypedArgs, _ctx| async move { Ok(CallToolResult::text("ok")) },
        )
        .text_resource(Resource::new("test://a", "a").mime_type("text/plain"), "A")
        .resource_template(
            ResourceTemplate::new("test://t/{id}", "t"),
            |uri, vars: HashMap<String, String>, _ctx| async move {
                Ok(ReadResourceResult::new(vec![ResourceContents::text(
                    uri,
                    "text/plain",
                    format!("id={}", vars["id"]),
                )]))
            },
        )
        .prompt(
            Prompt::new("p", "a prompt").argument("x", "x", true),
            |args: PromptArguments, _ctx| async move {
                Ok(GetPromptResult::new(vec![PromptMessage::user(
                    Content::text(format!("x={}", args["x"])),
                )]))
            },
        )
        .completion(|req, _ctx| async move {
            Ok(Completion::new(vec![format!("{}1", req.argument.value)]).total(1))
        })
}

struct Fixture {
    client: TestClient,
    server: McpServer,
    gates: Gates,
    flags: HangFlags,
}

/// Runs `body` against a fresh server on `futures::executor` (one thread,
/// no runtime crate driving the engine), with handlers spawned on
/// `SmolRuntime` (`spawned`) or run inside the serve loop.
fn run<F, Fut>(spawned: bool, config: ServerConfig, body: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = Fixture>,
{
    futures::executor::block_on(async {
        let gates = Gates::default();
        let flags = HangFlags::default();
        let (transport, client) = memory_pair(1024);
        let mut b = builder(&gates, &flags).config(config);
        if spawned {
            b = b.runtime(Arc::new(SmolRuntime::global()));
        }
        let server = b.build(transport);
        let serving = server.clone();
        let serving = async move { serving.run().await };
        let test = async {
            let fixture = body(Fixture {
                client: TestClient::new(client),
                server,
                gates,
                flags,
            })
            .await;
            fixture.client.raw().close();
        };
        let (served, ()) =
            deadline("server to stop", async { futures::join!(serving, test) }).await;
        served.unwrap();
    });
}

fn both(body: impl Fn(Fixture) -> futures::future::BoxFuture<'static, Fixture>) {
    run(false, ServerConfig::default(), &body);
    run(true, ServerConfig::default(), &body);
}

fn call(name: &str, args: Value) -> Value {
    json!({"name": name, "arguments": args})
}

fn text(reply: &Value) -> &str {
    reply["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {reply}"))
}

fn error_code(reply: &Value) -> i64 {
    reply["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error in {reply}"))
}

#[test]
fn same_id_in_two_sessions_gets_each_its_own_reply() {
    both(|mut f| {
        Box::pin(async move {
            f.client.initialize("A", "2025-11-25").await;
            f.client.initialize("B", "2025-11-25").await;
            f.client
                .call_tool("A", 7, "gated", json!({"text": "from A", "gate": "a"}))
                .await;
            f.client
                .call_tool("B", 7, "gated", json!({"text": "from B", "gate": "b"}))
                .await;
            // Release in the opposite order of arrival.
            f.gates.open("b");
            assert_eq!(text(&f.client.reply("B", 7).await), "from B");
            f.gates.open("a");
            assert_eq!(text(&f.client.reply("A", 7).await), "from A");
            assert!(f.client.backlog().is_empty(), "{:?}", f.client.backlog());
            f
        })
    });
}

#[test]
fn two_requests_in_one_session_get_their_own_replies() {
    both(|mut f| {
        Box::pin(async move {
            f.client.initialize("S", "2025-11-25").await;
            f.client
                .call_tool("S", 1, "gated", json!({"text": "one", "gate": "1"}))
                .await;
            f.client
                .call_tool("S", 2, "gated", json!({"text": "two", "gate": "2"}))
                .await;
            f.gates.open("2");
            assert_eq!(text(&f.client.reply("S", 2).await), "two");
            f.gates.open("1");
            assert_eq!(text(&f.client.reply("S", 1).await), "one");
            f
        })
    });
}

#[test]
fn a_slow_tool_does_not_hold_up_100_fast_calls() {
    both(|mut f| {
        Box::pin(async move {
            f.client.initialize("S", "2025-11-25").await;
            f.client.initialize("T", "2025-11-25").await;
            f.client
                .call_tool("S", 1, "gated", json!({"text": "slow", "gate": "slow"}))
                .await;
            for i in 0..100 {
                let session = if i % 2 == 0 { "S" } else { "T" };
                f.client
                    .call_tool(
                        session,
                        100 + i,
                        "echo",
                        json!({"text": format!("fast {i}")}),
                    )
                    .await;
            }
            for i in 0..100 {
                let session = if i % 2 == 0 { "S" } else { "T" };
                assert_eq!(
                    text(&f.client.reply(session, 100 + i).await),
                    format!("fast {i}")
                );
            }
            // Every fast reply came while the slow one was still in flight.
            f.gates.open("slow");
            assert_eq!(text(&f.client.reply("S", 1).await), "slow");
            f
        })
    });
}

#[test]
fn cancellation_stops_the_handler_and_sends_no_reply() {
    both(|mut f| {
        Box::pin(async move {
            f.client.initialize("S", "2025-11-25").await;
            f.client.call_tool("S", 5, "hang", json!({})).await;
            until_set(&f.flags.started, "hang to start").await;
            f.client
                .notify(
                    "S",
                    "notifications/cancelled",
                    json!({"requestId": 5, "reason": "test"}),
                )
                .await;
            until_set(&f.flags.dropped, "handler to be dropped").await;
            // The transport is told the request ended without a reply.
            let marker = f
                .client
                .next_where("cancelled marker", |r| {
                    r.route == Route::Cancelled(RequestId::number(5))
                })
                .await;
            assert_eq!(marker.json, Value::Null);
            // Requests are answered in order of arrival here; the ping's reply
            // coming with nothing for id 5 before or after it shows none was sent.
            f.client.request("S", 6, "ping", json!({})).await;
            assert_eq!(f.client.reply("S", 6).await["result"], json!({}));
            // The id is free again once its handler is gone.
            f.client
                .call_tool("S", 5, "echo", json!({"text": "again"}))
                .await;
            assert_eq!(text(&f.client.reply("S", 5).await), "again");
            assert!(f.client.backlog().is_empty(), "{:?}", f.client.backlog());
            f
        })
    });
}

#[test]
fn progress_is_related_to_its_request_and_comes_before_the_result() {
    both(|mut f| {
        Box::pin(async move {
            f.client.initialize("S", "2025-11-25").await;
            let params =
                json!({"name": "progress", "arguments": {}, "_meta": {"progressToken": 42}});
            f.client.request("S", 3, "tools/call", params).await;
            let mut seen = Vec::new();
            loop {
                let m = f
                    .client
                    .next_where("progress or reply", |r| r.session.as_str() == "S")
                    .await;
                match m.route {
                    Route::Related(id) => {
                        assert_eq!(id, RequestId::number(3));
                        assert_eq!(m.json["method"], "notifications/progress");
                        assert_eq!(m.json["params"]["progressToken"], json!(42));
                        seen.push(m.json["params"]["progress"].as_f64().unwrap());
                    }
                    Route::Reply(id) => {
                        assert_eq!(id, Some(RequestId::number(3)));
                        assert_eq!(text(&m.json), "done");
                        break;
                    }
                    other => panic!("unexpected route {other:?}"),
                }
            }
            assert_eq!(seen, vec![0.0, 50.0, 100.0]);
            // Without a token, no progress is sent at all.
            f.client.call_tool("S", 4, "progress", json!({})).await;
            assert_eq!(text(&f.client.reply("S", 4).await), "done");
            assert!(f.client.backlog().is_empty(), "{:?}", f.client.backlog());
            f
        })
    });
}

#[test]
fn logging_is_filtered_by_the_session_level() {
    both(|mut f| {
        Box::pin(async move {
            f.client.initialize("S", "2025-11-25").await;
            f.client
                .request("S", 1, "logging/setLevel", json!({"level": "info"}))
                .await;
            assert_eq!(f.client.reply("S", 1).await["result"], json!({}));
            f.client.call_tool("S", 2, "log", json!({})).await;
            assert_eq!(text(&f.client.reply("S", 2).await), "logged");
            let logs: Vec<Value> = f
                .client
                .backlog()
                .iter()
                .map(|r| r.json["params"]["level"].clone())
                .collect();
            assert_eq!(logs, vec![json!("info"), json!("error")]);
            f.client
                .request("S", 3, "logging/setLevel", json!({"level": "loud"}))
                .await;
            assert_eq!(error_code(&f.client.reply("S", 3).await), -32602);
            f
        })
    });
}

#[test]
fn without_a_runtime_server_requests_fail_at_once() {
    // Nothing could bound the wait for the answer, so nothing is sent (it
    // used to wait forever).
    run(false, ServerConfig::default(), |mut f| async move {
        f.client.initialize("S", "2025-11-25").await;
        f.client
            .call_tool("S", 9, "sample", json!({"text": "hi"}))
            .await;
        let reply = f.client.reply("S", 9).await;
        assert_eq!(reply["result"]["isError"], true);
        assert_eq!(
            text(&reply),
            "sampling failed: server→client requests need a runtime to time out"
        );
        assert!(
            f.client
                .backlog()
                .iter()
                .all(|r| r.json["method"] != "sampling/createMessage"),
            "no request went out"
        );
        f
    });
}

#[test]
fn sampling_round_trip_on_the_related_route() {
    run(true, ServerConfig::default(), |mut f| {
        Box::pin(async move {
            f.client.initialize("S", "2025-11-25").await;
            f.client
                .call_tool("S", 9, "sample", json!({"text": "hi"}))
                .await;
            let req = f
                .client
                .next_where("sampling request", |r| {
                    r.json["method"] == "sampling/createMessage"
                })
                .await;
            assert_eq!(req.route, Route::Related(RequestId::number(9)));
            assert_eq!(req.json["params"]["messages"][0]["content"]["text"], "hi");
            let answer = json!({"jsonrpc": "2.0", "id": req.json["id"],
            "result": {"role": "assistant", "content": {"type": "text", "text": "hello back"}, "model": "m"}});
            f.client.send("S", answer).await;
            assert_eq!(
                text(&f.client.reply("S", 9).await),
                "LLM response: hello back"
            );
            f
        })
    });
}

#[test]
fn a_missing_sampling_answer_times_out_with_an_error() {
    let config = ServerConfig::default().request_timeout(Duration::from_millis(200));
    run(true, config, |mut f| async move {
        f.client.initialize("S", "2025-11-25").await;
        f.client
            .call_tool("S", 9, "sample", json!({"text": "hi"}))
            .await;
        let req = f
            .client
            .next_where("sampling request", |r| {
                r.json["method"] == "sampling/createMessage"
            })
            .await;
        let reply = f.client.reply("S", 9).await;
        assert_eq!(reply["result"]["isError"], true);
        assert!(
            text(&reply).contains("no answer within the timeout"),
            "{reply}"
        );
        let cancel = f
            .client
            .next_where("cancel", |r| r.json["method"] == "notifications/cancelled")
            .await;
        assert_eq!(cancel.json["params"]["requestId"], req.json["id"]);
        // A late answer is ignored without harm.
        f.client
            .send(
                "S",
                json!({"jsonrpc": "2.0", "id": req.json["id"], "result": {}}),
            )
            .await;
        f.client.request("S", 10, "ping", json!({})).await;
        assert_eq!(f.client.reply("S", 10).await["result"], json!({}));
        f
    });
}

#[test]
fn server_requests_need_the_client_capability() {
    both(|mut f| {
        Box::pin(async move {
            f.client.initialize("S", "2025-11-25").await;
            f.client.call_tool("S", 1, "roots", json!({})).await;
            let reply = f.client.reply("S", 1).await;
            assert_eq!(reply["result"]["isError"], true);
            assert_eq!(text(&reply), "client lacks the roots capability");
            f
        })
    });
}

#[test]
fn versions_are_echoed_or_answered_with_the_latest() {
    both(|mut f| {
        Box::pin(async move {
            for (i, v) in ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
                .iter()
                .enumerate()
            {
                let result = f.client.initialize(&format!("v{i}"), v).await;
                assert_eq!(result["protocolVersion"], *v);
                assert_eq!(
                    result["serverInfo"],
                    json!({"name": "engine-test", "version": "0.0.1"})
                );
            }
            let result = f.client.initialize("old", "1999-01-01").await;
            assert_eq!(result["protocolVersion"], "2025-11-25");
            let caps = &result["capabilities"];
            // Lists fixed at build: no `listChanged` (ServerConfig::list_changed).
            assert_eq!(caps["tools"], json!({}));
            assert_eq!(caps["resources"], json!({"subscribe": true}));
            assert_eq!(caps["completions"], json!({}));
            assert_eq!(caps["logging"], json!({}));
            f
        })
    });
}

#[test]
fn every_jsonrpc_error_path_has_its_code() {
    both(|mut f| {
        Box::pin(async move {
            let c = &mut f.client;
            // Before initialize: only ping and initialize are served.
            c.request("S", 1, "tools/list", json!({})).await;
            assert_eq!(error_code(&c.reply("S", 1).await), -32600);
            c.request("S", 2, "ping", json!({})).await;
            assert_eq!(c.reply("S", 2).await["result"], json!({}));
            c.initialize("S", "2025-11-25").await;
            c.request(
                "S",
                3,
                "initialize",
                json!({"protocolVersion": "2025-11-25", "capabilities": {}}),
            )
            .await;
            assert_eq!(error_code(&c.reply("S", 3).await), -32600);
            c.initialize("U", "2025-11-25").await;

            c.send("S", json!("not an object")).await;
            let m = c
                .next_where("invalid request", |r| r.json["error"]["code"] == -32600)
                .await;
            assert_eq!(m.json["id"], Value::Null);
            c.raw()
                .send(&switchboard_core::SessionId::new("S"), "{\"jsonrpc\":")
                .await
                .unwrap();
            let m = c
                .next_where("parse error", |r| r.json["error"]["code"] == -32700)
                .await;
            assert_eq!(m.json["id"], Value::Null);
            assert_eq!(m.route, Route::Reply(None));

            c.request("S", 4, "no/such/method", json!({})).await;
            assert_eq!(error_code(&c.reply("S", 4).await), -32601);
            c.call_tool("S", 5, "nope", json!({})).await;
            assert_eq!(error_code(&c.reply("S", 5).await), -32602);
            c.request("S", 6, "tools/call", json!({"arguments": {}}))
                .await;
            assert_eq!(error_code(&c.reply("S", 6).await), -32602);
            c.request("S", 7, "resources/read", json!({"uri": "test://missing"}))
                .await;
            let reply = c.reply("S", 7).await;
            assert_eq!(error_code(&reply), -32602);
            assert_eq!(reply["error"]["data"]["uri"], "test://missing");
            c.request("S", 8, "prompts/get", json!({"name": "p", "arguments": {}}))
                .await;
            assert_eq!(error_code(&c.reply("S", 8).await), -32602);
            c.call_tool("S", 9, "fail", json!({})).await;
            assert_eq!(error_code(&c.reply("S", 9).await), -32603);
            c.call_tool("S", 12, "panic", json!({})).await;
            let reply = c.reply("S", 12).await;
            assert_eq!(error_code(&reply), -32603);
            assert_eq!(reply["error"]["message"], "handler panicked");
            c.request("S", 10, "tools/list", json!({"cursor": "bogus"}))
                .await;
            assert_eq!(error_code(&c.reply("S", 10).await), -32602);
            // A batch outside 2025-03-26 is an invalid request.
            c.send("S", json!([{"jsonrpc": "2.0", "id": 11, "method": "ping"}]))
                .await;
            let m = c
                .next_where("batch refusal", |r| r.json["error"]["code"] == -32600)
                .await;
            assert_eq!(m.json["id"], Value::Null);
            f
        })
    });
}

#[test]
fn invalid_tool_arguments_follow_the_session_revision() {
    both(|mut f| {
        Box::pin(async move {
            f.client.initialize("new", "2025-11-25").await;
            f.client.initialize("old", "2025-06-18").await;
            f.client
                .call_tool("new", 1, "typed", json!({"n": "x"}))
                .await;
            let reply = f.client.reply("new", 1).await;
            assert_eq!(reply["result"]["isError"], true);
            assert!(text(&reply).starts_with("invalid arguments for tool typed"));
            f.client
                .call_tool("old", 1, "typed", json!({"n": "x"}))
                .await;
            assert_eq!(error_code(&f.client.reply("old", 1).await), -32602);
            f
        })
    });
}

#[test]
fn batches_are_answered_as_arrays_at_2025_03_26() {
    both(|mut f| {
        Box::pin(async move {
            f.client.initialize("S", "2025-03-26").await;
            let batch = json!([
                {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call("echo", json!({"text": "a"}))},
                {"jsonrpc": "2.0", "method": "notifications/initialized"},
                {"jsonrpc": "2.0", "id": 2, "method": "ping"},
                {"jsonrpc": "2.0", "id": 3, "method": "initialize", "params": {}},
                {"id": 4}
            ]);
            f.client.send("S", batch).await;
            let m = f
                .client
                .next_where("batch reply", |r| r.json.is_array())
                .await;
            assert_eq!(m.route, Route::Reply(Some(RequestId::number(1))));
            let items = m.json.as_array().unwrap();
            assert_eq!(items.len(), 4);
            assert_eq!(items[0]["result"]["content"][0]["text"], "a");
            assert_eq!(items[1]["result"], json!({}));
            assert_eq!(items[2]["error"]["code"], -32600);
            assert_eq!(items[3]["error"]["code"], -32600);
            f
        })
    });
}

#[test]
fn in_flight_requests_per_session_are_bounded() {
    run(
        false,
        ServerConfig::default().max_in_flight(2),
        |mut f| async move {
            f.client.initialize("S", "2025-11-25").await;
            f.client.initialize("T", "2025-11-25").await;
            for id in 1..=2 {
                f.client
                    .call_tool(
                        "S",
                        id,
                        "gated",
                        json!({"text": "x", "gate": format!("g{id}")}),
                    )
                    .await;
            }
            f.client
                .call_tool("S", 3, "echo", json!({"text": "third"}))
                .await;
            let reply = f.client.reply("S", 3).await;
            assert_eq!(error_code(&reply), -32000);
            // Other sessions are not affected.
            f.client
                .call_tool("T", 1, "echo", json!({"text": "t"}))
                .await;
            assert_eq!(text(&f.client.reply("T", 1).await), "t");
            f.gates.open("g1");
            f.gates.open("g2");
            f.client.reply("S", 1).await;
            f.client.reply("S", 2).await;
            f.client
                .call_tool("S", 4, "echo", json!({"text": "fourth"}))
                .await;
            assert_eq!(text(&f.client.reply("S", 4).await), "fourth");
            f
        },
    );
}

#[test]
fn resources_prompts_completion_and_pagination() {
    run(
        false,
        ServerConfig::default().page_size(4),
        |mut f| async move {
            let c = &mut f.client;
            c.initialize("S", "2025-11-25").await;
            let mut names = Vec::new();
            let mut cursor = None;
            for id in 1.. {
                let params = cursor.map_or(json!({}), |cur: Value| json!({"cursor": cur}));
                c.request("S", id, "tools/list", params).await;
                let reply = c.reply("S", id).await;
                names.extend(
                    reply["result"]["tools"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|t| t["name"].clone()),
                );
                cursor = reply["result"].get("nextCursor").cloned();
                if cursor.is_none() {
                    break;
                }
            }
            assert_eq!(names.len(), 10);
            assert_eq!(names.iter().filter(|n| *n == "panic").count(), 1);
            assert_eq!(names[0], "echo");
            c.request("S", 20, "resources/read", json!({"uri": "test://a"}))
                .await;
            assert_eq!(
                c.reply("S", 20).await["result"],
                json!({"contents": [{"uri": "test://a", "mimeType": "text/plain", "text": "A"}]})
            );
            c.request("S", 21, "resources/read", json!({"uri": "test://t/123"}))
                .await;
            assert_eq!(
                c.reply("S", 21).await["result"]["contents"][0]["text"],
                "id=123"
            );
            c.request("S", 22, "resources/templates/list", json!({}))
                .await;
            assert_eq!(
                c.reply("S", 22).await["result"]["resourceTemplates"][0]["uriTemplate"],
                "test://t/{id}"
            );
            c.request(
                "S",
                23,
                "prompts/get",
                json!({"name": "p", "arguments": {"x": "7"}}),
            )
            .await;
            assert_eq!(
                c.reply("S", 23).await["result"]["messages"][0]["content"]["text"],
                "x=7"
            );
            c.request("S", 24, "completion/complete", json!({"ref": {"type": "ref/prompt", "name": "p"}, "argument": {"name": "x", "value": "v"}})).await;
            assert_eq!(
                c.reply("S", 24).await["result"],
                json!({"completion": {"values": ["v1"], "total": 1, "hasMore": false}})
            );
            c.request("S", 25, "resources/subscribe", json!({"uri": "test://a"}))
                .await;
            assert_eq!(c.reply("S", 25).await["result"], json!({}));
            c.request(
                "S",
                26,
                "resources/subscribe",
                json!({"uri": "test://nope"}),
            )
            .await;
            assert_eq!(error_code(&c.reply("S", 26).await), -32602);
            f
        },
    );
}

#[test]
fn registry_changes_and_resource_updates_are_notified_unrelated() {
    run(
        false,
        ServerConfig::default().list_changed(true),
        |mut f| async move {
            f.client.initialize("S", "2025-11-25").await;
            f.client.initialize("T", "2025-11-25").await;
            f.client
                .request("S", 1, "resources/subscribe", json!({"uri": "test://a"}))
                .await;
            f.client.reply("S", 1).await;
            f.server
                .add_tool(Tool::new("late", "added later"), |_: Value, _ctx| async {
                    Ok(CallToolResult::text("late"))
                })
                .await;
            for s in ["S", "T"] {
                let m = f
                    .client
                    .next_where("list_changed", |r| {
                        r.session.as_str() == s
                            && r.json["method"] == "notifications/tools/list_changed"
                    })
                    .await;
                assert_eq!(m.route, Route::Unrelated);
            }
            f.client.call_tool("T", 2, "late", json!({})).await;
            assert_eq!(text(&f.client.reply("T", 2).await), "late");
            f.server.notify_resource_updated("test://a").await;
            let m = f
                .client
                .next_where("updated", |r| {
                    r.json["method"] == "notifications/resources/updated"
                })
                .await;
            assert_eq!(m.session.as_str(), "S");
            assert_eq!(m.json["params"]["uri"], "test://a");
            assert!(f.server.remove_tool("late").await);
            f.client
                .next_where("list_changed", |r| {
                    r.session.as_str() == "S"
                        && r.json["method"] == "notifications/tools/list_changed"
                })
                .await;
            f.client
                .next_where("list_changed", |r| {
                    r.session.as_str() == "T"
                        && r.json["method"] == "notifications/tools/list_changed"
                })
                .await;
            assert!(
                f.client.backlog().is_empty(),
                "only S was subscribed: {:?}",
                f.client.backlog()
            );
            f
        },
    );
}

#[test]
fn closing_a_session_cancels_its_handlers() {
    both(|mut f| {
        Box::pin(async move {
            f.client.initialize("S", "2025-11-25").await;
            f.client.call_tool("S", 1, "hang", json!({})).await;
            until_set(&f.flags.started, "hang to start").await;
            f.client
                .raw()
                .close_session(&switchboard_core::SessionId::new("S"))
                .await
                .unwrap();
            until_set(&f.flags.dropped, "handler to be dropped").await;
            f.client.request("S", 2, "tools/list", json!({})).await;
            assert_eq!(error_code(&f.client.reply("S", 2).await), -32600);
            assert_eq!(f.server.session_count(), 0);
            f
        })
    });
}

#[test]
fn subscriptions_per_session_are_bounded() {
    run(
        false,
        ServerConfig::default().max_subscriptions(2),
        |mut f| async move {
            f.client.initialize("S", "2025-11-25").await;
            let subscribe = |uri: &str| json!({"uri": uri});
            for (id, uri) in [(1, "test://t/1"), (2, "test://t/2"), (3, "test://t/1")] {
                f.client
                    .request("S", id, "resources/subscribe", subscribe(uri))
                    .await;
                assert_eq!(f.client.reply("S", id).await["result"], json!({}), "{uri}");
            }
            // A third distinct URI is past the cap (it used to grow without bound).
            f.client
                .request("S", 4, "resources/subscribe", subscribe("test://t/3"))
                .await;
            let reply = f.client.reply("S", 4).await;
            assert_eq!(error_code(&reply), -32000);
            assert_eq!(reply["error"]["message"], "too many subscriptions");
            // Room is made by unsubscribing.
            f.client
                .request("S", 5, "resources/unsubscribe", subscribe("test://t/1"))
                .await;
            f.client.reply("S", 5).await;
            f.client
                .request("S", 6, "resources/subscribe", subscribe("test://t/3"))
                .await;
            assert_eq!(f.client.reply("S", 6).await["result"], json!({}));
            f
        },
    );
}
