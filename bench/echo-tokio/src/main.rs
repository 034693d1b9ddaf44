//! The benchmark's `echo` server on Switchboard and tokio (multi-threaded: one worker per allowed core).
//!
//! ```text
//! echo-tokio [ADDR]    # default 127.0.0.1:8080; prints `listening on http://ADDR/mcp`
//! ```

use std::io::Write;

use serde::Deserialize;
use switchboard_core::{CallToolResult, HttpConfig, McpServerBuilder, ServerConfig, Tool};

#[derive(Deserialize)]
struct EchoArgs {
    text: String,
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let builder = McpServerBuilder::new()
        .server_info("echo", "1.0.0")
        .config(ServerConfig::default().max_sessions(1_000_000))
        .tool(
            Tool::new("echo", "Echoes its text"),
            |a: EchoArgs, _ctx| async move { Ok(CallToolResult::text(a.text)) },
        );
    let config = HttpConfig::default()
        .max_sessions(1_000_000)
        .max_connections(100_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let server =
            switchboard_tokio::HttpServer::bind(addr.parse().expect("ADDR"), builder, config)
                .await?;
        println!("listening on {}", server.url()?);
        std::io::stdout().flush()?;
        server.run().await.map_err(std::io::Error::other)
    })
}
