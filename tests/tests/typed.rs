//! Typed tools, prompts and templates as a client sees them (over the
//! in-memory transport): generated schemas, structured results, argument
//! validation before the handler, `E: Display` → `isError`, server state,
//! typed template variables and prompt arguments, build-time errors.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchboard_core::{
    Args, Content, GetPromptResult, Json, McpServerBuilder, Prompt, PromptMessage,
    ReadResourceResult, ResourceContents, ResourceTemplate, RpcError, Tool, ToolError, memory_pair,
};
use tests::{TestClient, deadline};

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Unit {
    Celsius,
    Fahrenheit,
}

#[derive(Deserialize, JsonSchema)]
struct Place {
    /// The city.
    city: String,
    /// Its country, if the city name is ambiguous.
    country: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
struct WeatherArgs {
    place: Place,
    unit: Unit,
}

#[derive(Serialize, JsonSchema)]
struct Weather {
    temperature: f64,
    summary: String,
}

#[derive(Deserialize, JsonSchema)]
struct Count {
    n: u32,
}

/// Calls of `guarded` that reached its handler.
static GUARDED_RAN: AtomicUsize = AtomicUsize::new(0);

struct Visits(Mutex<u32>);

#[derive(Deserialize, JsonSchema)]
struct Doc {
    id: u32,
    title: String,
}

#[derive(Deserialize, JsonSchema)]
struct Letter {
    /// Who the letter is for
    to: String,
    /// How formal, if not plain
    tone: Option<String>,
}

fn builder() -> McpServerBuilder {
    McpServerBuilder::new()
        .server_info("typed-test", "0.0.1")
        .state(Visits(Mutex::new(0)))
        .tool(
            Tool::new("weather", "Weather for a place"),
            |Args(a): Args<WeatherArgs>, _ctx| async move {
                let temperature = match a.unit {
                    Unit::Celsius => 21.5,
                    Unit::Fahrenheit => 70.7,
                };
                let country = a
                    .place
                    .country
                    .map(|c| format!(", {c}"))
                    .unwrap_or_default();
                Ok(Json(Weather {
                    temperature,
                    summary: format!("sunny in {}{country}", a.place.city),
                }))
            },
        )
        .tool(
            Tool::new("squares", "The first n squares"),
            |Args(c): Args<Count>, _ctx| async move {
                Ok(Json((1..=c.n).map(|i| i * i).collect::<Vec<u32>>()))
            },
        )
        .tool(
            // A schema written by hand, enforced before the handler runs.
            Tool::new("guarded", "Takes 1 <= n <= 9").input_schema(json!({
                "type": "object",
                "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 9}},
                "required": ["n"]
            })),
            |_: Value, _ctx| async move {
                GUARDED_RAN.fetch_add(1, Ordering::SeqCst);
                Ok("ran")
            },
        )
        .tool(
            Tool::new("parse", "Parses an integer"),
            |a: HashMap<String, String>, _ctx| async move {
                let n: i64 = a.get("text").map_or("", String::as_str).parse()?;
                Ok(format!("{}", n * 2))
            },
        )
        .tool(
            Tool::new("protocol", "Fails as a protocol error"),
            |_: Value, _ctx| async move {
                Err::<String, _>(RpcError::invalid_params("not today").into())
            },
        )
        .tool(
            Tool::new("visit", "Counts visits in server state"),
            |_: Value, ctx| async move {
                let visits = ctx.state::<Visits>()?;
                let mut n = visits.0.lock().unwrap();
                *n += 1;
                Ok(n.to_string())
            },
        )
        .tool(
            Tool::new("stateless_state", "Asks for state the server lacks"),
            |_: Value, ctx| async move {
                ctx.state::<String>()?;
                Ok("unreachable")
            },
        )
        .resource_template(
            ResourceTemplate::new("docs://{id}/{title}", "docs"),
            |uri, Args(d): Args<Doc>, _ctx| async move {
                let text = format!("doc {} titled {:?}", d.id, d.title);
                Ok(ReadResourceResult::new(vec![ResourceContents::text(
                    uri,
                    "text/plain",
                    text,
                )]))
            },
        )
        .prompt(
            Prompt::new("letter", "Writes a letter"),
            |Args(l): Args<Letter>, _ctx| async move {
                let tone = l.tone.unwrap_or_else(|| "plain".into());
                Ok(GetPromptResult::new(vec![PromptMessage::user(
                    Content::text(format!("Write a {tone} letter to {}.", l.to)),
                )]))
            },
        )
}

/// Runs `body` against a fresh server on `futures::executor`, with a
/// session `S` at `version` open.
fn run<Fut>(version: &'static str, body: impl FnOnce(TestClient) -> Fut)
where
    Fut: Future<Output = TestClient>,
{
    futures::executor::block_on(async {
        let (transport, client) = memory_pair(256);
        let server = builder().build(transport);
        let test = async {
            let mut client = TestClient::new(client);
            client.initialize("S", version).await;
            let client = body(client).await;
            client.raw().close();
        };
        let (served, ()) = deadline("server to stop", async {
            futures::join!(server.run(), test)
        })
        .await;
        served.unwrap();
    });
}

async fn call(client: &mut TestClient, id: i64, name: &str, args: Value) -> Value {
    client.call_tool("S", id, name, args).await;
    client.reply("S", id).await
}

fn listed<'a>(tools: &'a Value, name: &str) -> &'a Value {
    tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("{name} not listed"))
}

#[test]
fn schemas_are_generated_from_the_types() {
    run("2025-11-25", |mut c| async move {
        c.request("S", 1, "tools/list", json!({})).await;
        let tools = c.reply("S", 1).await;
        let weather = listed(&tools, "weather");
        assert_eq!(
            weather["inputSchema"],
            json!({
                "type": "object",
                "properties": {
                    "place": {
                        "type": "object",
                        "properties": {
                            "city": {"type": "string", "description": "The city."},
                            "country": {
                                "type": ["string", "null"],
                                "description": "Its country, if the city name is ambiguous."
                            }
                        },
                        "required": ["city"]
                    },
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
                },
                "required": ["place", "unit"]
            })
        );
        assert_eq!(
            weather["outputSchema"],
            json!({
                "type": "object",
                "properties": {
                    "temperature": {"type": "number", "format": "double"},
                    "summary": {"type": "string"}
                },
                "required": ["temperature", "summary"]
            })
        );
        // A list is not an object: it goes out, and is described, as {"result": [...]}.
        assert_eq!(
            listed(&tools, "squares")["outputSchema"]["properties"]["result"]["type"],
            "array"
        );
        // A hand-written schema stays as written.
        assert_eq!(
            listed(&tools, "guarded")["inputSchema"]["properties"]["n"]["maximum"],
            9
        );
        // Prompt arguments come from the type's fields and doc comments.
        c.request("S", 2, "prompts/list", json!({})).await;
        let prompts = c.reply("S", 2).await;
        assert_eq!(
            prompts["result"]["prompts"][0]["arguments"],
            json!([
                {"name": "to", "description": "Who the letter is for", "required": true},
                {"name": "tone", "description": "How formal, if not plain", "required": false}
            ])
        );
        c
    });
}

#[test]
fn structured_results_carry_their_text_mirror() {
    run("2025-11-25", |mut c| async move {
        let reply = call(
            &mut c,
            1,
            "weather",
            json!({"place": {"city": "Oslo"}, "unit": "celsius"}),
        )
        .await;
        let expected = json!({"temperature": 21.5, "summary": "sunny in Oslo"});
        assert_eq!(reply["result"]["structuredContent"], expected);
        let mirror: Value =
            serde_json::from_str(reply["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
        assert_eq!(mirror, expected);
        let squares = call(&mut c, 2, "squares", json!({"n": 3})).await;
        assert_eq!(
            squares["result"]["structuredContent"],
            json!({"result": [1, 4, 9]})
        );
        c
    });
}

#[test]
fn invalid_arguments_are_refused_before_the_handler_runs() {
    for (version, tool_error) in [("2025-11-25", true), ("2025-06-18", false)] {
        run(version, |mut c| async move {
            let before = GUARDED_RAN.load(Ordering::SeqCst);
            for (id, args) in [
                (1, json!({"n": 0})),
                (2, json!({"n": "five"})),
                (3, json!({})),
            ] {
                let reply = call(&mut c, id, "guarded", args).await;
                // 2025-11-25 makes it a tool error the model reads (SEP-1303);
                // earlier revisions a -32602.
                if tool_error {
                    assert_eq!(reply["result"]["isError"], true, "{reply}");
                    let text = reply["result"]["content"][0]["text"].as_str().unwrap();
                    assert!(
                        text.starts_with("invalid arguments for tool guarded: "),
                        "{text}"
                    );
                    if id == 1 {
                        assert!(
                            text.ends_with("/n: 0 is less than the minimum of 1"),
                            "{text}"
                        );
                    }
                } else {
                    assert_eq!(reply["error"]["code"], -32602, "{reply}");
                }
            }
            // Generated schemas are enforced too: `unit` is an enum.
            let reply = call(
                &mut c,
                4,
                "weather",
                json!({"place": {"city": "Oslo"}, "unit": "kelvin"}),
            )
            .await;
            assert!(
                reply["result"]["isError"] == true || reply["error"]["code"] == -32602,
                "{reply}"
            );
            assert_eq!(
                GUARDED_RAN.load(Ordering::SeqCst),
                before,
                "the handler ran"
            );
            let ok = call(&mut c, 5, "guarded", json!({"n": 5})).await;
            assert_eq!(ok["result"]["content"][0]["text"], "ran");
            c
        });
    }
}

#[test]
fn display_errors_become_tool_errors_and_rpc_errors_stay_protocol_errors() {
    run("2025-11-25", |mut c| async move {
        let ok = call(&mut c, 1, "parse", json!({"text": "21"})).await;
        assert_eq!(ok["result"]["content"][0]["text"], "42");
        // A ParseIntError through `?`.
        let failed = call(&mut c, 2, "parse", json!({"text": "x"})).await;
        assert_eq!(failed["result"]["isError"], true);
        assert_eq!(
            failed["result"]["content"][0]["text"],
            "invalid digit found in string"
        );
        let protocol = call(&mut c, 3, "protocol", json!({})).await;
        assert_eq!(
            protocol["error"],
            json!({"code": -32602, "message": "not today"})
        );
        c
    });
}

#[test]
fn state_is_reachable_from_every_call() {
    run("2025-11-25", |mut c| async move {
        for (id, expected) in [(1, "1"), (2, "2"), (3, "3")] {
            let reply = call(&mut c, id, "visit", json!({})).await;
            assert_eq!(reply["result"]["content"][0]["text"], expected);
        }
        let missing = call(&mut c, 4, "stateless_state", json!({})).await;
        assert_eq!(missing["result"]["isError"], true);
        assert_eq!(
            missing["result"]["content"][0]["text"],
            "the server has no state of type alloc::string::String"
        );
        c
    });
}

#[test]
fn template_variables_are_decoded_and_typed() {
    run("2025-11-25", |mut c| async move {
        c.request(
            "S",
            1,
            "resources/read",
            json!({"uri": "docs://7/caf%C3%A9%20menu"}),
        )
        .await;
        let read = c.reply("S", 1).await;
        assert_eq!(
            read["result"]["contents"][0]["text"],
            "doc 7 titled \"café menu\""
        );
        // A value that does not parse as its field's type.
        c.request("S", 2, "resources/read", json!({"uri": "docs://seven/x"}))
            .await;
        let bad = c.reply("S", 2).await;
        assert_eq!(bad["error"]["code"], -32602);
        assert!(
            bad["error"]["message"]
                .as_str()
                .unwrap()
                .contains("\"seven\""),
            "{bad}"
        );
        c
    });
}

#[test]
fn typed_prompt_arguments_are_checked_and_read() {
    run("2025-11-25", |mut c| async move {
        c.request(
            "S",
            1,
            "prompts/get",
            json!({"name": "letter", "arguments": {"to": "Ada"}}),
        )
        .await;
        let got = c.reply("S", 1).await;
        assert_eq!(
            got["result"]["messages"][0]["content"]["text"],
            "Write a plain letter to Ada."
        );
        c.request(
            "S",
            2,
            "prompts/get",
            json!({"name": "letter", "arguments": {"tone": "warm"}}),
        )
        .await;
        let missing = c.reply("S", 2).await;
        assert_eq!(missing["error"]["code"], -32602);
        assert_eq!(
            missing["error"]["message"],
            "missing required arguments: to"
        );
        c
    });
}

#[test]
fn invalid_registrations_are_reported_at_build() {
    let (transport, _client) = memory_pair(4);
    let refused = McpServerBuilder::new()
        .resource_template(
            ResourceTemplate::new("a://{x}{y}", "adjacent"),
            |_uri, _vars: HashMap<String, String>, _ctx| async {
                Ok(ReadResourceResult::new(vec![]))
            },
        )
        .resource_template(
            ResourceTemplate::new("b://{x}/{x}", "twice"),
            |_uri, _vars: HashMap<String, String>, _ctx| async {
                Ok(ReadResourceResult::new(vec![]))
            },
        )
        .try_build(transport)
        .unwrap_err();
    assert_eq!(
        refused.0,
        [
            "resource template `a://{x}{y}`: malformed uri template",
            "resource template `b://{x}/{x}`: malformed uri template"
        ]
    );
}

#[test]
fn tool_error_keeps_protocol_errors_apart() {
    let e: ToolError = RpcError::internal("x").into();
    assert!(e.as_protocol().is_some());
    let e: ToolError = std::fmt::Error.into();
    assert_eq!(e.message(), "an error occurred when formatting an argument");
}
