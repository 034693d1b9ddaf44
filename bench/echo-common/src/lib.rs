//! What the Switchboard echo servers share: the command line, the `echo`
//! tool, and limits raised past what the benchmark creates.

use std::net::SocketAddr;

use serde::Deserialize;
use switchboard_core::{CallToolResult, HttpConfig, McpServerBuilder, ServerConfig, Tool};

#[derive(Deserialize)]
struct EchoArgs {
    text: String,
}

/// The address from the first argument (default 127.0.0.1:8080).
pub fn addr() -> SocketAddr {
    std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into())
        .parse()
        .expect("ADDR")
}

/// The server with its one tool, `echo`.
pub fn builder() -> McpServerBuilder {
    McpServerBuilder::new()
        .server_info("echo", "1.0.0")
        .config(ServerConfig::default().max_sessions(1_000_000))
        .tool(
            Tool::new("echo", "Echoes its text"),
            |a: EchoArgs, _ctx| async move { Ok(CallToolResult::text(a.text)) },
        )
}

/// The same server with `echo` as a local handler (`McpServerBuilder::local`):
/// each call goes through the stand-in and its channel to `LocalHandlers`.
pub fn local_builder() -> switchboard_core::LocalServerBuilder {
    McpServerBuilder::new()
        .server_info("echo", "1.0.0")
        .config(ServerConfig::default().max_sessions(1_000_000))
        .local()
        .tool(
            Tool::new("echo", "Echoes its text"),
            |a: EchoArgs, _ctx| async move { Ok(CallToolResult::text(a.text)) },
        )
}

/// HTTP limits above what the load generator opens, and a write timeout of
/// 5 s (instead of 65 s) so that `loadgen --mode slow` sees it pass soon.
/// The per-address caps are off: every load generator connection comes
/// from 127.0.0.1, one client that is meant to have the whole server.
pub fn config() -> HttpConfig {
    HttpConfig::default()
        .max_connections(100_000)
        .max_connections_per_client(None)
        .max_streams_per_client(None)
        .write_timeout(std::time::Duration::from_secs(5))
}
