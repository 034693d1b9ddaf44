//! The whole HTTP endpoint over an in-memory connection: bytes in,
//! responses out. The input is a series of writes separated by `|NEXT|`;
//! `$SID` in a write becomes the last `Mcp-Session-Id` the server sent, so
//! inputs can reach into a session. Tasks run on a polling executor whose
//! timers never fire; once nothing moves, the client closes its side, and
//! the run ends when nothing moves again.
//!
//! Checked: no panic; every response is well-formed HTTP/1.1 with a status
//! the endpoint uses (never 500), complete unless it is an SSE stream
//! (cut when the input ran out); no more responses than requests; JSON bodies
//! parse; output stays bounded.
#![no_main]
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture as FutBox;
use futures::io::{AsyncRead, AsyncWrite};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use switchboard_core::{
    BoxFuture, CallToolResult, Content, GetPromptResult, HttpConfig, HttpServerTransport,
    HttpService, McpServerBuilder, Prompt, PromptArguments, PromptMessage, ReadResourceResult,
    Resource, ResourceContents, ResourceTemplate, Runtime, ServerConfig, Tool,
};

/// Most output one input may produce; far above any honest exchange here.
const MAX_OUTPUT: usize = 8 << 20;

#[derive(Default)]
struct Pipe {
    writes: VecDeque<Vec<u8>>,
    reading: Vec<u8>,
    read_chunk: usize,
    out: Vec<u8>,
    moved: bool,
    /// Set once the server went idle with every write read: only then does
    /// a read see end of file (which the server takes as the client gone).
    eof: bool,
}

#[derive(Clone)]
struct Io(Arc<Mutex<Pipe>>);

fn last_session(out: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(out);
    let at = text.rfind("mcp-session-id: ")? + "mcp-session-id: ".len();
    Some(text[at..].split("\r\n").next()?.to_owned())
}

fn substitute(write: &[u8], sid: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(write.len());
    let mut rest = write;
    while let Some(at) = rest.windows(4).position(|w| w == b"$SID") {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(sid.as_bytes());
        rest = &rest[at + 4..];
    }
    out.extend_from_slice(rest);
    out
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut p = self.0.lock().unwrap();
        if p.reading.is_empty() {
            let Some(next) = p.writes.pop_front() else {
                return if p.eof {
                    Poll::Ready(Ok(0))
                } else {
                    Poll::Pending
                };
            };
            let sid = last_session(&p.out).unwrap_or_default();
            p.reading = substitute(&next, &sid);
        }
        let n = buf.len().min(p.read_chunk).min(p.reading.len());
        buf[..n].copy_from_slice(&p.reading[..n]);
        p.reading.drain(..n);
        p.moved = true;
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut p = self.0.lock().unwrap();
        p.out.extend_from_slice(buf);
        p.moved = true;
        assert!(p.out.len() <= MAX_OUTPUT, "output unbounded");
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Spawned tasks wait here until the driver polls them; timers never fire.
#[derive(Clone, Default)]
struct Local(Arc<Mutex<Vec<FutBox<'static, ()>>>>);

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Local")
    }
}

impl Runtime for Local {
    fn spawn(&self, future: BoxFuture<()>) {
        self.0.lock().unwrap().push(future);
    }
    fn sleep(&self, _: Duration) -> BoxFuture<()> {
        Box::pin(futures::future::pending())
    }
}

#[derive(serde::Deserialize)]
struct Text {
    text: String,
}

fn server(
    runtime: Arc<dyn Runtime>,
    transport: HttpServerTransport,
) -> switchboard_core::McpServer {
    McpServerBuilder::new()
        .server_info("fuzz", "1")
        .runtime(runtime)
        .tool(Tool::new("echo", "echo"), |a: Text, _| async move {
            Ok(CallToolResult::text(a.text))
        })
        .tool(Tool::new("steps", "progress"), |_: Value, ctx| async move {
            let _ = ctx.progress(1.0, Some(2.0), None).await;
            let _ = ctx
                .log(switchboard_core::LogLevel::Info, None, Value::from("half"))
                .await;
            let _ = ctx.progress(2.0, Some(2.0), None).await;
            Ok(CallToolResult::text("done"))
        })
        .config(ServerConfig::default().list_changed(true))
        .text_resource(Resource::new("fuzz://a", "a"), "A")
        .resource_template(
            ResourceTemplate::new("fuzz://n/{id}", "n"),
            |uri, vars: PromptArguments, _| async move {
                let id = vars.get("id").cloned().unwrap_or_default();
                Ok(ReadResourceResult::new(vec![ResourceContents::text(
                    uri,
                    "text/plain",
                    id,
                )]))
            },
        )
        .prompt(
            Prompt::new("p", "p").argument("x", "x", false),
            |_: PromptArguments, _| async move {
                Ok(GetPromptResult::new(vec![PromptMessage::user(
                    Content::text("p"),
                )]))
            },
        )
        .build(transport)
}

/// Polls `main` and every spawned task with a no-op waker until nothing
/// moves for a while (or a bound): returns whether `main` finished.
fn drive(local: &Local, pipe: &Arc<Mutex<Pipe>>, main: &mut FutBox<'_, ()>) -> bool {
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut tasks: Vec<FutBox<'static, ()>> = Vec::new();
    let mut done = false;
    let mut idle = 0;
    for _ in 0..20_000 {
        let spawned: Vec<_> = local.0.lock().unwrap().drain(..).collect();
        let fresh = !spawned.is_empty();
        tasks.extend(spawned);
        if !done && main.as_mut().poll(&mut cx).is_ready() {
            done = true;
        }
        tasks.retain_mut(|t| t.as_mut().poll(&mut cx).is_pending());
        let mut p = pipe.lock().unwrap();
        let moved = std::mem::take(&mut p.moved);
        idle = if moved || fresh { 0 } else { idle + 1 };
        if idle > 64 && !p.eof {
            // Everything settled: now the client closes its side.
            p.eof = true;
            idle = 0;
        }
        drop(p);
        if idle > 64 || (done && tasks.is_empty()) {
            break;
        }
    }
    done
}

fuzz_target!(|data: &[u8]| {
    let Some((&shape, data)) = data.split_first() else {
        return;
    };
    let mut writes: VecDeque<Vec<u8>> = VecDeque::new();
    let mut rest = data;
    while let Some(at) = rest.windows(6).position(|w| w == b"|NEXT|") {
        writes.push_back(rest[..at].to_vec());
        rest = &rest[at + 6..];
    }
    writes.push_back(rest.to_vec());
    // What the server reads is the writes joined, with `$SID` replaced:
    // request lines are counted there, `$SID` taken as empty (a longer
    // session id can only break a line, so the count stays an upper bound).
    let joined: Vec<u8> = writes
        .iter()
        .flat_map(|w| substitute(w, ""))
        .collect();
    let requests = joined.windows(7).filter(|w| w == b"HTTP/1.").count();

    let local = Local::default();
    let runtime: Arc<dyn Runtime> = Arc::new(local.clone());
    let config = HttpConfig::default()
        .max_body_bytes(64 << 10)
        .max_head_bytes(8 << 10);
    let transport = HttpServerTransport::new(config);
    let _server = server(Arc::clone(&runtime), transport.clone());
    let service = HttpService::new(&transport, runtime);
    let pipe = Arc::new(Mutex::new(Pipe {
        writes,
        read_chunk: usize::from(shape % 64) * 97 + 1,
        ..Pipe::default()
    }));
    let io = Io(Arc::clone(&pipe));
    let finished = {
        let mut main: FutBox<'_, ()> = Box::pin(async {
            let _ = service.serve_connection(io).await;
        });
        drive(&local, &pipe, &mut main)
    };
    // Tasks spawned as the connection dropped hold the runtime: drop them
    // here, as an executor would at its end, or they would keep it alive.
    for _ in 0..4 {
        let tasks: Vec<_> = local.0.lock().unwrap().drain(..).collect();
        drop(tasks);
    }
    let out = std::mem::take(&mut pipe.lock().unwrap().out);
    if std::env::var_os("FUZZ_SHOW").is_some() {
        eprintln!("{}", String::from_utf8_lossy(&out));
    }
    let http10 = joined.windows(8).any(|w| w == b"HTTP/1.0");
    check(&out, finished, requests, http10);
});

/// Reads the responses back and checks each.
fn check(mut out: &[u8], finished: bool, requests: usize, http10: bool) {
    let mut responses = 0;
    while !out.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let n = match response.parse(out) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => panic!("a partial response head"),
            Err(e) => panic!(
                "malformed response: {e}: {:?}",
                String::from_utf8_lossy(out)
            ),
        };
        let status = response.code.unwrap();
        assert!(
            matches!(
                status,
                100 | 200
                    | 202
                    | 204
                    | 400
                    | 403
                    | 404
                    | 405
                    | 406
                    | 408
                    | 409
                    | 413
                    | 415
                    | 417
                    | 422
                    | 431
                    | 501
                    | 503
                    | 505
            ),
            "unexpected status {status}"
        );
        let header = |name: &str| {
            response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).into_owned())
        };
        out = &out[n..];
        if status == 100 {
            continue;
        }
        responses += 1;
        let json = header("content-type").is_some_and(|t| t.starts_with("application/json"));
        // A stream is cut when the client's input ends (read as the client
        // going away); anything else must be whole once the connection closed.
        let sse = header("content-type").is_some_and(|t| t.starts_with("text/event-stream"));
        let body = if let Some(len) = header("content-length") {
            let len: usize = len.parse().expect("a numeric content-length");
            assert!(out.len() >= len, "a short body");
            let body = &out[..len];
            out = &out[len..];
            body.to_vec()
        } else if header("transfer-encoding").is_some() {
            let mut body = Vec::new();
            loop {
                let Some(end) = out.windows(2).position(|w| w == b"\r\n") else {
                    assert!(
                        sse || !finished,
                        "an unfinished body on a closed connection"
                    );
                    return;
                };
                let size = usize::from_str_radix(std::str::from_utf8(&out[..end]).unwrap(), 16)
                    .expect("a hex chunk size");
                if out.len() < end + 2 + size + 2 {
                    assert!(
                        sse || !finished,
                        "an unfinished chunk on a closed connection"
                    );
                    return;
                }
                body.extend_from_slice(&out[end + 2..end + 2 + size]);
                out = &out[end + 2 + size + 2..];
                if size == 0 {
                    break;
                }
            }
            body
        } else if out.is_empty() || status == 204 || status == 202 {
            Vec::new()
        } else {
            // A body without framing runs to the connection's close (RFC
            // 9112 §6.3): only for an HTTP/1.0 client, and only with the
            // connection marked to close, so it is the last response.
            assert!(http10, "no framing for a body");
            assert_eq!(
                header("connection").as_deref(),
                Some("close"),
                "a body to the close on a connection not marked to close"
            );
            let body = out.to_vec();
            out = &[];
            body
        };
        if json && !body.is_empty() {
            serde_json::from_slice::<Value>(&body).expect("a JSON body parses");
        }
    }
    assert!(
        responses <= requests + 1,
        "{responses} responses to {requests} requests"
    );
}
